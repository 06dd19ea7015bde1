"""Slim ResNet-18 with a gain-modulated linear head, batched over independent runs.

Architecture: the "slim ResNet-18" of Rodriguez-Garcia, Ghosh & Ramaswamy (2025),
"Noradrenergic-inspired gain modulation attenuates the stability gap in joint training",
arXiv:2507.14056, as built in the authors' code (github.com/alejandrorg00/ngm-sgd_project),
which is the reduced ResNet-18 of Lopez-Paz & Ranzato (2017, NeurIPS) common in continual
learning; ``docs/cifar.md`` section 5 describes it.  A 3x3 stem convolution with ``nf``
channels, four stages of two BasicBlocks with ``nf, 2nf, 4nf, 8nf`` channels and strides
1, 2, 2, 2, 3x3 convolutions without bias, BatchNorm after every convolution, 1x1
projection shortcuts where shape changes, ``avg_pool2d(., 4)`` and flattening.  With
``nf = 20`` the feature has 160 entries for 32x32 input and 640 for 84x84.

Only the classifier carries the gain (Rodriguez-Garcia et al. 2025, arXiv:2507.14056,
restrict the modulation to the last layer of the ResNet; the authors' code scales the rows
of the head weight, ``F.linear(x, W * g[:, None], b)``)::

    logits = g * (feat @ W.T) + b        g: one scalar per run, b frozen at 0

The head weight is drawn from N(0, 0.05^2); the backbone uses PyTorch's default
initialisation (convolutions uniform on +-1/sqrt(fan_in), BatchNorm weight 1 and
bias 0).

Batching over runs
------------------
The model holds ``n_runs`` independent networks.  Every parameter and buffer
has a leading run axis.  Activations travel as ``(B, R*C, H, W)``: convolutions
are grouped convolutions with ``groups=R`` (run ``r`` only sees its own
channels), BatchNorm over ``R*C`` channels is per-run BatchNorm (statistics over
the run's own batch), so each run computes exactly what a single network would.
A shared input ``(B, C, H, W)`` (evaluation on one test set for all runs) enters
through one ungrouped stem convolution with ``R*nf`` output channels, which is
the same computation without copying the input ``R`` times.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["SlimResNet18", "slim_resnet_feature_dim"]

logger = logging.getLogger(__name__)

HEAD_INIT_STD = 0.05


def slim_resnet_feature_dim(in_size: int, nf: int = 20) -> int:
    """Length of the pooled feature vector for square inputs of side ``in_size``."""
    side = in_size
    for _ in range(3):  # three stride-2 stages, 3x3 conv with padding 1
        side = (side - 1) // 2 + 1
    pooled = side // 4
    if pooled < 1:
        raise ValueError(f"input side {in_size} is too small for avg_pool2d(., 4) after the last stage")
    return 8 * nf * pooled * pooled


def _generators(generators: Sequence[torch.Generator] | None, n_runs: int) -> list[torch.Generator]:
    if generators is None:
        return [torch.default_generator] * n_runs
    generators = list(generators)
    if len(generators) != n_runs:
        raise ValueError(f"need one generator per run: {n_runs} runs, {len(generators)} generators")
    return generators


class _RunConv2d(nn.Module):
    """``R`` bias-free 2-D convolutions, applied as one grouped convolution.

    ``weight`` has shape (R, out, in, k, k).  Input (B, R*in, H, W) -> (B, R*out, H', W');
    with ``shared=True`` the input is (B, in, H, W) and is fed to every run.
    """

    def __init__(self, n_runs: int, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.n_runs, self.in_channels, self.out_channels = n_runs, in_channels, out_channels
        self.stride, self.padding = stride, padding
        self.weight = nn.Parameter(torch.empty(n_runs, out_channels, in_channels, kernel_size, kernel_size))

    def reset_run(self, r: int, generator: torch.Generator) -> None:
        """Draw run ``r``'s weight from ``generator`` (float32, on the generator's device)."""
        # PyTorch's default conv init: kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        bound = 1.0 / math.sqrt(self.weight[0, 0].numel())
        draw = torch.empty(self.weight.shape[1:], dtype=torch.float32, device=generator.device)
        draw.uniform_(-bound, bound, generator=generator)
        with torch.no_grad():
            self.weight[r].copy_(draw)

    def forward(self, x: torch.Tensor, shared: bool = False) -> torch.Tensor:
        w = self.weight.reshape(-1, *self.weight.shape[2:])
        return F.conv2d(x, w, None, self.stride, self.padding, 1, 1 if shared else self.n_runs)

    def extra_repr(self) -> str:
        k = self.weight.shape[-1]
        return f"runs={self.n_runs}, {self.in_channels}->{self.out_channels}, kernel={k}, stride={self.stride}"


class _RunBatchNorm2d(nn.Module):
    """``R`` independent BatchNorm2d layers over (B, R*C, H, W); parameters and stats are (R, C)."""

    def __init__(self, n_runs: int, num_features: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(n_runs, num_features))
        self.bias = nn.Parameter(torch.zeros(n_runs, num_features))
        self.register_buffer("running_mean", torch.zeros(n_runs, num_features))
        self.register_buffer("running_var", torch.ones(n_runs, num_features))

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.weight.fill_(1.0)
            self.bias.zero_()
            self.running_mean.zero_()
            self.running_var.fill_(1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The flat views share storage with the (R, C) buffers, so the running
        # statistics are updated in place in training mode.
        return F.batch_norm(x, self.running_mean.view(-1), self.running_var.view(-1),
                            self.weight.reshape(-1), self.bias.reshape(-1),
                            self.training, self.momentum, self.eps)

    def extra_repr(self) -> str:
        return f"runs={self.weight.shape[0]}, features={self.weight.shape[1]}, eps={self.eps}, momentum={self.momentum}"


class _RunBasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity or 1x1-conv-BN shortcut, then ReLU."""

    def __init__(self, n_runs: int, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = _RunConv2d(n_runs, in_planes, planes, 3, stride, 1)
        self.bn1 = _RunBatchNorm2d(n_runs, planes)
        self.conv2 = _RunConv2d(n_runs, planes, planes, 3, 1, 1)
        self.bn2 = _RunBatchNorm2d(n_runs, planes)
        self.has_projection = stride != 1 or in_planes != planes
        if self.has_projection:
            self.shortcut_conv = _RunConv2d(n_runs, in_planes, planes, 1, stride, 0)
            self.shortcut_bn = _RunBatchNorm2d(n_runs, planes)

    def convs(self) -> list[_RunConv2d]:
        return [self.conv1, self.conv2] + ([self.shortcut_conv] if self.has_projection else [])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = self.shortcut_bn(self.shortcut_conv(x)) if self.has_projection else x
        return F.relu(out + skip)


class SlimResNet18(nn.Module):
    """Reduced ResNet-18 (BasicBlock [2, 2, 2, 2], width ``nf``) with a gain-modulated head.

    Parameters
    ----------
    n_runs : int
        Number of independent networks held side by side.
    n_classes : int
        Head width (10 Split CIFAR-10, 100 Domain CIFAR-100, 50 Split mini-ImageNet).
    nf : int
        Channels of the first stage (20 in the paper).
    in_size : int
        Side of the square input images (32 CIFAR, 84 mini-ImageNet); sets the
        feature length (:func:`slim_resnet_feature_dim`).
    in_channels : int
        Input channels.
    generators : sequence of ``torch.Generator``, optional
        One per run, passed to :meth:`reset_parameters`; default: torch's global RNG.

    Shapes
    ------
    ``forward(x, gain)``: ``x`` (R, B, C, H, W), or (B, C, H, W) shared by all
    runs; ``gain`` (R,) (a scalar broadcasts; ``None`` means 1).  Returns logits
    (R, B, n_classes).

    Notes
    -----
    * The gain is a plain input, never a parameter: the caller keeps g(t) and
      passes the current value.  The one-step lag of the gain update
      g(t+1) = gamma g(t) + (1 - gamma) g0 + eta H(t) (Rodriguez-Garcia et al.
      2025, arXiv:2507.14056, Eq. 4 of v2) lives in the training loop, not here
      (``docs/protocol.md``, "One training iteration").  Gradients with respect
      to the head weight therefore carry the factor g, as in the paper.
    * The head bias is a zero buffer (the paper's code never optimises it), so
      no optimizer can move it.
    * Parameters of different runs never interact: losses summed over runs give
      each run its own gradient, and every element-wise optimizer (SGD with or
      without momentum, Adam) keeps runs independent.  Anything that mixes
      elements across runs (gradient-norm clipping over all parameters, LARS,
      weight-decay schemes using global norms) would couple them.

    Examples
    --------
    >>> import torch
    >>> gens = [torch.Generator().manual_seed(s) for s in (42, 43)]
    >>> net = SlimResNet18(n_runs=2, n_classes=10, generators=gens)
    >>> x = torch.randn(2, 4, 3, 32, 32)
    >>> net(x, torch.tensor([1.0, 1.5])).shape
    torch.Size([2, 4, 10])
    """

    def __init__(self, n_runs: int = 1, n_classes: int = 10, nf: int = 20, in_size: int = 32,
                 in_channels: int = 3, generators: Sequence[torch.Generator] | None = None) -> None:
        super().__init__()
        if n_runs < 1:
            raise ValueError("n_runs must be >= 1")
        self.n_runs, self.n_classes, self.nf = n_runs, n_classes, nf
        self.in_size, self.in_channels = in_size, in_channels
        self.feature_dim = slim_resnet_feature_dim(in_size, nf)

        self.conv1 = _RunConv2d(n_runs, in_channels, nf, 3, 1, 1)
        self.bn1 = _RunBatchNorm2d(n_runs, nf)
        stages = []
        in_planes = nf
        for planes, stride in ((nf, 1), (2 * nf, 2), (4 * nf, 2), (8 * nf, 2)):
            blocks = [_RunBasicBlock(n_runs, in_planes, planes, stride), _RunBasicBlock(n_runs, planes, planes, 1)]
            stages.append(nn.Sequential(*blocks))
            in_planes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = stages

        self.head_weight = nn.Parameter(torch.empty(n_runs, n_classes, self.feature_dim))
        self.register_buffer("head_bias", torch.zeros(n_runs, n_classes))
        self.reset_parameters(generators)

    # ------------------------------------------------------------------ init
    def _convs(self) -> list[_RunConv2d]:
        convs = [self.conv1]
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            for block in stage:
                convs.extend(block.convs())
        return convs

    def reset_parameters(self, generators: Sequence[torch.Generator] | None = None) -> None:
        """Re-initialise every run from its own generator.

        Run ``r`` draws, from ``generators[r]`` only and always in float32 on the
        generator's device: every convolution weight in forward order (stem,
        then per block conv1, conv2, shortcut), then the head weight
        N(0, 0.05^2).  A run therefore gets the same parameters whether it is
        built alone or among other runs, in any dtype (up to the cast), and -
        with CPU generators - whether the model lives on CPU or GPU.  BatchNorm
        is reset to weight 1, bias 0 and fresh running statistics; the head
        bias to 0.
        """
        gens = _generators(generators, self.n_runs)
        convs = self._convs()
        shape = self.head_weight.shape[1:]
        with torch.no_grad():
            for r, g in enumerate(gens):
                for conv in convs:
                    conv.reset_run(r, g)
                draw = torch.empty(shape, dtype=torch.float32, device=g.device).normal_(0.0, HEAD_INIT_STD, generator=g)
                self.head_weight[r].copy_(draw)
            for module in self.modules():
                if isinstance(module, _RunBatchNorm2d):
                    module.reset_parameters()
            self.head_bias.zero_()

    # --------------------------------------------------------------- forward
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled backbone features, shape (R, B, feature_dim).

        ``x`` is (R, B, C, H, W) with one batch per run, or (B, C, H, W) shared by all runs.
        """
        if x.dim() == 5:
            r, b, c, h, w = x.shape
            if r != self.n_runs:
                raise ValueError(f"input has {r} runs, model has {self.n_runs}")
            shared = False
            h_in = x.transpose(0, 1).reshape(b, r * c, h, w)
        elif x.dim() == 4:
            b, c, h, w = x.shape
            shared = True
            h_in = x
        else:
            raise ValueError(f"expected (runs, batch, C, H, W) or (batch, C, H, W), got {tuple(x.shape)}")
        if c != self.in_channels or h != self.in_size or w != self.in_size:
            raise ValueError(f"expected images of shape ({self.in_channels}, {self.in_size}, {self.in_size}), "
                             f"got ({c}, {h}, {w})")
        out = F.relu(self.bn1(self.conv1(h_in, shared=shared)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.avg_pool2d(out, 4)  # (B, R*8nf, p, p)
        return out.reshape(b, self.n_runs, -1).transpose(0, 1)

    def head(self, features: torch.Tensor, gain: torch.Tensor | float | None = None) -> torch.Tensor:
        """Gain-modulated read-out ``g * (feat @ W.T) + b``; features (R, B, F) -> logits (R, B, K)."""
        z = torch.bmm(features, self.head_weight.transpose(1, 2))
        if gain is not None:
            g = torch.as_tensor(gain, dtype=z.dtype, device=z.device)
            if g.dim() == 0:
                g = g.expand(self.n_runs)
            if g.shape != (self.n_runs,):
                raise ValueError(f"gain must have shape ({self.n_runs},), got {tuple(g.shape)}")
            z = z * g[:, None, None]
        return z + self.head_bias[:, None, :]

    def forward(self, x: torch.Tensor, gain: torch.Tensor | float | None = None) -> torch.Tensor:
        """Logits (R, B, n_classes) for images ``x`` and per-run gains ``gain`` (R,)."""
        return self.head(self.features(x), gain)

    # ---------------------------------------------------- optimizer plumbing
    def head_parameters(self) -> list[nn.Parameter]:
        """The gain-modulated head weight (the only trainable head parameter)."""
        return [self.head_weight]

    def backbone_parameters(self) -> list[nn.Parameter]:
        """Convolution and BatchNorm parameters (everything except the head)."""
        return [p for name, p in self.named_parameters() if name != "head_weight"]

    def ngm_param_groups(self, lr: float = 0.01, backbone_momentum: float = 0.9,
                         head_momentum: float = 0.0) -> list[dict]:
        """``torch.optim.SGD`` parameter groups of the paper's CIFAR NGM optimizer.

        Momentum 0.9 on the backbone, plain SGD (momentum 0) on the gained head
        weight, both at ``lr``, as in the authors' v1 code for the CIFAR benchmarks
        (github.com/alejandrorg00/ngm-sgd_project; the paper, arXiv:2507.14056,
        Algorithm 1, writes plain SGD on the weights; see ``docs/cifar.md`` section 5).
        Baselines (SGD, MSGD, Adam)
        take ``model.parameters()`` directly: the head bias is a buffer, so it
        is excluded there too, as in the authors' code.

        >>> net = SlimResNet18()
        >>> opt = torch.optim.SGD(net.ngm_param_groups(lr=0.01), lr=0.01)
        """
        return [
            {"params": self.backbone_parameters(), "lr": lr, "momentum": backbone_momentum},
            {"params": self.head_parameters(), "lr": lr, "momentum": head_momentum},
        ]

    # ------------------------------------------------------ run extraction
    def extract_run(self, r: int) -> "SlimResNet18":
        """A single-run copy of run ``r`` (same parameters, buffers, mode, device and dtype)."""
        single = SlimResNet18(1, self.n_classes, self.nf, self.in_size, self.in_channels,
                              generators=[torch.Generator().manual_seed(0)])
        single.to(device=self.head_weight.device, dtype=self.head_weight.dtype)
        single.load_state_dict({k: v[r:r + 1].clone() for k, v in self.state_dict().items()})
        return single.train(self.training)

    @classmethod
    def stack_runs(cls, models: Sequence["SlimResNet18"]) -> "SlimResNet18":
        """Concatenate models (any number of runs each, same configuration) into one."""
        first = models[0]
        n = sum(m.n_runs for m in models)
        out = cls(n, first.n_classes, first.nf, first.in_size, first.in_channels,
                  generators=[torch.Generator().manual_seed(0)] * n)
        out.to(device=first.head_weight.device, dtype=first.head_weight.dtype)
        states = [m.state_dict() for m in models]
        out.load_state_dict({k: torch.cat([s[k] for s in states]) for k in states[0]})
        return out.train(first.training)

    def extra_repr(self) -> str:
        return (f"n_runs={self.n_runs}, n_classes={self.n_classes}, nf={self.nf}, in_size={self.in_size}, "
                f"feature_dim={self.feature_dim}")
