"""Paired training data for pix2pix, in three forms, all validated before any training work starts:

- ``ab``: one folder of side-by-side images (junyanz ``combine_A_and_B`` format: A is the left half, B the right);
- ``folders``: two folders whose files are paired by file name (the name without its extension, so ``12.jpg`` pairs
  with ``12.png``); files without a partner are reported, pairs whose pictures have different shapes are skipped and
  reported;
- ``sketch``: one folder of photos; the input of each pair is made from its photo by :func:`engine.sketch.make_sketch`
  (at load size, so the sketch's lines match the photo pixel for pixel), on the fly and cached with the photo.

Each pair is decoded once (threads), resized to the load geometry of :func:`engine.training.data.prepare_image` and
cached up to ``cache_mb``. :class:`PairedData` exposes the two sides as views with the ``len``/``image(i)`` interface of
:class:`~engine.training.data.ImageFolder`, so the core's :class:`~engine.training.data.FolderStream` with
``paired=True`` applies one random crop and one flip to both images of a pair (jitter identical for both halves).
``direction="BtoA"`` swaps the sides. The input side of label maps gets a palette of its colours (for the Draw page).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import DataError, ImageLoadError
from ..imageio import load_image, scan_inputs
from ..sketch import SketchStyle, make_sketch
from .data import check_folder_paths, decode_all, prepare_image

FORMATS = ("ab", "folders", "sketch")
FORMAT_TITLES = {"ab": "side-by-side AB images", "folders": "two folders paired by file name",
                 "sketch": "photos with automatic sketches"}
Item = Tuple[Path, Optional[Path]]


class SkipPair(Exception):
    """A pair that cannot be used; the message is the reason shown to the user."""


@dataclass
class Geometry:
    preprocess: str = "resize_and_crop"
    load_size: int = 286
    crop_size: int = 256

    def prepare(self, rgb: np.ndarray) -> np.ndarray:
        return prepare_image(rgb, self.preprocess, self.load_size, self.crop_size)


def _load(path: Path) -> np.ndarray:
    try:
        return load_image(path).to_uint8().rgb
    except ImageLoadError as e:
        raise SkipPair(f"{path.name}: {e.reason}") from None
    except MemoryError:
        raise SkipPair(f"{path.name}: too large to decode in memory") from None


def decode_ab(item: Item, geo: Geometry, sketch: SketchStyle) -> Tuple[np.ndarray, np.ndarray]:
    rgb = _load(item[0])
    h, w = rgb.shape[:2]
    if w < h or w < 2:
        raise SkipPair(f"{item[0].name} is {w}x{h}, narrower than tall: not two pictures side by side")
    half = w // 2
    return geo.prepare(rgb[:, :half]), geo.prepare(rgb[:, half:2 * half])


def decode_folders(item: Item, geo: Geometry, sketch: SketchStyle) -> Tuple[np.ndarray, np.ndarray]:
    a, b = _load(item[0]), _load(item[1])
    (ha, wa), (hb, wb) = a.shape[:2], b.shape[:2]
    if abs(wa * hb - wb * ha) > 0.02 * max(wa * hb, wb * ha):
        raise SkipPair(f"{item[0].name} is {wa}x{ha} but its partner {item[1].name} is {wb}x{hb}; the two pictures "
                       "of a pair must have the same shape")
    return geo.prepare(a), geo.prepare(b)


def decode_sketch(item: Item, geo: Geometry, sketch: SketchStyle) -> Tuple[np.ndarray, np.ndarray]:
    photo = geo.prepare(_load(item[0]))
    return make_sketch(photo, sketch), photo


DECODERS = {"ab": decode_ab, "folders": decode_folders, "sketch": decode_sketch}


class _Side:
    """One side of the pairs, with the ImageFolder interface FolderStream uses."""

    def __init__(self, data: "PairedData", index: int, name: str):
        self.data, self.index, self.name = data, index, name

    def __len__(self) -> int:
        return len(self.data.items)

    def image(self, i: int) -> np.ndarray:
        return self.data.pair(i)[self.index]


@dataclass
class PairedData:
    form: str
    roots: Tuple[Path, ...]
    items: List[Item] = field(default_factory=list)
    skipped: List[Tuple[Path, str]] = field(default_factory=list)
    unmatched: Dict[str, List[Path]] = field(default_factory=dict)
    geometry: Geometry = field(default_factory=Geometry)
    sketch: SketchStyle = field(default_factory=SketchStyle)
    swap: bool = False
    _cache: List[Optional[Tuple[np.ndarray, np.ndarray]]] = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.items)

    def pair(self, i: int) -> Tuple[np.ndarray, np.ndarray]:
        """(input, target) of pair i at load geometry."""
        got = self._cache[i] if i < len(self._cache) else None
        if got is None:
            try:
                got = self._decode(self.items[i])
            except SkipPair as e:
                raise DataError(f"A training pair became unreadable during training ({e}).") from None
        return got

    def _decode(self, item: Item) -> Tuple[np.ndarray, np.ndarray]:
        a, b = DECODERS[self.form](item, self.geometry, self.sketch)
        return (b, a) if self.swap else (a, b)

    def sides(self) -> Dict[str, _Side]:
        return {"A": _Side(self, 0, "input"), "B": _Side(self, 1, "target")}

    def summary(self) -> str:
        n = len(self.items)
        where = " + ".join(str(r) for r in self.roots)
        msg = f"{FORMAT_TITLES[self.form]} in {where}: {n} usable pair{'s' if n != 1 else ''}"
        if self.skipped:
            reasons = Counter(_reason_kind(r) for _, r in self.skipped)
            msg += f"; skipped {len(self.skipped)} (" + ", ".join(f"{c} {r}" for r, c in reasons.most_common(4)) + ")"
        for side, files in self.unmatched.items():
            if files:
                msg += f"; {len(files)} file(s) in {side} have no partner"
        return msg


def _reason_kind(reason: str) -> str:
    return reason.split(": ", 1)[1] if ": " in reason and "same shape" not in reason else \
        ("pictures of different shapes" if "same shape" in reason else reason)


# ------------------------------------------------------------------------------------------------------------
# finding the pairs

def folder_pair_paths(data: str, data_b: str) -> Tuple[Path, Path]:
    """The A and B folders of the ``folders`` form: ``data`` + ``data_b``, or subfolders A/B (trainA/trainB) of
    ``data``."""
    if data_b:
        paths = check_folder_paths({"A": data, "B": data_b})
        return paths["A"], paths["B"]
    root = check_folder_paths({"data": data})["data"]
    for a, b in (("A", "B"), ("trainA", "trainB"), ("a", "b")):
        if (root / a).is_dir() and (root / b).is_dir():
            return root / a, root / b
    raise DataError(f"{root} has no A and B subfolders. For pairs matched by file name give two folders "
                    "(--data DIR_A --data-b DIR_B) or one folder holding A/ and B/.")


def _images(folder: Path, label: str, skipped: List[Tuple[Path, str]]) -> List[Path]:
    scan = scan_inputs([folder])
    skipped.extend(scan.skipped)
    if not scan.files:
        reasons = Counter(r for _, r in scan.skipped)
        why = (f" ({len(scan.skipped)} file(s) skipped: " + ", ".join(f"{c} {r}" for r, c in reasons.most_common())
               + ")") if scan.skipped else ""
        raise DataError(f"The {label} folder {folder} contains no images{why}.")
    return scan.files


def match_by_name(files_a: Sequence[Path], files_b: Sequence[Path]) -> Tuple[List[Item], Dict[str, List[Path]]]:
    """Pairs of files with the same name (without extension); the rest is reported as unmatched."""
    def index(files: Sequence[Path]) -> Dict[str, List[Path]]:
        out: Dict[str, List[Path]] = {}
        for f in files:
            out.setdefault(f.stem, []).append(f)
        return out

    ia, ib = index(files_a), index(files_b)
    items = [(ia[k][0], ib[k][0]) for k in sorted(ia) if k in ib and len(ia[k]) == 1 and len(ib[k]) == 1]
    paired = {p for it in items for p in it}
    unmatched = {"A": [f for f in files_a if f not in paired], "B": [f for f in files_b if f not in paired]}
    return items, unmatched


def _names(files: Sequence[Path], n: int = 4) -> str:
    shown = ", ".join(f.name for f in files[:n])
    return shown + (f" and {len(files) - n} more" if len(files) > n else "")


def find_items(form: str, data: str, data_b: str = "") -> Tuple[Tuple[Path, ...], List[Item], list, dict]:
    """(roots, items, skipped, unmatched) of a paired data set; DataError when it cannot be used."""
    skipped: List[Tuple[Path, str]] = []
    if form not in FORMATS:
        raise DataError(f"Unknown paired data format {form!r}; use one of {', '.join(FORMATS)}.")
    if form == "folders":
        fa, fb = folder_pair_paths(data, data_b)
        items, unmatched = match_by_name(_images(fa, "A", skipped), _images(fb, "B", skipped))
        if len(items) < 2:
            raise DataError(
                f"Folders {fa} and {fb} have {len(items)} file(s) with matching names; pairs are matched by file "
                f"name without extension and training needs at least 2 pairs. Only in A: "
                f"{_names(unmatched['A']) or 'none'}; only in B: {_names(unmatched['B']) or 'none'}.")
        return (fa, fb), items, skipped, unmatched
    if data_b:
        raise DataError(f"A second folder (--data-b) only applies to --paired-format folders, not {form}.")
    root = check_folder_paths({"data": data})["data"]
    files = _images(root, "training", skipped)
    return (root,), [(f, None) for f in files], skipped, {}


def open_paired(form: str, data: str, data_b: str = "", *, geometry: Optional[Geometry] = None,
                sketch: Optional[SketchStyle] = None, swap: bool = False, cache_mb: int = 4096,
                progress: Optional[Callable[[int, int, str], None]] = None,
                check_cancel: Optional[Callable[[], None]] = None, min_pairs: int = 2) -> PairedData:
    """Find, decode and cache the pairs; raise :class:`DataError` unless at least ``min_pairs`` are usable."""
    roots, items, skipped, unmatched = find_items(form, data, data_b)
    pd = PairedData(form, roots, skipped=list(skipped), unmatched=unmatched, geometry=geometry or Geometry(),
                    sketch=sketch or SketchStyle(), swap=swap)
    budget = int(cache_mb) * 2**20
    for item, res in decode_all(items, _try_decode(pd), "Reading pairs", "", progress=progress,
                                check_cancel=check_cancel):
        if isinstance(res, str):
            pd.skipped.append((item[0], res))
            continue
        pd.items.append(item)
        size = res[0].nbytes + res[1].nbytes
        keep = budget >= size
        budget -= size if keep else 0
        pd._cache.append(res if keep else None)
    if len(pd.items) < min_pairs:
        n = len(pd.items)
        reasons = "; ".join(r for _, r in pd.skipped[:3])
        raise DataError(f"The training data ({FORMAT_TITLES[form]} in {' + '.join(map(str, roots))}) has only {n} "
                        f"usable pair{'s' if n != 1 else ''}; training needs at least {min_pairs}"
                        + (f" (skipped: {reasons})." if reasons else "."))
    return pd


def _try_decode(pd: PairedData):
    def fn(item: Item):
        try:
            return pd._decode(item)
        except SkipPair as e:
            return str(e)
    return fn


def detect_palette(images: Sequence[np.ndarray], max_colors: int = 64, min_share: float = 0.003,
                   coverage: float = 0.9) -> Optional[List[List[int]]]:
    """The class colours of label maps (most frequent first), or None for photo-like images: at most ``max_colors``
    colours with at least ``min_share`` of the pixels each must cover ``coverage`` of all pixels."""
    if not images:
        return None
    px = np.concatenate([im[::2, ::2].reshape(-1, 3) for im in images]).astype(np.uint32)
    codes = (px[:, 0] << 16) | (px[:, 1] << 8) | px[:, 2]
    values, counts = np.unique(codes, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    share = counts[order] / codes.size
    keep = order[share >= min_share]
    if len(keep) == 0 or len(keep) > max_colors or counts[keep].sum() / codes.size < coverage:
        return None
    return [[int(v >> 16) & 255, int(v >> 8) & 255, int(v) & 255] for v in values[keep]]
