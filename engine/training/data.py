"""Training data: image folders with a decoded-image cache, validation before any work, paired transforms and a
prefetching loader that yields an endless, deterministic stream of batches.

- :class:`ImageFolder` scans a folder recursively, decodes every file once (threads; OpenCV releases the GIL),
  skips and reports unreadable files *once* (``skipped``), and keeps the images already resized to the load size in
  memory up to ``cache_mb`` (the rest is decoded again when used).
- :func:`check_folders` raises :class:`~engine.errors.DataError` before any work starts: a missing folder, the same
  folder twice (or one inside the other: the search is recursive), fewer than ``min_images`` usable images.
- :class:`FolderStream` maps a *stream position* to one training example ``{name: uint8 CHW}``. The file order is a
  fresh permutation per epoch and the crop/flip randomness is derived from (seed, position), so the stream is a pure
  function of the position: a resumed run sees exactly the batches the uninterrupted run would have seen, whatever
  the number of workers. ``paired=True`` uses one index and one crop/flip for all folders (pix2pix-style pairs),
  ``paired=False`` draws each folder independently (CycleGAN's unaligned data).
- :func:`make_loader` yields batches from a given position: ``num_workers`` prefetch *threads* (the per-batch work is
  numpy crops of cached images, which release the GIL, and threads never fork a multi-threaded GUI process), pinned
  memory and non-blocking copies on CUDA. Under DDP, rank r of w takes global positions ``k * w + r``.
- :func:`to_model_input` turns a uint8 batch on the device into float in [-1, 1] (optionally channels_last); doing it
  on the device keeps host-to-device copies 4x smaller.
"""
from __future__ import annotations

import os
import queue
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from ..errors import DataError, ImageLoadError
from ..imageio import load_image, scan_inputs

PREPROCESS = ("resize_and_crop", "scale_shortside_and_crop", "crop", "resize")
Progress = Callable[[int, int, str], None]


# ------------------------------------------------------------------------------------------------------------
# geometry

def prepare_image(rgb: np.ndarray, preprocess: str, load_size: int, crop_size: int) -> np.ndarray:
    """Resize a decoded uint8 HxWx3 image to its *load* geometry (what the cache stores)."""
    h, w = rgb.shape[:2]
    if preprocess == "resize_and_crop":
        size = (load_size, load_size)
    elif preprocess == "scale_shortside_and_crop":
        s = load_size / min(h, w)
        size = (max(load_size, round(w * s)), max(load_size, round(h * s)))
    elif preprocess == "crop":
        s = max(1.0, crop_size / min(h, w))
        size = (max(crop_size, round(w * s)), max(crop_size, round(h * s)))
    elif preprocess == "resize":
        size = (crop_size, crop_size)
    else:
        raise DataError(f"Unknown preprocessing {preprocess!r}; use one of {', '.join(PREPROCESS)}.")
    if size == (w, h):
        return np.ascontiguousarray(rgb)
    interp = cv2.INTER_AREA if size[0] * size[1] < w * h else cv2.INTER_CUBIC
    return cv2.resize(rgb, size, interpolation=interp)


def crop_flip(images: Sequence[np.ndarray], crop: int, rng: Optional[np.random.Generator],
              flip: bool = True) -> List[np.ndarray]:
    """The same random crop (and horizontal flip) applied to every image; ``rng=None`` = centre crop, no flip."""
    h, w = images[0].shape[:2]
    if rng is None:
        y, x, do_flip = (h - crop) // 2, (w - crop) // 2, False
    else:
        y = int(rng.integers(0, h - crop + 1))
        x = int(rng.integers(0, w - crop + 1))
        do_flip = flip and bool(rng.random() < 0.5)
    out = []
    for im in images:
        c = im[y:y + crop, x:x + crop]
        out.append(np.ascontiguousarray(c[:, ::-1] if do_flip else c))
    return out


def to_chw(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))


