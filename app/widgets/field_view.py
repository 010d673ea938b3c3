"""Lab views: a 2-D field (decision surface, gradient field, real and generated points) and an image mosaic."""
from __future__ import annotations

import math
from typing import Any, Dict, Optional

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.widgets.images import to_qimage
from app.widgets.plots import CARD_BG, FRAME, MUTED, TEXT

REAL = QColor(22, 150, 92)
FAKE = QColor(124, 77, 214)
ARROW = QColor(40, 44, 52, 150)
# decision surface colours: D says "fake" -> light purple, undecided -> white, "real" -> light green
SURF_FAKE = np.array([205, 188, 243], np.float32)
SURF_MID = np.array([250, 250, 250], np.float32)
SURF_REAL = np.array([182, 230, 202], np.float32)


def surface_rgb(values: np.ndarray, kind: str) -> np.ndarray:
    """(R, R) D outputs -> (R, R, 3) uint8. ``prob`` in [0, 1]; ``score`` (critics) is rescaled to its range."""
    v = np.asarray(values, np.float32)
    if kind != "prob":
        lo, hi = np.nanpercentile(v, [2, 98]) if v.size else (0.0, 1.0)
        v = (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)
    v = np.clip(np.nan_to_num(v, nan=0.5), 0.0, 1.0)[..., None]
    lower = SURF_FAKE + (SURF_MID - SURF_FAKE) * (v / 0.5)
    upper = SURF_MID + (SURF_REAL - SURF_MID) * ((v - 0.5) / 0.5)
    rgb = np.where(v < 0.5, lower, upper)
    return np.ascontiguousarray(rgb[::-1].round().astype(np.uint8))  # row 0 is y = -extent: flip to screen


