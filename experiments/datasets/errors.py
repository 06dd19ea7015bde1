"""Exceptions raised by the dataset loaders.

Every loader error is one line that starts with the offending file's path, so a
user who pointed ``--data-dir`` at the wrong folder sees at once which file is
missing, cut short, or not in the expected format.
"""
from __future__ import annotations

from os import PathLike

from lcne.experiments.errors import DataError

__all__ = ["DataFileNotFoundError", "DataFormatError", "data_error"]


class DataFormatError(DataError):
    """A dataset file is missing, truncated, corrupt, or not in the expected format.

    The message is a single line that names the file.  A ``ValueError`` (and the
    project's ``lcne.experiments.errors.DataError``, which the CLI prints as one line).
    """


class DataFileNotFoundError(DataFormatError, FileNotFoundError):
    """A dataset file the loader needs does not exist.

    Subclasses both :class:`DataFormatError` and :class:`FileNotFoundError`, so either
    ``except`` clause catches it.
    """


def data_error(path: str | PathLike, problem: str, cls: type[DataFormatError] = DataFormatError) -> DataFormatError:
    """Build a one-line loader error ``"<path>: <problem>"``.

    Line breaks in ``problem`` (e.g. copied from a lower-level exception) are
    collapsed so the message stays on one line.
    """
    text = " ".join(str(problem).split())
    return cls(f"{path}: {text}")
