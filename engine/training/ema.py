"""Exponential moving average of a generator's weights (Karras et al.; Yazici et al. 2019, "The Unusual
Effectiveness of Averaging in GAN Training"), a switch of every training family (``TrainConfig.ema_decay``).

The averaged copy is what a run saves as its model and what samples and evaluations use: it is smoother than the
raw generator, whose weights oscillate with the discriminator. The decay ramps up from 0 (``min(decay,
(1 + step) / (10 + step))``) so that the average follows the fast early changes instead of remembering the random
initialisation. Parameters are averaged; buffers (batch-norm statistics, noise maps) are copied.
"""
from __future__ import annotations

import copy
from typing import Dict, List, Tuple

import torch
import torch.nn as nn


def make_ema(model: nn.Module) -> nn.Module:
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    return ema


@torch.no_grad()
def ema_update(ema: nn.Module, model: nn.Module, beta: float) -> None:
    """ema <- beta * ema + (1 - beta) * model for parameters; buffers are copied."""
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm.detach().to(pe.dtype), 1.0 - beta)
    for be, bm in zip(ema.buffers(), model.buffers()):
        be.copy_(bm)


def ramped_decay(decay: float, step: int) -> float:
    return min(decay, (1.0 + step) / (10.0 + step))


class EMASet:
    """The EMA copies of a trainer's generators, registered as ``<name>_ema`` networks so that checkpoints carry
    them and resumes restore them."""

    def __init__(self, decay: float):
        self.decay = decay
        self.pairs: List[Tuple[str, nn.Module, nn.Module]] = []

    def add(self, name: str, net: nn.Module, ema: nn.Module) -> None:
        self.pairs.append((name, net, ema))

    def update(self, step: int) -> None:
        beta = ramped_decay(self.decay, step)
        for _, net, ema in self.pairs:
            ema_update(ema, net, beta)

    @torch.no_grad()
    def restart(self) -> None:
        """Each copy becomes its network again (after a start model was loaded into the networks: the average
        starts from it, not from the random weights it was made of)."""
        for _, net, ema in self.pairs:
            ema.load_state_dict(net.state_dict())

    def lookup(self) -> Dict[str, nn.Module]:
        return {name: ema for name, _, ema in self.pairs}
