"""Read and write images with Qt's QImage (no OpenCV, no Pillow), find images in folders, name outputs.

Needs a QCoreApplication (or QApplication) for Qt's image format plugins (JPEG, WebP, TIFF, GIF).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np
from PySide6.QtGui import QImage, QImageReader, QImageWriter

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".ppm", ".pgm",
              ".pbm", ".pnm"}
SAVE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
MAX_PIXELS = 120_000_000


class ImageError(Exception):
    def __init__(self, path, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


def load(path) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """-> (HxWx3 uint8 RGB, HxW uint8 alpha or None), EXIF orientation applied."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(path, "file not found")
    if path.stat().st_size == 0:
        raise ImageError(path, "the file is empty")
    QImageReader.setAllocationLimit(2048)
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and size.width() * size.height() > MAX_PIXELS:
        raise ImageError(path, f"too many pixels ({size.width()}x{size.height()})")
    img = reader.read()
    if img.isNull():
        raise ImageError(path, f"not a readable image ({reader.errorString()})")
    return from_qimage(img)


def from_qimage(img: QImage) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    alpha = img.hasAlphaChannel()
    img = img.convertToFormat(QImage.Format_RGBA8888 if alpha else QImage.Format_RGB888)
    w, h, bpl, ch = img.width(), img.height(), img.bytesPerLine(), 4 if alpha else 3
    buf = np.frombuffer(img.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)[:, : w * ch]
    arr = buf.reshape(h, w, ch).copy()
    if alpha:
        return np.ascontiguousarray(arr[:, :, :3]), np.ascontiguousarray(arr[:, :, 3])
    return arr, None


def to_qimage(rgb: np.ndarray, alpha: Optional[np.ndarray] = None) -> QImage:
    # Deliberate copy of app.widgets.images.to_qimage's core: the bundled translator carries no app package.
    h, w = rgb.shape[:2]
    if alpha is not None:
        a = np.ascontiguousarray(np.dstack([rgb, alpha]))
        return QImage(a.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()
    a = np.ascontiguousarray(rgb)
    return QImage(a.data, w, h, 3 * w, QImage.Format_RGB888).copy()


def save(path, rgb: np.ndarray, alpha: Optional[np.ndarray] = None) -> Path:
    """Write atomically (temp file + rename). The format follows the extension."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SAVE_EXTS:
        raise ImageError(path, f"cannot save {ext or 'files without an extension'}; use "
                               f"{', '.join(sorted(SAVE_EXTS))}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    fmt = {".jpg": b"jpeg", ".jpeg": b"jpeg", ".tif": b"tiff"}.get(ext, ext[1:].encode())
    writer = QImageWriter(tmp, fmt)
    if fmt in (b"jpeg", b"webp"):
        writer.setQuality(95)
    img = to_qimage(rgb, alpha if fmt not in (b"jpeg", b"bmp") else None)
    ok = writer.write(img)
    if not ok:
        err = writer.errorString()
        os.unlink(tmp)
        raise ImageError(path, f"could not be written ({err})")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def output_path(src: Optional[Path], out_dir: Path, suffix: str = "", ext: str = "", has_alpha: bool = False,
                protect: Iterable = (), taken: Optional[Set[str]] = None) -> Path:
    """``out_dir/photo_suffix.jpg``; PNG when alpha cannot be kept; ``_1``, ``_2`` … instead of overwriting."""
    stem = src.stem if src else "image"
    e = (ext or (src.suffix.lower() if src else ".png")).lower()
    if not e.startswith("."):
        e = "." + e
    if e not in SAVE_EXTS or (has_alpha and e in (".jpg", ".jpeg", ".bmp")):
        e = ".png"
    protected = {str(Path(p).resolve()) for p in protect}
    taken = taken if taken is not None else set()
    cand, i = out_dir / f"{stem}{suffix}{e}", 0
    while cand.exists() or str(cand.resolve()) in protected or str(cand) in taken:
        i += 1
        cand = out_dir / f"{stem}{suffix}_{i}{e}"
    taken.add(str(cand))
    return cand


def scan(inputs: Sequence) -> Tuple[List[Path], List[Tuple[Path, str]]]:
    """Files and folders (recursive) -> (image files, [(path, why skipped)])."""
    files: List[Path] = []
    skipped: List[Tuple[Path, str]] = []
    seen: Set[str] = set()
    for raw in inputs:
        p = Path(raw).expanduser()
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in IMAGE_EXTS
                           and not q.name.startswith("."))
            if not found:
                skipped.append((p, "the folder holds no images"))
            cands = found
        elif p.is_file():
            cands = [p]
        else:
            skipped.append((p, "not found"))
            continue
        for q in cands:
            key = str(q.resolve())
            if key not in seen:
                seen.add(key)
                files.append(q)
    return files, skipped
