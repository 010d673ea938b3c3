"""DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

Differentiable colour / translation / cutout applied to *every* image the discriminator sees, real and fake alike,
in the discriminator step and in the generator step, so the generator is never rewarded for reproducing the
augmentation. Ported from the authors' ``DiffAugment_pytorch.py`` (same parameter ranges), for NCHW images in
[-1, 1]; each call draws fresh random parameters per sample from torch's RNG (saved in checkpoints).

``policy`` is a comma-separated subset of ``color,translation,cutout`` ("" = off).
"""
from __future__ import annotations

from typing import Callable, Dict, List

import torch
import torch.nn.functional as F

from ..errors import ConfigError


def _brightness(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) - 0.5)


def _saturation(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) * 2) + mean


def _contrast(x: torch.Tensor) -> torch.Tensor:
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device) + 0.5) + mean


def _translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = torch.randint(-sh, sh + 1, size=[n, 1, 1], device=x.device)
    ty = torch.randint(-sw, sw + 1, size=[n, 1, 1], device=x.device)
    gb, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return padded.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = torch.randint(0, h + (1 - ch % 2), size=[n, 1, 1], device=x.device)
    oy = torch.randint(0, w + (1 - cw % 2), size=[n, 1, 1], device=x.device)
    gb, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")
    gx = torch.clamp(gx + ox - ch // 2, min=0, max=h - 1)
    gy = torch.clamp(gy + oy - cw // 2, min=0, max=w - 1)
    mask = torch.ones(n, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


AUGMENTS: Dict[str, List[Callable[[torch.Tensor], torch.Tensor]]] = {
    "color": [_brightness, _saturation, _contrast],
    "translation": [_translation],
    "cutout": [_cutout],
}


def parse_policy(policy: str) -> List[str]:
    names = [p.strip() for p in (policy or "").split(",") if p.strip()]
    bad = [p for p in names if p not in AUGMENTS]
    if bad:
        raise ConfigError(f"Unknown DiffAugment part(s) {', '.join(bad)}; use a comma-separated subset of "
                          f"{', '.join(AUGMENTS)}.")
    return names


class DiffAugment:
    """Callable ``aug(x)``; the identity when the policy is empty."""

    def __init__(self, policy: str = ""):
        self.names = parse_policy(policy)
        self.policy = ",".join(self.names)

    def __bool__(self) -> bool:
        return bool(self.names)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if not self.names:
            return x
        memory_format = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) and \
            not x.is_contiguous() else torch.contiguous_format
        for name in self.names:
            for fn in AUGMENTS[name]:
                x = fn(x)
        return x.contiguous(memory_format=memory_format)
