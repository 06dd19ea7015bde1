"""Lazy package attributes (PEP 562): a name is imported from its submodule on first use.

``lcne`` and ``lcne.analysis`` export their public names this way, so ``import lcne``
does not import torch and importing one analysis module does not import matplotlib.
"""
from __future__ import annotations

import importlib
from typing import Dict, Optional

__all__ = ["install"]


def install(namespace: dict, exports: Dict[str, Optional[str]]) -> None:
    """Give the package whose globals are ``namespace`` lazy attributes.

    Parameters
    ----------
    namespace : dict
        The package's ``globals()``.
    exports : dict
        Public name -> submodule (relative to the package) that defines it, or ``None``
        for a subpackage exported under its own name.

    >>> import types
    >>> pkg = types.ModuleType("lcne")
    >>> install(vars(pkg), {"PaperGain": "gain_controllers"})
    >>> pkg.__all__, pkg.__getattr__("PaperGain").__name__
    (['PaperGain'], 'PaperGain')
    """
    package = namespace["__name__"]

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = exports[name]
        if module is None:
            value = importlib.import_module(f"{package}.{name}")
        else:
            value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value  # later look-ups skip __getattr__
        return value

    def __dir__():
        return sorted(set(namespace) | set(exports))

    namespace.update(__getattr__=__getattr__, __dir__=__dir__, __all__=sorted(exports))
