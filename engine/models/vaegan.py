"""VAE-GAN (Larsen et al. 2016): a VAE whose decoder is also a GAN generator and whose reconstruction loss is measured
in the feature space of the GAN discriminator.

- :class:`VAEEncoder` (task ``encode``): image in [-1, 1] (N, 3, S, S) -> ``forward`` gives the posterior mean
  (N, z_dim), the embedding the Latent page uses; ``distribution(x)`` gives (mu, logvar). Attributes ``z_dim`` and
  ``image_size`` (inputs of another size are resized to it).
- :class:`VAEDecoder` (task ``generate``): ``forward(z)`` with z (N, z_dim) -> image in [-1, 1] (N, 3, S, S);
  integer attribute ``z_dim``, as every generate-task module; ``features(z)`` and ``first_weight()`` as DCGAN's,
  so GANSpace and SeFa find edit directions for it on the Latent page.
- :class:`VAEDiscriminator`: ``forward(x) -> (logits (N,), features (N, F))``; the features of its last
  convolutional layer define the learned similarity ("Dis_l") of the reconstruction loss.

The layout follows the paper's 64x64 networks (5x5 stride-2 convolutions with batch norm, a fully connected
bottleneck), generalised to any power-of-two size from 16 px: the spatial size halves down to 4x4 (encoder,
discriminator) and doubles back up from 4x4 (decoder); channels double per level from ``width`` up to 8x width.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..registry import register_model


def _levels(image_size: int) -> int:
    n = int(round(math.log2(image_size / 4)))
    if image_size < 16 or 4 * 2 ** n != image_size:
        raise ValueError(f"VAE-GAN image size must be a power of two of at least 16 px, got {image_size}")
    return n


def _widths(width: int, n: int):
    return [min(width * 2 ** i, width * 8) for i in range(n)]


class VAEEncoder(nn.Module):
    def __init__(self, image_size: int = 64, z_dim: int = 128, width: int = 64):
        super().__init__()
        self.image_size, self.z_dim = image_size, z_dim
        ws = _widths(width, _levels(image_size))
        layers, c = [], 3
        for w in ws:
            layers += [nn.Conv2d(c, w, 5, 2, 2, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            c = w
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Sequential(nn.Linear(c * 16, 1024, bias=False), nn.BatchNorm1d(1024), nn.ReLU(inplace=True))
        self.mu = nn.Linear(1024, z_dim)
        self.logvar = nn.Linear(1024, z_dim)

    def distribution(self, x: torch.Tensor):
        if x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False,
                              antialias=True)
        h = self.fc(self.conv(x).flatten(1))
        return self.mu(h), self.logvar(h).clamp(-12.0, 8.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.distribution(x)[0]


class VAEDecoder(nn.Module):
    def __init__(self, image_size: int = 64, z_dim: int = 128, width: int = 64):
        super().__init__()
        self.image_size, self.z_dim = image_size, z_dim
        ws = list(reversed(_widths(width, _levels(image_size))))
        self.c0 = ws[0]
        self.fc = nn.Sequential(nn.Linear(z_dim, ws[0] * 16, bias=False), nn.BatchNorm1d(ws[0] * 16),
                                nn.ReLU(inplace=True))
        layers, c = [], ws[0]
        for w in ws[1:] + [max(width // 2, 8)]:
            layers += [nn.ConvTranspose2d(c, w, 5, 2, 2, output_padding=1, bias=False), nn.BatchNorm2d(w),
                       nn.ReLU(inplace=True)]
            c = w
        layers += [nn.Conv2d(c, 3, 5, 1, 2), nn.Tanh()]
        self.conv = nn.Sequential(*layers)

    def features(self, z: torch.Tensor) -> torch.Tensor:
        """Activations after the first (fully connected) block, (N, features): GANSpace's PCA for z models."""
        return self.fc(z)

    def first_weight(self) -> torch.Tensor:
        """The first layer's weight as a (z_dim, features) matrix: features = z @ W (before batch norm), for SeFa."""
        return self.fc[0].weight.t()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.conv(self.fc(z).view(z.shape[0], self.c0, 4, 4))


class VAEDiscriminator(nn.Module):
    def __init__(self, image_size: int = 64, width: int = 64):
        super().__init__()
        ws = _widths(width, _levels(image_size))
        layers, c = [], 3
        for i, w in enumerate(ws):
            layers += [nn.Conv2d(c, w, 5, 2, 2, bias=i == 0)]
            if i:
                layers += [nn.BatchNorm2d(w)]
            layers += [nn.LeakyReLU(0.2, inplace=True)]
            c = w
        self.conv = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * 16, 512), nn.LeakyReLU(0.2, inplace=True),
                                  nn.Linear(512, 1))

    def forward(self, x: torch.Tensor):
        feat = self.conv(x)
        return self.head(feat).squeeze(1), feat.flatten(1)


@register_model("vaegan_encoder", role="encoder", task="encode")
def vaegan_encoder(image_size=64, z_dim=128, width=64):
    """VAE-GAN encoder: image -> latent code (posterior mean)."""
    return VAEEncoder(image_size, z_dim, width)


@register_model("vaegan_decoder", role="generator", task="generate")
def vaegan_decoder(image_size=64, z_dim=128, width=64):
    """VAE-GAN decoder / generator: latent code -> image."""
    return VAEDecoder(image_size, z_dim, width)


@register_model("vaegan_d", role="discriminator")
def vaegan_d(image_size=64, width=64):
    """VAE-GAN discriminator whose features define the reconstruction loss."""
    return VAEDiscriminator(image_size, width)
