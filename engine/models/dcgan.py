"""DCGAN generator (the PyTorch DCGAN tutorial architecture) and its importer.

Key names match the tutorial's ``main = nn.Sequential(...)`` so upstream state dicts load as they are. The model is
z-space only: ``forward(z)`` maps (N, z_dim) to an image in [-1, 1]; ``features(z)`` gives the first block's
activations (used by GANSpace to find z directions, as GANSpace does for BigGAN).
"""
from __future__ import annotations

import re
from typing import Dict, Optional

import torch
from torch import nn

from ..config import check
from ..errors import CheckpointError
from ..registry import register_importer, register_model
from .imported import ImportedModel


class DCGANGenerator(nn.Module):
    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3, n_layers: int = 5):
        super().__init__()
        check(3 <= n_layers <= 7, f"A DCGAN generator needs 3 to 7 transposed convolutions; got {n_layers}.")
        self.z_dim = int(nz)
        self.resolution = 4 * 2 ** (n_layers - 1)
        layers = []
        ch = ngf * 2 ** (n_layers - 2)
        layers += [nn.ConvTranspose2d(nz, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
        for _ in range(n_layers - 2):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, nc, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def features(self, z: torch.Tensor) -> torch.Tensor:
        """Activations after the first block (N, C, 4, 4), flattened."""
        return self.main[:3](z.reshape(z.shape[0], self.z_dim, 1, 1)).flatten(1)

    def first_weight(self) -> torch.Tensor:
        """The first layer's weight as a (z_dim, features) matrix: features = z @ W (before BatchNorm), for SeFa."""
        w = self.main[0].weight
        return w.reshape(w.shape[0], -1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.reshape(z.shape[0], self.z_dim, 1, 1))


@register_model("dcgan_g", role="generator", task="generate")
def dcgan_g(**kw) -> DCGANGenerator:
    """DCGAN generator (z -> image), PyTorch-tutorial layout."""
    return DCGANGenerator(**kw)


@register_importer("dcgan")
def import_dcgan(state: Dict[str, torch.Tensor]) -> Optional[ImportedModel]:
    """A ``main.*`` Sequential of ConvTranspose2d + BatchNorm2d + ReLU ending in Tanh (netG_state_dict)."""
    first = state.get("main.0.weight")
    if first is None or first.dim() != 4 or tuple(first.shape[2:]) != (4, 4) or "main.1.running_mean" not in state:
        return None
    conv_idx = sorted(int(m.group(1)) for k, v in state.items()
                      for m in [re.fullmatch(r"main\.(\d+)\.weight", k)] if m and v.dim() == 4)
    n_layers = len(conv_idx)
    if conv_idx != [3 * i for i in range(n_layers)]:
        raise CheckpointError("The file looks like a DCGAN generator but its layers are not in the expected "
                              "ConvTranspose2d / BatchNorm2d / ReLU order.")
    nz, top = int(first.shape[0]), int(first.shape[1])
    ngf = top // 2 ** (n_layers - 2)
    nc = int(state[f"main.{conv_idx[-1]}.weight"].shape[1])
    if ngf * 2 ** (n_layers - 2) != top:
        raise CheckpointError(f"The first layer of this DCGAN generator has {top} channels, which is not a power of "
                              f"two times its base width; GAN Studio cannot rebuild it.")
    kwargs = dict(nz=nz, ngf=int(ngf), nc=nc, n_layers=n_layers)
    return ImportedModel("dcgan_g", kwargs, dict(state), family="dcgan", task="generate", source_format="dcgan",
                         notes=["z-space only: seeds, interpolation in z and z directions can be explored."])