def to_model_input(x: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
    """uint8 NCHW (any device) -> float32 in [-1, 1]."""
    y = x.float().div_(127.5).sub_(1.0)
    return y.contiguous(memory_format=torch.channels_last) if channels_last else y


# ------------------------------------------------------------------------------------------------------------
# folders

def decode_all(items: Sequence[Any], decode: Callable[[Any], Any], label: str, unit: str, *, workers: int = 0,
               progress: Optional[Progress] = None, check_cancel: Optional[Callable[[], None]] = None
               ) -> Iterator[Tuple[Any, Any]]:
    """``(item, decode(item))`` in order, decoded on a thread pool (image decoding releases the GIL); cancel is
    checked after each item and progress reported every 16 (``"<label>: 16 / 200 <unit>"``)."""
    workers = workers or min(8, os.cpu_count() or 2)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ganstudio-decode") as pool:
        for done, (item, res) in enumerate(zip(items, pool.map(decode, items)), 1):
            if check_cancel:
                check_cancel()
            if progress and (done % 16 == 0 or done == len(items)):
                progress(done, len(items), f"{label}: {done} / {len(items)}" + (f" {unit}" if unit else ""))
            yield item, res


# A plain record: its field list looks like other records' (engine.translate's results) by shape only (deliberate).
@dataclass
class ImageFolder:
    """The usable images of one folder, decoded once, cached at load size."""

    root: Path
    name: str
    files: List[Path] = field(default_factory=list)
    skipped: List[Tuple[Path, str]] = field(default_factory=list)
    preprocess: str = "resize_and_crop"
    load_size: int = 286
    crop_size: int = 256
    _cache: List[Optional[np.ndarray]] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.files)

    @classmethod
    def open(cls, root, name: str, *, preprocess: str, load_size: int, crop_size: int, cache_mb: int = 4096,
             progress: Optional[Progress] = None, check_cancel: Optional[Callable[[], None]] = None,
             workers: int = 0) -> "ImageFolder":
        root = Path(root)
        scan = scan_inputs([root])
        folder = cls(root, name, preprocess=preprocess, load_size=load_size, crop_size=crop_size)
        folder.skipped = [(p, r) for p, r in scan.skipped]
        budget = int(cache_mb) * 2**20
        for path, res in decode_all(scan.files, folder._decode, f"Reading folder {name}", "images", workers=workers,
                                    progress=progress, check_cancel=check_cancel):
            if isinstance(res, str):
                folder.skipped.append((path, res))
                continue
            folder.files.append(path)
            keep = budget >= res.nbytes
            budget -= res.nbytes if keep else 0
            folder._cache.append(res if keep else None)
        return folder

    def _decode(self, path: Path):
        try:
            img = load_image(path).to_uint8()
        except ImageLoadError as e:
            return e.reason
        except MemoryError:
            return "too large to decode in memory"
        return prepare_image(img.rgb, self.preprocess, self.load_size, self.crop_size)

    def image(self, i: int) -> np.ndarray:
        """The i-th usable image at load geometry (cached or decoded again)."""
        img = self._cache[i]
        if img is not None:
            return img
        res = self._decode(self.files[i])
        if isinstance(res, str):
            raise DataError(f"{self.files[i]} became unreadable during training ({res}).")
        return res

    @property
    def cached(self) -> int:
        return sum(1 for c in self._cache if c is not None)

    def summary(self) -> str:
        msg = f"folder {self.name} ({self.root}): {len(self.files)} usable image{'s' if len(self.files) != 1 else ''}"
        if self.skipped:
            reasons = Counter(r for _, r in self.skipped)
            msg += f"; skipped {len(self.skipped)} (" + ", ".join(f"{c} {r}" for r, c in reasons.most_common(4))
            msg += ", ..." if len(reasons) > 4 else ""
            msg += ")"
        return msg


