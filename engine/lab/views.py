"""What the Lab shows, computed in the worker as plain numpy arrays (the GUI only draws).

2-D data: real and generated points, the discriminator's decision surface on a grid, and the generator's gradient
field: at every grid point the direction in which the generator loss would push a generated sample there
(``-d g_loss / d x``). D scores grid points against the current generated batch (the ``context`` of its minibatch
layer), i.e. "what D would say about a generated point at x". Digits: image grids of real and generated digits (for
the conditional GAN one row per class) and the classifier's class histogram.
"""
from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import torch

from .data import VIEW_EXTENT
from .trainer import LabTrainer

SURFACE_RES = 72
FIELD_RES = 19
SHOWN_POINTS = 600
MAX_CURVE_POINTS = 1500


def _decimate(xs: List[float], limit: int = MAX_CURVE_POINTS) -> List[float]:
    if len(xs) <= limit:
        return list(xs)
    idx = np.linspace(0, len(xs) - 1, limit).round().astype(int)
    return [xs[i] for i in idx]


def _grid(res: int) -> torch.Tensor:
    a = torch.linspace(-VIEW_EXTENT, VIEW_EXTENT, res)
    yy, xx = torch.meshgrid(a, a, indexing="ij")  # row 0 = y = -extent (the GUI flips to screen coordinates)
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)


def decision_surface(tr: LabTrainer, context: torch.Tensor, res: int = SURFACE_RES) -> Dict[str, Any]:
    with torch.no_grad():
        out = tr.D(_grid(res), context=context).view(res, res)
    if tr.loss.critic:
        kind = "score"
        values = out
    elif tr.cfg.loss == "lsgan":
        kind = "prob"
        values = out.clamp(0, 1)
    else:
        kind = "prob"
        values = torch.sigmoid(out)
    return {"surface": values.numpy().astype(np.float32), "surface_kind": kind}


def gradient_field(tr: LabTrainer, context: torch.Tensor, res: int = FIELD_RES) -> Dict[str, Any]:
    pts = _grid(res).requires_grad_(True)
    out = tr.D(pts, context=context)
    loss = tr.loss.g_loss(out) * pts.shape[0]  # g_loss is a mean: undo it to get each point's own gradient
    grad, = torch.autograd.grad(loss, pts)
    tr.D.zero_grad(set_to_none=True)
    move = (-grad).detach().numpy().astype(np.float32)
    return {"field_points": pts.detach().numpy().astype(np.float32), "field": move}


def digit_grid(x: torch.Tensor, cols: int, side: int = 8, gap: int = 1) -> np.ndarray:
    """(N, 64) in [-1, 1] -> uint8 grey mosaic, dark ink on white (as the digits were scanned)."""
    n = x.shape[0]
    rows = (n + cols - 1) // cols
    img = np.full((rows * (side + gap) + gap, cols * (side + gap) + gap), 255, np.uint8)
    arr = ((1.0 - (x.detach().clamp(-1, 1).numpy() + 1.0) / 2.0) * 255).round().astype(np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        y0, x0 = gap + r * (side + gap), gap + c * (side + gap)
        img[y0:y0 + side, x0:x0 + side] = arr[i].reshape(side, side)
    return img


def snapshot(tr: LabTrainer, eval_samples: int, *, with_generator: bool = False) -> Dict[str, Any]:
    """Everything one side of the Lab shows, as plain Python / numpy (safe to hand to another thread)."""
    stats = tr.measure(eval_samples)
    snap: Dict[str, Any] = {
        "title": tr.cfg.title(), "data": tr.cfg.data, "step": tr.step_count, "steps_per_s": tr.steps_per_s,
        "steps_per_cpu_s": tr.steps_per_cpu_s,
        "diverged": tr.diverged, "stats": stats.to_dict(),
        "losses": {k: _decimate(v) for k, v in tr.history.items()},
        "metric_history": {k: _decimate(v) for k, v in tr.metric_history.items()},
        "loss_name": tr.cfg.loss, "conditional": bool(tr.n_classes),
    }
    if tr.is_image:
        snap.update(_digit_views(tr))
        if with_generator:
            snap["generator"] = tr.generator_state()
    else:
        snap.update(_toy_views(tr))
    return snap


def _toy_views(tr: LabTrainer) -> Dict[str, Any]:
    tr.D.eval()
    g = torch.Generator().manual_seed(7)
    real = tr.data.sample(SHOWN_POINTS, g)
    fake = tr.generate(SHOWN_POINTS, seed=7)
    if not torch.isfinite(fake).all():
        fake = torch.nan_to_num(fake, nan=0.0, posinf=1e3, neginf=-1e3)
    context = fake[: tr.cfg.batch_size]
    out = {"real": real.numpy().astype(np.float32), "fake": fake.numpy().astype(np.float32),
           "extent": float(VIEW_EXTENT), "mode_centres": tr.data.mode_centres()}
    out.update(decision_surface(tr, context))
    out.update(gradient_field(tr, context))
    tr.D.train()
    return out


def _digit_views(tr: LabTrainer) -> Dict[str, Any]:
    g = torch.Generator().manual_seed(7)
    real, _ = tr.data.sample_labeled(100, g)
    tr.G.eval()
    with torch.no_grad():
        labels = (torch.arange(100) // 10) if tr.n_classes else None  # cGAN: row r shows class r
        fake = tr.G(tr.fixed_z, labels)
    return {"real_grid": digit_grid(real, 10), "fake_grid": digit_grid(fake, 10)}


@torch.no_grad()
def generate_class(generator: Dict[str, Any], label: int, n: int = 48, seed: int = 0) -> torch.Tensor:
    """``n`` digits of class ``label`` (N, 64) from a :meth:`LabTrainer.generator_state` copy (the class picker)."""
    from .nets import MLPGenerator

    g = MLPGenerator(**generator["kwargs"])
    g.load_state_dict(generator["state"])
    g.eval()
    z = torch.randn(n, g.z_dim, generator=torch.Generator().manual_seed(seed))
    y = torch.full((n,), int(label), dtype=torch.int64) if g.n_classes else None
    return g(z, y)
