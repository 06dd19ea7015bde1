"""Errors that reach the user as one line (the CLI prints ``lcne: error: <message>``)."""

__all__ = ["LcneError", "ConfigError", "DataError"]


class LcneError(Exception):
    """Base class of errors whose message alone tells the user what to fix."""


class ConfigError(LcneError, ValueError):
    """A configuration key or command-line option has a bad value."""


class DataError(LcneError, ValueError):
    """A dataset file or directory is missing, truncated or malformed."""
