import math

import pytest
import torch

import lcne


def test_paper_gain_hand_computed():
    c = lcne.PaperGain(n_runs=2, gamma=0.9, g0=1.0, eta=[0.4, 0.0])
    assert c.gain.tolist() == [1.0, 1.0]
    g = c.step(torch.tensor([math.log(10), 1.0]))
    # 0.9*1 + 0.1*1 + 0.4*ln10 = 1 + 0.92103
    assert g[0].item() == pytest.approx(1 + 0.4 * math.log(10), rel=1e-6)
    assert g[1].item() == pytest.approx(1.0)
    g = c.step(torch.tensor([1.0, 1.0]))
    assert g[0].item() == pytest.approx(0.9 * (1 + 0.4 * math.log(10)) + 0.1 + 0.4, rel=1e-6)


def test_paper_gain_steady_state():
    c = lcne.PaperGain(eta=0.5)
    for _ in range(400):
        c.step(torch.tensor([0.3]))
    assert c.gain.item() == pytest.approx(1 + 10 * 0.5 * 0.3, rel=1e-5)


def test_constant_and_registry():
    c = lcne.make_controller("constant", n_runs=3, value=2.0)
    assert c.step(torch.ones(3)).tolist() == [2.0, 2.0, 2.0]
    assert set(lcne.CONTROLLERS) >= {"constant", "paper"}
    with pytest.raises(ValueError, match="unknown gain controller 'nope'"):
        lcne.make_controller("nope")
    with pytest.raises(ValueError, match="eta: got 2 values for 3 runs"):
        lcne.PaperGain(n_runs=3, eta=[0.1, 0.2])


def test_softmax_entropy_values():
    logits = torch.tensor([[[0.0, 0.0], [100.0, 0.0]]])  # (1 run, 2 samples, 2 classes)
    h = lcne.softmax_entropy(logits)
    assert h.shape == (1,)
    assert h.item() == pytest.approx(math.log(2) / 2, rel=1e-5)
    assert lcne.softmax_entropy(torch.zeros(3, 10), normalise=True).item() == pytest.approx(1.0)
