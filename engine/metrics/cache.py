"""On-disk cache of the features of real-image folders.

The key hashes the extractor and preprocessing settings and, for every image file in the folder, its relative path
and the hash of its bytes: edit, add, rename or delete a file and the key changes, so stale features are never used.
Hashing files is cheap next to the network (tens of MB/s vs ~12 images/s on a CPU). One entry is kept per folder;
the previous one is deleted when the folder changes. Entries are ``.npz`` files read with ``allow_pickle=False``.

:class:`ExtractorCache` keeps a built extractor between evaluations; :func:`features_for` is the one way every
evaluation (Evaluate page, CLI, training-time) gets a set's features, through this cache for real folders.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from ..fsutil import atomic_path, atomic_write_text, user_cache_dir
from .features import FeatureExtractor, FeatureSet, settings_key
from .images import ImageSet

FORMAT = "ganstudio.features.v1"


def cache_dir() -> Path:
    return user_cache_dir() / "metrics" / "features"


def folder_key(images: ImageSet, settings: Optional[dict] = None) -> str:
    """Content hash of the set's files plus the extractor settings."""
    h = hashlib.sha256()
    h.update(json.dumps(settings or settings_key(), sort_keys=True).encode())
    root = images.folder
    for p in images.paths:
        rel = os.path.relpath(p, root) if root else str(p)
        h.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        h.update(_file_hash(p))
    for p, reason in images.skipped:
        h.update(f"skipped:{p}:{reason}".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _file_hash(p: Path) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    try:
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as e:
        h.update(f"unreadable:{e.errno}".encode())
    return h.digest()


def _index_path(folder: Path) -> Path:
    tag = hashlib.sha256(str(Path(folder).resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return cache_dir() / f"folder-{tag}.json"


def load(images: ImageSet, key: str, need_logits: bool) -> Optional[FeatureSet]:
    path = cache_dir() / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["format"]) != FORMAT:
                return None
            logits = z["logits"] if "logits" in z.files else None
            if need_logits and logits is None:
                return None
            skipped = [(str(a), str(b)) for a, b in z["skipped"]] if z["skipped"].size else []
            return FeatureSet(z["features"], z["index"], logits, skipped, from_cache=True)
    except (OSError, ValueError, KeyError):
        return None


def save(images: ImageSet, key: str, fs: FeatureSet) -> Path:
    path = cache_dir() / f"{key}.npz"
    arrays: dict = {"format": np.array(FORMAT), "features": fs.features.astype(np.float32), "index": fs.index,
                    "skipped": np.array(fs.skipped, dtype=str).reshape(-1, 2)}
    if fs.logits is not None:
        arrays["logits"] = fs.logits.astype(np.float32)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    if images.folder is not None:
        idx = _index_path(images.folder)
        old = None
        try:
            old = json.loads(idx.read_text(encoding="utf-8")).get("key")
        except (OSError, ValueError):
            pass
        if old and old != key:
            (cache_dir() / f"{old}.npz").unlink(missing_ok=True)
        atomic_write_text(idx, json.dumps({"folder": str(images.folder), "key": key}))
    return path


def cached_features(images: ImageSet, compute: Callable[[], FeatureSet], *, need_logits: bool = False,
                    ctx: Any = None) -> FeatureSet:
    """Features of a folder from the cache, or computed by ``compute()`` and stored."""
    if images.folder is None or images.array is not None:
        return compute()
    if ctx is not None:
        ctx.progress(0, 0, f"Checking the feature cache for {images.folder.name}")
    key = folder_key(images)
    hit = load(images, key, need_logits)
    if hit is not None:
        return hit
    fs = compute()
    try:
        save(images, key, fs)
    except OSError:
        pass  # a full or read-only cache folder must not fail the evaluation
    return fs


class ExtractorCache:
    """Keeps built :class:`FeatureExtractor` s for reuse between evaluations (one per device and IS file)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: Dict[Tuple[str, str], FeatureExtractor] = {}

    def get(self, device: Optional[str] = None, is_weights: str = "") -> FeatureExtractor:
        key = (device or "auto", is_weights or "")
        with self._lock:
            ex = self._items.get(key)
            if ex is None:
                ex = FeatureExtractor(None if key[0] == "auto" else key[0], is_weights=is_weights or None)
                self._items = {key: ex}  # keep one: each holds ~90 MB of weights
            return ex


def features_for(extractor: FeatureExtractor, images: ImageSet, ctx: Any = None, *, cache: bool = True,
                 what: str = "") -> FeatureSet:
    """Features of a set; a real folder's come from the on-disk cache when its files are unchanged."""
    compute = lambda: extractor.extract(images, ctx, what)  # noqa: E731
    if cache and images.folder is not None:
        return cached_features(images, compute, need_logits=extractor.has_logits, ctx=ctx)
    return compute()
