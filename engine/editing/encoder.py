"""Instant embedding of a photo with an encoder (VAE-GAN): one forward pass instead of an optimisation.

A VAE-GAN run exports ``decoder.safetensors`` (task ``generate``, the Latent page's generator) and
``encoder.safetensors`` (task ``encode``: ``forward(x)`` -> posterior mean, attributes ``z_dim`` and
``image_size``); each names the other in ``meta["partner"]`` (``{"role", "id", "file"}``). :func:`find_encoder`
follows that link; :class:`PhotoEncoder` maps a photo to the posterior mean ``z = mu(x)`` (deterministic: no
sampling), renders it with the decoder and measures the reconstruction error, giving the same
:class:`~engine.editing.projection.ProjectionResult` an optimisation-based projection gives, so edits work on it alike.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional, Tuple

import numpy as np
import torch

from ..errors import ConfigError, GanStudioError
from ..tensors import to_uint8
from .latent import Latent, LatentModel, from_uint8
from .projection import ProjectionResult


def find_encoder(library, info) -> Tuple[Optional[Any], str]:
    """The encoder model paired with the generator ``info`` -> (ModelInfo or None, why none: "" if there is none
    to look for, else a sentence for the user)."""
    partner = (info.meta or {}).get("partner") or {}
    if partner.get("role") != "encoder":
        return None, ""
    cands = []
    if partner.get("file"):
        f = Path(info.path).parent / partner["file"]
        if f.is_file():
            cands.append(str(f))
    if partner.get("id"):
        cands.append(partner["id"])
    last = f"the file {partner.get('file', '?')} next to {Path(info.path).name} is missing"
    for ref in cands:
        try:
            enc = library.resolve(ref)
        except GanStudioError as e:
            last = str(e)
            continue
        if enc.task == "encode":
            return enc, ""
        last = f"{ref} is a {enc.task} model, not an encoder"
    return None, f"The encoder of {info.name} could not be found ({last}); instant embedding is off, " \
                 "projection by optimisation still works."


class PhotoEncoder:
    """An image -> latent encoder for a z-space :class:`LatentModel` (its decoder)."""

    def __init__(self, module: torch.nn.Module, model: LatentModel, name: str = ""):
        z_dim = getattr(module, "z_dim", None)
        if z_dim is None:
            raise ConfigError(f"The encoder {name or type(module).__name__} has no z_dim; it cannot embed photos.")
        if model.has_w:
            raise ConfigError(f"The encoder {name} gives z codes, but {model.name} edits in w space.")
        if int(z_dim) != model.z_dim:
            raise ConfigError(f"The encoder {name} gives {z_dim}-dimensional codes but the generator {model.name} "
                              f"takes {model.z_dim}; they do not belong together.")
        self.net = module.eval().to(model.device)
        self.model = model
        self.name = name
        self.image_size = int(getattr(module, "image_size", model.resolution))

    @torch.no_grad()
    def code(self, rgb: np.ndarray) -> torch.Tensor:
        """HxWx3 uint8 photo (centre-cropped to a square) -> z (1, z_dim), the posterior mean."""
        if rgb.ndim != 3 or rgb.shape[2] < 3 or min(rgb.shape[:2]) < 4:
            raise ConfigError(f"The photo must be an RGB image of at least 4x4 pixels; got shape {rgb.shape}.")
        x = from_uint8(rgb, self.image_size, self.model.device)
        z = self.net(x)
        return z.float().reshape(1, self.model.z_dim)

    @torch.no_grad()
    def embed(self, rgb: np.ndarray, label: str = "photo") -> ProjectionResult:
        z = self.code(rgb)
        m = self.model
        img = m.render(z[None]).clamp(-1, 1)
        target = from_uint8(rgb, m.resolution, m.device)
        mse = float(((img - target) / 2).square().mean())  # on [0, 1] pixels
        psnr = 10 * math.log10(1.0 / max(mse, 1e-10))
        latent = Latent(z.clone(), z[0].clone(), None, label, truncate=False)
        return ProjectionResult(latent, to_uint8(target)[0], to_uint8(img)[0], mse, psnr, None, [],
                                "none (encoder)", method="encoder")