def check_folder_paths(folders: Dict[str, str]) -> Dict[str, Path]:
    """Existence and distinctness of the folders, before anything is read."""
    out: Dict[str, Path] = {}
    for name, p in folders.items():
        if not p:
            raise DataError(f"No folder {name} was given; choose a folder of images for domain {name}.")
        path = Path(p).expanduser()
        if not path.exists():
            where = "" if path.is_absolute() else f" (a relative path, looked up from {Path.cwd()})"
            raise DataError(f"Folder {name} ({path}) does not exist{where}. If it was moved or renamed, give its new "
                            "place (when resuming a run: --a/--b or --data).")
        if not path.is_dir():
            raise DataError(f"Folder {name} ({path}) is a file, not a folder of images.")
        out[name] = path
    names = list(out)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            ra, rb = out[a].resolve(), out[b].resolve()
            if ra == rb:
                raise DataError(f"Folder {a} and folder {b} are the same folder ({ra}); choose a different folder "
                                "for each domain.")
            for outer, inner, x, y in ((ra, rb, a, b), (rb, ra, b, a)):
                if outer in inner.parents:
                    raise DataError(f"Folder {y} ({inner}) is inside folder {x} ({outer}); folders are searched "
                                    f"recursively, so {x} would include {y}'s images. Choose separate folders.")
    return out


def check_usable(folder: ImageFolder, min_images: int = 2, preset: str = "") -> None:
    n = len(folder.files)
    if n < min_images:
        why = f" ({folder.summary().split('; ', 1)[1]})" if folder.skipped else ""
        need = (f"the {preset!r} preset needs at least {min_images} per folder (a few hundred is better); add "
                "images or choose the smoke-test preset" if preset else
                f"training needs at least {min_images} per folder")
        raise DataError(f"Folder {folder.name} ({folder.root}) has {n} usable image{'s' if n != 1 else ''}{why}; "
                        f"{need}.")


# ------------------------------------------------------------------------------------------------------------
# deterministic stream of examples

#: the fewest usable images per folder that each preset accepts (a folder too small is reported before training)
MIN_IMAGES = {"quick": 20, "standard": 50, "high": 100}


def open_folders(trainer, folders: Dict[str, str], *, preprocess: Optional[str] = None,
                 load_size: Optional[int] = None, min_images: int = 2,
                 preset: str = "") -> Tuple[Dict[str, "ImageFolder"], "FolderStream"]:
    """A trainer's unpaired training folders (``{name: folder}``, face crops with ``cfg.face_crop``), checked,
    decoded into the cache (``cfg.cache_mb`` shared between them), with what was skipped in the run's log, and their
    :class:`FolderStream`. ``preprocess`` / ``load_size`` default to the config's ``preprocess`` / ``load``."""
    cfg = trainer.cfg
    paths = trainer.data_paths(folders)
    out = {}
    for name, path in paths.items():
        f = ImageFolder.open(path, name, preprocess=preprocess or cfg.preprocess,
                             load_size=load_size or cfg.load, crop_size=cfg.image_size,
                             cache_mb=cfg.cache_mb // len(paths), check_cancel=trainer.ctx.check_cancel,
                             progress=lambda d, t, m: trainer.progress(d, t, m))
        check_usable(f, min_images, preset)
        out[name] = f
        trainer.log(f"Data: {f.summary()}; {f.cached} cached in memory.")
        for p, why in f.skipped[:20]:
            trainer.log(f"  skipped {p}: {why}")
        if len(f.skipped) > 20:
            trainer.log(f"  ... and {len(f.skipped) - 20} more skipped files")
    stream = FolderStream(out, cfg.image_size, seed=cfg.seed, flip=cfg.flip, paired=False,
                          rank=trainer.dist.rank, world=trainer.dist.world)
    return out, stream


def open_unpaired(trainer) -> Tuple[Dict[str, "ImageFolder"], "FolderStream"]:
    """The two unpaired folders ``cfg.data_a`` / ``cfg.data_b`` of a trainer (CycleGAN, CUT): :func:`open_folders`
    with the preset's fewest images per folder (:data:`MIN_IMAGES`)."""
    cfg = trainer.cfg
    preset = cfg.preset if cfg.preset in MIN_IMAGES else ""
    return open_folders(trainer, {"A": cfg.data_a, "B": cfg.data_b}, min_images=MIN_IMAGES.get(preset, 2),
                        preset=preset)


