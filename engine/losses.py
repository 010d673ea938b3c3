"""GAN losses as selectable engine parts, plus pixel and penalty terms.

Every adversarial loss is a :class:`GANLoss` with two methods on raw discriminator outputs (logits / critic values,
any shape)::

    loss.d_loss(real_out, fake_out)   # what the discriminator minimises
    loss.g_loss(fake_out)             # what the generator minimises

Registered names: ``bce`` (minimax, saturating generator loss log(1 - D(G(z)))), ``nonsaturating`` (BCE with the
-log D(G(z)) generator loss), ``lsgan`` (MSE to 1/0, Mao et al.), ``wgan`` (critic; pair with weight clipping),
``wgan_gp`` (critic; pair with :func:`gradient_penalty`), ``hinge``. Use :func:`get_loss`.
Penalties: :func:`gradient_penalty` (WGAN-GP), :func:`r1_penalty` (StyleGAN), :func:`clip_weights` (WGAN).
"""
from __future__ import annotations

from typing import Dict, Iterable, Optional

import torch
import torch.nn.functional as F

from .registry import LOSSES, register_loss


class GANLoss:
    name = ""
    #: the discriminator is a critic without a sigmoid (Wasserstein-style), needs clipping or a penalty
    critic = False
    #: extra regulariser this loss expects ("clip", "gp" or "")
    needs = ""

    def d_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """D's loss on its outputs for a real and a fake batch: the sum of its two halves."""
        return self.d_real(real) + self.d_fake(fake)

    def g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def d_real(self, real: torch.Tensor) -> torch.Tensor:
        """The real half of :meth:`d_loss` (for trainers that score real and fake separately, junyanz-style)."""
        raise NotImplementedError

    def d_fake(self, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _f(x: torch.Tensor) -> torch.Tensor:
    return x.float()


# Deliberate copies of shape: each loss below spells out its own d_real / d_fake / g_loss; they look alike, the
# formulas differ.
@register_loss("bce", family="minimax", title="BCE minimax (saturating)")
class MinimaxBCE(GANLoss):
    """Original minimax GAN: D maximises log D(x) + log(1 - D(G(z))); G minimises log(1 - D(G(z))) (saturates)."""

    name = "bce"

    def d_real(self, real):
        return F.binary_cross_entropy_with_logits(_f(real), torch.ones_like(_f(real)))

    def d_fake(self, fake):
        return F.binary_cross_entropy_with_logits(_f(fake), torch.zeros_like(_f(fake)))

    def g_loss(self, fake):
        # log(1 - sigmoid(l)) = -softplus(l)
        return -F.softplus(_f(fake)).mean()


@register_loss("nonsaturating", family="minimax", title="Non-saturating")
class NonSaturating(MinimaxBCE):
    """Goodfellow's non-saturating variant: G minimises -log D(G(z)) = softplus(-l)."""

    name = "nonsaturating"

    def g_loss(self, fake):
        return F.softplus(-_f(fake)).mean()


@register_loss("lsgan", family="least squares", title="LSGAN (MSE)")
class LSGAN(GANLoss):
    """Least squares GAN (CycleGAN default): D -> 1 on real, 0 on fake; G -> 1."""

    name = "lsgan"

    def d_real(self, real):
        return F.mse_loss(_f(real), torch.ones_like(_f(real)))

    def d_fake(self, fake):
        return F.mse_loss(_f(fake), torch.zeros_like(_f(fake)))

    def g_loss(self, fake):
        return F.mse_loss(_f(fake), torch.ones_like(_f(fake)))


@register_loss("wgan", family="wasserstein", title="WGAN + weight clipping")
class WGAN(GANLoss):
    """Wasserstein critic: D minimises E[D(fake)] - E[D(real)]; pair with weight clipping (:func:`clip_weights`)."""

    name = "wgan"
    critic = True
    needs = "clip"

    def d_real(self, real):
        return -_f(real).mean()

    def d_fake(self, fake):
        return _f(fake).mean()

    def g_loss(self, fake):
        return -_f(fake).mean()


@register_loss("wgan_gp", family="wasserstein", title="WGAN-GP")
class WGANGP(WGAN):
    """Wasserstein critic with gradient penalty (Gulrajani et al.); add :func:`gradient_penalty` to the D loss."""

    name = "wgan_gp"
    needs = "gp"


@register_loss("hinge", family="hinge", title="Hinge")
class Hinge(GANLoss):
    """Hinge loss (SAGAN/BigGAN): D minimises relu(1 - real) + relu(1 + fake); G minimises -fake."""

    name = "hinge"
    critic = True

    def d_real(self, real):
        return F.relu(1.0 - _f(real)).mean()

    def d_fake(self, fake):
        return F.relu(1.0 + _f(fake)).mean()

    def g_loss(self, fake):
        return -_f(fake).mean()


def get_loss(name: str) -> GANLoss:
    return LOSSES.build(name)


def d_means(real_out: torch.Tensor, fake_out: torch.Tensor) -> Dict[str, torch.Tensor]:
    """``{"D_real", "D_fake"}``: D's mean output on the real and on the fake batch (detached), logged beside a step's
    losses."""
    return {"D_real": real_out.detach().float().mean(), "D_fake": fake_out.detach().float().mean()}


# ------------------------------------------------------------------------------------------------------------
# penalties and regularisers

def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, weight: float = 10.0,
                     cond: Optional[torch.Tensor] = None) -> torch.Tensor:
    """WGAN-GP: weight * E[(||grad_x D(x_hat)||_2 - 1)^2] at random interpolates x_hat of real and fake.

    ``cond`` (optional) is concatenated on channels before the critic (conditional PatchGANs)."""
    real, fake = real.detach(), fake.detach()
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    inp = x_hat if cond is None else torch.cat([cond, x_hat], 1)
    out = critic(inp)
    grad, = torch.autograd.grad(out.float().sum(), x_hat, create_graph=True)
    norms = grad.float().flatten(1).norm(2, dim=1)
    return weight * ((norms - 1.0) ** 2).mean()


def r1_penalty(real_out: torch.Tensor, real_in: torch.Tensor, gamma: float = 10.0) -> torch.Tensor:
    """R1 (Mescheder et al.): gamma/2 * E[||grad_x D(x)||^2] on real data. ``real_in`` must require grad."""
    grad, = torch.autograd.grad(real_out.float().sum(), real_in, create_graph=True)
    return 0.5 * gamma * grad.float().pow(2).flatten(1).sum(1).mean()


@torch.no_grad()
def clip_weights(module: torch.nn.Module, c: float = 0.01) -> None:
    """WGAN weight clipping: every parameter into [-c, c]."""
    for p in module.parameters():
        p.clamp_(-c, c)


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.l1_loss(a.float(), b.float())


def set_requires_grad(nets: Iterable[torch.nn.Module], flag: bool) -> None:
    for n in nets:
        if n is not None:
            for p in n.parameters():
                p.requires_grad_(flag)
