"""Image sets for evaluation and the one preprocessing both real and generated images go through.

An :class:`ImageSet` is built from a folder, a list of files/folders/globs, or a uint8 array ``N x H x W x 3``
(generator output, see :func:`quantize`). Every image, real or generated, takes the same path:

1. decode (``engine.imageio.load_image``: EXIF orientation applied, alpha dropped, 16-bit scaled to 8-bit);
2. uint8 RGB;
3. resize to 299 x 299 with PIL's bicubic filter (antialiased when shrinking; clean-fid's "clean" resize),
   result rounded to uint8 (skipped when the image is already 299 x 299).

Unreadable files are skipped and reported with their reason, never silently dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import DataError, ImageLoadError
from ..imageio import load_image, scan_inputs
from .inception import INPUT_SIZE

RESIZE_FILTER = "PIL bicubic (antialiased), uint8 in and out"
RESIZE_LABEL = f"{RESIZE_FILTER}, to {INPUT_SIZE}x{INPUT_SIZE}"

SourceLike = Union[str, Path, Sequence[Union[str, Path]], np.ndarray, Any]


def resize_for_inception(rgb: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """uint8 HxWx3 -> uint8 size x size x 3 with the documented filter."""
    from PIL import Image

    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("expected an HxWx3 uint8 RGB image")
    if rgb.shape[0] == size and rgb.shape[1] == size:
        return np.ascontiguousarray(rgb)
    im = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    return np.asarray(im.resize((size, size), Image.Resampling.BICUBIC))


def quantize(images: Any, value_range: Tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """Generator output (torch or numpy, ``N x 3 x H x W`` float in ``value_range``) -> uint8 ``N x H x W x 3``.

    Rounds to the nearest level, as saving a PNG would: metrics on in-memory samples then equal metrics on the saved
    files."""
    try:
        import torch

        if isinstance(images, torch.Tensor):
            images = images.detach().float().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    a = np.asarray(images, dtype=np.float32)
    if a.ndim != 4 or a.shape[1] != 3:
        raise DataError(f"Expected generated images as N x 3 x H x W, got shape {tuple(a.shape)}.")
    lo, hi = value_range
    a = (a - lo) / (hi - lo) * 255.0
    return np.clip(np.rint(a), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1).copy()


@dataclass
class ImageSet:
    """A set of images to evaluate: files (``paths``) or an in-memory uint8 array (``array``)."""

    label: str = ""
    paths: List[Path] = field(default_factory=list)
    array: Optional[np.ndarray] = None
    skipped: List[Tuple[str, str]] = field(default_factory=list)  # (path, reason) found while scanning
    folder: Optional[Path] = None  # set when the set is exactly one folder (its features may be cached)

    def __len__(self) -> int:
        return len(self.array) if self.array is not None else len(self.paths)

    def name(self, i: int) -> str:
        return str(self.paths[i]) if self.array is None else f"{self.label or 'image'}[{i}]"

    def load_raw(self, i: int) -> np.ndarray:
        """uint8 HxWx3 at its own size. Raises :class:`ImageLoadError` for a bad file."""
        if self.array is not None:
            return self.array[i]
        return load_image(self.paths[i]).to_uint8().rgb

    def load(self, i: int) -> np.ndarray:
        """uint8 299x299x3, preprocessed for the Inception network."""
        return resize_for_inception(self.load_raw(i))

    def thumbnail(self, i: int, side: int = 128) -> Optional[np.ndarray]:
        """A small uint8 picture for grids and reports (None if the file cannot be read)."""
        import cv2

        try:
            rgb = self.load_raw(i)
        except ImageLoadError:
            return None
        h, w = rgb.shape[:2]
        s = side / max(h, w)
        if s < 1:
            rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(rgb)


def image_set(source: SourceLike, label: str = "") -> ImageSet:
    """Build an :class:`ImageSet` from a folder, a file list, or a uint8 ``N x H x W x 3`` array."""
    if isinstance(source, ImageSet):
        return source
    if _is_array(source):
        return _array_set(source, label)
    if isinstance(source, (str, Path)):
        items = [source]
    else:
        items = list(source)
    if not items:
        raise DataError(f"No images given for {label or 'the set'}.")
    scan = scan_inputs(items)
    skipped = [(str(p), r) for p, r in scan.skipped]
    for p, r in scan.skipped:
        if r == "not found" and len(items) == 1:
            raise DataError(f"{p} does not exist. Choose an existing folder of images.")
    folder = Path(items[0]) if len(items) == 1 and Path(items[0]).is_dir() else None
    return ImageSet(label=folder.name if folder else label, paths=list(scan.files), skipped=skipped,
                    folder=folder)


def _is_array(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return True
    try:
        import torch

        return isinstance(x, torch.Tensor)
    except ImportError:  # pragma: no cover
        return False


def _array_set(x: Any, label: str) -> ImageSet:
    if not isinstance(x, np.ndarray):
        x = x.detach().cpu().numpy()
    if x.dtype != np.uint8:
        raise DataError(f"In-memory images must be uint8 N x H x W x 3 (got {x.dtype}); convert generator output "
                        "with engine.metrics.quantize(images) so real and generated images are quantised alike.")
    if x.ndim != 4 or x.shape[3] != 3:
        raise DataError(f"In-memory images must be uint8 N x H x W x 3, got shape {tuple(x.shape)}.")
    return ImageSet(label=label or "images", array=x)