class FolderStream:
    """Position -> example. Deterministic in (seed, position); see the module docstring."""

    def __init__(self, folders: Dict[str, ImageFolder], crop_size: int, *, seed: int = 0, flip: bool = True,
                 paired: bool = False, rank: int = 0, world: int = 1):
        if paired and len({len(f) for f in folders.values()}) > 1:
            counts = ", ".join(f"{k}: {len(f)}" for k, f in folders.items())
            raise DataError(f"Paired folders must hold the same number of usable images ({counts}).")
        self.folders, self.crop, self.seed, self.flip, self.paired = folders, crop_size, seed, flip, paired
        self.rank, self.world = rank, world
        self._perms: Dict[Tuple[int, int], np.ndarray] = {}
        self._lock = threading.Lock()

    def _index(self, domain: int, n: int, g: int) -> int:
        epoch, i = divmod(g, n)
        key = (domain, epoch)
        with self._lock:
            perm = self._perms.get(key)
            if perm is None:
                perm = np.random.default_rng([self.seed, domain, epoch]).permutation(n)
                self._perms = {k: v for k, v in self._perms.items() if k[1] >= epoch - 1}
                self._perms[key] = perm
        return int(perm[i])

    def example(self, position: int) -> Dict[str, torch.Tensor]:
        g = position * self.world + self.rank
        out: Dict[str, torch.Tensor] = {}
        names = list(self.folders)
        if self.paired:
            i = self._index(0, len(self.folders[names[0]]), g)
            rng = np.random.default_rng([self.seed, 1_000_003, g])
            imgs = crop_flip([self.folders[n].image(i) for n in names], self.crop, rng, self.flip)
            return {n: to_chw(im) for n, im in zip(names, imgs)}
        for d, n in enumerate(names):
            f = self.folders[n]
            i = self._index(d, len(f), g)
            rng = np.random.default_rng([self.seed, 1_000_003 + d, g])
            out[n] = to_chw(crop_flip([f.image(i)], self.crop, rng, self.flip)[0])
        return out

    def batch(self, start: int, size: int) -> Dict[str, torch.Tensor]:
        items = [self.example(start + i) for i in range(size)]
        return {k: torch.stack([it[k] for it in items]) for k in items[0]}

    def fixed(self, n: int) -> Dict[str, torch.Tensor]:
        """The first ``n`` images of each folder, centre-cropped (for sample grids)."""
        out = {}
        for name, f in self.folders.items():
            imgs = [crop_flip([f.image(i)], self.crop, None)[0] for i in range(min(n, len(f)))]
            out[name] = torch.stack([to_chw(im) for im in imgs])
        return out


def make_loader(stream: FolderStream, batch_size: int, start_step: int = 0, *, num_workers: int = 0,
                device: Optional[torch.device] = None, prefetch: int = 2) -> Iterator[Dict[str, torch.Tensor]]:
    """Endless batches ``{name: uint8 NCHW on device}`` beginning with the batch of step ``start_step``."""
    device = device or torch.device("cpu")
    pin = device.type == "cuda"

    def make(step: int) -> Dict[str, torch.Tensor]:
        b = stream.batch(step * batch_size, batch_size)
        return {k: v.pin_memory() for k, v in b.items()} if pin else b

    def move(b: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        return {k: v.to(device, non_blocking=True) for k, v in b.items()}

    step = start_step
    if num_workers <= 0:
        while True:
            yield move(make(step))
            step += 1
    pool = ThreadPoolExecutor(max_workers=num_workers, thread_name_prefix="ganstudio-data")
    pending: "queue.Queue" = queue.Queue()
    try:
        for k in range(num_workers * prefetch):
            pending.put(pool.submit(make, step + k))
        nxt = step + num_workers * prefetch
        while True:
            fut = pending.get()
            pending.put(pool.submit(make, nxt))
            nxt += 1
            yield move(fut.result())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
