"""Argument types shared by the ``lcne`` subcommands.

Every ``type=`` callable and parse helper of the command line lives here, so that the
subcommand modules (``cli_run``, ``cli_bench``, ``cli_analysis``, ...) import from one
place and never from each other. A type raises :class:`argparse.ArgumentTypeError` with
a short message; argparse turns it into one line, ``lcne CMD: error: argument --X: ...``,
and exit code 2 (see :class:`OneLineParser`).

This module imports only the standard library, so ``lcne --help`` stays fast.

>>> int_list("42,43, 44")
[42, 43, 44]
>>> positive(float)("0.5")
0.5
>>> positive(float)("nan")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: 'nan' must be > 0
"""
from __future__ import annotations

import argparse

__all__ = [
    "OneLineParser",
    "int_list",
    "name_list",
    "float_list",
    "number",
    "positive",
    "open_unit_interval",
    "key_value",
    "numeric_key_value",
    "formats",
    "iteration_range",
    "nwb_spec",
    "FIGURE_FORMATS",
]

#: file formats the figure writers accept
FIGURE_FORMATS = ("pdf", "png", "svg")


class OneLineParser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` whose errors are one line on stderr, exit code 2.

    The message names the program and points at its ``--help`` instead of repeating the usage.
    """

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def int_list(text: str) -> list:
    """Comma-separated integers, ``"42,43"`` -> ``[42, 43]``; empty items are skipped.

    >>> int_list("1,x")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: '1,x' is not a comma-separated list of integers
    """
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None


def name_list(text: str) -> list:
    """Comma-separated names, stripped; empty items are skipped.

    >>> name_list("ngm, sgd,,adam")
    ['ngm', 'sgd', 'adam']
    """
    return [v.strip() for v in text.split(",") if v.strip()]


def float_list(text: str) -> tuple:
    """Comma-separated numbers as a tuple of floats.

    >>> float_list("0,0.5, 1")
    (0.0, 0.5, 1.0)
    """
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None


def number(kind):
    """Parser of one number of type ``kind`` (``int`` or ``float``), any sign.

    Range checks belong to the run configuration, which names the field in its message.

    >>> number(int)("3")
    3
    >>> number(float)("abc")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 'abc' is not a valid float
    """

    def parse(text):
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


def positive(kind):
    """Parser of a number of type ``kind`` that must be > 0; NaN is refused too.

    >>> positive(int)("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: '0' must be > 0
    """
    parse_number = number(kind)

    def parse(text):
        value = parse_number(text)
        if not value > 0:  # False for NaN as well
            raise argparse.ArgumentTypeError(f"{text!r} must be > 0")
        return value

    parse.__name__ = kind.__name__
    return parse


def open_unit_interval(text: str) -> float:
    """A float strictly between 0 and 1 (a significance level, a probability); NaN refused.

    >>> open_unit_interval("0.05")
    0.05
    >>> open_unit_interval("5")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: '5' must be between 0 and 1 (exclusive)
    """
    value = number(float)(text)
    if not 0.0 < value < 1.0:  # False for NaN as well
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1 (exclusive)")
    return value


open_unit_interval.__name__ = "float"


def key_value(text: str) -> tuple:
    """``KEY=VALUE`` -> ``(key, value)``; VALUE becomes a float when it is a number,
    otherwise it stays a string (e.g. a preset name).

    >>> key_value("tau=0.5")
    ('tau', 0.5)
    >>> key_value("mode=phasic")
    ('mode', 'phasic')
    """
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    key, value = text.split("=", 1)
    try:
        value = float(value)
    except ValueError:
        pass
    return key.strip(), value


def numeric_key_value(text: str) -> tuple:
    """``KEY=VALUE`` where VALUE must be a number.

    >>> numeric_key_value("g_gap_nS=0.3")
    ('g_gap_nS', 0.3)
    >>> numeric_key_value("g_gap_nS=high")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: 'g_gap_nS=high': value must be a number
    """
    key, value = key_value(text)
    if not isinstance(value, float):
        raise argparse.ArgumentTypeError(f"{text!r}: value must be a number")
    return key, value


def formats(text: str) -> list:
    """Comma list of figure formats (pdf, png, svg; case and a leading dot ignored).

    >>> formats("PDF,.png")
    ['pdf', 'png']
    """
    fmts = [f.strip().lower().lstrip(".") for f in text.split(",") if f.strip()]
    bad = [f for f in fmts if f not in FIGURE_FORMATS]
    if bad or not fmts:
        raise argparse.ArgumentTypeError(f"{text!r}: formats must be a comma list of {', '.join(FIGURE_FORMATS)}")
    return fmts


def iteration_range(text: str) -> slice:
    """``START:STOP`` of iteration labels as a :class:`slice`; either end may be empty.

    >>> iteration_range("10:")
    slice(10, None, None)
    """
    try:
        a, b = text.split(":", 1)
        return slice(int(a) if a.strip() else None, int(b) if b.strip() else None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not START:STOP (iteration labels)") from None


def nwb_spec(spec: str) -> tuple:
    """``FILE:SERIES:SIGNAL[:EVENT_S]`` -> ``(file, series, signal, event_s)``.

    Raises :class:`ValueError` (a one-line ``lcne: error:`` when a handler calls it).

    >>> nwb_spec("rec.nwb:pupil:pupil:1.5")
    ('rec.nwb', 'pupil', 'pupil', 1.5)
    """
    parts = spec.split(":")
    if len(parts) not in (3, 4):
        raise ValueError(f"--nwb {spec!r}: expected FILE:SERIES:SIGNAL[:EVENT_S]")
    event = 0.0
    if len(parts) == 4:
        try:
            event = float(parts[3])
        except ValueError:
            raise ValueError(f"--nwb {spec!r}: EVENT_S {parts[3]!r} is not a number") from None
    return parts[0], parts[1], parts[2], event
