"""Multiply-accumulate counts of image-to-image generators, computed from the architecture alone.

MACs count convolutions, transposed convolutions and linear layers (norms, activations and padding are memory
traffic, not MACs), the convention of GAN Compression's ``torchprofile`` numbers (CycleGAN ResNet-9: 56.8 G at
256x256). The network is built and run on the ``meta`` device, so counting needs no weights and no compute.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import torch
import torch.nn as nn

from ..errors import ConfigError
from ..registry import MODELS  # engine/models/__init__ ran first: the networks are registered

REF_SIZE = 256


def _layer_macs(m: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    if isinstance(m, nn.Conv2d):
        return out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
    if isinstance(m, nn.ConvTranspose2d):
        return inp.numel() * (m.out_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
    if isinstance(m, nn.Linear):
        return out.numel() * m.in_features
    return 0


def count_macs(net: nn.Module, size: int = REF_SIZE, in_channels: Optional[int] = None) -> int:
    """MACs of one forward pass of ``net`` on a 1 x C x size x size input (the network is not changed)."""
    layers = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    if not layers:
        return 0
    if in_channels is None:
        first = next((m for m in layers if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))), None)
        in_channels = first.in_channels if first is not None else 3
    total: List[int] = [0]

    def hook(m, args, out):
        total[0] += _layer_macs(m, args[0], out)

    handles = [m.register_forward_hook(hook) for m in layers]
    try:
        with torch.no_grad():
            net(torch.zeros(1, in_channels, size, size, device=next(net.parameters()).device))
    finally:
        for h in handles:
            h.remove()
    return int(total[0])


def arch_macs(arch: str, arch_kwargs: Optional[Dict[str, Any]] = None, size: int = REF_SIZE) -> Optional[int]:
    """MACs at ``size``x``size`` of a registered image-to-image architecture; None for other kinds of networks."""
    if arch not in MODELS:
        return None
    if MODELS.meta(arch).get("task") != "translate":
        return None
    with torch.device("meta"):
        net = MODELS.build(arch, **(arch_kwargs or {}))
    return count_macs(net, size)


def model_macs(meta: Dict[str, Any], size: int = REF_SIZE) -> Optional[int]:
    """MACs at 256x256 of the network a model file holds (from its ``arch``/``arch_kwargs``); None if unknown."""
    arch = meta.get("arch")
    if not arch:
        return None
    try:
        return arch_macs(str(arch), meta.get("arch_kwargs") or {}, size)
    except (ConfigError, TypeError, RuntimeError, NotImplementedError):
        return None


def format_macs(macs: Optional[int]) -> str:
    """``5.68 G`` style text (GMACs at 256x256), or an empty string."""
    if macs is None:
        return ""
    if macs >= 1e9:
        return f"{macs / 1e9:.2f} G"
    return f"{macs / 1e6:.0f} M"


def parse_macs(text: str) -> int:
    """``"3G"``, ``"2.5 G"``, ``"800M"`` or a plain number -> MACs."""
    s = str(text).strip().upper().replace(" ", "").removesuffix("MACS").removesuffix("MAC")
    mult = {"G": 1e9, "M": 1e6, "K": 1e3}.get(s[-1:], 1.0)
    num = s[:-1] if s[-1:] in "GMK" else s
    try:
        value = float(num) * mult
    except ValueError:
        raise ConfigError(f"MACs target {text!r} is not a number like 3G, 2.5G or 800M.") from None
    if value <= 0:
        raise ConfigError(f"MACs target {text!r} must be positive.")
    return int(value)
