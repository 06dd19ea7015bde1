"""One reader and one type check for configuration files (``lcne run --config``, sweep specs).

:func:`load_yaml_mapping` reads a YAML file safely and within limits: at most
:data:`MAX_BYTES` bytes of UTF-8 text, nesting at most :data:`MAX_DEPTH` levels, at most
:data:`MAX_ALIASES` aliases, and at most :data:`MAX_NODES` nodes *after* expanding every
alias (an "alias bomb" of a few hundred bytes that would expand to gigabytes is refused
while composing, before anything is built). Only plain YAML types are built
(``yaml.SafeLoader``). Every problem is one :class:`~lcne.experiments.errors.ConfigError`
line naming the file.

:func:`check_run_values` checks the type, and for names the spelling, of every run option
given in such a file (``RunConfig`` fields; see :data:`lcne.experiments.config.FIELD_KINDS`);
``RunConfig.validate`` does the ranges.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict

from lcne.experiments.errors import ConfigError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_ALIASES", "MAX_NODES", "load_yaml_mapping", "check_run_values"]

#: largest configuration file read (bytes)
MAX_BYTES = 1 << 20
#: deepest nesting of mappings and lists
MAX_DEPTH = 32
#: most aliases (``*name``) in one file
MAX_ALIASES = 64
#: most nodes of the document with every alias expanded
MAX_NODES = 100_000


def _limited_loader(where: str):
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that counts depth and aliases while composing."""

        _depth = 0
        _aliases = 0

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise ConfigError(f"{where}: more than {MAX_ALIASES} YAML aliases (*name); write the values out")
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise ConfigError(f"{where}: nested deeper than {MAX_DEPTH} levels")
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    return Loader


def _expanded_size(node, where: str, memo=None) -> int:
    """Number of nodes with every alias expanded (shared nodes counted once per use)."""
    import yaml

    memo = {} if memo is None else memo
    key = id(node)
    if key in memo:
        if memo[key] is None:
            raise ConfigError(f"{where}: recursive YAML alias")
        return memo[key]
    memo[key] = None
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, where, memo) + _expanded_size(v, where, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(v, where, memo) for v in node.value)
    else:
        size = 1
    if size > MAX_NODES:
        raise ConfigError(f"{where}: expands to more than {MAX_NODES} YAML nodes (aliases?); refused")
    memo[key] = size
    return size


def load_yaml_mapping(path, what: str = "configuration file") -> Dict:
    """Read ``path`` as a YAML mapping within the limits of the module docstring.

    An empty file gives ``{}``. Raises :class:`ConfigError` naming the file.
    """
    import yaml

    p = Path(path)
    where = str(p)
    if not p.is_file():
        raise ConfigError(f"{what} {p} not found")
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(f"{where}: {size} bytes; a {what} may hold at most {MAX_BYTES}")
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r})") from None
    loader = _limited_loader(where)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        _expanded_size(node, where)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply") from None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a {what} must hold a mapping of option names to values")
    return data


def check_run_values(values: Dict, where: str) -> None:
    """Type (and name) check of run options from a file: ``{key: value}`` with ``RunConfig``
    field names; raises one :class:`ConfigError` line ``WHERE: KEY: ...``."""
    from lcne.experiments.config import check_field

    for key, value in values.items():
        check_field(str(key), value, where)
