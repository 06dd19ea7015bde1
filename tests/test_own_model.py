"""Bring your own model: gain on any module, the LC in a plain loop, continual evaluation.

(1) equivalence with ``lcne run split-mnist --optimizers ngm --seeds 42``; (3) torch.compile
without graph breaks or recompilation; (4) one-line errors; (5) state_dict and removal;
and the behaviour of :class:`lcne.gain_loop.GainLoop` and
:class:`lcne.experiments.continual.ContinualRecorder`. The example scripts are run in
``tests/test_examples.py``.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import lcne
from lcne.experiments.continual import ContinualRecorder, merge_runs
from lcne.experiments.errors import ConfigError
from lcne.gain_loop import GainLoop, GainUsageError
from lcne.models import GainLinear, GainMLP
from lcne.models.modulate import GAIN_BUFFER, modulate
from lcne.models.paper_init import paper_init_


class TinyCNN(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 6 * 6, 8)
        self.head = nn.Linear(8, n_classes)

    def forward(self, x):
        x = F.relu(self.conv(x.view(-1, 1, 6, 6)))
        return self.head(F.relu(self.fc(x.flatten(1))))


@pytest.fixture
def one_thread():
    """One intra-op thread: small matmuls gain nothing from more, and OpenMP threads stall
    when the CPU is shared with other processes (the numbers do not depend on it)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _one_line(exc: pytest.ExceptionInfo, *phrases: str) -> str:
    msg = str(exc.value)
    assert "\n" not in msg, msg
    for p in phrases:
        assert p in msg, msg
    return msg


# ----------------------------------------------------------------------------- (1) equivalence

def _user_steps(net, lc, rec, opt, x, y, n):
    """``n`` steps of the two-call user loop of docs/own_model.md on one batch."""
    for _ in range(n):
        lc.read()
        out = net(x)
        loss = F.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        lc.observe(out, y)
        rec.step()

