"""Building blocks of the CycleGAN family: the generator pair and discriminator pair modules (one forward each, so
DDP sees a single forward/backward per optimizer), the sample grid, and fine-tuning start points.

Batching habit: a generator's translation and its identity mapping are independent, so with per-sample
normalisation (instance norm / none) they run as one batch of 2N (``G_A(cat[A, B])``); the discriminator scores real
and fake in one batch as well. With batch norm they run separately, exactly as junyanz does.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

from ..errors import CheckpointError, ConfigError
from ..library import ModelInfo, ModelLibrary


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


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """NCHW in [-1, 1] -> N x H x W x 3 uint8."""
    y = ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return y.permute(0, 2, 3, 1).cpu().numpy()


def grid(rows: List[List[np.ndarray]], gap: int = 4, group: int = 3) -> np.ndarray:
    """Rows of equally sized tiles; a wider white gap after every ``group`` tiles."""
    h, w = rows[0][0].shape[:2]
    out_rows = []
    for tiles in rows:
        parts = []
        for i, t in enumerate(tiles):
            if i:
                parts.append(np.full((h, gap * (3 if i % group == 0 else 1), 3), 255, np.uint8))
            parts.append(t)
        out_rows.append(np.concatenate(parts, 1))
    sep = np.full((gap, out_rows[0].shape[1], 3), 255, np.uint8)
    stacked = []
    for i, r in enumerate(out_rows):
        if i:
            stacked.append(sep)
        stacked.append(r)
    return np.ascontiguousarray(np.concatenate(stacked, 0))


@torch.no_grad()
def cycle_grid(G_A: nn.Module, G_B: nn.Module, A: torch.Tensor, B: torch.Tensor, autocast) -> np.ndarray:
    """Each row: A, G_A(A), G_B(G_A(A)) | B, G_B(B), G_A(G_B(B))."""
    was = (G_A.training, G_B.training)
    G_A.eval()
    G_B.eval()
    try:
        with autocast():
            fB = G_A(A)
            rA = G_B(fB)
            fA = G_B(B)
            rB = G_A(fA)
    finally:
        G_A.train(was[0])
        G_B.train(was[1])
    cols = [to_uint8(t) for t in (A, fB, rA, B, fA, rB)]
    n = min(A.shape[0], B.shape[0])
    return grid([[c[i] for c in cols] for i in range(n)])


# ------------------------------------------------------------------------------------------------------------
# fine-tuning start points

def _partner(lib: ModelLibrary, info: ModelInfo) -> Optional[ModelInfo]:
    """The model of the other direction next to ``info`` (same folder: a run's models/ or a bundled folder)."""
    want = {"AtoB": "BtoA", "BtoA": "AtoB"}.get(info.direction)
    if not want:
        return None
    for m in lib.list(task="translate"):
        if m.path.parent == info.path.parent and m.direction == want and m.path != info.path:
            return m
    return None


def resolve_init(ref: str, lib: Optional[ModelLibrary] = None) -> Tuple[ModelInfo, Optional[ModelInfo]]:
    """(A->B start, B->A start or None) for ``--init`` (model id/name/file or a run folder)."""
    lib = lib or ModelLibrary()
    if Path(ref).expanduser().is_dir():
        a2b = lib.resolve(ref, direction="AtoB")
        try:
            b2a = lib.resolve(ref, direction="BtoA")
        except Exception:  # noqa: BLE001 - a run folder with one direction only
            b2a = None
        b2a = b2a if b2a is not None and b2a.path != a2b.path else None
    else:
        a2b = lib.resolve(ref)
        b2a = _partner(lib, a2b)
        if a2b.direction == "BtoA" and b2a is not None:
            a2b, b2a = b2a, a2b
    for m in (a2b, b2a):
        if m is not None and m.task != "translate":
            raise CheckpointError(f"The model {m.name!r} is a {m.task or 'non-translation'} model, not an "
                                  "image-to-image generator; CycleGAN can only start from a translation model.")
    return a2b, b2a


def arch_of(info: ModelInfo) -> Dict[str, object]:
    kw = dict(info.meta.get("arch_kwargs") or {})
    return {"generator": info.arch, "ngf": int(kw.get("ngf", 64)), "norm": str(kw.get("norm", "instance")),
            "use_dropout": bool(kw.get("use_dropout", False)), "input_nc": int(kw.get("input_nc", 3)),
            "output_nc": int(kw.get("output_nc", 3))}


def check_init_arch(info: ModelInfo, cfg) -> None:
    got = arch_of(info)
    want = {"generator": cfg.generator, "ngf": cfg.ngf, "norm": cfg.norm, "use_dropout": cfg.use_dropout,
            "input_nc": 3, "output_nc": 3}
    diff = [k for k in want if got[k] != want[k]]
    if diff:
        raise CheckpointError(
            f"The init model {info.name!r} does not match this run's generator: "
            + ", ".join(f"{k} is {got[k]!r} in the model but {want[k]!r} here" for k in diff)
            + ". Use the model's architecture (leave the generator settings at their defaults, or set "
            + " ".join(f"--{k.replace('_', '-')} {got[k]}" for k in diff if k in ("generator", "ngf", "norm"))
            + "), or pick another model.")
    if got["generator"] not in ("resnet_9blocks", "resnet_6blocks", "unet_128", "unet_256"):
        raise ConfigError(f"The init model {info.name!r} uses {got['generator']}, which CycleGAN cannot train.")
