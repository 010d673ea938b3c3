"""One Lab GAN: data, G, D, optimisers, the training step with every loss and remedy, and its history.

:class:`LabTrainer` is deliberately small and synchronous: ``step()`` does ``d_steps`` discriminator updates and one
generator update. The job task in :mod:`engine.lab.task` steps one or two trainers in lockstep and asks
:mod:`engine.lab.views` for live snapshots.
"""
from __future__ import annotations

import contextlib
import math
import time
from typing import Dict, List, Optional, Tuple

import torch
from torch.nn.utils import parametrize

from ..losses import clip_weights, get_loss, gradient_penalty
from ..guard import NonFiniteGuard
from .config import LabConfig
from .data import DigitsData, make_data
from .metrics import ModeStats, classifier, digit_modes, toy_modes
from .nets import build_pair
from .unrolled import call_with, unroll

INSTANCE_NOISE = 0.1  # std of the noise added to real and fake 2-D points when augmenting (data sigma is 0.05)


def shift_digits(x: torch.Tensor, generator: Optional[torch.Generator] = None, max_shift: int = 1) -> torch.Tensor:
    """Random per-sample translation of flattened 8x8 digits by up to ``max_shift`` pixels (background fill).
    Differentiable with respect to ``x``, so it can be applied to generated digits too (DiffAugment-style)."""
    n = x.shape[0]
    side = int(round(math.sqrt(x.shape[1])))
    img = x.view(n, side, side)
    p = max_shift
    padded = torch.nn.functional.pad(img, (p, p, p, p), value=-1.0)
    dy = torch.randint(-p, p + 1, (n, 1, 1), generator=generator)
    dx = torch.randint(-p, p + 1, (n, 1, 1), generator=generator)
    ar = torch.arange(side).view(1, side, 1)
    rows = ar + p + dy
    cols = ar.transpose(1, 2) + p + dx
    out = padded[torch.arange(n).view(n, 1, 1), rows, cols]
    return out.reshape(n, side * side)


