"""Restricted unpickling for dataset files downloaded by the user.

``pickle.load`` on an untrusted file can run arbitrary code: a pickle names any
importable callable (``os.system``, ``builtins.eval`` ...) and the unpickler calls
it.  CIFAR and mini-ImageNet are distributed as pickles, so every loader in this
package reads them through :class:`RestrictedUnpickler`, which resolves only the
handful of globals that plain numpy arrays need and refuses every other name
*before* anything is imported or called.

What a dataset pickle may contain
---------------------------------
* Built-in containers and scalars that pickle encodes with its own opcodes and
  never looks up by name: ``dict``, ``list``, ``tuple``, ``str``, ``bytes``,
  ``bytearray``, ``int``, ``float``, ``bool``, ``None``.
* numpy arrays and numpy scalars.  Depending on the numpy version and pickle
  protocol that wrote the file, these refer to the globals in
  :data:`ALLOWED_GLOBALS`: ``numpy.ndarray``, ``numpy.dtype``,
  ``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct``
  (protocols 0-4), ``numpy.core.numeric._frombuffer`` /
  ``numpy._core.numeric._frombuffer`` (protocol 5) and
  ``numpy.core.multiarray.scalar`` (numpy scalars).  These only allocate an
  array of a given dtype and shape and copy raw bytes into it.
* ``_codecs.encode``, which Python 3 uses for ``bytes`` in protocol-2 pickles
  (the mini-ImageNet cache files are written this way).  It is replaced by a
  function that accepts only ``str`` with the ``latin1`` codec, so no codec
  lookup by name can be triggered.

Everything else - any other module or name, persistent ids, extension-registry
codes that resolve to other names - raises :class:`DataFormatError` naming the
file.  The refusal happens in :meth:`RestrictedUnpickler.find_class`, i.e. when
the name is read, so the refused object is never imported, built or called.

Object arrays (dtype ``object``) can still be described by an allowed pickle;
their elements come through the same restricted unpickler, so they are safe, and
the loaders reject them anyway because image data must be ``uint8``.
"""
from __future__ import annotations

import io
import logging
import os
import pickle
from os import PathLike
from typing import Any, Callable

import numpy as np

from .errors import DataFileNotFoundError, data_error

__all__ = ["ALLOWED_GLOBALS", "RestrictedUnpickler", "safe_load_pickle", "safe_loads_pickle"]

logger = logging.getLogger(__name__)

try:  # numpy >= 2 keeps the implementation in numpy._core
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]
    from numpy.core import numeric as _numeric  # type: ignore[no-redef]


def _latin1_encode(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """Stand-in for ``_codecs.encode`` that only turns ``str`` into ``bytes`` via latin1."""
    if not isinstance(obj, str) or encoding.lower().replace("_", "-") not in ("latin1", "latin-1", "iso-8859-1"):
        raise pickle.UnpicklingError(f"refused _codecs.encode({type(obj).__name__}, {encoding!r})")
    return obj.encode("latin1", errors)


def _build_allowlist() -> dict[tuple[str, str], Callable[..., Any] | type]:
    table: dict[tuple[str, str], Callable[..., Any] | type] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }
    # numpy 1.x writes "numpy.core.*", numpy 2.x writes "numpy._core.*"; accept both
    # spellings but always resolve to the installed numpy's own functions.
    for package in ("numpy.core", "numpy._core"):
        table[(f"{package}.multiarray", "_reconstruct")] = _multiarray._reconstruct
        table[(f"{package}.multiarray", "scalar")] = _multiarray.scalar
        frombuffer = getattr(_numeric, "_frombuffer", None)
        if frombuffer is not None:
            table[(f"{package}.numeric", "_frombuffer")] = frombuffer
    return table


#: ``(module, name)`` pairs a dataset pickle may reference, and what each resolves to.
ALLOWED_GLOBALS: dict[tuple[str, str], Callable[..., Any] | type] = _build_allowlist()


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only :data:`ALLOWED_GLOBALS` and refuses everything else.

    Parameters
    ----------
    file : binary file object
        Open pickle stream.
    encoding : str
        How Python-2 ``str`` objects are decoded (``"latin1"`` keeps numpy array
        payloads intact and turns Python-2 dictionary keys into ``str``).

    Notes
    -----
    ``find_class`` is the only path by which a pickle can reach a callable or a
    class; overriding it is the mechanism the Python documentation recommends
    for "restricting globals".  ``persistent_load`` is left undefined, so
    persistent ids are refused by the C unpickler itself.
    """

    def __init__(self, file: io.BufferedIOBase, *, encoding: str = "latin1") -> None:
        super().__init__(file, fix_imports=True, encoding=encoding, errors="strict")

    def find_class(self, module: str, name: str) -> Any:  # noqa: D102 - documented above
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load global {module}.{name} (only plain numpy arrays, "
                "dicts, lists, strings and numbers are allowed in dataset files)"
            ) from None


_TRUNCATED = "truncated pickle (the file ends before the pickled object does)"


def _unpickle(stream: io.BufferedIOBase, source: str, encoding: str) -> Any:
    try:
        return RestrictedUnpickler(stream, encoding=encoding).load()
    except pickle.UnpicklingError as exc:
        if str(exc).startswith("refused"):
            raise data_error(source, f"unsafe pickle: {exc}") from None
        if "truncated" in str(exc):
            raise data_error(source, _TRUNCATED) from None
        raise data_error(source, f"corrupt pickle ({exc})") from None
    except EOFError:
        raise data_error(source, _TRUNCATED) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            MemoryError, UnicodeDecodeError, RecursionError) as exc:
        raise data_error(source, f"corrupt pickle ({type(exc).__name__}: {exc})") from None


def safe_loads_pickle(data: bytes, *, source: str = "<bytes>", encoding: str = "latin1") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler`.

    Raises
    ------
    DataFormatError
        One line naming ``source`` when the stream is truncated, corrupt, or
        references a refused global.
    """
    return _unpickle(io.BytesIO(data), source, encoding)


def safe_load_pickle(path: str | PathLike, *, encoding: str = "latin1") -> Any:
    """Restricted-unpickle the file at ``path`` (streamed, not read into memory first).

    Parameters
    ----------
    path : path-like
        Pickle file written by the dataset's distributor.
    encoding : str
        Decoding of Python-2 ``str`` objects (see :class:`RestrictedUnpickler`).

    Returns
    -------
    object
        The unpickled object (for dataset files: a ``dict``).

    Raises
    ------
    DataFileNotFoundError
        ``path`` does not exist.
    DataFormatError
        The file is empty, truncated, corrupt, or references a refused global.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise data_error(path, "file not found", DataFileNotFoundError)
    logger.debug("restricted unpickling %s", path)
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                raise data_error(path, "empty file")
            return _unpickle(fh, path, encoding)
    except OSError as exc:
        raise data_error(path, f"cannot read file ({exc.strerror or exc})") from None
