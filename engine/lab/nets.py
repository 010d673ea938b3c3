"""Small MLP generators and discriminators for the Lab, with the mode-collapse remedies that live inside D.

- :class:`MinibatchDiscrimination` (Salimans et al. 2016): a tensor T projects each sample's features to B kernels of
  C dimensions; for every kernel, ``o_b(x_i) = sum_j exp(-||M_i,b - M_j,b||_1)`` over the *other* samples of the batch
  is appended to the features, so D can tell a batch of near-identical samples from a varied one.
- :class:`MinibatchStdDev` (Karras et al. 2018): the mean over features of the per-feature standard deviation across
  the batch, appended as one extra feature.
- spectral normalisation (Miyato et al. 2018) of every linear layer of D (``torch.nn.utils.parametrizations``),
  times a fixed output gain ``sn_gain``. Every normalised layer is 1-Lipschitz, so D's logits can change by at most
  ``sn_gain * ||x - x'||`` between two points (in practice ~0.2x that: the layer-wise bound is loose, Lin et al. 2021).
  On images in [-1, 1] (the paper's setting) real and fake samples are several units apart and gain 1 is enough; on the
  2-D toys the modes are sigma = 0.05 wide, a 1-Lipschitz D stays at chance (loss 2 log 2, logits within +-1) and G
  wanders without ever reaching the data. The gain restores the logit range (Lin et al.'s "scaled" SN).

Both minibatch layers (registered in ``engine.registry.MINIBATCH_LAYERS``, the Lab's Minibatch choices) accept a
``context`` batch: the views ask "what would D say about point x arriving in the current
fake batch" by scoring grid points against the generated batch instead of against each other.

Conditional models (the cGAN on digits): the generator concatenates a learned label embedding to z; the discriminator
is a projection discriminator (Miyato & Koyama 2018): ``D(x, y) = head(h(x)) + <embed(y), h(x)>``.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
from torch.nn.utils.parametrizations import spectral_norm

from ..registry import MINIBATCH_LAYERS, register_minibatch_layer


def _mlp(d_in: int, hidden: int, depth: int, act: nn.Module, sn: bool = False) -> nn.Sequential:
    layers = []
    d = d_in
    for _ in range(depth):
        lin = nn.Linear(d, hidden)
        layers += [spectral_norm(lin) if sn else lin, act]
        d = hidden
    return nn.Sequential(*layers)


@register_minibatch_layer("discrimination", title="minibatch discrimination")
class MinibatchDiscrimination(nn.Module):
    def __init__(self, in_features: int, kernels: int = 8, kernel_dim: int = 4):
        super().__init__()
        self.kernels, self.kernel_dim = kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels * kernel_dim) * 0.1)

    @property
    def out_extra(self) -> int:
        return self.kernels

    def forward(self, h: torch.Tensor, context: Optional[torch.Tensor] = None) -> torch.Tensor:
        m = (h @ self.T).view(-1, self.kernels, self.kernel_dim).transpose(0, 1)  # (B, N, C)
        other = m if context is None else (context @ self.T).view(-1, self.kernels, self.kernel_dim).transpose(0, 1)
        l1 = torch.cdist(m, other, p=1)  # (B, N, M)
        c = torch.exp(-l1).sum(2).t()  # (N, B)
        if context is None:
            c = c - 1.0  # exclude each sample's similarity with itself (exp(0) = 1)
        return torch.cat([h, c], 1)


@register_minibatch_layer("stddev", title="minibatch std-dev")
class MinibatchStdDev(nn.Module):
    def __init__(self, in_features: int = 0):  # the layer has no weights: any width
        super().__init__()

    @property
    def out_extra(self) -> int:
        return 1

    def forward(self, h: torch.Tensor, context: Optional[torch.Tensor] = None) -> torch.Tensor:
        ref = h if context is None else context
        std = torch.sqrt(ref.var(0, unbiased=False) + 1e-8).mean()
        return torch.cat([h, std.expand(h.shape[0], 1)], 1)


class MLPGenerator(nn.Module):
    """z (N, z_dim) [+ labels (N,)] -> x (N, out_dim); ``tanh`` output for images in [-1, 1]."""

    def __init__(self, z_dim: int = 16, out_dim: int = 2, hidden: int = 128, depth: int = 3, n_classes: int = 0,
                 tanh: bool = False):
        super().__init__()
        self.z_dim, self.out_dim, self.n_classes = z_dim, out_dim, n_classes
        self.embed = nn.Embedding(n_classes, z_dim) if n_classes else None
        d_in = z_dim * 2 if n_classes else z_dim
        self.body = _mlp(d_in, hidden, depth, nn.ReLU())
        self.out = nn.Linear(hidden, out_dim)
        self.tanh = tanh

    def forward(self, z: torch.Tensor, y: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.embed is not None:
            if y is None:
                raise ValueError("this conditional generator needs class labels")
            z = torch.cat([z, self.embed(y)], 1)
        x = self.out(self.body(z))
        return torch.tanh(x) if self.tanh else x


class MLPDiscriminator(nn.Module):
    """x (N, in_dim) [+ labels] -> one logit / critic value per sample, shape (N,)."""

    def __init__(self, in_dim: int = 2, hidden: int = 128, depth: int = 3, minibatch: str = "",
                 spectral: bool = False, n_classes: int = 0, sn_gain: float = 1.0):
        super().__init__()
        self.gain = float(sn_gain) if spectral else 1.0
        self.body = _mlp(in_dim, hidden, depth, nn.LeakyReLU(0.2), sn=spectral)
        self.mb: Optional[nn.Module] = MINIBATCH_LAYERS.build(minibatch, in_features=hidden) if minibatch else None
        extra = self.mb.out_extra if self.mb is not None else 0
        head = nn.Linear(hidden + extra, 1)
        self.head = spectral_norm(head) if spectral else head
        self.embed = None
        if n_classes:
            emb = nn.Embedding(n_classes, hidden)
            nn.init.normal_(emb.weight, 0.0, 0.02)
            self.embed = spectral_norm(emb) if spectral else emb

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor, y: Optional[torch.Tensor] = None,
                context: Optional[torch.Tensor] = None) -> torch.Tensor:
        h = self.body(x)
        hm = h
        if self.mb is not None:
            hm = self.mb(h, None if context is None else self.body(context))
        out = self.head(hm).squeeze(1)
        if self.embed is not None:
            if y is None:
                raise ValueError("this projection discriminator needs class labels")
            out = out + (self.embed(y) * h).sum(1)
        return out * self.gain if self.gain != 1.0 else out


def build_pair(cfg, data_dim: int, n_classes: int = 0, image: bool = False):
    """Generator and discriminator for a :class:`engine.lab.config.LabConfig`."""
    g = MLPGenerator(cfg.latent_dim, data_dim, cfg.hidden, cfg.depth, n_classes, tanh=image)
    d = MLPDiscriminator(data_dim, cfg.hidden, cfg.depth, cfg.minibatch, cfg.spectral_norm, n_classes,
                         sn_gain=cfg.spectral_gain)
    return g, d
