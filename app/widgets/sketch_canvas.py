"""A drawing canvas at a fixed pixel resolution (the model's), shown scaled to fit the widget.

Left button draws with the pen (or the eraser when it is on), right button always erases; brush size is in canvas
pixels. Every stroke, clear and load is one undo step (Ctrl+Z / Ctrl+Shift+Z are bound by the page). Label-map
models draw without antialiasing so every pixel stays one of the palette's class colours.

Signals: ``changed`` while pixels change (every mouse move of a stroke), ``strokeFinished`` when the button is
released, ``historyChanged`` when undo/redo availability changes, ``brushChanged`` (Ctrl+wheel).
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.widgets.images import from_qimage, to_qimage

Color = Tuple[int, int, int]
MAX_UNDO = 100


class SketchCanvas(QWidget):
    changed = Signal()
    strokeFinished = Signal()
    historyChanged = Signal()
    brushChanged = Signal(int)

    def __init__(self, size: int = 256, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setMinimumSize(200, 200)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMouseTracking(True)
        self.setCursor(Qt.CrossCursor)
        self.background: Color = (255, 255, 255)
        self.pen_color: Color = (0, 0, 0)
        self.brush_size = 3
        self.eraser = False
        self.antialias = True
        self._image = QImage(size, size, QImage.Format_RGB888)
        self._image.fill(QColor(*self.background))
        self._undo: List[QImage] = []
        self._redo: List[QImage] = []
        self._stroke: Optional[Tuple[QPointF, bool]] = None  # last point, erasing
        self._hover: Optional[QPointF] = None
        self.strokes = 0

    # --- content -----------------------------------------------------------------------------------------
    @property
    def canvas_size(self) -> int:
        return self._image.width()

    def reset(self, size: int, background: Color) -> None:
        """A blank canvas of ``size`` px; history cleared."""
        self.background = tuple(background)
        self._image = QImage(size, size, QImage.Format_RGB888)
        self._image.fill(QColor(*self.background))
        self._undo.clear()
        self._redo.clear()
        self.historyChanged.emit()
        self.update()
        self.changed.emit()

    def array(self) -> np.ndarray:
        """The drawing as HxWx3 uint8 RGB (a copy)."""
        return from_qimage(self._image)[0]

    def set_array(self, rgb: np.ndarray, *, record: bool = True) -> None:
        """Replace the drawing (one undo step); the array must be square at any size (it becomes the canvas)."""
        if record:
            self._push_undo()
        self._image = to_qimage(np.ascontiguousarray(rgb[:, :, :3])).convertToFormat(QImage.Format_RGB888)
        self.update()
        self.changed.emit()

    def clear(self) -> None:
        self._push_undo()
        self._image.fill(QColor(*self.background))
        self.update()
        self.changed.emit()

    def is_blank(self) -> bool:
        a = self.array()
        return bool((a == np.asarray(self.background, np.uint8)).all())

    # --- history -----------------------------------------------------------------------------------------
    def _push_undo(self) -> None:
        self._undo.append(self._image.copy())
        del self._undo[:-MAX_UNDO]
        self._redo.clear()
        self.historyChanged.emit()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        self._travel(self._undo, self._redo)

    def redo(self) -> None:
        self._travel(self._redo, self._undo)

    def _travel(self, back: list, forth: list) -> None:
        """One step through the history (not while drawing): the picture shown goes onto ``forth``, the last one of
        ``back`` is shown."""
        if not back or self._stroke is not None:
            return
        forth.append(self._image)
        self._image = back.pop()
        self.historyChanged.emit()
        self.update()
        self.changed.emit()

    # --- geometry ----------------------------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the canvas is drawn in widget coordinates (fit, centred)."""
        n = self._image.width()
        side = max(1.0, min(self.width(), self.height()) - 8.0)
        x = (self.width() - side) / 2
        y = (self.height() - side) / 2
        return QRectF(x, y, side, side) if n else QRectF()

    def to_canvas(self, pos: QPointF) -> QPointF:
        r = self.image_rect()
        s = self._image.width() / r.width()
        return QPointF((pos.x() - r.x()) * s, (pos.y() - r.y()) * s)

    def to_widget(self, p: QPointF) -> QPointF:
        r = self.image_rect()
        s = r.width() / self._image.width()
        return QPointF(r.x() + p.x() * s, r.y() + p.y() * s)

    def sizeHint(self) -> QSize:
        return QSize(520, 520)

    # --- drawing -----------------------------------------------------------------------------------------
    def _pen(self, erase: bool) -> QPen:
        color = QColor(*(self.background if erase else self.pen_color))
        pen = QPen(color, self.brush_size, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
        return pen

    def _segment(self, a: QPointF, b: QPointF, erase: bool) -> None:
        p = QPainter(self._image)
        p.setRenderHint(QPainter.Antialiasing, self.antialias)
        p.setPen(self._pen(erase))
        if a == b:
            p.drawPoint(a)
        else:
            p.drawLine(a, b)
        p.end()
        self.update()
        self.changed.emit()

    def mousePressEvent(self, e) -> None:
        if e.button() not in (Qt.LeftButton, Qt.RightButton) or self._stroke is not None:
            return super().mousePressEvent(e)
        self.setFocus(Qt.MouseFocusReason)
        erase = self.eraser or e.button() == Qt.RightButton
        self._push_undo()
        pt = self.to_canvas(e.position())
        self._stroke = (pt, erase)
        self._segment(pt, pt, erase)

    def mouseMoveEvent(self, e) -> None:
        self._hover = e.position()
        if self._stroke is not None:
            last, erase = self._stroke
            pt = self.to_canvas(e.position())
            self._segment(last, pt, erase)
            self._stroke = (pt, erase)
        else:
            self.update()

    def mouseReleaseEvent(self, e) -> None:
        if self._stroke is None:
            return super().mouseReleaseEvent(e)
        last, erase = self._stroke
        pt = self.to_canvas(e.position())
        if pt != last:
            self._segment(last, pt, erase)
        self._stroke = None
        self.strokes += 1
        self.strokeFinished.emit()

    def leaveEvent(self, e) -> None:
        self._hover = None
        self.update()

    def wheelEvent(self, e) -> None:
        if e.modifiers() & Qt.ControlModifier:
            self.set_brush_size(self.brush_size + (1 if e.angleDelta().y() > 0 else -1))
            e.accept()
        else:
            super().wheelEvent(e)

    def set_brush_size(self, n: int) -> None:
        n = max(1, min(64, int(n)))
        if n != self.brush_size:
            self.brush_size = n
            self.brushChanged.emit(n)
        self.update()

    def paintEvent(self, e) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        r = self.image_rect()
        p.setRenderHint(QPainter.SmoothPixmapTransform, r.width() < self._image.width())
        p.drawImage(r, self._image)
        p.setPen(QPen(QColor(120, 120, 120), 1))
        p.drawRect(r.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self._hover is not None and r.contains(self._hover):
            radius = self.brush_size * r.width() / self._image.width() / 2
            p.setRenderHint(QPainter.Antialiasing, True)
            p.setPen(QPen(QColor(255, 255, 255), 1.5))
            p.drawEllipse(self._hover, radius + 1, radius + 1)
            p.setPen(QPen(QColor(0, 0, 0) if not self.eraser else QColor(200, 60, 60), 1))
            p.drawEllipse(self._hover, radius, radius)
        p.end()
