"""Function-preserving widening of a trained mobile ResNet student (Net2WiderNet): the wider copy computes what the
narrow one does, and anything but a wider copy of the same layers is refused."""
from __future__ import annotations

import pytest
import torch

from engine.errors import ConfigError
from engine.models import get_model
from engine.models.widen import widen_into

KW = dict(n_blocks=2, head_kernel=3, residual=True, global_color=True, global_affine=True, calibration=True,
          norm="instance_affine")


def _trained_looking(ngf: int, seed: int = 0) -> torch.nn.Module:
    """Random weights everywhere, the branches and calibration included (a fresh net starts them at zero, which
    would hide a wrong copy)."""
    torch.manual_seed(seed)
    net = get_model("mobile_resnet", ngf=ngf, **KW).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        net.calib.weight.normal_(std=0.02)
    return net


@pytest.mark.parametrize("wide", [8, 11, 16])
def test_the_wider_copy_computes_the_same_outputs(wide):
    small = _trained_looking(8)
    big = get_model("mobile_resnet", ngf=wide, **KW).eval()
    widen_into(small, big)
    x = torch.rand(2, 3, 36, 44) * 2 - 1
    with torch.no_grad():
        ys, yb = small(x), big(x)
    assert (ys - yb).abs().max() < 1e-5
    assert sum(p.numel() for p in big.parameters()) >= sum(p.numel() for p in small.parameters())
    assert torch.equal(big.calib.weight, small.calib.weight)


def test_noise_moves_the_copies_apart_but_keeps_the_picture():
    small = _trained_looking(8)
    big = get_model("mobile_resnet", ngf=12, **KW).eval()
    widen_into(small, big, noise=0.01, seed=3)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        diff = (small(x) - big(x)).abs().max().item()
    assert 0 < diff < 0.05
    # a duplicated channel of the stem is no longer an exact copy of its original, so training can move them apart
    stem_s, stem_b = small.model[1].weight, big.model[1].weight
    assert not any(torch.equal(stem_b[j], stem_s[i]) for j in range(8, 12) for i in range(8))


def test_narrower_or_different_networks_are_refused():
    small = _trained_looking(8)
    with pytest.raises(ConfigError, match="narrower"):
        widen_into(small, get_model("mobile_resnet", ngf=4, **KW))
    with pytest.raises(ConfigError, match="same layers"):
        widen_into(small, get_model("mobile_resnet", ngf=12, **dict(KW, n_blocks=3)))
    with pytest.raises(ConfigError, match="outside the widened"):
        widen_into(small, get_model("mobile_resnet", ngf=12, **dict(KW, global_color=False)))