def test_sequential_mlp_with_torch_sgd_reproduces_lcne_run_ngm_seed_42(one_thread):
    """A plain nn.Sequential 784-400-400-10 with torch.optim.SGD, modulated through the new
    API, gives the NGM curves of ``lcne run split-mnist --optimizers ngm --seeds 42``.

    The initial weights are GainMLP's own draws for seed 42 (``paper_init_`` copies them
    from a one-run GainMLP initialised from the seed's generator, and the test checks them
    against the runner's network bit for bit); the batches come from the same generator
    through ``JointBatchSampler``. Everything else - the layers' forward, the gain
    mechanism, the optimizer, the LC loop, the evaluation - is the user's path. The run
    uses 50 iterations per context: its first 50 iterations are those of the default
    200-per-context run (all in context 1; nothing later affects them).
    """
    from lcne.experiments.config import RunConfig
    from lcne.experiments.runner import build_model, run_experiment
    from lcne.experiments.sampling import JointBatchSampler
    from lcne.experiments.streams import build_stream

    ipt = 50
    cfg = RunConfig(benchmark="split-mnist", optimizers=["ngm"], seeds=[42], iterations=ipt)
    ref = run_experiment(cfg, progress=False)
    stream = build_stream("split-mnist")

    # --- the user's code ---------------------------------------------------------------
    g = torch.Generator().manual_seed(42)
    net = nn.Sequential(nn.Linear(784, 400, bias=False), nn.ReLU(), nn.Linear(400, 400, bias=False), nn.ReLU(),
                        nn.Linear(400, 10, bias=False))
    paper_init_(net, g)
    lc = GainLoop(modulate(net), "paper", eta=0.4, gamma=0.9, g0=1.0)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    rec = ContinualRecorder(net, stream, iterations_per_task=ipt, lc=lc, seed=42, benchmark="split-mnist")
    for context, x, y in JointBatchSampler(stream, 128, generator=g).iterate(ipt):
        lc.read()
        logits = net(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        lc.observe(logits, y)
        rec.step(context)
    ds = rec.to_dataset()
    # -----------------------------------------------------------------------------------

    runner_net, _ = build_model(cfg.resolved(), stream, [None], [torch.Generator().manual_seed(42)])
    fresh = paper_init_(nn.Sequential(nn.Linear(784, 400, bias=False), nn.ReLU(), nn.Linear(400, 400, bias=False),
                                      nn.ReLU(), nn.Linear(400, 10, bias=False)), torch.Generator().manual_seed(42))
    for mine, theirs in zip([fresh[0], fresh[2], fresh[4]], runner_net.layers):
        assert torch.equal(mine.weight, theirs.weight[0])

    first = slice(0, 50)
    sel = {"method": "ngm", "seed": 42}
    d_gain = np.abs(ds.gain.sel(sel).values[first] - ref.gain.sel(sel).values[first]).max()
    d_entropy = np.abs(ds.entropy.sel(sel).values[first] - ref.entropy.sel(sel).values[first]).max()
    acc, acc_ref = (d.accuracy.sel({**sel, "eval_task": 1}).values for d in (ds, ref))
    d_acc = np.abs(acc[first] - acc_ref[first]).max()
    print(f"max |diff| over 50 iterations: gain {d_gain:.3g}, entropy {d_entropy:.3g}, task-1 accuracy {d_acc:.3g}")
    assert d_gain < 1e-5 and d_entropy < 1e-5
    assert d_acc <= 1 / 200 + 1e-7  # at most one of the 200 task-1 test images (it is 0 here)
    assert ref.gain.sel(sel).values[49] > 1.5  # the gain did move
    # the whole record has the runner's layout: NaN exactly where lcne run has NaN
    assert np.array_equal(np.isnan(ds.accuracy.values), np.isnan(ref.accuracy.values))
    assert np.array_equal(ds.train_task.values, ref.train_task.values)
    assert np.abs(ds.gain.values - ref.gain.values).max() < 0.05  # float drift only, over 250 iterations


# ----------------------------------------------------------------------------- semantics
def test_linear_gain_matches_gainlinear_scalar_and_per_unit():
    torch.manual_seed(1)
    lin = nn.Linear(5, 4)
    ref = GainLinear(5, 4, n_runs=1, train_bias=True)
    with torch.no_grad():
        ref.weight.copy_(lin.weight[None])
        ref.bias.copy_(lin.bias[None])
    x = torch.randn(7, 5)
    gain = modulate(lin, per_unit=True)
    for g in (torch.tensor([1.7]), torch.tensor([0.5, 1.0, 2.0, 3.0])):
        gain.set_gain(g)
        expected = ref(x[None], g.view(1, -1) if g.numel() > 1 else g)[0]
        assert torch.allclose(lin(x), expected, atol=1e-6, rtol=1e-6)
        # before the bias: g * (W x) + b
        assert torch.allclose(lin(x), g * (x @ lin.weight.T) + lin.bias, atol=1e-6)


def test_conv_gain_per_channel_before_bias_and_targets():
    torch.manual_seed(2)
    conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect")
    x = torch.randn(2, 2, 5, 5)
    plain = conv(x)
    gain = modulate(conv, per_unit=True)
    g = torch.tensor([0.5, 2.0, 3.0])
    gain.set_gain(g)
    no_bias = plain - conv.bias.view(1, 3, 1, 1)
    assert torch.allclose(conv(x), no_bias * g.view(1, 3, 1, 1) + conv.bias.view(1, 3, 1, 1), atol=1e-5)
    assert torch.allclose(conv(x[0]), conv(x)[0], atol=1e-6)  # unbatched input
    gain.remove()
    slope = modulate(conv, target="slope")
    slope.set_gain(2.0)
    assert torch.allclose(conv(x), 2.0 * plain, atol=1e-6)
    slope.remove()
    net = TinyCNN()
    logits_only = modulate(net, target="logits")
    assert logits_only.names == ("head",)
    assert modulate(nn.Sequential(nn.Linear(2, 2)), target="temperature").target == "logits"


def test_selection_by_type_pattern_name_module_and_list():
    import re

    net = TinyCNN()
    cases = [
        (None, ("conv", "fc", "head")),
        (nn.Conv2d, ("conv",)),
        ((nn.Linear, nn.Conv2d), ("conv", "fc", "head")),
        ("fc", ("fc",)),
        ("*c*", ("conv", "fc")),
        (re.compile(r"h\w+"), ("head",)),
        (["head", net.conv], ("conv", "head")),
        ([nn.Linear, "fc"], ("fc", "head")),
    ]
    nested = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3)), nn.Linear(3, 1))
    with modulate(nested, nested[0]) as gain:  # a container selects the layers inside it
        assert gain.names == ("0.0", "0.2")
    with modulate(nested, "0") as gain:
        assert gain.names == ("0.0", "0.2")
    for selection, names in cases:
        with modulate(net, selection) as gain:
            assert gain.names == names, selection
        assert not any("forward" in m.__dict__ for m in net.modules())


