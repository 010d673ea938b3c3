"""Load, validate, convert and save images (folder scanning: :mod:`engine.imagescan`).

Every failure to read a file as an image raises :class:`ImageLoadError` naming the file and the reason: empty,
zero-size, not an image, truncated, corrupt, too many pixels (decompression bomb). Nothing else escapes.

Images come back as :class:`LoadedImage`: RGB (``uint8`` or ``uint16``), an optional alpha plane that is re-applied
on save, EXIF orientation applied. Saving goes through a temp file and a rename, never overwrites an input and picks
``name_1.png`` when a name is taken.
"""
from __future__ import annotations

import io
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

import cv2
import numpy as np

from .errors import ImageLoadError
from .fsutil import atomic_write_bytes, write_unique
from .imagescan import IMAGE_EXTS, ScanResult, is_image_name, scan_inputs  # noqa: F401  (re-exported)

SAVE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}
MAX_PIXELS = int(os.environ.get("GANSTUDIO_MAX_PIXELS", 120_000_000))  # ~11k x 11k
MAX_FILE_BYTES = 1 << 30

cv2.setNumThreads(max(1, (os.cpu_count() or 2) // 2))


@dataclass
class LoadedImage:
    rgb: np.ndarray  # HxWx3, uint8 or uint16, RGB order
    alpha: Optional[np.ndarray] = None  # HxW, same dtype as rgb
    path: Optional[Path] = None
    source_mode: str = "rgb"  # gray, gray+alpha, rgb, rgba, palette, cmyk ...
    fmt: str = ""  # PNG, JPEG, ...

    @property
    def bit_depth(self) -> int:
        return 16 if self.rgb.dtype == np.uint16 else 8

    @property
    def size(self) -> Tuple[int, int]:
        """(width, height)"""
        return self.rgb.shape[1], self.rgb.shape[0]

    def float_rgb(self) -> np.ndarray:
        """HxWx3 float32 in [0, 1]."""
        scale = 65535.0 if self.rgb.dtype == np.uint16 else 255.0
        return self.rgb.astype(np.float32) / scale

    def on_white(self) -> np.ndarray:
        """HxWx3 uint8: the picture over white, as a viewer shows transparency (a line drawing with a transparent
        background must not turn into its hidden, often black, colours)."""
        img = self.to_uint8()
        if img.alpha is None:
            return img.rgb
        a = img.alpha.astype(np.float32)[..., None] / 255.0
        return (img.rgb.astype(np.float32) * a + 255.0 * (1.0 - a) + 0.5).astype(np.uint8)

    def to_uint8(self) -> "LoadedImage":
        if self.rgb.dtype == np.uint8:
            return self
        conv = lambda a: None if a is None else (a.astype(np.uint32) * 255 // 65535).astype(np.uint8)  # noqa: E731
        return LoadedImage(conv(self.rgb), conv(self.alpha), self.path, self.source_mode, self.fmt)


# ------------------------------------------------------------------------------------------------------------
# loading

def load_image(path, *, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    """Read any common image file. Raises :class:`ImageLoadError` on every kind of bad input."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ImageLoadError(path, "file not found") from None
    except OSError as e:
        raise ImageLoadError(path, f"cannot read ({e.strerror or e})") from None
    if path.is_dir():
        raise ImageLoadError(path, "is a folder, not an image file")
    if st.st_size == 0:
        raise ImageLoadError(path, "empty file (0 bytes)")
    if st.st_size > MAX_FILE_BYTES:
        raise ImageLoadError(path, f"file is {st.st_size / 2**30:.1f} GiB, too large to be an image we can open")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ImageLoadError(path, f"cannot read ({e.strerror or e})") from None
    return decode_image(data, path, max_pixels=max_pixels)


def decode_image(data: bytes, path="<memory>", *, max_pixels: int = MAX_PIXELS) -> LoadedImage:
    path = Path(str(path))
    if not data:
        raise ImageLoadError(path, "empty file (0 bytes)")
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageLoadError(path, "not an image (unrecognised file contents)")
    w, h, orientation = _probe(data, path, fmt)
    if w <= 0 or h <= 0:
        raise ImageLoadError(path, f"image has zero size ({w}x{h})")
    if w * h > max_pixels:
        raise ImageLoadError(path, f"image is {w}x{h} = {w * h / 1e6:.0f} megapixels, over the limit of "
                                   f"{max_pixels / 1e6:.0f} MP (refusing a possible decompression bomb)")
    _check_complete(data, path, fmt)
    arr = None
    if fmt not in ("GIF",):
        buf = np.frombuffer(data, np.uint8)
        arr = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if arr is None:
        img = _decode_pil(data, path)
    else:
        img = _from_cv(arr, path, fmt)
    if orientation and orientation != 1:
        img = _apply_orientation(img, orientation)
    return img


def sniff_format(data: bytes) -> Optional[str]:
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if head.startswith(b"BM"):
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:1] == b"P" and head[1:2] in b"123456" and len(head) > 2 and head[2:3] in b" \t\r\n":
        return "PNM"
    return None


def _probe(data: bytes, path: Path, fmt: str) -> Tuple[int, int, int]:
    """Width, height and EXIF orientation from the header only (no pixel decoding)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None  # our own limit (max_pixels) applies, with a message that gives the size
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            orientation = 1
            # (a PNG whose EXIF is not before its pixels would be decoded whole by getexif(): a 100k x 100k
            # bomb took 10 GB before our pixel limit could refuse it; such late EXIF is ignored)
            if fmt in ("JPEG", "TIFF", "WEBP") or (fmt == "PNG" and "exif" in im.info):
                try:
                    orientation = int(im.getexif().get(0x0112, 1) or 1)
                except Exception:
                    orientation = 1
            return w, h, orientation
    except Image.DecompressionBombError:
        raise ImageLoadError(path, "image has too many pixels (refusing a possible decompression bomb)") from None
    except Exception as e:  # PIL raises many types on garbage
        wh = _tiff_size(data) if fmt == "TIFF" else None
        if wh is not None:  # e.g. float samples: OpenCV reads them (and our pixel limit applies first)
            return wh[0], wh[1], 1
        raise ImageLoadError(path, f"corrupt or unsupported {fmt} file ({_short(e)})") from None


def _check_complete(data: bytes, path: Path, fmt: str) -> None:
    """Detect truncated files that decoders would otherwise fill with grey."""
    if fmt == "JPEG":
        tail = data[-65536:].rstrip(b"\x00\r\n ")
        if b"\xff\xd9" not in tail[-4096:]:
            raise ImageLoadError(path, "truncated JPEG file (no end-of-image marker)")
    elif fmt == "PNG":
        if b"IEND" not in data[-64:]:
            raise ImageLoadError(path, "truncated PNG file (no IEND chunk)")
    elif fmt == "WEBP":
        (size,) = struct.unpack("<I", data[4:8])
        if size + 8 > len(data):
            raise ImageLoadError(path, f"truncated WebP file ({len(data)} of {size + 8} bytes)")
    elif fmt == "BMP" and len(data) >= 6:
        (size,) = struct.unpack("<I", data[2:6])
        if size > len(data):
            raise ImageLoadError(path, f"truncated BMP file ({len(data)} of {size} bytes)")
    elif fmt == "GIF":
        if not data.rstrip(b"\x00").endswith(b";"):
            raise ImageLoadError(path, "truncated GIF file (no trailer)")


def _from_cv(arr: np.ndarray, path: Path, fmt: str) -> LoadedImage:
    if arr.dtype not in (np.uint8, np.uint16):
        if arr.dtype in (np.float32, np.float64):
            arr = (np.clip(arr, 0, 1) * 65535).round().astype(np.uint16)
        else:
            arr = _to_uint16(arr)
    if arr.size == 0:
        raise ImageLoadError(path, "image has zero size")
    if arr.ndim == 2:
        return LoadedImage(np.repeat(arr[:, :, None], 3, axis=2), None, path, "gray", fmt)
    ch = arr.shape[2]
    if ch == 1:
        return LoadedImage(np.repeat(arr, 3, axis=2), None, path, "gray", fmt)
    if ch == 2:
        g = arr[:, :, 0]
        return LoadedImage(np.stack([g, g, g], axis=2), np.ascontiguousarray(arr[:, :, 1]), path, "gray+alpha", fmt)
    if ch == 3:
        return LoadedImage(np.ascontiguousarray(arr[:, :, ::-1]), None, path, "rgb", fmt)
    if ch == 4:
        return LoadedImage(np.ascontiguousarray(arr[:, :, 2::-1]), np.ascontiguousarray(arr[:, :, 3]), path, "rgba",
                           fmt)
    raise ImageLoadError(path, f"unsupported number of channels ({ch})")


def _to_uint16(arr: np.ndarray) -> np.ndarray:
    a = arr.astype(np.float64)
    lo, hi = float(a.min()), float(a.max())
    return ((a - lo) / (hi - lo or 1.0) * 65535).round().astype(np.uint16)


def _decode_pil(data: bytes, path: Path) -> LoadedImage:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            fmt = im.format or ""
            mode = im.mode
            if mode == "P":
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
                src = "palette"
            elif mode in ("I;16", "I;16B", "I;16L", "I"):
                a = np.asarray(im).astype(np.uint16 if mode != "I" else np.int64)
                a = a if a.dtype == np.uint16 else np.clip(a, 0, 65535).astype(np.uint16)
                return LoadedImage(np.repeat(a[:, :, None], 3, axis=2), None, path, "gray", fmt)
            elif mode == "CMYK":
                im = im.convert("RGB")
                src = "cmyk"
            elif mode in ("1", "L"):
                im = im.convert("L")
                src = "gray"
            elif mode == "LA":
                src = "gray+alpha"
            else:
                src = mode.lower()
                if mode not in ("RGB", "RGBA"):
                    im = im.convert("RGBA" if "A" in mode else "RGB")
            a = np.asarray(im)
    except ImageLoadError:
        raise
    except Exception as e:
        raise ImageLoadError(path, f"corrupt or unreadable image ({_short(e)})") from None
    if a.ndim == 2:
        return LoadedImage(np.repeat(a[:, :, None], 3, axis=2), None, path, src, fmt)
    if a.shape[2] == 2:
        return LoadedImage(np.repeat(a[:, :, :1], 3, axis=2), np.ascontiguousarray(a[:, :, 1]), path, src, fmt)
    if a.shape[2] == 4:
        return LoadedImage(np.ascontiguousarray(a[:, :, :3]), np.ascontiguousarray(a[:, :, 3]), path, "rgba", fmt)
    return LoadedImage(np.ascontiguousarray(a), None, path, src, fmt)


def _apply_orientation(img: LoadedImage, o: int) -> LoadedImage:
    def fix(a: Optional[np.ndarray]) -> Optional[np.ndarray]:
        if a is None:
            return None
        ops = {2: lambda x: x[:, ::-1], 3: lambda x: x[::-1, ::-1], 4: lambda x: x[::-1],
               5: lambda x: np.swapaxes(x, 0, 1), 6: lambda x: np.swapaxes(x, 0, 1)[:, ::-1],
               7: lambda x: np.swapaxes(x, 0, 1)[::-1, ::-1], 8: lambda x: np.swapaxes(x, 0, 1)[::-1]}
        return np.ascontiguousarray(ops[o](a)) if o in ops else a

    return LoadedImage(fix(img.rgb), fix(img.alpha), img.path, img.source_mode, img.fmt)


def _short(e: BaseException) -> str:
    s = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    s = re.sub(r"\s*<_io\.BytesIO object at 0x[0-9a-f]+>", "", s)  # PIL names our buffer, not the file
    return s[:160]


def _tiff_size(data: bytes) -> Optional[Tuple[int, int]]:
    """Width and height from a classic TIFF's first IFD (tags 256/257), for TIFFs that PIL cannot open (float
    samples) but OpenCV can; None when the header cannot be read."""
    try:
        end = "<" if data[:2] == b"II" else ">"
        if struct.unpack(end + "H", data[2:4])[0] != 42:
            return None
        (ifd,) = struct.unpack(end + "I", data[4:8])
        (n,) = struct.unpack(end + "H", data[ifd:ifd + 2])
        size = {}
        for i in range(min(n, 4096)):
            tag, typ, _count = struct.unpack(end + "HHI", data[ifd + 2 + 12 * i:ifd + 10 + 12 * i])
            raw = data[ifd + 10 + 12 * i:ifd + 14 + 12 * i]
            if tag in (256, 257):
                size[tag] = struct.unpack(end + "H", raw[:2])[0] if typ == 3 else struct.unpack(end + "I", raw)[0]
        return (size[256], size[257]) if len(size) == 2 else None
    except (struct.error, KeyError):
        return None


# ------------------------------------------------------------------------------------------------------------
# conversion

def resize_to(img: np.ndarray, size: Tuple[int, int], *, interpolation: Optional[int] = None) -> np.ndarray:
    """Resize HxW(xC) to (width, height); area filter when shrinking, bicubic when growing."""
    w, h = size
    if interpolation is None:
        interpolation = cv2.INTER_AREA if w * h < img.shape[0] * img.shape[1] else cv2.INTER_CUBIC
    return cv2.resize(img, (w, h), interpolation=interpolation)


def thumbnail(img: LoadedImage, max_side: int = 160) -> np.ndarray:
    """uint8 RGB thumbnail, longest side ``max_side``."""
    rgb = img.to_uint8().rgb
    h, w = rgb.shape[:2]
    s = max_side / max(h, w)
    if s < 1:
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


# ------------------------------------------------------------------------------------------------------------
# saving

def encode_image(rgb: np.ndarray, alpha: Optional[np.ndarray], ext: str) -> bytes:
    ext = ext.lower()
    if ext not in SAVE_EXTS:
        raise ValueError(f"cannot save as {ext}; use one of {', '.join(sorted(SAVE_EXTS))}")
    if rgb.dtype == np.uint16 and ext not in (".png", ".tif", ".tiff"):
        rgb = (rgb.astype(np.uint32) * 255 // 65535).astype(np.uint8)
        alpha = None if alpha is None else (alpha.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    bgr = rgb[:, :, ::-1]
    if alpha is not None and ext not in (".jpg", ".jpeg"):
        if alpha.dtype != rgb.dtype:
            alpha = _match_depth(alpha, rgb.dtype)
        bgr = np.dstack([bgr, alpha])
    params: List[int] = []
    if ext in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, 95]
    elif ext == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, 95]
    ok, enc = cv2.imencode(ext, np.ascontiguousarray(bgr), params)
    if not ok:
        raise ValueError(f"could not encode image as {ext}")
    return enc.tobytes()


def _match_depth(a: np.ndarray, dtype) -> np.ndarray:
    if dtype == np.uint16:
        return a.astype(np.uint16) * 257
    return (a.astype(np.uint32) * 255 // 65535).astype(np.uint8)


def save_image(path, rgb: np.ndarray, alpha: Optional[np.ndarray] = None, *, protect: Iterable = (),
               overwrite: bool = False) -> Path:
    """Write atomically. Never replaces a file in ``protect`` (the inputs); without ``overwrite`` the first free
    name (``stem_N.ext``) is claimed atomically, so concurrent writers never share a name. Returns the path."""
    path = Path(path)
    protected = {os.path.realpath(p) for p in protect}
    data = encode_image(rgb, alpha, path.suffix or ".png")
    if overwrite and os.path.realpath(path) not in protected:
        atomic_write_bytes(path, data)
        return path
    return write_unique(path, data, protected)


def output_name(src: Optional[Path], suffix: str = "", ext: Optional[str] = None, has_alpha: bool = False) -> str:
    """``photo.jpg`` -> ``photo_vintage.jpg``; alpha forces PNG when the source format cannot hold it."""
    stem = src.stem if src else "image"
    e = (ext or (src.suffix if src else ".png")).lower()
    if e not in SAVE_EXTS:
        e = ".png"
    if has_alpha and e in (".jpg", ".jpeg"):
        e = ".png"
    return f"{stem}{suffix}{e}"
