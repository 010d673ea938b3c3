"""Unrolled discriminator (Metz et al. 2017) without touching the real D.

The generator is trained against the discriminator it would face after ``k`` more D updates. The unrolled copy is
functional: parameters are a dict of tensors updated with the D optimiser's own Adam rule (its current moment
estimates and hyper-parameters), evaluated with :func:`torch.func.functional_call`, and the graph is kept
(``create_graph=True``), so the generator's gradient flows through the k updates (the second-order term that lets G
anticipate D's reaction). The adaptive denominator ``sqrt(v)`` is treated as a constant (detached), which keeps the
unrolled step numerically stable where gradients are exactly zero. Buffers (spectral-norm power-iteration vectors)
are cloned, so neither the real D's parameters nor its buffers change.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

import torch
from torch.func import functional_call

from ..losses import GANLoss, gradient_penalty

Params = Dict[str, torch.Tensor]


def _adam_hparams(opt: Optional[torch.optim.Optimizer]) -> Tuple[float, float, float, float]:
    if opt is None:
        return 1e-3, 0.5, 0.999, 1e-8
    g = opt.param_groups[0]
    b1, b2 = g.get("betas", (0.9, 0.999))
    return float(g["lr"]), float(b1), float(b2), float(g.get("eps", 1e-8))


def unroll(D: torch.nn.Module, opt: Optional[torch.optim.Optimizer], loss: GANLoss, k: int,
           real: torch.Tensor, fake: torch.Tensor, *, real_y=None, fake_y=None, clip: float = 0.0,
           gp_weight: float = 0.0, augment: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
           ) -> Tuple[Params, Params]:
    """Return ``(params, buffers)`` of D after ``k`` differentiable Adam steps on ``loss.d_loss``.

    ``fake`` should still be attached to the generator's graph: the returned parameters then depend on G, and a
    generator loss computed with them back-propagates through the unrolled updates."""
    lr, b1, b2, eps = _adam_hparams(opt)
    names = [n for n, _ in D.named_parameters()]
    params: Params = dict(D.named_parameters())
    buffers: Params = {n: b.detach().clone() for n, b in D.named_buffers()}
    state = {n: (opt.state.get(p, {}) if opt is not None else {}) for n, p in D.named_parameters()}
    m = {n: state[n].get("exp_avg", torch.zeros_like(p)).detach() for n, p in params.items()}
    v = {n: state[n].get("exp_avg_sq", torch.zeros_like(p)).detach() for n, p in params.items()}
    t0 = {n: float(state[n].get("step", 0)) for n in names}
    aug = augment or (lambda x: x)

    def critic(x, y):
        return functional_call(D, (params, buffers), (x,), {"y": y})

    for i in range(k):
        r_out, f_out = critic(aug(real), real_y), critic(aug(fake), fake_y)
        d_loss = loss.d_loss(r_out, f_out)
        if gp_weight and loss.needs == "gp":
            d_loss = d_loss + gradient_penalty(lambda x: critic(x, real_y), real, fake, gp_weight)
        grads = torch.autograd.grad(d_loss, [params[n] for n in names], create_graph=True, allow_unused=True)
        new: Params = {}
        for n, g in zip(names, grads):
            if g is None:
                new[n] = params[n]
                continue
            t = t0[n] + i + 1
            m[n] = b1 * m[n] + (1 - b1) * g
            v[n] = b2 * v[n] + (1 - b2) * g.detach() ** 2
            m_hat = m[n] / (1 - b1 ** t)
            v_hat = v[n] / (1 - b2 ** t)
            p = params[n] - lr * m_hat / (v_hat.sqrt() + eps)
            new[n] = p.clamp(-clip, clip) if clip and loss.needs == "clip" else p
        params = new
    return params, buffers


def call_with(D: torch.nn.Module, params: Params, buffers: Params, x: torch.Tensor, y=None) -> torch.Tensor:
    """D's output with the unrolled parameters."""
    return functional_call(D, (params, buffers), (x,), {"y": y})
