"""What the Latent page works with: one loaded generator and everything derived from it.

Every method is meant to run as a job (``bridge.submit(lambda cfg, ctx: session.render(cfg), ...)``) on the single
GPU lane, so the session is only used from one worker thread at a time. The same calls serve the CLI, the benchmark
and the tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from ..errors import ConfigError, GanStudioError
from . import directions as D
from .encoder import PhotoEncoder, find_encoder
from .interpolate import path_codes, render_frames, write_animation
from .latent import Latent, LatentModel
from .projection import ProjectConfig, Projector, ProjectionResult

NOISE_MODES = ("const", "random", "none")


@dataclass
class ViewState:
    """Everything that decides the picture on screen; the page sends a fresh one with every slider move."""

    latent: Latent
    psi: float = 1.0
    noise_mode: str = "const"  # const (stored maps) | random (maps from noise_seed) | none
    noise_seed: int = 0
    noise_scale: float = 1.0
    alphas: List[float] = field(default_factory=list)  # one per direction, in sigmas
    mix_with: Optional[Latent] = None  # style mixing: groups in mix_groups come from this latent
    mix_groups: Sequence[str] = ()


class LatentSession:
    def __init__(self, module: torch.nn.Module, device: Optional[torch.device] = None, model_id: str = "",
                 name: str = ""):
        self.model = LatentModel(module, device, name)
        self.model_id = model_id
        self.directions: Optional[D.DirectionSet] = None
        self._projector: Optional[Projector] = None
        self._seeds: Dict[int, Latent] = {}
        self.encoder: Optional[PhotoEncoder] = None  # VAE-GAN: instant embedding of photos
        self.encoder_problem = ""  # why a paired encoder could not be used (shown to the user)

    @classmethod
    def open(cls, library, ref: str, device: Optional[torch.device] = None) -> "LatentSession":
        info = library.resolve(ref)
        if info.task != "generate":
            raise ConfigError(f"{info.name} is a {info.task} model; the Latent page needs a generator "
                              "(task 'generate').")
        loaded = library.load(info, device)
        session = cls(loaded.module, device, info.id, info.name)
        session.attach_encoder(library, info, device)
        return session

    def attach_encoder(self, library, info, device: Optional[torch.device] = None) -> None:
        """Load the encoder paired with the generator (VAE-GAN ``meta["partner"]``), if it has one."""
        enc, why = find_encoder(library, info)
        self.encoder, self.encoder_problem = None, why
        if enc is None:
            return
        try:
            self.encoder = PhotoEncoder(library.load(enc, device).module, self.model, enc.name)
        except GanStudioError as e:
            self.encoder_problem = f"The encoder {enc.name} cannot be used: {e}"

    # --- points ------------------------------------------------------------------------------------------
    def seed(self, seed: int) -> Latent:
        if seed not in self._seeds:
            if len(self._seeds) > 512:
                self._seeds.clear()
            self._seeds[seed] = self.model.seed(seed)
        return self._seeds[seed]

    def code_for(self, state: ViewState) -> torch.Tensor:
        m = self.model
        code = m.truncated(state.latent, state.psi)
        if state.mix_with is not None and state.mix_groups:
            code = m.mix(code, m.truncated(state.mix_with, state.psi), state.mix_groups)
        if self.directions is not None and any(state.alphas):
            if len(state.alphas) != len(self.directions):
                raise ConfigError("The sliders do not match the loaded directions; reload the direction set.")
            code = self.directions.apply(code, state.alphas)
        return code

    # --- rendering ---------------------------------------------------------------------------------------
    def render(self, state: ViewState) -> np.ndarray:
        if state.noise_mode not in NOISE_MODES:
            raise ConfigError(f"Noise mode must be one of {', '.join(NOISE_MODES)}.")
        code = self.code_for(state)
        noises = state.latent.noises if state.noise_mode == "const" else None
        return self.model.render_uint8(code[None], noise_mode=state.noise_mode, noise_scale=state.noise_scale,
                                       noise_seed=state.noise_seed, noises=noises)[0]

    def grid(self, seeds: Sequence[int], psi: float, ctx=None, batch: int = 8) -> List[tuple]:
        """Render seeds; reports each batch through ``ctx.partial([(seed, image), ...])``."""
        out = []
        seeds = list(seeds)
        for i in range(0, len(seeds), batch):
            if ctx is not None:
                ctx.check_cancel()
            chunk = seeds[i:i + batch]
            codes = torch.stack([self.model.truncated(self.seed(s), psi) for s in chunk])
            imgs = self.model.render_uint8(codes)
            part = list(zip(chunk, imgs))
            out.extend(part)
            if ctx is not None:
                ctx.partial(part)
                ctx.progress(len(out), len(seeds), "rendering seeds")
        return out

    # --- directions --------------------------------------------------------------------------------------
    def compute_directions(self, method: str, k: int = 10, ctx=None) -> D.DirectionSet:
        if ctx is not None:
            ctx.progress(0, 1, f"computing {method} directions")
        if method == "ganspace":
            ds = D.ganspace(self.model, k=k)
        elif method == "sefa":
            ds = D.sefa(self.model, k=k)
        else:
            raise ConfigError(f"Unknown direction method {method!r}; use ganspace or sefa.")
        ds.model_id = self.model_id
        self.directions = ds
        return ds

    def add_user_direction(self, positives: Sequence[Latent], negatives: Sequence[Latent], name: str,
                           psi: float = 1.0) -> D.DirectionSet:
        ds = D.user_direction(self.model, [self.model.truncated(p, psi) for p in positives],
                              [self.model.truncated(n, psi) for n in negatives], name=name)
        ds.model_id = self.model_id
        self.directions = ds if self.directions is None else self.directions.extend(ds)
        return self.directions

    def save_directions(self, path) -> Path:
        if self.directions is None or not len(self.directions):
            raise ConfigError("There are no directions to save; compute or define some first.")
        return self.directions.save(path)

    def load_directions(self, path) -> D.DirectionSet:
        self.directions = D.DirectionSet.load(path, self.model)
        return self.directions

    # --- interpolation -----------------------------------------------------------------------------------
    def interpolate(self, points: Sequence[Latent], out_path, frames_per_segment: int = 24, mode: str = "w",
                    psi: float = 1.0, fps: float = 24.0, size: int = 256, loop: bool = True, ctx=None) -> Path:
        codes = path_codes(self.model, points, frames_per_segment, mode, psi, loop)

        def progress(done, total):
            if ctx is not None:
                ctx.check_cancel()
                ctx.progress(done, total + 1, f"frame {done}/{total}")

        frames = render_frames(self.model, codes, progress=progress)
        path = write_animation(out_path, frames, fps=fps, size=size)
        if ctx is not None:
            ctx.progress(1, 1, "written")
        return path

    # --- projection --------------------------------------------------------------------------------------
    def projector(self) -> Projector:
        if self._projector is None:
            self._projector = Projector(self.model)
        return self._projector

    def project(self, rgb: np.ndarray, cfg: Optional[ProjectConfig] = None, ctx=None) -> ProjectionResult:
        """Optimisation-based projection; with an encoder it starts from the encoder's embedding."""
        start = self.encoder.code(rgb) if self.encoder is not None else None
        return self.projector().project(rgb, cfg, ctx, start=start)

    def embed(self, rgb: np.ndarray, label: str = "photo") -> ProjectionResult:
        """Instant embedding with the paired encoder (one forward pass)."""
        if self.encoder is None:
            raise ConfigError(self.encoder_problem or f"{self.model.name} has no encoder; project the photo "
                                                      "instead (optimisation).")
        return self.encoder.embed(rgb, label)
