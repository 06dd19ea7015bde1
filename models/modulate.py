"""Gain for any user module: attach a multiplicative gain to layers of an existing network.

:func:`modulate` gives chosen ``nn.Linear`` / ``nn.Conv1d`` / ``nn.Conv2d`` / ``nn.Conv3d``
layers of any ``torch.nn.Module`` the gain of :class:`~lcne.models.gain_linear.GainLinear`,
without changing the model's code::

    preactivation (default):  y = g * (W x) + b      the gain after the weight product,
                                                     before the bias (and the nonlinearity)
    logits:                   the same, on the read-out layer only (the last selected)
    slope:                    y = g * (W x + b)

``g`` is one scalar (the paper: numerically global) or one value per output unit /
channel (``per_unit=True``). For a convolution ``W x`` is the convolution without its
bias and a per-channel gain scales each output channel.

How: each selected layer gets a non-persistent buffer ``lcne_gain`` (so the model's
``state_dict`` is unchanged and ``model.to(device)`` moves the gain with it) and an
instance ``forward`` that computes the layer without its bias, multiplies by the buffer
and adds the bias. :meth:`Modulation.set_gain` writes new values *into* the buffers, so
``torch.compile`` sees the gain as a tensor input: no graph break, and no recompilation
when its value changes (``tests/test_own_model.py`` checks both with
``torch._dynamo``). :meth:`Modulation.remove` deletes the buffers and the instance
forwards, which gives back the original module outputs exactly.

Modulate before ``torch.compile`` (adding or removing gains afterwards recompiles once).

Examples
--------
>>> import torch
>>> from torch import nn
>>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
>>> gain = modulate(net)                      # every Linear layer
>>> gain.names
('0', '2')
>>> gain.set_gain(2.0)
>>> x = torch.randn(5, 4)
>>> expected = 2.0 * (torch.relu(2.0 * (x @ net[0].weight.T) + net[0].bias) @ net[2].weight.T) + net[2].bias
>>> torch.allclose(net(x), expected)
True
>>> sorted(net.state_dict())                  # unchanged
['0.bias', '0.weight', '2.bias', '2.weight']
>>> gain.remove()
>>> modulate(net, layers="fc*")
Traceback (most recent call last):
...
lcne.gain_loop.GainUsageError: no layer matched the selection 'fc*' (layers that can carry a gain: '0', '2')
"""
from __future__ import annotations

import fnmatch
import logging
import re
import types
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from lcne.gain_loop import GainUsageError

log = logging.getLogger(__name__)

__all__ = ["GAIN_BUFFER", "MODULATION_TARGETS", "SUPPORTED_LAYERS", "Modulation", "modulate"]

#: name of the gain buffer added to each modulated layer (non-persistent)
GAIN_BUFFER = "lcne_gain"

#: layer types that can carry a gain (the pre-activation is ``W x`` before the bias)
SUPPORTED_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)

#: where the gain acts (``temperature`` is accepted as another name for ``logits``,
#: as in :data:`lcne.models.GAIN_TARGETS`)
MODULATION_TARGETS = ("preactivation", "logits", "slope")

Selector = Union[None, str, "re.Pattern", type, nn.Module, Sequence]


# ---------------------------------------------------------------------------- forwards
def _gain_view(g: torch.Tensor, z: torch.Tensor, spatial: int) -> torch.Tensor:
    g = g.to(z.dtype)
    if g.dim() == 1 and spatial:  # one value per channel: (C, 1, ..., 1) broadcasts on (N, C, ...) and (C, ...)
        g = g.reshape(g.shape[0], *([1] * spatial))
    return g


def _linear_preactivation(self, x):
    z = F.linear(x, self.weight)
    z = z * _gain_view(self.lcne_gain, z, 0)
    return z if self.bias is None else z + self.bias


def _linear_slope(self, x):
    z = F.linear(x, self.weight, self.bias)
    return z * _gain_view(self.lcne_gain, z, 0)


def _conv_preactivation(self, x):
    z = self._conv_forward(x, self.weight, None)
    spatial = self.weight.dim() - 2
    z = z * _gain_view(self.lcne_gain, z, spatial)
    if self.bias is None:
        return z
    return z + self.bias.reshape(self.bias.shape[0], *([1] * spatial))


def _conv_slope(self, x):
    z = self._conv_forward(x, self.weight, self.bias)
    return z * _gain_view(self.lcne_gain, z, self.weight.dim() - 2)


_FORWARDS = {
    ("linear", "preactivation"): _linear_preactivation,
    ("linear", "slope"): _linear_slope,
    ("conv", "preactivation"): _conv_preactivation,
    ("conv", "slope"): _conv_slope,
}
_OURS = frozenset(_FORWARDS.values())


