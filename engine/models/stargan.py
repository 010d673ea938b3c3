"""StarGAN (Choi et al. 2018): one generator that translates an image into any of N domains.

The generator sees the image and the target-domain label replicated as N extra input planes; the discriminator is a
PatchGAN with two heads, ``src`` (real/fake per patch) and ``cls`` (N domain logits). Layout and widths follow the
official implementation (``yunjey/stargan`` ``model.py``): 7x7 stem, two stride-2 convolutions, ``repeat_num``
residual blocks, two transposed convolutions, 7x7 tanh output; affine instance norm; the discriminator uses stride-2
4x4 convolutions with LeakyReLU(0.01) and no normalisation.

Generator calling convention (task ``translate_multi``): ``G(x, target)`` with ``x`` in [-1, 1] (N, 3, H, W), H and W
multiples of 4, and ``target`` either domain indices (N,) int64 or one-hot / soft labels (N, n_domains) float.
:class:`FixedTarget` wraps a generator into a plain image-to-image module for ``engine.inference.Translator``.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..registry import register_model


class ResidualBlock(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False), nn.InstanceNorm2d(dim, affine=True), nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False), nn.InstanceNorm2d(dim, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.main(x)


def target_planes(target: torch.Tensor, n_domains: int, dtype: torch.dtype) -> torch.Tensor:
    """Domain indices (N,) or labels (N, n_domains) -> (N, n_domains) float."""
    if target.dim() == 1:
        if target.dtype.is_floating_point:
            raise ValueError("a 1-D target must hold domain indices (int64)")
        return F.one_hot(target.long(), n_domains).to(dtype)
    if target.dim() != 2 or target.shape[1] != n_domains:
        raise ValueError(f"the target must be (N,) indices or (N, {n_domains}) labels, got {tuple(target.shape)}")
    return target.to(dtype)


class StarGenerator(nn.Module):
    size_multiple = 4

    def __init__(self, n_domains: int = 3, conv_dim: int = 64, repeat_num: int = 6):
        super().__init__()
        self.n_domains = n_domains
        layers = [nn.Conv2d(3 + n_domains, conv_dim, 7, 1, 3, bias=False), nn.InstanceNorm2d(conv_dim, affine=True),
                  nn.ReLU(inplace=True)]
        d = conv_dim
        for _ in range(2):
            layers += [nn.Conv2d(d, d * 2, 4, 2, 1, bias=False), nn.InstanceNorm2d(d * 2, affine=True),
                       nn.ReLU(inplace=True)]
            d *= 2
        layers += [ResidualBlock(d) for _ in range(repeat_num)]
        for _ in range(2):
            layers += [nn.ConvTranspose2d(d, d // 2, 4, 2, 1, bias=False), nn.InstanceNorm2d(d // 2, affine=True),
                       nn.ReLU(inplace=True)]
            d //= 2
        layers += [nn.Conv2d(d, 3, 7, 1, 3, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        c = target_planes(target, self.n_domains, x.dtype)
        c = c.view(c.shape[0], c.shape[1], 1, 1).expand(-1, -1, x.shape[2], x.shape[3])
        return self.main(torch.cat([x, c], 1))


class StarDiscriminator(nn.Module):
    """PatchGAN ``src`` map and ``cls`` domain logits. ``repeat_num`` stride-2 layers; image_size must be divisible
    by 2**repeat_num."""

    def __init__(self, image_size: int = 128, n_domains: int = 3, conv_dim: int = 64, repeat_num: int = 6):
        super().__init__()
        if image_size % (2 ** repeat_num):
            raise ValueError(f"image size {image_size} is not divisible by 2**{repeat_num}")
        layers = [nn.Conv2d(3, conv_dim, 4, 2, 1), nn.LeakyReLU(0.01)]
        d = conv_dim
        for _ in range(1, repeat_num):
            layers += [nn.Conv2d(d, d * 2, 4, 2, 1), nn.LeakyReLU(0.01)]
            d *= 2
        self.main = nn.Sequential(*layers)
        k = image_size // 2 ** repeat_num
        self.src = nn.Conv2d(d, 1, 3, 1, 1, bias=False)
        self.cls = nn.Conv2d(d, n_domains, k, 1, 0, bias=False)

    def forward(self, x: torch.Tensor):
        h = self.main(x)
        return self.src(h), self.cls(h).flatten(1)

    def critic(self, x: torch.Tensor) -> torch.Tensor:
        """The real/fake head alone (for the gradient penalty)."""
        return self.src(self.main(x))


class FixedTarget(nn.Module):
    """``G(x, target)`` as an image-to-image module translating everything into one domain."""

    def __init__(self, generator: StarGenerator, target: int):
        super().__init__()
        if not 0 <= int(target) < generator.n_domains:
            raise ValueError(f"target domain {target} is out of range (0..{generator.n_domains - 1})")
        self.generator = generator
        self.target = int(target)
        self.size_multiple = generator.size_multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.full((x.shape[0],), self.target, dtype=torch.long, device=x.device)
        return self.generator(x, t)


@register_model("stargan_g", role="generator", task="translate_multi")
def stargan_g(n_domains=3, conv_dim=64, repeat_num=6):
    """StarGAN generator: image + target-domain label -> image in that domain."""
    return StarGenerator(n_domains, conv_dim, repeat_num)


@register_model("stargan_d", role="discriminator")
def stargan_d(image_size=128, n_domains=3, conv_dim=64, repeat_num=6):
    """StarGAN discriminator: PatchGAN real/fake map plus domain classification."""
    return StarDiscriminator(image_size, n_domains, conv_dim, repeat_num)
