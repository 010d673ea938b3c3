"""Function-preserving widening (Net2WiderNet, Chen et al. 2016) of ResNet-style generators.

A wider copy of a trained network starts where the narrow one stopped instead of from scratch: every channel of the
wider network is a channel of the narrow one (the first ones in order, the extra ones copies of randomly chosen
ones), the convolutions that read duplicated channels divide their weights among the copies, and norms, biases and
depthwise filters follow their channel. Instance and batch norms see the same statistics in a copy as in its
original, and every activation of one width uses the same channel map, so residual additions stay consistent. The
wider network then computes the same function (exactly with ``noise=0``); a little noise on the copies' incoming
weights lets them drift apart in training (copies with equal weights get equal gradients forever).

Used by distillation: ``ganstudio distill ... --init FAST_MODEL --student-ngf 40`` continues a fast version at a
larger width (:meth:`engine.training.distill.DistillTrainer.load_init`).
"""
from __future__ import annotations

from typing import Dict, List, Tuple

import torch
import torch.nn as nn

from ..errors import ConfigError
from .mobile import FastInstanceNorm2d

#: norms with per-channel statistics (a group norm's groups would change)
_NORMS = (nn.BatchNorm2d, nn.InstanceNorm2d, FastInstanceNorm2d)


def _leaves(net: nn.Module) -> List[nn.Module]:
    return [m for m in net.modules() if not list(m.children())]


class _Maps:
    """One channel map per (narrow, wide) width pair, shared by every activation of that width."""

    def __init__(self, generator: torch.Generator):
        self.gen = generator
        self.maps: Dict[Tuple[int, int], torch.Tensor] = {}

    def get(self, narrow: int, wide: int) -> torch.Tensor:
        """The wide channels' originals: 0..narrow-1, then random picks (``wide >= narrow``, checked by the caller)."""
        if (narrow, wide) not in self.maps:
            extra = torch.randint(0, narrow, (wide - narrow,), generator=self.gen)
            self.maps[narrow, wide] = torch.cat([torch.arange(narrow), extra])
        return self.maps[narrow, wide]


def _spread(g: torch.Tensor, narrow: int) -> torch.Tensor:
    """1 / (number of copies of each wide channel's original): the share of an input weight each copy carries."""
    counts = torch.bincount(g, minlength=narrow).to(torch.float32)
    return 1.0 / counts[g]


@torch.no_grad()
def widen_into(small: nn.Module, big: nn.Module, *, noise: float = 0.0, seed: int = 0) -> None:
    """Copy the trained ``small`` network into ``big``, a wider network of the same layer structure, so that ``big``
    computes what ``small`` does (up to ``noise``, relative to each layer's weight scale, added to duplicated output
    channels). Layers outside the widened trunk (e.g. global colour branches) must have equal shapes and are copied.
    ConfigError when the structures differ."""
    gen = torch.Generator().manual_seed(seed)
    maps = _Maps(gen)
    trunk_s, trunk_b = getattr(small, "model", small), getattr(big, "model", big)
    ls, lb = _leaves(trunk_s), _leaves(trunk_b)
    if len(ls) != len(lb) or any(type(a) is not type(b) for a, b in zip(ls, lb)):
        raise ConfigError("the two networks do not have the same layers; only the width may differ")
    first = next((m for m in ls if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))), None)
    if first is None:
        raise ConfigError("no convolution to widen")
    # everything outside the trunk (global colour branches, calibration) has the same shapes: copied (checked first,
    # so that a refused pair leaves ``big`` untouched)
    trunk_keys = {f"model.{k}" for k in trunk_b.state_dict()} if trunk_b is not big else set(big.state_dict())
    rest = {k: v for k, v in small.state_dict().items() if k not in trunk_keys}
    target = big.state_dict()
    if set(rest) != set(target) - trunk_keys or any(target[k].shape != v.shape for k, v in rest.items()):
        odd = sorted((set(rest) ^ (set(target) - trunk_keys)) | {k for k, v in rest.items()
                                                                 if k in target and target[k].shape != v.shape})
        raise ConfigError(f"the two networks differ outside the widened layers ({', '.join(odd[:3])})")
    if any(b.out_channels < s.out_channels for s, b in zip(ls, lb) if isinstance(s, (nn.Conv2d, nn.ConvTranspose2d))):
        raise ConfigError("the new network is narrower than the trained one; widening only adds channels")
    g = torch.arange(first.in_channels)  # the input image: not widened
    for s, b in zip(ls, lb):
        if isinstance(s, (nn.Conv2d, nn.ConvTranspose2d)):
            g = _widen_conv(s, b, g, maps, noise, gen)
        elif isinstance(s, _NORMS):
            _copy_channels(s, b, g)
        elif any(True for _ in s.parameters(recurse=False)) or any(True for _ in s.buffers(recurse=False)):
            raise ConfigError(f"cannot widen a {type(s).__name__} layer")
    for k, v in rest.items():
        target[k].copy_(v)


def _widen_conv(s, b, g_in: torch.Tensor, maps: _Maps, noise: float, gen: torch.Generator) -> torch.Tensor:
    transposed = isinstance(s, nn.ConvTranspose2d)
    if b.in_channels != len(g_in):
        raise ConfigError(f"the wider network's {type(b).__name__} reads {b.in_channels} channels, expected {len(g_in)}")
    if s.groups > 1:  # depthwise: each output channel belongs to one input channel
        if s.groups != s.in_channels or s.out_channels != s.in_channels or b.groups != b.in_channels:
            raise ConfigError("only depthwise grouped convolutions (one filter per channel) can be widened")
        b.weight.copy_(s.weight[g_in])
        if s.bias is not None:
            b.bias.copy_(s.bias[g_in])
        return g_in
    g_out = maps.get(s.out_channels, b.out_channels)
    share = _spread(g_in, s.in_channels).to(s.weight.dtype)
    if transposed:  # weight: (in, out, k, k)
        w = s.weight[g_in][:, g_out] * share.view(-1, 1, 1, 1)
        dup = (slice(None), slice(s.out_channels, None))
    else:  # weight: (out, in, k, k)
        w = s.weight[g_out][:, g_in] * share.view(1, -1, 1, 1)
        dup = (slice(s.out_channels, None),)
    if noise > 0 and b.out_channels > s.out_channels:
        scale = float(s.weight.std()) * noise
        w[dup] += torch.randn(w[dup].shape, generator=gen, dtype=w.dtype) * scale
    b.weight.copy_(w)
    if s.bias is not None:
        b.bias.copy_(s.bias[g_out])
    return g_out


def _copy_channels(s: nn.Module, b: nn.Module, g: torch.Tensor) -> None:
    for name in ("weight", "bias", "running_mean", "running_var"):
        src, dst = getattr(s, name, None), getattr(b, name, None)
        if src is None or dst is None or not isinstance(src, torch.Tensor):
            continue
        if dst.shape[0] != len(g):
            raise ConfigError(f"the wider network's norm has {dst.shape[0]} channels, expected {len(g)}")
        dst.copy_(src[g])
