"""Errors raised by the LC-NE models.

Every invalid parameter of an LC model, NE release stage or uncertainty front end raises
:class:`LCParameterError`. It subclasses :class:`ValueError`, so callers that already catch
``ValueError`` keep working, and its message is one line that starts with the name of the
offending parameter, e.g. ``tau_v: must be > 0 (model time units), got -0.05``.
"""
from __future__ import annotations

__all__ = ["LcneError", "LCParameterError", "as_param", "check_positive", "check_range"]


class LcneError(Exception):
    """Base class of every lcne error whose one-line message tells the user what to fix.

    The command line prints such errors as ``lcne: error: <message>`` (exit code 2)
    instead of a traceback. Subclasses in the layers: ``ConfigError`` and ``DataError``
    (:mod:`lcne.experiments.errors`), ``ResultsError`` (:mod:`lcne.analysis.results_io`).
    """


class LCParameterError(LcneError, ValueError):
    """A bad LC / NE / uncertainty-signal parameter.

    Parameters
    ----------
    parameter : str
        Name of the parameter as the user spells it (``tau_v``, ``dt``, ``preset``, ...).
    message : str
        What is wrong, without the parameter name (it is prefixed).

    Attributes
    ----------
    parameter : str
        The offending parameter, for programmatic handling (e.g. a CLI that maps it back
        to an option name).
    """

    def __init__(self, parameter: str, message: str):
        self.parameter = str(parameter)
        text = f"{self.parameter}: {message}"
        # one line, whatever the caller passed
        super().__init__(" ".join(text.split()))


def as_param(value, name: str):
    """Convert a parameter value to float64 (scalar or per-run 1-D array).

    Accepts numbers, numeric strings (as they arrive from ``--lc-param KEY=VALUE``),
    sequences and arrays. Raises :class:`LCParameterError` naming ``name`` when the value
    is not numeric, not finite, or has more than one dimension.
    """
    import numpy as np

    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise LCParameterError(name, f"expected a number, got {value!r}") from None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise LCParameterError(name, f"expected a number, got {value!r}") from None
    if arr.ndim > 1:
        raise LCParameterError(name, f"expected a scalar or one value per run, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise LCParameterError(name, f"must be finite, got {value!r}")
    return arr if arr.ndim else float(arr)


def check_positive(value, name: str, unit: str = ""):
    """Return ``value`` as float64 after checking it is > 0 everywhere."""
    import numpy as np

    arr = as_param(value, name)
    if np.any(np.asarray(arr) <= 0):
        raise LCParameterError(name, f"must be > 0{_unit(unit)}, got {_show(arr)}")
    return arr


def check_range(value, name: str, lo=None, hi=None, unit: str = "", lo_open=False, hi_open=False):
    """Return ``value`` as float64 after checking ``lo <= value <= hi`` (bounds optional)."""
    import numpy as np

    arr = np.asarray(as_param(value, name))
    bad = np.zeros(arr.shape, dtype=bool)
    if lo is not None:
        bad |= (arr <= lo) if lo_open else (arr < lo)
    if hi is not None:
        bad |= (arr >= hi) if hi_open else (arr > hi)
    if np.any(bad):
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise LCParameterError(name, f"must lie in {left}{lo_s}, {hi_s}{right}{_unit(unit)}, got {_show(arr)}")
    return arr if arr.ndim else float(arr)


def _unit(unit: str) -> str:
    return f" ({unit})" if unit else ""


def _show(arr) -> str:
    import numpy as np

    arr = np.asarray(arr)
    return f"{float(arr):g}" if arr.ndim == 0 else np.array2string(arr, precision=4, separator=", ")
