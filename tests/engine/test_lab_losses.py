"""The GAN losses and penalties the Lab demonstrates, checked against hand-computed values and autograd."""
from __future__ import annotations

import math

import pytest
import torch

from engine.losses import clip_weights, get_loss, gradient_penalty

REAL = torch.tensor([2.0, -1.0, 0.5])
FAKE = torch.tensor([0.5, -2.0, 1.5])


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs)


R, F_ = REAL.tolist(), FAKE.tolist()
EXPECTED = {
    # D: -log D(x) - log(1 - D(G(z)));  G (saturating): log(1 - D(G(z)))
    "bce": (mean(-math.log(sig(r)) for r in R) + mean(-math.log(1 - sig(f)) for f in F_),
            mean(math.log(1 - sig(f)) for f in F_)),
    # same D; G: -log D(G(z))
    "nonsaturating": (mean(-math.log(sig(r)) for r in R) + mean(-math.log(1 - sig(f)) for f in F_),
                      mean(-math.log(sig(f)) for f in F_)),
    "lsgan": (mean((r - 1) ** 2 for r in R) + mean(f ** 2 for f in F_), mean((f - 1) ** 2 for f in F_)),
    "wgan": (mean(F_) - mean(R), -mean(F_)),
    "wgan_gp": (mean(F_) - mean(R), -mean(F_)),
    "hinge": (mean(max(0.0, 1 - r) for r in R) + mean(max(0.0, 1 + f) for f in F_), -mean(F_)),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_loss_matches_hand_computed_values(name):
    loss = get_loss(name)
    d_expected, g_expected = EXPECTED[name]
    assert float(loss.d_loss(REAL, FAKE)) == pytest.approx(d_expected, rel=1e-5)
    assert float(loss.g_loss(FAKE)) == pytest.approx(g_expected, rel=1e-5)
    assert float(loss.d_real(REAL) + loss.d_fake(FAKE)) == pytest.approx(d_expected, rel=1e-5)


def test_saturating_generator_loss_vanishes_where_the_non_saturating_one_does_not():
    confident_fake = torch.tensor([-8.0], requires_grad=True)  # D is sure the sample is fake
    g_sat, = torch.autograd.grad(get_loss("bce").g_loss(confident_fake), confident_fake)
    g_ns, = torch.autograd.grad(get_loss("nonsaturating").g_loss(confident_fake), confident_fake)
    assert abs(float(g_sat)) < 1e-3 < abs(float(g_ns))  # the reason the non-saturating loss exists


def test_losses_need_the_right_regulariser():
    assert get_loss("wgan").needs == "clip" and get_loss("wgan_gp").needs == "gp"
    assert get_loss("bce").needs == get_loss("hinge").needs == ""


def test_gradient_penalty_equals_a_per_sample_autograd_computation():
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    real, fake = torch.randn(5, 3), torch.randn(5, 3)
    torch.manual_seed(42)
    gp = gradient_penalty(critic, real, fake, weight=10.0)
    torch.manual_seed(42)
    alpha = torch.rand(5, 1)  # the same interpolation weights the penalty draws
    expected = 0.0
    for i in range(5):
        x = (alpha[i] * real[i] + (1 - alpha[i]) * fake[i]).unsqueeze(0)
        jac = torch.autograd.functional.jacobian(lambda v: critic(v).sum(), x)
        expected += (jac.norm() - 1.0) ** 2
    assert float(gp.detach()) == pytest.approx(10.0 * float(expected) / 5, rel=1e-5)


def test_gradient_penalty_of_a_linear_critic_is_exact_and_differentiable():
    lin = torch.nn.Linear(4, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 0.0, 4.0, 0.0]]))  # |grad| = 5 everywhere
    gp = gradient_penalty(lin, torch.randn(8, 4), torch.randn(8, 4), weight=2.0)
    assert float(gp.detach()) == pytest.approx(2.0 * (5.0 - 1.0) ** 2)
    gp.backward()  # create_graph: the penalty trains the critic
    assert lin.weight.grad is not None and float(lin.weight.grad.abs().sum()) > 0


def test_weight_clipping_bounds_every_parameter_and_keeps_small_ones():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 1))
    with torch.no_grad():
        net[0].weight.mul_(10)
        net[1].bias.fill_(0.003)
    clip_weights(net, 0.01)
    for p in net.parameters():
        assert float(p.detach().abs().max()) <= 0.01 + 1e-9
    assert float(net[1].bias.detach()) == pytest.approx(0.003)
    assert float(net[0].weight.detach().abs().max()) == pytest.approx(0.01)
