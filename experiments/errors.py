"""Errors that reach the user as one line (the CLI prints ``lcne: error: <message>``)."""

from lcne.errors import LcneError

__all__ = ["LcneError", "ConfigError", "DataError", "OutputError"]


class ConfigError(LcneError, ValueError):
    """A configuration key or command-line option has a bad value."""


class DataError(LcneError, ValueError):
    """A dataset file or directory is missing, truncated or malformed."""


class OutputError(LcneError, OSError):
    """An output folder or file cannot be written (not writable, disk full, I/O error)."""