# ----------------------------------------------------------------------------- (5) state_dict, removal
def test_state_dict_unchanged_and_removal_restores_outputs_exactly():
    torch.manual_seed(3)
    net = TinyCNN()
    x = torch.randn(4, 36)
    before = net(x)
    sd = {k: v.clone() for k, v in net.state_dict().items()}
    gain = modulate(net, per_unit=True)
    assert list(net.state_dict()) == list(sd)
    assert all(torch.equal(net.state_dict()[k], v) for k, v in sd.items())
    net.load_state_dict(sd)  # strict: no extra or missing keys
    assert torch.equal(net(x), before)  # gain 1 is the identity
    gain.set_gain({"conv": torch.linspace(0.5, 2, 4), "fc": 3.0, "head": 0.25})
    assert not torch.equal(net(x), before)
    state_before = torch.get_rng_state()
    net.to(torch.float64).to(torch.float32)  # buffers move with the model
    assert torch.equal(torch.get_rng_state(), state_before)
    gain.set_gain(2.0)
    gain.remove()
    assert torch.equal(net(x), before)
    assert not any(GAIN_BUFFER in dict(m.named_buffers(recurse=False)) for m in net.modules())
    gain.remove()  # idempotent
    with pytest.raises(GainUsageError) as exc:
        gain.set_gain(1.0)
    _one_line(exc, "removed")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device in this environment")
def test_cuda_gain_loop_and_recorder():
    net = TinyCNN().cuda()
    gain = modulate(net)
    lc = GainLoop(gain, "paper", eta=0.4)
    x, y = torch.randn(8, 36, device="cuda"), torch.randint(0, 3, (8,), device="cuda")
    rec = ContinualRecorder(net, [(x.cpu(), y.cpu())], iterations_per_task=2, lc=lc)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    _user_steps(net, lc, rec, opt, x, y, 2)
    assert gain.gain["fc"].device.type == "cuda"
    assert rec.to_dataset().gain.values[0, 0, 1] > 1


