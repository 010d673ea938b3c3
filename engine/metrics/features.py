"""Batched Inception feature extraction with decoding overlapped, progress, cancel and skipped-file reports.

Speed habits (see ``benchmarks/bench_metrics.py``): images are decoded and resized by a small thread pool while the
network runs on the previous batch; batch norm is folded into the convolutions; ``channels_last`` memory format;
``torch.inference_mode``; on CUDA pinned host memory, non-blocking copies and a side stream, so a trainer's stream is
not blocked. Precision stays fp32 everywhere: the FID must not depend on the speed settings.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

import numpy as np
import torch

from .. import devices
from ..errors import ImageLoadError
from .images import RESIZE_LABEL, ImageSet
from .inception import INPUT_SIZE, NORMALISATION
from .weights import EXTRACTOR_ID, EXTRACTOR_LABEL, build_network


@dataclass
class FeatureSet:
    """Features of the readable images of a set (row ``j`` belongs to image ``index[j]`` of the set)."""

    features: np.ndarray  # N x 2048 float32
    index: np.ndarray  # N, int: positions in the ImageSet
    logits: Optional[np.ndarray] = None  # N x 1008 float32 when the IS weights are loaded
    skipped: List[Tuple[str, str]] = field(default_factory=list)  # (file, reason)
    from_cache: bool = False

    def __len__(self) -> int:
        return int(self.features.shape[0])


def settings_key() -> dict:
    """Everything that changes the features (the cache key); batch size and device do not."""
    return {"extractor": EXTRACTOR_ID, "resize": RESIZE_LABEL, "normalisation": NORMALISATION, "version": 1}


class FeatureExtractor:
    """Turns :class:`ImageSet` s into :class:`FeatureSet` s. Build once, reuse (the network load costs ~1 s)."""

    label = EXTRACTOR_LABEL
    id = EXTRACTOR_ID

    def __init__(self, device: Optional[torch.device] = None, *, batch_size: int = 0, workers: int = 0,
                 is_weights: Optional[str] = None, fuse: bool = True):
        self.device = device if isinstance(device, torch.device) else devices.pick_device(device)
        self.batch_size = batch_size or (64 if self.device.type == "cuda" else 16)
        self.workers = workers or max(1, min(8, (os.cpu_count() or 2) - (0 if self.device.type == "cuda" else 1)))
        self.net, self.is_status = build_network(self.device, is_weights=is_weights, fuse=fuse)
        self.net = self.net.to(memory_format=torch.channels_last)
        self.stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None

    @property
    def has_logits(self) -> bool:
        return self.net.fc is not None

    def describe(self) -> dict:
        return {"extractor": self.label, "resize": RESIZE_LABEL, "normalisation": NORMALISATION,
                "device": str(self.device)}

    def forward(self, batch: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """uint8 ``B x 299 x 299 x 3`` -> (features, logits or None) as float32 numpy."""
        x = torch.from_numpy(batch).permute(0, 3, 1, 2)
        if self.device.type == "cuda":
            x = x.pin_memory()
        with torch.inference_mode():
            if self.stream is not None:
                with torch.cuda.stream(self.stream):
                    out = self._run(x.to(self.device, non_blocking=True))
                self.stream.synchronize()
            else:
                out = self._run(x)
        feats, logits = out
        return feats.float().cpu().numpy(), None if logits is None else logits.float().cpu().numpy()

    def _run(self, x: torch.Tensor):
        x = x.contiguous(memory_format=torch.channels_last)
        if self.has_logits:
            return self.net(x, logits=True)
        return self.net(x), None

    def extract(self, images: ImageSet, ctx: Any = None, what: str = "") -> FeatureSet:
        """Features of every readable image in ``images``; bad files are skipped and reported."""
        n = len(images)
        what = what or images.label or "images"
        feats: List[np.ndarray] = []
        logits: List[np.ndarray] = []
        index: List[int] = []
        skipped: List[Tuple[str, str]] = list(images.skipped)
        bs = self.batch_size
        chunks = [list(range(i, min(i + bs, n))) for i in range(0, n, bs)]
        _progress(ctx, 0, n, f"Inception features of {what}: 0 / {n}")
        with ThreadPoolExecutor(self.workers, thread_name_prefix="ganstudio-metrics-load") as pool:
            pending = [pool.submit(_load_one, images, i) for i in chunks[0]] if chunks else []
            for c, idx in enumerate(chunks):
                _check(ctx)
                loaded = [f.result() for f in pending]
                pending = [pool.submit(_load_one, images, i) for i in chunks[c + 1]] if c + 1 < len(chunks) else []
                good = [(i, a) for i, a in zip(idx, loaded) if isinstance(a, np.ndarray)]
                skipped += [(images.name(i), a) for i, a in zip(idx, loaded) if not isinstance(a, np.ndarray)]
                if good:
                    f, lg = self.forward(np.stack([a for _, a in good]))
                    feats.append(f)
                    index += [i for i, _ in good]
                    if lg is not None:
                        logits.append(lg)
                done = idx[-1] + 1
                _progress(ctx, done, n, f"Inception features of {what}: {done} / {n}")
        fa = np.concatenate(feats) if feats else np.zeros((0, 2048), np.float32)
        la = np.concatenate(logits) if logits else None
        return FeatureSet(fa, np.asarray(index, dtype=np.int64), la, skipped)


def _load_one(images: ImageSet, i: int):
    try:
        a = images.load(i)
    except ImageLoadError as e:
        return e.reason
    except (ValueError, OSError) as e:
        return f"cannot be used ({e})"
    if a.shape != (INPUT_SIZE, INPUT_SIZE, 3):
        return f"unexpected shape {a.shape}"
    return a


def _progress(ctx: Any, done: float, total: float, msg: str) -> None:
    if ctx is not None:
        ctx.progress(done, total, msg)


def _check(ctx: Any) -> None:
    if ctx is not None:
        ctx.check_cancel()
