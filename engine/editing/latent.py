"""A uniform view of ``generate`` models for latent editing: seeds, truncation, noise, style mixing, rendering.

Two kinds of model are supported:

- **w models** (StyleGAN-style, with ``mapping``/``synthesis``): a point is a w+ code of shape (num_ws, w_dim);
  edits, mixing and linear interpolation act there.
- **z models** (DCGAN and any module with ``z_dim`` and ``forward(z)``): a point is z of shape (1, z_dim);
  truncation scales z towards its mean 0, interpolation is spherical, directions live in z.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..errors import ConfigError
from ..tensors import to_uint8

# StyleGAN's layer groups for style mixing: coarse = 4-8 px, middle = 16-32 px, fine = 64 px and up.
GROUPS = ("coarse", "middle", "fine")


@dataclass
class Latent:
    """A point in the model's latent space. ``code`` is (num_ws, dim); ``truncate`` says whether the truncation
    slider applies (seeds: yes; projected photos: no). ``z`` is kept for spherical interpolation."""

    code: torch.Tensor
    z: Optional[torch.Tensor] = None
    seed: Optional[int] = None
    label: str = ""
    truncate: bool = True
    noises: Optional[List[torch.Tensor]] = field(default=None, repr=False)  # projected photos keep their noise

    def clone(self) -> "Latent":
        return Latent(self.code.clone(), None if self.z is None else self.z.clone(), self.seed, self.label,
                      self.truncate, self.noises)


def z_for_seed(seed: int, z_dim: int) -> torch.Tensor:
    """The z of a seed: the same on every machine and device (a CPU generator)."""
    g = torch.Generator().manual_seed(int(seed) & 0xFFFFFFFF)
    return torch.randn(z_dim, generator=g)


def from_uint8(rgb: np.ndarray, size: int, device=None) -> torch.Tensor:
    """HxWx3 uint8 -> (1, 3, size, size) in [-1, 1]: centre-cropped to a square, area-resized."""
    import cv2

    h, w = rgb.shape[:2]
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    sq = np.ascontiguousarray(rgb[y0:y0 + s, x0:x0 + s, :3])
    if sq.dtype != np.uint8:
        sq = (sq.astype(np.float32) / 257.0).round().astype(np.uint8)
    interp = cv2.INTER_AREA if s > size else cv2.INTER_CUBIC
    sq = cv2.resize(sq, (size, size), interpolation=interp)
    t = torch.from_numpy(sq).permute(2, 0, 1)[None].float() / 127.5 - 1.0
    return t.to(device) if device is not None else t


class LatentModel:
    def __init__(self, module: torch.nn.Module, device: Optional[torch.device] = None, name: str = ""):
        if not hasattr(module, "z_dim"):
            raise ConfigError(f"The model {name or type(module).__name__} is not a latent-to-image generator "
                              "(it has no z_dim).")
        self.net = module.eval()
        self.device = device or next(module.parameters()).device
        self.name = name
        self.has_w = hasattr(module, "mapping") and hasattr(module, "synthesis")
        self.z_dim = int(module.z_dim)
        self.dim = int(module.w_dim) if self.has_w else self.z_dim
        self.num_ws = int(module.num_ws) if self.has_w else 1
        self.space = "w" if self.has_w else "z"
        self.amp = self.device.type == "cuda"  # renders in bf16/fp16 on GPUs (latency), fp32 elsewhere
        self._noise_cache: Dict[int, List[torch.Tensor]] = {}
        with torch.no_grad():
            probe = self.net(torch.zeros(1, self.z_dim, device=self.device))
        self.resolution = int(probe.shape[-1])

    # --- points ------------------------------------------------------------------------------------------
    @torch.no_grad()
    def from_z(self, z: torch.Tensor, seed: Optional[int] = None, label: str = "") -> Latent:
        z = z.reshape(1, self.z_dim).to(self.device)
        code = self.net.mapping(z, psi=1.0)[0] if self.has_w else z.clone()
        return Latent(code, z[0].clone(), seed, label or (f"seed {seed}" if seed is not None else ""))

    def seed(self, seed: int) -> Latent:
        return self.from_z(z_for_seed(seed, self.z_dim), seed)

    def average_code(self) -> torch.Tensor:
        """The centre of the latent space: w_avg (w models) or z = 0 (z models), as (num_ws, dim)."""
        if self.has_w:
            return self.net.w_avg.to(self.device).reshape(1, -1).repeat(self.num_ws, 1)
        return torch.zeros(1, self.z_dim, device=self.device)

    def truncated(self, latent: Latent, psi: float) -> torch.Tensor:
        if not latent.truncate or psi == 1.0:
            return latent.code
        return self.average_code().lerp(latent.code, float(psi))

    @torch.no_grad()
    def sample_codes(self, n: int, seed: int = 0, batch: int = 1024) -> torch.Tensor:
        """n random points (n, dim) without truncation: w samples (w models) or z samples (z models)."""
        g = torch.Generator().manual_seed(seed)
        out = []
        for i in range(0, n, batch):
            z = torch.randn(min(batch, n - i), self.z_dim, generator=g).to(self.device)
            out.append(self.net.mapping_net(z) if self.has_w else z)
        return torch.cat(out)

    # --- style mixing ------------------------------------------------------------------------------------
    def group_layers(self, group: str) -> Tuple[int, int]:
        """Rows of w+ in a layer group (coarse 4-8 px, middle 16-32 px, fine the rest)."""
        if group not in GROUPS:
            raise ConfigError(f"Unknown layer group {group!r}; use coarse, middle or fine.")
        bounds = {"coarse": (0, 4), "middle": (4, 8), "fine": (8, self.num_ws)}[group]
        return min(bounds[0], self.num_ws), min(bounds[1], self.num_ws)

    def mix(self, a: torch.Tensor, b: torch.Tensor, from_b: Sequence[str]) -> torch.Tensor:
        """Style mixing: the rows of the groups in ``from_b`` come from ``b``, the rest from ``a``."""
        if not self.has_w:
            raise ConfigError("Style mixing needs a style-based (w space) model; this one has only z.")
        out = a.clone()
        for g in from_b:
            s, e = self.group_layers(g)
            out[s:e] = b[s:e]
        return out

    # --- rendering ---------------------------------------------------------------------------------------
    def noises(self, seed: int) -> List[torch.Tensor]:
        """Noise maps for every layer from a seed (cached per model object)."""
        if seed not in self._noise_cache:
            g = torch.Generator().manual_seed(seed)
            self._noise_cache = {seed: [torch.randn(layer.const.shape, generator=g).to(self.device)
                                        for layer in self.net.noise_layers()]}
        return self._noise_cache[seed]

    @torch.no_grad()
    def render(self, codes: torch.Tensor, noise_mode: str = "const", noise_scale: float = 1.0,
               noise_seed: Optional[int] = None, noises: Optional[List[torch.Tensor]] = None) -> torch.Tensor:
        """codes (N, num_ws, dim) -> images (N, 3, R, R) in [-1, 1]."""
        from .. import devices

        with devices.autocast(self.device, enabled=self.amp):
            return self.synthesize(codes, noise_mode, noise_scale, noise_seed, noises).float()

    def synthesize(self, codes: torch.Tensor, noise_mode: str = "const", noise_scale: float = 1.0,
                   noise_seed: Optional[int] = None, noises: Optional[List[torch.Tensor]] = None) -> torch.Tensor:
        """Like :meth:`render` but differentiable (projection)."""
        codes = codes.to(self.device)
        if codes.dim() == 2:
            codes = codes[None]
        if not self.has_w:
            return self.net(codes.reshape(codes.shape[0], self.z_dim))
        if noises is None and noise_seed is not None and noise_mode == "random":
            noises = self.noises(noise_seed)
        if noises is not None:
            noises = [n.expand(codes.shape[0], -1, -1, -1) for n in noises]
        return self.net.synthesis(codes, noise_mode=noise_mode, noise_scale=noise_scale, noises=noises)

    def render_uint8(self, codes: torch.Tensor, **kw) -> np.ndarray:
        return to_uint8(self.render(codes, **kw))