class LabTrainer:
    def __init__(self, cfg: LabConfig, data=None, device: str = "cpu"):
        self.cfg = cfg
        self.device = torch.device(device)
        self.data = data if data is not None else make_data(cfg.data)
        self.is_image = isinstance(self.data, DigitsData)
        self.n_classes = self.data.n_classes if (self.is_image and cfg.conditional) else 0
        torch.manual_seed(cfg.seed)
        self.gen = torch.Generator().manual_seed(cfg.seed + 1)
        self.G, self.D = build_pair(cfg, self.data.dim, self.n_classes, image=self.is_image)
        self.loss = get_loss(cfg.loss)
        betas = (cfg.beta1, cfg.beta2)
        fused = self.device.type == "cpu"  # one kernel per optimizer step instead of ~10 small ops per tensor
        self.opt_g = torch.optim.Adam(self.G.parameters(), cfg.lr_g, betas=betas, fused=fused)
        self.opt_d = torch.optim.Adam(self.D.parameters(), cfg.lr_d, betas=betas, fused=fused)
        self.guard = NonFiniteGuard()  # a non-finite loss or gradient skips the update; several in a row stop
        self.step_count = 0
        self.history: Dict[str, List[float]] = {"step": [], "d": [], "g": []}
        self.metric_history: Dict[str, List[float]] = {"step": [], "covered": [], "hq": []}
        self.diverged = ""
        self.seconds = 0.0  # wall-clock time spent in step()
        self.cpu_seconds = 0.0  # CPU time of this thread spent in step() (what a free core would need)
        self._clf = None
        self.fixed_z = torch.randn(100, cfg.latent_dim, generator=torch.Generator().manual_seed(1234))

    # --- batches -----------------------------------------------------------------------------------------
    def real_batch(self, n: int) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        if self.is_image:
            x, y = self.data.sample_labeled(n, self.gen)
            return x, (y if self.n_classes else None)
        return self.data.sample(n, self.gen), None

    def z(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.latent_dim, generator=self.gen)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        if not self.cfg.augment:
            return x
        if self.is_image:
            x = shift_digits(x, self.gen)
        return x + INSTANCE_NOISE * torch.randn(x.shape, generator=self.gen)

    def _sn_cache(self):
        """Compute spectral-normalised weights (one power iteration) once per D update, not once per D call."""
        return parametrize.cached() if self.cfg.spectral_norm else contextlib.nullcontext()

    # --- one step ----------------------------------------------------------------------------------------
    def d_step(self) -> torch.Tensor:
        cfg = self.cfg
        real, y = self.real_batch(cfg.batch_size)
        with torch.no_grad():
            fake = self.G(self.z(cfg.batch_size), y)
        with self._sn_cache():
            out_r = self.D(self.augment(real), y)
            out_f = self.D(self.augment(fake), y)
            loss = self.loss.d_loss(out_r, out_f)
            if self.loss.needs == "gp" and cfg.gp_weight:
                loss = loss + gradient_penalty(lambda x: self.D(x, y), real, fake, cfg.gp_weight)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.guard.step(self.opt_d, loss)
        if self.loss.needs == "clip":
            clip_weights(self.D, cfg.clip)
        return loss.detach()

    def g_step(self) -> torch.Tensor:
        cfg = self.cfg
        n = cfg.batch_size
        real, y = self.real_batch(n)  # the cGAN generates the labels of a real batch (class balance of the data)
        fake = self.G(self.z(n), y)
        if cfg.unrolled_steps:
            params, buffers = unroll(self.D, self.opt_d, self.loss, cfg.unrolled_steps, real, fake,
                                     real_y=y, fake_y=y, clip=cfg.clip,
                                     gp_weight=cfg.gp_weight, augment=self.augment)
            out = call_with(self.D, params, buffers, self.augment(fake), y)
        else:
            out = self.D(self.augment(fake), y)
        loss = self.loss.g_loss(out)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.guard.step(self.opt_g, loss)
        self.opt_d.zero_grad(set_to_none=True)  # G's backward also reached D's parameters; drop those gradients
        return loss.detach()

    def step(self, record: bool = False) -> None:
        """``d_steps`` D updates, one G update. An update with a NaN or infinite loss or gradient is skipped (the
        weights stay as they were); :data:`~engine.guard.MAX_BAD_STEPS` bad steps in a row stop the
        trainer (``diverged``) with the last good weights kept."""
        if self.diverged:
            return
        t0, c0 = time.perf_counter(), time.thread_time()
        self.G.train()
        self.D.train()
        for _ in range(self.cfg.d_steps):
            ld = self.d_step()
        lg = self.g_step()
        self.step_count += 1
        self.guard.end_step()
        streak = self.guard.bad_in_a_row()
        self.seconds += time.perf_counter() - t0
        self.cpu_seconds += time.thread_time() - c0
        if streak >= self.guard.limit:
            self.diverged = (f"Training diverged at step {self.step_count}: {streak} steps in a row had a NaN or "
                             "infinite loss or gradient. The last good weights are kept; lower the learning rates "
                             "or try another loss.")
            return
        if record and not streak:
            self.history["step"].append(self.step_count)
            self.history["d"].append(float(ld))
            self.history["g"].append(float(lg))

    @property
    def steps_per_s(self) -> float:
        return self.step_count / self.seconds if self.seconds > 0 else 0.0

    @property
    def steps_per_cpu_s(self) -> float:
        """Steps per second of CPU time: the speed on an otherwise idle core, whatever else the machine runs."""
        return self.step_count / self.cpu_seconds if self.cpu_seconds > 0 else 0.0

    # --- measuring ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, n: int, labels: Optional[torch.Tensor] = None, seed: Optional[int] = None) -> torch.Tensor:
        self.G.eval()
        g = torch.Generator().manual_seed(seed) if seed is not None else self.gen
        z = torch.randn(n, self.cfg.latent_dim, generator=g)
        if self.n_classes and labels is None:
            labels = torch.arange(n) % self.n_classes
        return self.G(z, labels)

    def classifier(self):
        if self._clf is None:
            self._clf = classifier(self.data)
        return self._clf

    def measure(self, n: int = 2000) -> ModeStats:
        if self.is_image:
            labels = (torch.arange(n) % self.n_classes) if self.n_classes else None
            stats = digit_modes(self.generate(n, labels, seed=99), self.classifier(), labels)
        else:
            stats = toy_modes(self.generate(n, seed=99), self.data)
        self.metric_history["step"].append(self.step_count)
        self.metric_history["covered"].append(stats.modes_covered)
        self.metric_history["hq"].append(stats.hq_share)
        return stats

    def generator_state(self) -> Dict:
        """A detached copy of G (architecture + weights) for on-demand sampling elsewhere."""
        return {"kwargs": {"z_dim": self.cfg.latent_dim, "out_dim": self.data.dim, "hidden": self.cfg.hidden,
                           "depth": self.cfg.depth, "n_classes": self.n_classes, "tanh": self.is_image},
                "state": {k: v.detach().clone() for k, v in self.G.state_dict().items()}}
