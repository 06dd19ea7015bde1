"""Slim ResNet-18 batched over runs: architecture, per-run init, batched == single, optimizer groups."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from lcne.models.resnet import SlimResNet18, slim_resnet_feature_dim

SEEDS = (42, 43, 44)


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny convolutions: one thread is as fast and immune to oversubscribed CPUs.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def gens(seeds=SEEDS):
    return [torch.Generator().manual_seed(s) for s in seeds]


# ------------------------------------------------ plain torch.nn reference
class RefBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (x if self.short is None else self.short(x)))


class RefNet(nn.Module):
    """Textbook single-network version, loaded from run ``r`` of a SlimResNet18."""

    def __init__(self, model: SlimResNet18, r: int):
        super().__init__()
        nf = model.nf
        self.conv1 = nn.Conv2d(3, nf, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(nf)
        blocks, cin = [], nf
        for cout, stride in ((nf, 1), (2 * nf, 2), (4 * nf, 2), (8 * nf, 2)):
            blocks += [RefBlock(cin, cout, stride), RefBlock(cout, cout, 1)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(model.feature_dim, model.n_classes)
        self.double()
        with torch.no_grad():
            self._load(model, r)

    def _load(self, m, r):
        def bn(dst, src):
            dst.weight.copy_(src.weight[r]); dst.bias.copy_(src.bias[r])
            dst.running_mean.copy_(src.running_mean[r]); dst.running_var.copy_(src.running_var[r])
        self.conv1.weight.copy_(m.conv1.weight[r]); bn(self.bn1, m.bn1)
        src_blocks = [b for stage in (m.layer1, m.layer2, m.layer3, m.layer4) for b in stage]
        for dst, src in zip(self.blocks, src_blocks):
            dst.conv1.weight.copy_(src.conv1.weight[r]); bn(dst.bn1, src.bn1)
            dst.conv2.weight.copy_(src.conv2.weight[r]); bn(dst.bn2, src.bn2)
            if dst.short is not None:
                dst.short[0].weight.copy_(src.shortcut_conv.weight[r]); bn(dst.short[1], src.shortcut_bn)
        self.fc.weight.copy_(m.head_weight[r]); self.fc.bias.copy_(m.head_bias[r])

    def forward(self, x, g):
        out = self.blocks(F.relu(self.bn1(self.conv1(x))))
        feat = F.avg_pool2d(out, 4).flatten(1)
        return F.linear(feat, self.fc.weight * g, self.fc.bias)  # (g W) x + b, as in the paper's code


# ---------------------------------------------------------------- tests
def test_feature_sizes_and_parameter_count():
    assert slim_resnet_feature_dim(32) == 160 and slim_resnet_feature_dim(84) == 640
    net = SlimResNet18(n_runs=1, n_classes=50, in_size=84, generators=gens((0,)))
    assert net.feature_dim == 640
    assert net(torch.randn(2, 3, 84, 84)).shape == (1, 2, 50)
    n_params = sum(p.numel() for p in SlimResNet18(generators=gens((0,))).parameters())
    assert 1_090_000 < n_params < 1_100_000  # the ~1.09 M of the reduced ResNet-18 with nf=20
    with pytest.raises(ValueError):
        slim_resnet_feature_dim(16)


def test_initialisation_is_per_run():
    batched = SlimResNet18(n_runs=3, generators=gens())
    singles = [SlimResNet18(n_runs=1, generators=gens((s,))) for s in SEEDS]
    for name, tensor in batched.state_dict().items():
        for r, single in enumerate(singles):
            assert torch.equal(tensor[r], single.state_dict()[name][0]), name
    w = batched.conv1.weight
    assert w.abs().max() <= 1 / 27 ** 0.5 and w.abs().max() > 0.9 / 27 ** 0.5  # U(+-1/sqrt(fan_in))
    assert abs(batched.head_weight.std().item() - 0.05) < 0.003
    assert not torch.equal(batched.head_weight[0], batched.head_weight[1])
    assert "head_bias" in dict(batched.named_buffers()) and torch.count_nonzero(batched.head_bias) == 0
    # float64 / re-initialisation reproduce the float32 draws
    again = SlimResNet18(n_runs=3, generators=gens()).double()
    again.reset_parameters(gens())
    assert torch.equal(again.layer3[0].shortcut_conv.weight, batched.layer3[0].shortcut_conv.weight.double())


def _loss(logits, y):
    # per-run mean cross-entropy, summed over runs (each run gets its own gradient)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(y.shape).mean(1).sum()


def test_batched_equals_single_models_train_and_eval():
    torch.manual_seed(0)
    r, b = 3, 4
    batched = SlimResNet18(n_runs=r, generators=gens()).double()
    singles = [SlimResNet18(n_runs=1, generators=gens((s,))).double() for s in SEEDS]
    x = torch.randn(r, b, 3, 32, 32, dtype=torch.float64)
    y = torch.randint(0, 10, (r, b))
    g = torch.tensor([0.5, 1.0, 2.5], dtype=torch.float64)

    out = batched(x, g)
    _loss(out, y).backward()
    params = dict(batched.named_parameters())
    for i, single in enumerate(singles):
        o = single(x[i:i + 1], g[i:i + 1])
        torch.testing.assert_close(out[i], o[0], rtol=1e-10, atol=1e-12)
        _loss(o, y[i:i + 1]).backward()
        for name, p in single.named_parameters():
            torch.testing.assert_close(params[name].grad[i], p.grad[0], rtol=1e-9, atol=1e-12, msg=name)
        for name, buf in single.named_buffers():  # BatchNorm running statistics
            torch.testing.assert_close(batched.state_dict()[name][i], buf[0], rtol=1e-10, atol=1e-12)

    batched.eval()
    xs = torch.randn(5, 3, 32, 32, dtype=torch.float64)  # shared test batch
    with torch.no_grad():
        shared = batched(xs, g)
        per_run = batched(xs.expand(r, *xs.shape), g)
        torch.testing.assert_close(shared, per_run, rtol=1e-10, atol=1e-12)
        for i, single in enumerate(singles):
            single.eval()
            torch.testing.assert_close(shared[i], single(xs, g[i])[0], rtol=1e-10, atol=1e-12)


def test_matches_textbook_resnet():
    torch.manual_seed(1)
    net = SlimResNet18(n_runs=2, generators=gens((7, 8))).double()
    refs = [RefNet(net, r) for r in range(2)]
    x = torch.randn(2, 6, 3, 32, 32, dtype=torch.float64)
    g = torch.tensor([1.7, 0.8], dtype=torch.float64)
    out = net(x, g)  # train mode: batch statistics, running stats updated
    for r, ref in enumerate(refs):
        torch.testing.assert_close(out[r], ref(x[r], g[r]), rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(net.layer2[0].shortcut_bn.running_var[r], ref.blocks[2].short[1].running_var)
    net.eval()
    with torch.no_grad():
        out = net(x[0], g)
        for r, ref in enumerate(refs):
            ref.eval()
            torch.testing.assert_close(out[r], ref(x[0], g[r]), rtol=1e-10, atol=1e-12)


def test_gain_scales_logits_and_validates_shape():
    net = SlimResNet18(n_runs=2, generators=gens((1, 2))).eval()
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        base = net(x)
        torch.testing.assert_close(net(x, torch.tensor([2.0, 3.0])), base * torch.tensor([2.0, 3.0])[:, None, None])
        torch.testing.assert_close(net(x, 1.0), base)
    with pytest.raises(ValueError, match="gain"):
        net(x, torch.ones(3))
    with pytest.raises(ValueError, match="runs"):
        net(torch.randn(3, 2, 3, 32, 32))
    with pytest.raises(ValueError, match="32"):
        net(torch.randn(2, 3, 28, 28))


def test_ngm_optimizer_groups_and_run_independence():
    batched = SlimResNet18(n_runs=2, generators=gens((5, 6))).double()
    alone = SlimResNet18(n_runs=1, generators=gens((6,))).double()
    groups = batched.ngm_param_groups(lr=0.01)
    assert groups[0]["momentum"] == 0.9 and groups[1]["momentum"] == 0.0
    assert groups[1]["params"] == [batched.head_weight]
    ids = {id(p) for grp in groups for p in grp["params"]}
    assert ids == {id(p) for p in batched.parameters()} and len(ids) == len(list(batched.parameters()))
    opts = [torch.optim.SGD(m.ngm_param_groups(lr=0.05), lr=0.05) for m in (batched, alone)]
    torch.manual_seed(2)
    for _ in range(3):
        x = torch.randn(2, 4, 3, 32, 32, dtype=torch.float64)
        y = torch.randint(0, 10, (2, 4))
        g = torch.tensor([1.2, 1.9], dtype=torch.float64)
        for m, opt, xs, ys, gs in ((batched, opts[0], x, y, g), (alone, opts[1], x[1:], y[1:], g[1:])):
            opt.zero_grad()
            _loss(m(xs, gs), ys).backward()
            opt.step()
    for name, p in alone.state_dict().items():  # run 1 trained in a batch == trained alone
        torch.testing.assert_close(batched.state_dict()[name][1], p[0], rtol=1e-8, atol=1e-10, msg=name)
    assert torch.count_nonzero(batched.head_bias) == 0
    assert "momentum_buffer" in opts[0].state[batched.conv1.weight]


def test_extract_and_stack_runs_roundtrip():
    net = SlimResNet18(n_runs=3, generators=gens())
    parts = [net.extract_run(r) for r in range(3)]
    assert all(p.n_runs == 1 for p in parts)
    back = SlimResNet18.stack_runs([parts[0], SlimResNet18.stack_runs(parts[1:])])
    for name, t in net.state_dict().items():
        assert torch.equal(back.state_dict()[name], t), name