def _kind(module: nn.Module) -> Optional[str]:
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return "conv"
    return None


def _units(module: nn.Module) -> int:
    return int(module.out_features if isinstance(module, nn.Linear) else module.out_channels)


def _label(name: str) -> str:
    return repr(name) if name else "<root>"


def _base_class(module: nn.Module) -> Optional[type]:
    """The torch layer class whose ``forward`` the module must use to carry a gain."""
    for base in SUPPORTED_LAYERS:
        if isinstance(module, base):
            return base
    return None


def _standard(module: nn.Module) -> bool:
    """A supported layer computing its class's own ``forward`` (pattern and default selections)."""
    base = _base_class(module)
    return base is not None and type(module).forward is base.forward


def _fastpath_enabled() -> bool:
    mha = getattr(torch.backends, "mha", None)
    return bool(mha.get_fastpath_enabled()) if mha is not None and hasattr(mha, "get_fastpath_enabled") else True


def _bypassed(model: nn.Module) -> Dict[int, str]:
    """Layers whose forward a parent may skip, a gain on it would then be ignored: id ->
    reason. ``nn.MultiheadAttention`` uses ``out_proj.weight`` directly; the eval-mode
    fast path of ``nn.TransformerEncoderLayer`` (inference without gradients) uses the
    weights of all its layers directly unless ``torch.backends.mha`` has it disabled."""
    out = {}
    for parent in model.modules():
        if isinstance(parent, nn.TransformerEncoderLayer) and _fastpath_enabled():
            for child in parent.modules():
                out.setdefault(id(child), "its parent TransformerEncoderLayer skips it in its eval-mode fast path; "
                                          "call torch.backends.mha.set_fastpath_enabled(False) first")
        if isinstance(parent, nn.MultiheadAttention):
            for child in parent.children():
                out[id(child)] = "its parent MultiheadAttention uses its weight directly and never calls its forward()"
    return out


def _why_not(name: str, module: nn.Module, bypassed: Optional[str] = None) -> Optional[str]:
    """None if ``module`` can carry a gain, else the one-line reason."""
    what = f"module {_label(name)} ({type(module).__name__})"
    base = _base_class(module)
    if base is None:
        supported = ", ".join(t.__name__ for t in SUPPORTED_LAYERS)
        return f"{what} cannot carry a gain: supported layers are {supported}"
    if bypassed:
        return f"{what} cannot carry a gain: {bypassed}"
    if type(module).forward is not base.forward:
        return f"{what} cannot carry a gain: its class overrides forward(), so its pre-activation is not W x + b"
    if GAIN_BUFFER in module._buffers or getattr(module.__dict__.get("forward"), "__func__", None) in _OURS:
        return f"{what} already carries an lcne gain; remove() the other modulation first"
    if "forward" in module.__dict__:
        return f"{what} cannot carry a gain: its forward() is already replaced on the instance"
    return None


def _type_error(t) -> str:
    supported = ", ".join(s.__name__ for s in SUPPORTED_LAYERS)
    return f"layer type {getattr(t, '__name__', t)} cannot carry a gain: supported layers are {supported}"


# ---------------------------------------------------------------------------- selection
def _describe(selector) -> str:
    if isinstance(selector, type):
        return selector.__name__
    if isinstance(selector, re.Pattern):
        return f"re {selector.pattern!r}"
    if isinstance(selector, nn.Module):
        return f"<{type(selector).__name__} object>"
    if isinstance(selector, (list, tuple)):
        return "[" + ", ".join(_describe(s) for s in selector) + "]"
    return repr(selector)


