import pytest
import torch

from lcne.models import GainLinear, GainMLP


def test_gain_multiplies_preactivation_before_bias():
    layer = GainLinear(2, 2, n_runs=1, train_bias=True)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[[1.0, 2.0], [3.0, 4.0]]]))
        layer.bias.copy_(torch.tensor([[10.0, 20.0]]))
    x = torch.tensor([[[1.0, 1.0]]])
    y = layer(x, gain=torch.tensor([2.0]))
    # g * (W x) + b = 2*[3, 7] + [10, 20]
    assert y.tolist() == [[[16.0, 34.0]]]
    y = layer(x, gain=torch.tensor([[2.0, 0.5]]))  # per-unit gain
    assert y.tolist() == [[[16.0, 23.5]]]


def test_frozen_zero_bias_and_init_std():
    gens = [torch.Generator().manual_seed(1)]
    net = GainMLP(n_runs=1)
    net.reset_parameters(gens)
    names = [n for n, p in net.named_parameters()]
    assert all("weight" in n for n in names)  # biases are buffers, not parameters
    assert all(float(layer.bias.abs().sum()) == 0 for layer in net.layers)
    assert net.layers[0].weight.std().item() == pytest.approx(0.01, rel=0.02)
    assert net.layers[2].weight.std().item() == pytest.approx(0.05, rel=0.1)


def test_batched_equals_single_runs():
    seeds = [3, 4, 5]
    batched = GainMLP(n_runs=3)
    batched.reset_parameters([torch.Generator().manual_seed(s) for s in seeds])
    x = torch.randn(3, 7, 784)
    g = torch.tensor([1.0, 1.5, 2.0])
    out = batched(x, g)
    for r, s in enumerate(seeds):
        single = GainMLP(n_runs=1)
        single.reset_parameters([torch.Generator().manual_seed(s)])
        torch.testing.assert_close(single(x[r : r + 1], g[r : r + 1])[0], out[r], rtol=1e-5, atol=1e-6)


def test_relu_homogeneity_logits_scale_as_g_cubed():
    """With zero biases the three gained layers scale the logits by g**3.

    ReLU is positively homogeneous (relu(g z) = g relu(z) for g > 0), so each gained layer
    passes its factor g on to the next one.
    """
    net = GainMLP(n_runs=1)
    net.reset_parameters([torch.Generator().manual_seed(0)])
    x = torch.randn(4, 784)
    torch.testing.assert_close(net(x, torch.tensor([2.0])), 8 * net(x, torch.tensor([1.0])), rtol=1e-5, atol=1e-6)


def test_gain_targets():
    torch.manual_seed(0)
    x = torch.randn(4, 784)
    g = torch.tensor([2.0])
    pre = GainMLP(gain_target="preactivation")
    temp = GainMLP(gain_target="temperature")
    temp.load_state_dict(pre.state_dict())
    torch.testing.assert_close(temp(x, g), 2 * pre(x, None))
    with pytest.raises(ValueError, match="gain_target"):
        GainMLP(gain_target="nope")
