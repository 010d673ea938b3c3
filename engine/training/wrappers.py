"""One-forward modules for DistributedDataParallel: each wraps the networks an optimizer step runs, so DDP sees a
single forward and backward per optimizer (CycleGAN's generator and discriminator pairs, pix2pix's conditional
discriminator).

Batching habit: a generator's translation and its identity mapping are independent, so with per-sample
normalisation (instance norm / none) they run as one batch of 2N (``G_A(cat[A, B])``); the discriminator scores real
and fake in one batch as well. With batch norm they run separately, exactly as junyanz does.
"""
from __future__ import annotations

import torch
import torch.nn as nn


class GenPair(nn.Module):
    """G_A: A -> B, G_B: B -> A. ``forward`` returns fake_B, rec_A, fake_A, rec_B, idt_A (= G_A(B)), idt_B."""

    def __init__(self, G_A: nn.Module, G_B: nn.Module, identity: bool, concat: bool):
        super().__init__()
        self.G_A, self.G_B = G_A, G_B
        self.identity, self.concat = identity, concat

    def forward(self, A: torch.Tensor, B: torch.Tensor):
        n = A.shape[0]
        idt_A = idt_B = None
        if self.identity and self.concat:
            fake_B, idt_A = self.G_A(torch.cat([A, B])).split([n, B.shape[0]])
            fake_A, idt_B = self.G_B(torch.cat([B, A])).split([B.shape[0], n])
        else:
            fake_B, fake_A = self.G_A(A), self.G_B(B)
            if self.identity:
                idt_A, idt_B = self.G_A(B), self.G_B(A)
        return fake_B, self.G_B(fake_B), fake_A, self.G_A(fake_A), idt_A, idt_B


class DiscPair(nn.Module):
    """D_A judges B-domain images (real B vs G_A's fakes), D_B judges A-domain images. Returns the four outputs."""

    def __init__(self, D_A: nn.Module, D_B: nn.Module, concat: bool):
        super().__init__()
        self.D_A, self.D_B = D_A, D_B
        self.concat = concat

    def _score(self, D: nn.Module, real: torch.Tensor, fake: torch.Tensor):
        if self.concat:
            return D(torch.cat([real, fake])).split([real.shape[0], fake.shape[0]])
        return D(real), D(fake)

    def forward(self, real_B, fake_B, real_A, fake_A):
        return (*self._score(self.D_A, real_B, fake_B), *self._score(self.D_B, real_A, fake_A))


class CondDisc(nn.Module):
    """The conditional discriminator step as one forward (one DDP forward/backward per optimizer): scores
    (input, real target) and (input, fake); one batch when the norm is per-sample, two calls with batch norm."""

    def __init__(self, D: nn.Module, concat: bool, aug=None):
        super().__init__()
        self.D, self.concat = D, concat
        self.aug = aug or (lambda t: t)

    def forward(self, x: torch.Tensor, real: torch.Tensor, fake: torch.Tensor):
        pr, pf = self.aug(torch.cat([x, real], 1)), self.aug(torch.cat([x, fake], 1))
        if self.concat:
            return self.D(torch.cat([pr, pf])).chunk(2)
        return self.D(pr), self.D(pf)