class FieldView(QWidget):
    """Square 2-D plot of one Lab side. Call :meth:`set_snapshot` with a snapshot from ``engine.lab.views``."""

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.snap: Optional[Dict[str, Any]] = None
        self._surface: Optional[QImage] = None
        self.show_surface = self.show_field = self.show_real = self.show_fake = True
        self.placeholder = "Press Start to train"
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(220, 220)

    def sizeHint(self) -> QSize:
        return QSize(420, 420)

    def set_snapshot(self, snap: Optional[Dict[str, Any]]) -> None:
        self.snap = snap
        self._surface = None
        if snap is not None and snap.get("surface") is not None:
            self._surface = to_qimage(surface_rgb(snap["surface"], snap.get("surface_kind", "prob")))
        self.update()

    def set_layers(self, surface: bool, field: bool, real: bool, fake: bool) -> None:
        self.show_surface, self.show_field, self.show_real, self.show_fake = surface, field, real, fake
        self.update()

    def plot_rect(self) -> QRectF:
        side = max(10.0, min(self.width() - 16.0, self.height() - 34.0))
        return QRectF((self.width() - side) / 2, 8, side, side)

    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        plot = self.plot_rect()
        p.setPen(QPen(FRAME, 1))
        p.setBrush(CARD_BG)
        p.drawRect(plot)
        s = self.snap
        if s is None or "real" not in s:
            p.setPen(MUTED)
            p.drawText(plot, Qt.AlignCenter, self.placeholder)
            return
        ext = float(s.get("extent", 3.0))

        def to_screen(xy: np.ndarray) -> np.ndarray:
            sx = plot.left() + (xy[:, 0] + ext) / (2 * ext) * plot.width()
            sy = plot.bottom() - (xy[:, 1] + ext) / (2 * ext) * plot.height()
            return np.stack([sx, sy], 1)

        if self.show_surface and self._surface is not None:
            p.save()
            p.setRenderHint(QPainter.SmoothPixmapTransform)
            p.drawImage(plot, self._surface)
            p.restore()
        p.setClipRect(plot)
        self._grid_lines(p, plot, ext)
        if self.show_field and s.get("field") is not None:
            self._arrows(p, to_screen(s["field_points"]), s["field"], plot.width() / math.sqrt(len(s["field"])))
        if self.show_real:
            self._points(p, to_screen(s["real"]), REAL, 2.0)
        if self.show_fake:
            self._points(p, to_screen(s["fake"]), FAKE, 2.3)
        p.setClipping(False)
        p.setPen(QPen(FRAME, 1))
        p.setBrush(Qt.NoBrush)
        p.drawRect(plot)
        self._legend(p, plot)

    @staticmethod
    def _grid_lines(p: QPainter, plot: QRectF, ext: float) -> None:
        p.setPen(QPen(QColor(0, 0, 0, 22), 1))
        for v in range(-int(ext), int(ext) + 1):
            x = plot.left() + (v + ext) / (2 * ext) * plot.width()
            y = plot.bottom() - (v + ext) / (2 * ext) * plot.height()
            p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))

    @staticmethod
    def _points(p: QPainter, pts: np.ndarray, color: QColor, r: float) -> None:
        """All points in two calls: a white halo and the coloured dot (wide round-capped pen)."""
        ok = np.isfinite(pts).all(1)
        poly = QPolygonF([QPointF(float(x), float(y)) for x, y in pts[ok]])
        p.setPen(QPen(QColor(255, 255, 255, 190), 2 * r + 1.4, Qt.SolidLine, Qt.RoundCap))
        p.drawPoints(poly)
        c = QColor(color)
        c.setAlpha(220)
        p.setPen(QPen(c, 2 * r, Qt.SolidLine, Qt.RoundCap))
        p.drawPoints(poly)

    @staticmethod
    def _arrows(p: QPainter, pts: np.ndarray, vec: np.ndarray, cell: float) -> None:
        """Arrows of length ~ sqrt(|gradient|) (so weak pushes stay visible), drawn as one batch of lines."""
        mag = np.linalg.norm(vec, axis=1)
        top = float(np.nanmax(mag)) if mag.size and np.isfinite(mag).any() else 0.0
        if top <= 0:
            return
        lines = []
        for (x, y), (u, v), m in zip(pts, vec, mag):
            if not (m > 0 and math.isfinite(m)):
                continue
            length = cell * 0.85 * math.sqrt(m / top)
            if length < 1.5:
                continue
            dx, dy = u / m * length, -v / m * length  # screen y points down
            tx, ty = x + dx, y + dy
            lines.append(QLineF(x, y, tx, ty))
            head = min(4.0, length * 0.4)
            ang = math.atan2(dy, dx)
            for side in (2.6, -2.6):
                lines.append(QLineF(tx, ty, tx + head * math.cos(ang + side), ty + head * math.sin(ang + side)))
        p.setPen(QPen(ARROW, 1.1))
        p.drawLines(lines)

    def _legend(self, p: QPainter, plot: QRectF) -> None:
        y = plot.bottom() + 16
        x = plot.left()
        items = [(REAL, "real"), (FAKE, "generated")]
        for color, text in items:
            p.setPen(Qt.NoPen)
            p.setBrush(color)
            p.drawEllipse(QPointF(x + 5, y), 4, 4)
            p.setPen(TEXT)
            p.drawText(QRectF(x + 13, y - 9, 90, 18), Qt.AlignLeft | Qt.AlignVCenter, text)
            x += 22 + p.fontMetrics().horizontalAdvance(text)
        kind = (self.snap or {}).get("surface_kind", "prob")
        label = "D(x): fake … real" if kind == "prob" else "critic: low … high"
        w = p.fontMetrics().horizontalAdvance(label)
        bar = QRectF(plot.right() - 70, y - 5, 70, 10)
        grad = np.linspace(0, 1, 70, dtype=np.float32)[None, :].repeat(2, 0)
        p.drawImage(bar, to_qimage(surface_rgb(grad, "prob")[::-1].copy()))
        p.setPen(QPen(FRAME, 1))
        p.setBrush(Qt.NoBrush)
        p.drawRect(bar)
        p.setPen(TEXT)
        p.drawText(QRectF(bar.left() - w - 8, y - 9, w + 4, 18), Qt.AlignRight | Qt.AlignVCenter, label)
        if self.show_field:
            p.setPen(MUTED)
            p.drawText(QRectF(x + 4, y - 9, max(0.0, bar.left() - w - x - 16), 18), Qt.AlignLeft | Qt.AlignVCenter,
                       "arrows: −∇ G loss")


class MosaicView(QWidget):
    """A grey or colour image (a digit mosaic) scaled to fit with crisp pixels, under a caption."""

    def __init__(self, caption: str = "", parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.caption = caption
        self._img: Optional[QImage] = None
        self.placeholder = ""
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(120, 120)

    def sizeHint(self) -> QSize:
        return QSize(260, 280)

    def set_image(self, arr: Optional[np.ndarray]) -> None:
        if arr is None:
            self._img = None
        else:
            rgb = np.repeat(arr[:, :, None], 3, axis=2) if arr.ndim == 2 else arr
            self._img = to_qimage(np.ascontiguousarray(rgb))
        self.update()

    def has_image(self) -> bool:
        return self._img is not None

    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        p.setPen(TEXT)
        p.drawText(QRectF(0, 0, self.width(), 20), Qt.AlignHCenter | Qt.AlignVCenter, self.caption)
        area = QRectF(4, 24, self.width() - 8, self.height() - 28)
        if self._img is None:
            p.setPen(MUTED)
            p.drawText(area, Qt.AlignCenter, self.placeholder)
            return
        iw, ih = self._img.width(), self._img.height()
        scale = min(area.width() / iw, area.height() / ih)  # drawn without smoothing: crisp blocky pixels
        w, h = iw * scale, ih * scale
        target = QRectF(area.left() + (area.width() - w) / 2, area.top() + (area.height() - h) / 2, w, h)
        p.drawImage(target, self._img)
        p.setPen(QPen(FRAME, 1))
        p.drawRect(target.adjusted(-0.5, -0.5, 0.5, 0.5))
