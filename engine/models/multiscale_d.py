"""pix2pixHD's multi-scale PatchGAN discriminator (Wang et al. 2018), packed into one output tensor.

A 70x70 PatchGAN judges textures but never the whole picture: at 128 px each of its outputs sees about half the face,
so a translation can pass it with photo geometry and anime colours. This discriminator runs the same PatchGAN on the
image and on copies at half (and quarter) size, where the same 70x70 window covers 140 (280) px of the original,
the whole face at 128 px. Each scale has its own weights. Their output maps are resized (nearest) to the first
one's size and stacked as channels, so the trainers' losses, which average D's output, weigh every scale alike and
need no change (DiffAugment, R1 and the image pool work as with one PatchGAN).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..registry import register_model
from .networks import NLayerDiscriminator


class MultiscaleDiscriminator(nn.Module):
    def __init__(self, input_nc: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = "instance", num_d: int = 2):
        super().__init__()
        if not 1 <= num_d <= 4:
            raise ValueError(f"num_d must be 1-4 (got {num_d})")
        self.scales = nn.ModuleList(NLayerDiscriminator(input_nc, ndf, n_layers, norm) for _ in range(num_d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
            o = d(x)
            if outs and o.shape[-2:] != outs[0].shape[-2:]:
                o = F.interpolate(o, size=outs[0].shape[-2:], mode="nearest")
            outs.append(o)
        return torch.cat(outs, 1)


@register_model("multiscale", role="discriminator", task="translate")
def multiscale(input_nc=3, ndf=64, norm="instance", num_D=2):
    """Multi-scale PatchGAN (pix2pixHD): 70x70 patches of the image and of its half-size copy (the whole face at
    128 px), each with its own weights."""
    return MultiscaleDiscriminator(input_nc, ndf, 3, norm, num_D)
