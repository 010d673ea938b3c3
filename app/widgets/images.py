"""numpy <-> Qt image conversion."""
from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def to_qimage(rgb: np.ndarray, alpha: Optional[np.ndarray] = None) -> QImage:
    """HxWx3 uint8/uint16 RGB (+ optional alpha) -> QImage (deep copy)."""
    # Its core is copied on purpose into packaging/translator/gstranslator/images.py (no app package there).
    if rgb.dtype != np.uint8:
        rgb = (rgb.astype(np.uint32) * 255 // 65535).astype(np.uint8)
        if alpha is not None and alpha.dtype != np.uint8:
            alpha = (alpha.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    h, w = rgb.shape[:2]
    if alpha is not None:
        a = np.ascontiguousarray(np.dstack([rgb, alpha]))
        return QImage(a.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()
    a = np.ascontiguousarray(rgb)
    return QImage(a.data, w, h, 3 * w, QImage.Format_RGB888).copy()


def to_pixmap(rgb: np.ndarray, alpha: Optional[np.ndarray] = None) -> QPixmap:
    return QPixmap.fromImage(to_qimage(rgb, alpha))


def from_qimage(img: QImage) -> tuple:
    """QImage -> (HxWx3 uint8 RGB, HxW alpha or None)."""
    has_alpha = img.hasAlphaChannel()
    img = img.convertToFormat(QImage.Format_RGBA8888 if has_alpha else QImage.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    ch = 4 if has_alpha else 3
    buf = np.frombuffer(img.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)[:, : w * ch]
    arr = buf.reshape(h, w, ch).copy()
    if has_alpha:
        return np.ascontiguousarray(arr[:, :, :3]), np.ascontiguousarray(arr[:, :, 3])
    return arr, None
