"""Projection of a real photo into the generator's latent space (w, w+ or z), after StyleGAN2's projector.

Optimises the latent (and, for style models, the per-layer noise maps) with Adam so that the rendering matches the
photo under a pixel loss plus a deep-feature loss (:mod:`engine.editing.features`); noise maps are kept from
explaining the picture by StyleGAN2's multi-scale autocorrelation penalty and renormalised after each step. Progress
and the current reconstruction are reported through the job context so the GUI shows it live.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ..config import Config, check, check_choice
from . import features as feat
from ..tensors import to_uint8
from .latent import Latent, LatentModel, from_uint8


@dataclass
class ProjectConfig(Config):
    space: str = "w+"  # "w" (one w for every layer), "w+" (one per layer); z models always use z
    steps: int = 200
    lr: float = 0.1
    pixel_weight: float = 1.0
    feature_weight: float = 1.0
    noise_reg: float = 1e5
    optimize_noise: bool = True
    use_features: bool = True
    initial_noise: float = 0.05
    preview_every: int = 5
    seed: int = 0

    def validate(self) -> None:
        check_choice("space", self.space, ("w", "w+"))
        check(1 <= self.steps <= 20000, f"Projection steps must be between 1 and 20000; got {self.steps}.")
        check(self.lr > 0, "The projection learning rate must be positive.")


@dataclass
class ProjectionResult:
    latent: Latent
    target: np.ndarray  # HxWx3 uint8 at the model's resolution
    reconstruction: np.ndarray
    mse: float
    psnr: float
    feature_distance: Optional[float]
    losses: List[float] = field(default_factory=list)
    feature_net: str = ""
    method: str = "optimisation"  # optimisation | encoder (instant embedding, engine.editing.encoder)
    stopped_at: Optional[int] = None  # the step a cancel stopped it at (what it had found is kept), else None


def _noise_reg(noises: List[torch.Tensor]) -> torch.Tensor:
    reg = noises[0].new_zeros(())
    for n in noises:
        x = n
        while True:
            reg = reg + (x * torch.roll(x, 1, dims=3)).mean().square() + (x * torch.roll(x, 1, dims=2)).mean().square()
            if x.shape[2] <= 8:
                break
            x = F.avg_pool2d(x, 2)
    return reg


def _lr_at(t: float, base: float, rampdown: float = 0.25, rampup: float = 0.05) -> float:
    r = min(1.0, (1.0 - t) / rampdown)
    r = 0.5 - 0.5 * math.cos(r * math.pi)
    return base * r * min(1.0, t / rampup)


class Projector:
    """Holds the feature network between projections (load it once per session)."""

    def __init__(self, model: LatentModel, feature_net: Any = "auto"):
        self.model = model
        self.feature_net = feat.load_feature_net(model.device) if feature_net == "auto" else feature_net
        self.start: Optional[torch.Tensor] = None  # z models: start here (an encoder's embedding) if set

    def _start(self, cfg: ProjectConfig):
        m = self.model
        codes = m.sample_codes(2000, seed=cfg.seed + 7).float()
        avg = codes.mean(0)
        std = float((codes - avg).square().sum(1).mean().sqrt()) if m.has_w else 0.0
        if m.has_w:
            rows = m.num_ws if cfg.space == "w+" else 1
            start = avg[None].repeat(rows, 1)
        elif self.start is not None:
            start = self.start.reshape(1, m.z_dim).to(m.device).float()
        else:
            start = self._best_z(cfg)
        opt_code = start.clone().requires_grad_(True)
        noises: List[torch.Tensor] = []
        if m.has_w and cfg.optimize_noise:
            g = torch.Generator().manual_seed(cfg.seed)
            noises = [torch.randn(layer.const.shape, generator=g).to(m.device).requires_grad_(True)
                      for layer in m.net.noise_layers()]
        return opt_code, noises, std

    @torch.no_grad()
    def _best_z(self, cfg: ProjectConfig, tries: int = 16) -> torch.Tensor:
        """z models: start from the best of a few random z (z = 0 is a saddle point of ReLU generators)."""
        m = self.model
        g = torch.Generator().manual_seed(cfg.seed)
        zs = torch.randn(tries, m.z_dim, generator=g).to(m.device)
        target = self._target
        err = (m.synthesize(zs[:, None]) - target).square().mean(dim=(1, 2, 3))
        return zs[int(err.argmin())][None].clone()

    def _expand(self, code: torch.Tensor) -> torch.Tensor:
        return code.expand(self.model.num_ws, -1) if code.shape[0] == 1 and self.model.has_w else code

    def _losses(self, img, target, target_feats, cfg):
        pix = (img - target).square().mean()
        if target_feats is not None:
            fd = feat.feature_distance(self.feature_net(img), target_feats).mean()
        else:
            fd = feat.pyramid_distance(img, target).mean()
        return pix, fd

    def project(self, rgb: np.ndarray, cfg: Optional[ProjectConfig] = None, ctx=None,
                start: Optional[torch.Tensor] = None) -> ProjectionResult:
        """``start``: z models only, the z to start from (e.g. an encoder's embedding) instead of the best of a few
        random ones."""
        cfg = cfg or ProjectConfig()
        self.start = start
        m = self.model
        use_feats = cfg.use_features and self.feature_net is not None
        target = from_uint8(rgb, m.resolution, m.device)
        self._target = target
        with torch.no_grad():
            target_feats = self.feature_net(target) if use_feats else None
        code, noises, w_std = self._start(cfg)
        params = [code] + noises
        opt = torch.optim.Adam(params, lr=cfg.lr, betas=(0.9, 0.999))
        g = torch.Generator().manual_seed(cfg.seed + 1)
        losses: List[float] = []
        stopped_at = None
        for step in range(cfg.steps):
            if ctx is not None:
                if step and getattr(ctx, "cancelled", False):  # keep what it found; before step 1 there is nothing
                    stopped_at = step
                    break
                ctx.check_cancel()
            t = step / cfg.steps
            for group in opt.param_groups:
                group["lr"] = _lr_at(t, cfg.lr)
            jitter = w_std * cfg.initial_noise * max(0.0, 1.0 - t / 0.75) ** 2
            noisy = code + torch.randn(code.shape, generator=g).to(m.device) * jitter
            img = m.synthesize(self._expand(noisy)[None], noises=noises or None,
                               noise_mode="const" if m.has_w else "none")
            pix, fd = self._losses(img, target, target_feats, cfg)
            loss = cfg.pixel_weight * pix + cfg.feature_weight * fd
            if noises:
                loss = loss + cfg.noise_reg * _noise_reg(noises)
            if not m.has_w:
                loss = loss + 1e-3 * (code.square().mean() - 1.0).square()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                for n in noises:
                    n.sub_(n.mean()).div_(n.square().mean().sqrt().clamp_min(1e-8))
            losses.append(float(loss.detach()))
            if ctx is not None:
                ctx.progress(step + 1, cfg.steps, f"step {step + 1}/{cfg.steps}, loss {losses[-1]:.4f}")
                if (step + 1) % cfg.preview_every == 0 or step + 1 == cfg.steps:
                    ctx.partial({"step": step + 1, "steps": cfg.steps, "loss": losses[-1],
                                 "image": to_uint8(img.detach())[0]})
        res = self._result(code, noises, target, target_feats, losses, use_feats)
        res.stopped_at = stopped_at
        return res

    @torch.no_grad()
    def _result(self, code, noises, target, target_feats, losses, use_feats) -> ProjectionResult:
        m = self.model
        final = self._expand(code.detach()).clone()
        kept = [n.detach().clone() for n in noises] or None
        img = m.synthesize(final[None], noises=kept, noise_mode="const" if m.has_w else "none")
        mse = float(((img.clamp(-1, 1) - target) / 2).square().mean())  # on [0, 1] pixels
        psnr = 10 * math.log10(1.0 / max(mse, 1e-10))
        fdist = float(feat.feature_distance(self.feature_net(img), target_feats)[0]) if use_feats else None
        latent = Latent(final, None, None, "photo", truncate=False, noises=kept)
        return ProjectionResult(latent, to_uint8(target)[0], to_uint8(img)[0], mse, psnr, fdist, losses,
                                feat.DESCRIPTION if use_feats else "none (pixel + Laplacian pyramid)")