# ----------------------------------------------------------------------------- (3) torch.compile
def test_torch_compile_no_graph_break_and_no_recompile_when_gain_changes(one_thread):
    dynamo = pytest.importorskip("torch._dynamo")
    from torch._dynamo.testing import CompileCounter

    torch.manual_seed(4)
    net = TinyCNN()
    gain = modulate(net, [nn.Conv2d, "fc"], per_unit=True)
    modulate(net, "head", target="slope")  # a second modulation, another target
    x = torch.randn(3, 36)
    dynamo.reset()
    explanation = dynamo.explain(net)(x)
    assert explanation.graph_break_count == 0, explanation.break_reasons
    assert explanation.graph_count == 1

    dynamo.reset()
    counter = CompileCounter()
    with dynamo.config.patch(error_on_recompile=True):
        compiled = torch.compile(net, backend=counter)
        for value in (1.0, 2.5, torch.linspace(0.5, 1.5, 8), 0.3):
            gain.set_gain(value if not isinstance(value, torch.Tensor) else {"fc": value, "conv": 1.1})
            assert torch.equal(compiled(x), net(x))
    assert counter.frame_count == 1  # one compilation for every gain value

    # training through the compiled model with the LC changing the gain every step
    dynamo.reset()
    counter = CompileCounter()
    lc = GainLoop(gain, "paper", eta=0.4)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    y = torch.tensor([0, 1, 2])
    gains = []
    with dynamo.config.patch(error_on_recompile=True):
        compiled = torch.compile(net, backend=counter)
        for _ in range(4):
            gains.append(float(lc.read()))
            out = compiled(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            lc.observe(out, y)
    assert counter.frame_count == 1
    assert len(set(gains)) == 4
    dynamo.reset()


# ----------------------------------------------------------------------------- (4) errors
def test_one_line_errors():
    net = TinyCNN()
    with pytest.raises(GainUsageError) as exc:
        modulate(net, "encoder.*")
    _one_line(exc, "no layer matched the selection", "'encoder.*'", "'conv'")
    with pytest.raises(GainUsageError) as exc:
        modulate(net, "fc2")
    _one_line(exc, "no layer matched the selection 'fc2'")
    with pytest.raises(GainUsageError) as exc:
        modulate(nn.Sequential(nn.ReLU(), nn.Tanh()))
    _one_line(exc, "no layer matched the selection")
    with pytest.raises(GainUsageError) as exc:
        modulate(net, nn.Linear(2, 2))
    _one_line(exc, "not part of the model")
    # modules that cannot carry a gain
    with pytest.raises(GainUsageError) as exc:
        modulate(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), "1")
    _one_line(exc, "module '1' (ReLU) cannot carry a gain", "Linear")
    with pytest.raises(GainUsageError) as exc:
        modulate(nn.Sequential(nn.LSTM(2, 2)), nn.LSTM)
    _one_line(exc, "LSTM cannot carry a gain")

    class MyLinear(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2

    with pytest.raises(GainUsageError) as exc:
        modulate(nn.Sequential(MyLinear(2, 2)), nn.Linear)
    _one_line(exc, "overrides forward()")
    # layers whose parent skips their forward: attention's out_proj, the encoder fast path
    with pytest.raises(GainUsageError) as exc:
        modulate(nn.MultiheadAttention(4, 2), "out_proj")
    _one_line(exc, "'out_proj'", "MultiheadAttention uses its weight directly")
    encoder = nn.TransformerEncoderLayer(4, 2, 8, batch_first=True)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    try:
        torch.backends.mha.set_fastpath_enabled(True)
        with pytest.raises(GainUsageError) as exc:
            modulate(encoder)
        _one_line(exc, "'linear1'", "fast path", "set_fastpath_enabled(False)")
        torch.backends.mha.set_fastpath_enabled(False)
        with modulate(encoder) as g:
            assert g.names == ("linear1", "linear2")
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    gain = modulate(net, "fc")
    with pytest.raises(GainUsageError) as exc:
        modulate(net)
    _one_line(exc, "'fc'", "already carries an lcne gain")
    # per-unit gains of the wrong size
    with pytest.raises(GainUsageError) as exc:
        gain.set_gain(torch.ones(8))
    _one_line(exc, "per-unit gain of size 8", "per_unit=True")
    gain.remove()
    per_unit = modulate(net, ["conv", "fc"], per_unit=True)
    with pytest.raises(GainUsageError) as exc:
        per_unit.set_gain({"fc": torch.ones(7)})
    _one_line(exc, "per-unit gain of size 7 for layer 'fc' with 8 output units")
    with pytest.raises(GainUsageError) as exc:
        per_unit.set_gain(torch.ones(4))  # right for conv, wrong for fc
    _one_line(exc, "per-unit gain of size 4 for layer 'fc' with 8 output units")
    with pytest.raises(GainUsageError) as exc:
        per_unit.set_gain({"head": 1.0})
    _one_line(exc, "'head' is not a modulated layer")
    # observing before reading
    lc = GainLoop(per_unit, "paper", eta=0.4)
    with pytest.raises(GainUsageError) as exc:
        lc.observe(torch.zeros(4, 3))
    _one_line(exc, "observe() before read()")
    lc.read()
    lc.observe(torch.zeros(4, 3))
    with pytest.raises(GainUsageError) as exc:
        lc.observe(torch.zeros(4, 3))  # twice for one read
    _one_line(exc, "observe() before read()")
    # a front end that needs losses
    lc = GainLoop(None, "paper", "cpp")
    lc.read()
    with pytest.raises(GainUsageError) as exc:
        lc.observe(torch.zeros(4, 3))
    _one_line(exc, "'cpp' needs the batch's losses")
    with pytest.raises(GainUsageError) as exc:
        lc.observe(torch.zeros(4, 3), losses=torch.tensor(0.3))
    _one_line(exc, "one loss per sample")
    # the recorder before observe
    lc = GainLoop(None, "paper")
    rec = ContinualRecorder(net, [(torch.randn(5, 36), torch.zeros(5, dtype=torch.long))],
                            iterations_per_task=2, lc=lc)
    with pytest.raises(ConfigError) as exc:
        rec.step()
    _one_line(exc, "before lc.observe()")


# ----------------------------------------------------------------------------- the LC loop
def test_gain_loop_lag_eval_freeze_and_any_optimizer():
    torch.manual_seed(5)
    net = TinyCNN()
    gain = modulate(net)
    lc = GainLoop(gain, "paper", eta=0.4, gamma=0.9, g0=1.0)
    ref = lcne.PaperGain(n_runs=1, eta=0.4)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = torch.randn(6, 36), torch.randint(0, 3, (6,))
    for _ in range(3):
        g = lc.read()
        assert torch.equal(g, ref.gain)
        assert float(gain.gain["fc"]) == float(g)
        out = net(x)
        loss = F.cross_entropy(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        g_next = lc.observe(out, y)
        assert float(gain.gain["fc"]) == float(g)  # the layers keep g(t) until the next read
        ref.step(lcne.softmax_entropy(out.detach()[None]))
        assert torch.equal(g_next, ref.gain)
        assert lc.last.train_loss.item() == pytest.approx(loss.item(), rel=1e-6)
    # frozen under eval: reads return the gain in force, observations change nothing
    net.eval()
    held = gain.gain["fc"].clone()
    state = lc.controller.state()["gain"].clone()
    assert torch.equal(lc.read(), held.reshape(1))
    lc.observe(net(x), y)
    assert torch.equal(lc.controller.state()["gain"], state)
    assert torch.equal(gain.gain["fc"], held)
    assert lc.iteration == 3
    net.train()
    assert torch.equal(lc.read(), state.to(torch.float32))


@pytest.mark.parametrize("controller", sorted(lcne.CONTROLLERS))
def test_every_lc_model_and_front_end_works_through_the_loop(controller):
    torch.manual_seed(6)
    params = {"paper": {"eta": 0.4}, "constant": {"value": 1.5}}.get(controller, {"drive_scale": math.log(3)})
    for front_end in sorted(lcne.UNCERTAINTY_SIGNALS):
        net = TinyCNN()
        lc = GainLoop(modulate(net), controller, front_end, **params)
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        x, y = torch.randn(6, 36), torch.randint(0, 3, (6,))
        rec = ContinualRecorder(net, {1: (x, y), 2: (x, y)}, iterations_per_task=2, lc=lc, seed=1)
        _user_steps(net, lc, rec, opt, x, y, 4)
        ds = rec.to_dataset()
        assert np.isfinite(ds.gain.values).all() and np.isfinite(ds.drive.values).all()
        for name in lc.controller.state_variables[1:]:
            assert f"lc_{name}" in ds
        for name in lc.signal.state_variables:
            assert f"unc_{name}" in ds


# ----------------------------------------------------------------------------- the recorder
def test_recorder_shares_forward_passes_restores_modes_and_writes_readable_results(tmp_path):
    from lcne.analysis import open_results
    from lcne.analysis.results_io import run_info

    torch.manual_seed(7)
    net = nn.Sequential(nn.Linear(36, 8), nn.Dropout(0.5), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    calls = []
    net.register_forward_pre_hook(lambda m, a: calls.append(len(a[0])))
    tests = {k: (torch.randn(10 + k, 36), torch.randint(0, 3, (10 + k,))) for k in (1, 2, 3)}
    runs = []
    for seed, use_lc in ((1, True), (2, True), (1, False)):
        lc = GainLoop(modulate(net), "paper", eta=0.3) if use_lc else GainLoop(None, "constant")
        rec = ContinualRecorder(net, tests, iterations_per_task=2, lc=lc, seed=seed, benchmark="toy", chunk=1000)
        net[2].eval()  # a submodule in eval mode inside a training model keeps its mode
        for t in range(6):
            lc.read()
            x, y = torch.randn(4, 36), torch.randint(0, 3, (4,))
            out = net(x)
            F.cross_entropy(out, y).backward()
            lc.observe(out, y)
            calls.clear()
            rec.step(t // 2 + 1)
            assert calls == [sum(len(tests[k][1]) for k in range(1, t // 2 + 2))]  # one pass for all seen tasks
            assert net.training and net[1].training and not net[2].training
        with pytest.raises(ConfigError):
            rec.step()  # past the last task
        runs.append(rec)
        if lc.target is not None:
            lc.target.remove()
    path = runs[0].save(tmp_path / "one.nc")
    ds = open_results(path)
    assert ds.sizes == {"method": 1, "seed": 1, "iteration": 6, "eval_task": 3}
    acc = ds.accuracy.values[0, 0]
    assert np.isnan(acc[:2, 1:]).all() and np.isfinite(acc[2:4, :2]).all() and np.isfinite(acc[4:]).all()
    assert run_info(ds)["eta"] == pytest.approx(0.3)
    merged = merge_runs(runs)
    assert [str(m) for m in merged["method"].values] == ["ngm", "sgd"]
    assert list(merged["seed"].values) == [1, 2]
    assert np.isnan(merged.gain.sel({"method": "sgd", "seed": 2}).values).all()
    assert (merged.gain.sel({"method": "sgd", "seed": 1}).values == 1).all()
    from lcne.experiments.results import write_netcdf

    again = open_results(write_netcdf(merged, tmp_path / "merged.nc"))
    assert again.attrs["seeds"] == "[1, 2]" and again.attrs["benchmark"] == "toy"
    short = ContinualRecorder(net, tests, iterations_per_task=2)
    short.step()
    with pytest.raises(ConfigError) as exc:
        short.to_dataset()
    _one_line(exc, "recorded 1 iterations", "2 x 3 = 6")


def test_paper_init_leaves_the_global_generator_alone_and_checks_the_chain():
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    state = torch.get_rng_state()
    paper_init_(net, torch.Generator().manual_seed(0))
    assert torch.equal(torch.get_rng_state(), state)
    with pytest.raises(GainUsageError) as exc:
        paper_init_(nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)))
    _one_line(exc, "do not form a chain")
    mlp = GainMLP(sizes=(3, 4, 2))
    assert mlp.layers[0].init_std == 0.01 and mlp.layers[1].init_std == 0.05


def test_recorder_schedule_every_and_eval_tasks():
    net = nn.Linear(4, 2)
    tests = [(torch.randn(3, 4), torch.tensor([0, 1, 0])), (torch.randn(2, 4), torch.tensor([1, 1]))]
    for every, eval_tasks, evaluated in ((2, "all", [[1, 1], [0, 0], [1, 1], [0, 0]]),
                                         (1, "first", [[1, 0]] * 4),
                                         (1, "seen", [[1, 0], [1, 0], [1, 1], [1, 1]])):
        rec = ContinualRecorder(net, tests, iterations_per_task=2, every=every, eval_tasks=eval_tasks)
        for _ in range(4):
            rec.step()
        acc = rec.to_dataset().accuracy.values[0, 0]
        assert (np.isfinite(acc) == np.array(evaluated, dtype=bool)).all(), (every, eval_tasks)
