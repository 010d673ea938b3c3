"""Tensor <-> image conversions shared by training, editing and evaluation (one definition, no copies)."""
from __future__ import annotations

import numpy as np
import torch


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """NCHW images in [-1, 1] -> N x H x W x 3 uint8 (rounded to the nearest level, as saving a PNG would)."""
    y = ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return y.permute(0, 2, 3, 1).cpu().numpy()
