"""Learning-rate schedules as plain step -> factor functions, applied to optimizers by :class:`LRSchedule`.

Policies (``make_factor(policy, total, ...)``):

- ``linear`` (CycleGAN/pix2pix default): constant for the first ``decay_start`` fraction of the run, then linear
  decay to zero at the last step (junyanz ``n_epochs`` + ``n_epochs_decay``, counted in steps);
- ``constant``;
- ``cosine``: cosine from 1 to 0 after ``decay_start``;
- ``step``: x0.1 every ``step_every`` steps (junyanz ``lr_decay_iters``).

An optional linear warm-up over ``warmup`` steps multiplies any policy.

:class:`LRSchedule` is stateless apart from the base learning rates: ``set_step(step)`` writes
``base_lr * factor(step)`` into every parameter group, so a resumed run gets exactly the rate it would have had.
Extending a run (a larger total on resume) re-spreads the decay over the new total.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, List

import torch

from ..config import check_choice

POLICIES = ("linear", "constant", "cosine", "step")

Factor = Callable[[int], float]


def make_factor(policy: str, total: int, decay_start: float = 0.5, warmup: int = 0, step_every: int = 0) -> Factor:
    """A function ``step -> lr multiplier`` for a run of ``total`` steps (step counts from 0)."""
    check_choice("lr policy", policy, POLICIES)
    total = max(1, int(total))
    start = int(round(max(0.0, min(1.0, decay_start)) * total))
    span = max(1, total - start)
    every = max(1, step_every or max(1, total // 3))

    def base(step: int) -> float:
        if policy == "constant" or step < start:
            return 1.0 if policy != "step" else 0.1 ** (step // every)
        if policy == "linear":
            # junyanz: 1 - max(0, epoch - n_epochs) / (n_epochs_decay + 1); per step it reaches ~0 at the end
            return max(0.0, 1.0 - (step - start + 1) / (span + 1))
        if policy == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (step - start) / span)))
        return 0.1 ** (step // every)

    def factor(step: int) -> float:
        f = base(step)
        if warmup > 0 and step < warmup:
            f *= (step + 1) / warmup
        return f

    return factor


class LRSchedule:
    """Sets the learning rate of an optimizer from a factor function; ``state_dict`` holds the base rates."""

    def __init__(self, optimizer: torch.optim.Optimizer, factor: Factor):
        self.optimizer = optimizer
        self.factor = factor
        self.base_lrs: List[float] = [float(g["lr"]) for g in optimizer.param_groups]
        self.last_lr: List[float] = list(self.base_lrs)

    def set_step(self, step: int) -> None:
        f = self.factor(step)
        self.last_lr = []
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = base * f
            self.last_lr.append(base * f)

    def state_dict(self) -> Dict[str, List[float]]:
        return {"base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: Dict[str, List[float]]) -> None:
        lrs = state.get("base_lrs")
        if lrs and len(lrs) == len(self.base_lrs):
            self.base_lrs = [float(x) for x in lrs]