def _select(model: nn.Module, layers: Selector) -> List[Tuple[str, nn.Module]]:
    named = list(model.named_modules())
    skip = _bypassed(model)
    capable = [(n, m) for n, m in named if _standard(m) and id(m) not in skip]
    if layers is None:
        skipped = sorted(((n, m) for n, m in named if _standard(m) and id(m) in skip),
                         key=lambda nm: "fast path" not in skip[id(nm[1])])  # the fixable reason first
        if skipped and not capable:
            raise GainUsageError(_why_not(*skipped[0], skip[id(skipped[0][1])]))
        if not capable:
            raise GainUsageError(f"no layer matched the selection: {type(model).__name__} has no Linear or Conv layer")
        if skipped:
            log.warning("modulate: %d layers left without gain (%s: %s)", len(skipped), _label(skipped[0][0]),
                        skip[id(skipped[0][1])])
        return capable
    single = isinstance(layers, (str, type, re.Pattern, nn.Module)) or _is_type_tuple(layers)
    items = [layers] if single else list(layers)
    picked: Dict[int, Tuple[str, nn.Module]] = {}
    by_id = {id(m): n for n, m in named}
    for item in items:
        if _is_type_tuple(item) or isinstance(item, type):
            types_ = item if isinstance(item, tuple) else (item,)
            for t in types_:
                if not (issubclass(t, nn.Module) and issubclass(t, SUPPORTED_LAYERS)):
                    raise GainUsageError(_type_error(t))
            sub = [(n, m) for n, m in named if isinstance(m, types_)]
        elif isinstance(item, nn.Module):
            if id(item) not in by_id:
                raise GainUsageError(
                    f"no layer matched the selection: the {type(item).__name__} given is not part of the model")
            sub = _expand(by_id[id(item)], item, capable)
        elif isinstance(item, re.Pattern):
            sub = [(n, m) for n, m in capable if item.fullmatch(n)]
        elif isinstance(item, str):
            if any(ch in item for ch in "*?["):
                sub = [(n, m) for n, m in capable if fnmatch.fnmatchcase(n, item)]
            else:
                sub = [pair for n, m in named if n == item for pair in _expand(n, m, capable)]
        else:
            raise GainUsageError(
                f"layers: cannot select with {type(item).__name__}; give layer types, names, glob patterns "
                "('features.*'), re.compile(...) patterns or the modules themselves"
            )
        if not sub:
            names = ", ".join(_label(n) for n, _ in capable[:8]) + (", ..." if len(capable) > 8 else "")
            raise GainUsageError(f"no layer matched the selection {_describe(item)} "
                                 f"(layers that can carry a gain: {names or 'none'})")
        for n, m in sub:
            picked.setdefault(id(m), (n, m))
    order = {id(m): i for i, (_, m) in enumerate(named)}
    return sorted(picked.values(), key=lambda nm: order[id(nm[1])])


def _expand(name: str, module: nn.Module, capable) -> List[Tuple[str, nn.Module]]:
    """A layer selects itself; a container (no layer type of its own) the layers inside it
    that can carry a gain, or itself when there are none (and then fails the check)."""
    if _base_class(module) is not None:
        return [(name, module)]
    inner = [(n, m) for n, m in capable if n.startswith(name + ".") or (not name and n)]
    return inner or [(name, module)]


def _is_type_tuple(obj) -> bool:
    return isinstance(obj, tuple) and len(obj) > 0 and all(isinstance(t, type) for t in obj)


# ---------------------------------------------------------------------------- the handle
class Modulation:
    """Handle of the gains attached by :func:`modulate`.

    Attributes
    ----------
    model : nn.Module
    names : tuple of str
        Qualified names of the modulated layers, in module order.
    target : str
        ``preactivation``, ``logits`` or ``slope``.
    per_unit : bool
        One gain per output unit / channel (else one scalar per layer).
    """

    def __init__(self, model: nn.Module, layers: List[Tuple[str, nn.Module]], target: str, per_unit: bool):
        self.model, self.target, self.per_unit = model, target, per_unit
        self.names = tuple(n for n, _ in layers)
        self._layers = dict(layers)
        self._removed = False

    # -- duck type expected by lcne.GainLoop
    @property
    def training(self) -> bool:
        """The model's mode (a :class:`lcne.GainLoop` is frozen while it is False)."""
        return bool(self.model.training)

    @property
    def layers(self) -> Dict[str, nn.Module]:
        """Modulated layers by name."""
        return dict(self._layers)

    @property
    def gain(self) -> Dict[str, torch.Tensor]:
        """Current gain of each layer (a copy): 0-d tensors, or (units,) with ``per_unit``."""
        self._check_live()
        return {n: m._buffers[GAIN_BUFFER].detach().clone() for n, m in self._layers.items()}

    def units(self) -> Dict[str, int]:
        """Output units (channels) of each modulated layer."""
        return {n: _units(m) for n, m in self._layers.items()}

    def set_gain(self, gain) -> None:
        """Write new gain values into the layers (in place: compiled graphs stay valid).

        Parameters
        ----------
        gain : number, Tensor, or dict layer name -> number / Tensor
            A scalar (a 0-d or one-element tensor, e.g. a controller's ``(1,)`` gain) goes
            to every unit of every layer. A 1-D tensor of length ``units`` sets one value
            per unit and needs ``per_unit=True``; a dict sets layers separately.
        """
        self._check_live()
        if isinstance(gain, dict):
            unknown = [k for k in gain if k not in self._layers]
            if unknown:
                raise GainUsageError(f"set_gain: {unknown[0]!r} is not a modulated layer (modulated: "
                                     f"{', '.join(map(_label, self.names))})")
            items = gain.items()
        else:
            items = ((n, gain) for n in self.names)
        with torch.no_grad():
            for name, value in items:
                buf = self._layers[name]._buffers[GAIN_BUFFER]
                buf.copy_(self._as_gain(name, value, buf))

    def _as_gain(self, name: str, value, buf: torch.Tensor) -> torch.Tensor:
        t = value.detach() if isinstance(value, torch.Tensor) else torch.as_tensor(value, dtype=torch.float64)
        if t.numel() == 1:
            return t.reshape(())
        units = _units(self._layers[name])
        if t.dim() != 1:
            raise GainUsageError(f"gain for layer {_label(name)}: expected a scalar or ({units},) values, "
                                 f"got shape {tuple(t.shape)}")
        if not self.per_unit:
            raise GainUsageError(f"per-unit gain of size {t.numel()} for layer {_label(name)}, but the modulation "
                                 "holds one scalar per layer; use modulate(..., per_unit=True)")
        if t.numel() != units:
            raise GainUsageError(f"per-unit gain of size {t.numel()} for layer {_label(name)} with {units} output units")
        return t

    def remove(self) -> None:
        """Detach the gains: the layers compute exactly what they computed before."""
        if self._removed:
            return
        for module in self._layers.values():
            fwd = module.__dict__.get("forward")
            if fwd is not None and getattr(fwd, "__func__", None) in _OURS:
                del module.__dict__["forward"]
            module._buffers.pop(GAIN_BUFFER, None)
        self._removed = True

    def _check_live(self) -> None:
        if self._removed:
            raise GainUsageError("this modulation was removed; call modulate(model, ...) again")

    def __enter__(self) -> "Modulation":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        state = "removed" if self._removed else f"{len(self.names)} layers"
        unit = ", per_unit" if self.per_unit else ""
        return f"Modulation({state}: {', '.join(map(_label, self.names))}; target={self.target}{unit})"


