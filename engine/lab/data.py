"""Lab data: 2-D toy distributions with known modes, and the 8x8 handwritten digits that scikit-learn ships.

Every toy distribution is a set of *reference points* (the Gaussian centres, or a dense, evenly spaced polyline along
a curve) with a *mode id* per point and a noise level ``sigma``. Sampling picks a reference point uniformly and adds
isotropic Gaussian noise; the measurements in :mod:`engine.lab.metrics` call a generated sample *high quality* when it
lies within 3 sigma of a reference point and assign it to that point's mode.

- ``ring8``: 8 Gaussians on a circle of radius 2 (the unrolled-GAN benchmark), 8 modes;
- ``grid25``: a 5x5 grid of Gaussians, spacing 1, 25 modes;
- ``spiral``: a 1.75-turn spiral, cut into 8 equal-length segments (modes);
- ``moons``: two interleaved half circles, each cut into 3 equal-length segments (6 modes).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional

import numpy as np
import torch

from ..errors import ConfigError

TOY_DATASETS = ("ring8", "grid25", "spiral", "moons")
DATASETS = TOY_DATASETS + ("digits",)
DATASET_TITLES = {"ring8": "Ring of 8 Gaussians", "grid25": "5x5 grid of Gaussians", "spiral": "Spiral",
                  "moons": "Two moons", "digits": "Handwritten digits (8x8)"}
VIEW_EXTENT = 3.0  # the 2-D views show [-VIEW_EXTENT, VIEW_EXTENT]^2


@dataclass
class ToyData:
    name: str
    ref: torch.Tensor  # (R, 2) float32 reference points
    mode_of_ref: torch.Tensor  # (R,) int64 mode id of every reference point
    n_modes: int
    sigma: float
    dim: int = 2

    @property
    def title(self) -> str:
        return DATASET_TITLES[self.name]

    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        idx = torch.randint(0, self.ref.shape[0], (n,), generator=generator)
        return self.ref[idx] + self.sigma * torch.randn(n, 2, generator=generator)

    def mode_centres(self) -> np.ndarray:
        """(n_modes, 2): the mean reference point of every mode (for labels in the views)."""
        out = np.zeros((self.n_modes, 2), np.float32)
        ref, ids = self.ref.numpy(), self.mode_of_ref.numpy()
        for m in range(self.n_modes):
            out[m] = ref[ids == m].mean(0)
        return out


def _gaussians(name: str, centres: np.ndarray, sigma: float) -> ToyData:
    ref = torch.tensor(centres, dtype=torch.float32)
    return ToyData(name, ref, torch.arange(len(centres)), len(centres), sigma)


def _curve(name: str, pieces: List[np.ndarray], segments_per_piece: int, sigma: float, n_ref: int = 600) -> ToyData:
    """Resample each polyline evenly by arc length and cut it into equal-length segments (the modes)."""
    lengths = [float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum()) for p in pieces]
    total = sum(lengths)
    refs, ids = [], []
    for k, (p, length) in enumerate(zip(pieces, lengths)):
        seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        m = max(2, int(round(n_ref * length / total)))
        s = np.linspace(0.0, cum[-1], m)
        pts = np.stack([np.interp(s, cum, p[:, 0]), np.interp(s, cum, p[:, 1])], axis=1)
        refs.append(pts)
        ids.append(k * segments_per_piece + np.minimum((s / cum[-1] * segments_per_piece).astype(int),
                                                       segments_per_piece - 1))
    ref = torch.tensor(np.concatenate(refs), dtype=torch.float32)
    mode = torch.tensor(np.concatenate(ids), dtype=torch.int64)
    return ToyData(name, ref, mode, len(pieces) * segments_per_piece, sigma)


def make_toy(name: str) -> ToyData:
    if name == "ring8":
        a = np.arange(8) * (2 * math.pi / 8)
        return _gaussians(name, np.stack([2 * np.cos(a), 2 * np.sin(a)], 1), 0.05)
    if name == "grid25":
        g = np.arange(-2, 3, dtype=np.float64)
        xx, yy = np.meshgrid(g, g)
        return _gaussians(name, np.stack([xx.ravel(), yy.ravel()], 1), 0.05)
    if name == "spiral":
        t = np.linspace(0.0, 1.0, 4000)
        theta = 0.25 * math.pi + 3.5 * math.pi * t
        r = 0.35 + 2.0 * t
        return _curve(name, [np.stack([r * np.cos(theta), r * np.sin(theta)], 1)], 8, 0.05)
    if name == "moons":
        th = np.linspace(0.0, math.pi, 2000)
        upper = np.stack([np.cos(th), np.sin(th)], 1)
        lower = np.stack([1 - np.cos(th), 0.5 - np.sin(th)], 1)
        shift, scale = np.array([0.5, 0.25]), 1.6
        return _curve(name, [(upper - shift) * scale, (lower - shift) * scale], 3, 0.05)
    raise ConfigError(f"Unknown toy data set {name!r}. Choose one of: {', '.join(TOY_DATASETS)}.")


# ------------------------------------------------------------------------------------------------------------
# digits

@dataclass
class DigitsData:
    """The 1,797 scikit-learn digits as (N, 64) floats in [-1, 1] (8x8 images, row-major) with labels 0..9."""

    x: torch.Tensor
    y: torch.Tensor
    name: str = "digits"
    n_classes: int = 10
    side: int = 8

    @property
    def dim(self) -> int:
        return self.side * self.side

    @property
    def n_modes(self) -> int:
        return self.n_classes

    @property
    def title(self) -> str:
        return DATASET_TITLES["digits"]

    def sample(self, n: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        return self.sample_labeled(n, generator)[0]

    def sample_labeled(self, n: int, generator: Optional[torch.Generator] = None):
        idx = torch.randint(0, self.x.shape[0], (n,), generator=generator)
        return self.x[idx], self.y[idx]


def load_digits_data() -> DigitsData:
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - a broken install
        raise ConfigError("The digits data needs scikit-learn, which is not installed. "
                          "Install it with: pip install scikit-learn==1.9.1") from None
    d = load_digits()
    x = torch.tensor(d.data, dtype=torch.float32) / 8.0 - 1.0  # 0..16 -> -1..1
    y = torch.tensor(d.target, dtype=torch.int64)
    return DigitsData(x, y)


def make_data(name: str):
    """``ToyData`` for the 2-D sets, ``DigitsData`` for ``digits``."""
    if name == "digits":
        return load_digits_data()
    return make_toy(name)
