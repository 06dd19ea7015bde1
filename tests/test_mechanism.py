"""The homogeneity identity behind NGM-SGD on the paper's MNIST network (docs/mechanism.md).

GainMLP with the gain on every layer's pre-activation and frozen zero biases: ReLU is
positively homogeneous (relu(g z) = g relu(z) for g > 0), so a scalar gain g gives the
logits of the unmodulated network times g^L, L = the number of gained layers (3 for the
paper's 784-400-400-10). Same function of the weights, so the same loss gradients: an
NGM-SGD step is an SGD step on the cross-entropy of logits at inverse temperature g(t)^L.
The tests also pin down where the identity stops being a pure temperature.
"""
import pytest
import torch
import torch.nn.functional as F

from lcne.models import GainMLP

SIZES = (20, 16, 12, 5)
GAINS = torch.tensor([1.7, 0.6], dtype=torch.float64)


def _net(gain_target="preactivation", train_bias=False, gain_layers=None, sizes=SIZES, seed=0):
    torch.manual_seed(seed)
    net = GainMLP(sizes=sizes, n_runs=2, gain_target=gain_target, train_bias=train_bias, gain_layers=gain_layers,
                  hidden_init_std=0.3, output_init_std=0.3)  # logits of order 1, so the checks have teeth
    net.reset_parameters([torch.Generator().manual_seed(s) for s in (seed, seed + 1)])
    return net.double()


def _batch(n_features=SIZES[0], batch=32, classes=SIZES[-1]):
    g = torch.Generator().manual_seed(7)
    x = torch.randn(2, batch, n_features, generator=g, dtype=torch.float64)
    y = torch.randint(classes, (2, batch), generator=g)
    return x, y


def _loss(logits, y):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="none").view(2, -1).mean(1).sum()


def _scaled(g, k):
    return (g**k).view(2, 1, 1)


def test_the_paper_network_has_three_gained_layers():
    net = GainMLP()
    assert net.sizes == (784, 400, 400, 10) and net.gain_layers == (0, 1, 2) and net.gain_target == "preactivation"
    assert all(torch.count_nonzero(layer.bias) == 0 and not layer.bias.requires_grad for layer in net.layers)


def test_scalar_gain_is_logits_times_g_to_the_L():
    net, (x, _) = _net(), _batch()
    torch.testing.assert_close(net(x, GAINS), _scaled(GAINS, 3) * net(x, None), rtol=1e-12, atol=1e-15)
    # on the paper's network itself (float32)
    paper = GainMLP(n_runs=2)
    xp = torch.randn(2, 8, 784)
    g = GAINS.float()
    torch.testing.assert_close(paper(xp, g), (g**3).view(2, 1, 1) * paper(xp, None), rtol=1e-5, atol=1e-6)


def test_L_counts_the_gained_layers():
    net, (x, _) = _net(gain_layers=(0, 2)), _batch()
    torch.testing.assert_close(net(x, GAINS), _scaled(GAINS, 2) * net(x, None), rtol=1e-12, atol=1e-15)


def test_gain_equals_an_inverse_temperature_g_to_the_L_on_the_logits():
    pre, x = _net(), _batch()[0]
    temp = _net(gain_target="temperature")  # same seeds: same weights, gain on the logits only
    assert temp.gain_layers == (2,)
    torch.testing.assert_close(pre(x, GAINS), temp(x, GAINS**3), rtol=1e-12, atol=1e-15)


def test_loss_gradients_under_gain_equal_those_of_the_tempered_unmodulated_network():
    net, (x, y) = _net(), _batch()
    params = list(net.parameters())
    grad_gain = torch.autograd.grad(_loss(net(x, GAINS), y), params)
    grad_temp = torch.autograd.grad(_loss(_scaled(GAINS, 3) * net(x, None), y), params)
    for a, b in zip(grad_gain, grad_temp):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-14)
    assert all(float(a.abs().max()) > 1e-4 for a in grad_gain)  # not a trivially zero gradient
    # the same step read in effective weights W' = g W: dL/dW = g * dL/dW'|_{W' = g W},
    # so an SGD step of size lr on W moves W' by -lr g^2 dL/dW' (the lr-replay reading)
    eff = _net()
    with torch.no_grad():
        for p in eff.parameters():
            p.mul_(GAINS.view(2, 1, 1))
    grad_eff = torch.autograd.grad(_loss(eff(x, None), y), list(eff.parameters()))
    for a, b in zip(grad_gain, grad_eff):
        torch.testing.assert_close(a, GAINS.view(2, 1, 1) * b, rtol=1e-10, atol=1e-14)


