"""StyleGAN-style residual discriminator with equalized learning rate and minibatch standard deviation.

With ``progressive=True`` every resolution has its own FromRGB so the discriminator can start at a low resolution
and fade in the next one (``alpha``), as in ProGAN / StyleGAN 1; the input size selects the stage.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..config import check
from ..registry import register_model
from .stylegan import EqualConv2d, EqualLinear


class DBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv0 = EqualConv2d(in_ch, in_ch, 3, activation=True)
        self.conv1 = EqualConv2d(in_ch, out_ch, 3, activation=True)
        self.skip = EqualConv2d(in_ch, out_ch, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.avg_pool2d(self.conv1(self.conv0(x)), 2)
        return (y + self.skip(F.avg_pool2d(x, 2))) / math.sqrt(2.0)


def minibatch_stddev(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    """Append the average standard deviation over groups of samples as one extra feature map."""
    n, c, h, w = x.shape
    g = min(group, n)
    while n % g:
        g -= 1
    y = x.float().reshape(g, -1, c, h, w)
    y = (y - y.mean(0)).square().mean(0).add(1e-8).sqrt().mean(dim=(1, 2, 3))  # (n/g,)
    y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w).to(x.dtype)
    return torch.cat([x, y], dim=1)


class StyleDiscriminator(nn.Module):
    def __init__(self, resolution: int = 256, channel_base: int = 16384, channel_max: int = 512,
                 mbstd_group: int = 4, progressive: bool = False):
        super().__init__()
        check(resolution in (32, 64, 128, 256, 512), f"Discriminator resolution must be 64 to 256; got {resolution}.")
        self.resolution, self.mbstd_group, self.progressive = int(resolution), int(mbstd_group), bool(progressive)
        log = int(math.log2(resolution))
        ch = {2 ** i: min(channel_base // 2 ** i, channel_max) for i in range(2, log + 1)}
        self.from_rgb = nn.ModuleDict()
        for i in range(2 if progressive else log, log + 1):
            self.from_rgb[str(2 ** i)] = EqualConv2d(3, ch[2 ** i], 1, activation=True)
        self.blocks = nn.ModuleDict({str(2 ** i): DBlock(ch[2 ** i], ch[2 ** (i - 1)]) for i in range(log, 2, -1)})
        self.final_conv = EqualConv2d(ch[4] + 1, ch[4], 3, activation=True)
        self.final_fc = EqualLinear(ch[4] * 16, ch[4], activation=True)
        self.out = EqualLinear(ch[4], 1)
        self.alpha = 1.0

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        res = img.shape[-1]
        check(str(res) in self.from_rgb, f"The discriminator cannot take {res}x{res} images "
                                         f"(it was built for {self.resolution}).")
        x = self.from_rgb[str(res)](img)
        if res > 4:
            x = self.blocks[str(res)](x)
            if self.alpha < 1.0 and str(res // 2) in self.from_rgb:
                low = self.from_rgb[str(res // 2)](F.avg_pool2d(img, 2))
                x = low.lerp(x, self.alpha)
        r = res // 2
        while r > 4:
            x = self.blocks[str(r)](x)
            r //= 2
        x = minibatch_stddev(x, self.mbstd_group)
        x = self.final_conv(x)
        x = self.final_fc(x.flatten(1))
        return self.out(x)


@register_model("stylegan_d", role="discriminator")
def stylegan_d(**kw) -> StyleDiscriminator:
    """StyleGAN-style residual discriminator with minibatch stddev (optionally progressive)."""
    return StyleDiscriminator(**kw)