def modulate(
    model: nn.Module,
    layers: Selector = None,
    *,
    target: str = "preactivation",
    per_unit: bool = False,
    init: float = 1.0,
) -> Modulation:
    """Attach a multiplicative gain to layers of ``model`` (see the module docstring).

    Parameters
    ----------
    model : nn.Module
        Any network; its code, parameters and ``state_dict`` are left as they are.
    layers : selection, optional
        Which layers carry the gain. Default: every ``Linear`` and ``Conv1d/2d/3d``. A
        layer type or tuple of types (``nn.Conv2d``, ``(nn.Linear, nn.Conv2d)``); a
        qualified name (``"features.0"``); a glob pattern on names (``"features.*"``,
        ``"*fc*"``) or a compiled regular expression (``re.compile(r"block\\d\\.conv")``),
        which keep only the matches that can carry a gain; a module of the model (a
        container such as ``model.features`` selects the layers inside it); or a list of
        any of these.
    target : {"preactivation", "logits", "slope"}
        ``preactivation``: ``g * (W x) + b`` on every selected layer (GainLinear);
        ``logits`` (or ``temperature``): the same on the last selected layer only, in the
        order of ``model.named_modules()``; ``slope``: ``g * (W x + b)``.
    per_unit : bool
        One gain per output unit / channel (``set_gain`` accepts ``(units,)`` tensors).
    init : float
        Initial gain (1: the unmodulated network).

    Returns
    -------
    Modulation
        ``set_gain``, ``gain``, ``remove`` (also a context manager), and the duck type
        a :class:`lcne.GainLoop` writes to.

    Raises
    ------
    lcne.gain_loop.GainUsageError
        No layer matched the selection; a selected module cannot carry a gain (type not
        supported, its class overrides ``forward``, it already carries one, or a parent
        may skip its ``forward``: ``nn.MultiheadAttention.out_proj``, and the layers of an
        ``nn.TransformerEncoderLayer`` while its fast path is enabled).
    """
    if not isinstance(model, nn.Module):
        raise GainUsageError(f"modulate: expected a torch.nn.Module, got {type(model).__name__}")
    target = "logits" if target == "temperature" else target
    if target not in MODULATION_TARGETS:
        raise GainUsageError(f"target: {target!r}; allowed: {', '.join(MODULATION_TARGETS)} (or temperature)")
    chosen = _select(model, layers)
    if target == "logits":
        chosen = chosen[-1:]
    skip = _bypassed(model)
    for name, module in chosen:
        reason = _why_not(name, module, skip.get(id(module)))
        if reason:
            raise GainUsageError(reason)
    style = "slope" if target == "slope" else "preactivation"
    for name, module in chosen:
        weight = module.weight
        floating = not isinstance(weight, nn.parameter.UninitializedParameter) and weight.is_floating_point()
        shape = (_units(module),) if per_unit else ()
        value = torch.full(shape, float(init), dtype=weight.dtype if floating else torch.float32,
                           device=weight.device)
        module.register_buffer(GAIN_BUFFER, value, persistent=False)
        module.forward = types.MethodType(_FORWARDS[(_kind(module), style)], module)
    return Modulation(model, chosen, target, per_unit)