def test_with_biases_the_gain_is_a_temperature_of_another_network():
    """Pre-activation gain with biases: f_g(b1, b2, b3) = g^3 f_1(b1/g, b2/g^2, b3/g^3) -- the
    gain also shrinks the biases, so it changes the function, not only its temperature."""
    net, x = _net(train_bias=True), _batch()[0]
    with torch.no_grad():
        for layer in net.layers:
            layer.bias.copy_(torch.randn(layer.bias.shape, dtype=torch.float64))
    gained = net(x, GAINS)
    assert not torch.allclose(gained, _scaled(GAINS, 3) * net(x, None), rtol=1e-3)
    shrunk = _net(train_bias=True)
    with torch.no_grad():
        for k, (a, b) in enumerate(zip(shrunk.layers, net.layers), start=1):
            a.bias.copy_(b.bias / GAINS.view(2, 1) ** k)
    torch.testing.assert_close(gained, _scaled(GAINS, 3) * shrunk(x, None), rtol=1e-12, atol=1e-14)


def test_slope_gain_with_biases_is_a_temperature_of_another_network():
    """Slope gain relu(g (W h + b)): f_g(b1, b2, b3) = g^3 f_1(b1, b2/g, b3/g^2); with zero
    biases it is the pre-activation gain."""
    net, x = _net(gain_target="slope", train_bias=True), _batch()[0]
    torch.testing.assert_close(net(x, GAINS), _net()(x, GAINS), rtol=1e-12, atol=1e-15)  # zero biases
    with torch.no_grad():
        for layer in net.layers:
            layer.bias.copy_(torch.randn(layer.bias.shape, dtype=torch.float64))
    shrunk = _net(train_bias=True)
    with torch.no_grad():
        for k, (a, b) in enumerate(zip(shrunk.layers, net.layers)):
            a.bias.copy_(b.bias / GAINS.view(2, 1) ** k)
    torch.testing.assert_close(net(x, GAINS), _scaled(GAINS, 3) * shrunk(x, None), rtol=1e-12, atol=1e-14)


def test_per_unit_gain_rescales_weight_rows_and_is_no_temperature():
    net, x = _net(), _batch()[0]
    gen = torch.Generator().manual_seed(3)
    per_unit = [0.5 + torch.rand(2, n, generator=gen, dtype=torch.float64) for n in SIZES[1:]]
    out = net(x, per_unit)
    rows = _net()
    with torch.no_grad():
        for layer, g in zip(rows.layers, per_unit):
            layer.weight.mul_(g.unsqueeze(-1))  # W_eff = diag(g) W
    torch.testing.assert_close(out, rows(x, None), rtol=1e-12, atol=1e-15)
    ratio = (out / net(x, None)).detach()
    assert float(ratio.std()) > 0.05  # no single factor maps the unmodulated logits onto these


def test_resnet_head_gain_is_an_inverse_temperature_g():
    from lcne.models.resnet import SlimResNet18

    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    net = SlimResNet18(n_runs=2, n_classes=4, nf=2, in_size=32, generators=gens).double().eval()
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.testing.assert_close(net(x, GAINS), GAINS.view(2, 1, 1) * net(x, None), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("g", [0.0, -1.0])
def test_homogeneity_needs_a_positive_gain(g):
    net, x = _net(), _batch()[0]
    gains = torch.tensor([g, 1.0], dtype=torch.float64)
    if g == 0.0:
        assert torch.count_nonzero(net(x, gains)[0]) == 0  # g = 0 silences the network
    else:  # relu(-z) != -relu(z): a negative gain is no power of g
        assert not torch.allclose(net(x, gains)[0], -net(x, None)[0])
