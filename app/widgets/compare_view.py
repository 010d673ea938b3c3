"""Before/after view: the input on the left of a draggable split line, the result on the right; wheel to zoom
around the cursor, drag to pan, double-click (or 0) to fit, 1 for 100 %."""
from __future__ import annotations

from typing import List, Optional

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget


class CompareView(QWidget):
    splitChanged = Signal(float)
    zoomChanged = Signal(float)

    GRAB_PX = 8

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self._before: Optional[QPixmap] = None
        self._after: Optional[QPixmap] = None
        self._split = 0.5
        self._zoom = 1.0
        self._fit = True
        self._center = QPointF(0, 0)  # image coordinates shown at the widget centre
        self._drag: Optional[str] = None
        self._last = QPointF()
        self.placeholder = "Drop images or folders here"
        self.after_hint = ""
        self.labels = ("Before", "After")

    # --- content -----------------------------------------------------------------------------------------
    def set_images(self, before: Optional[QPixmap], after: Optional[QPixmap] = None, *, keep_view: bool = False) -> None:
        same_size = (self._before is not None and before is not None and self._before.size() == before.size())
        self._before, self._after = before, after
        if not (keep_view and same_size):
            self.fit()
        self.update()

    def set_after(self, after: Optional[QPixmap]) -> None:
        self._after = after
        self.update()

    def before(self) -> Optional[QPixmap]:
        return self._before

    def after(self) -> Optional[QPixmap]:
        return self._after

    @property
    def split(self) -> float:
        return self._split

    def set_split(self, f: float) -> None:
        self._split = min(1.0, max(0.0, f))
        self.splitChanged.emit(self._split)
        self.update()

    @property
    def zoom(self) -> float:
        return self._zoom

    # --- geometry ----------------------------------------------------------------------------------------
    def fit(self) -> None:
        self._fit = True
        self._apply_fit()
        self.update()

    def _apply_fit(self) -> None:
        if self._before is None:
            return
        w, h = self._before.width(), self._before.height()
        self._zoom = min(1.0 * max(1, self.width() - 16) / w, 1.0 * max(1, self.height() - 16) / h)
        self._center = QPointF(w / 2, h / 2)
        self.zoomChanged.emit(self._zoom)

    def set_zoom(self, z: float, anchor: Optional[QPointF] = None) -> None:
        if self._before is None:
            return
        z = min(32.0, max(0.02, z))
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        img_pt = self._to_image(anchor)
        self._zoom = z
        self._fit = False
        # keep the image point under the anchor
        self._center = img_pt - (anchor - QPointF(self.width() / 2, self.height() / 2)) / z
        self.zoomChanged.emit(z)
        self.update()

    def image_rect(self) -> QRectF:
        if self._before is None:
            return QRectF()
        w, h = self._before.width() * self._zoom, self._before.height() * self._zoom
        x = self.width() / 2 - self._center.x() * self._zoom
        y = self.height() / 2 - self._center.y() * self._zoom
        return QRectF(x, y, w, h)

    def split_x(self) -> float:
        r = self.image_rect()
        return r.left() + r.width() * self._split

    def _to_image(self, p: QPointF) -> QPointF:
        return self._center + (p - QPointF(self.width() / 2, self.height() / 2)) / self._zoom

    # --- painting ----------------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window().color().darker(115))
        if self._before is None:
            self._paint_placeholder(p)
            return
        p.setRenderHint(QPainter.SmoothPixmapTransform, self._zoom < 2)
        r = self.image_rect()
        self._paint_checker(p, r)
        p.drawPixmap(r, self._before, QRectF(self._before.rect()))
        if self._after is not None:
            sx = self.split_x()
            clip = QRectF(sx, r.top(), max(0.0, r.right() - sx), r.height())
            p.save()
            p.setClipRect(clip)
            p.drawPixmap(r, self._after, QRectF(self._after.rect()))
            p.restore()
            pen = QPen(QColor(255, 255, 255, 230), 2)
            p.setPen(pen)
            p.drawLine(QPointF(sx, max(0, r.top())), QPointF(sx, min(self.height(), r.bottom())))
            self._paint_handle(p, QPointF(sx, self.height() / 2))
            self._paint_tag(p, self.labels[0], QPointF(max(r.left(), 0) + 8, max(r.top(), 0) + 8), left=True)
            self._paint_tag(p, self.labels[1], QPointF(min(r.right(), self.width()) - 8, max(r.top(), 0) + 8),
                            left=False)
        elif self.after_hint:
            self._paint_tag(p, self.after_hint, QPointF(self.width() / 2, max(r.top(), 0) + 8), left=None)
        p.end()

    def _paint_placeholder(self, p: QPainter) -> None:
        p.setPen(QPen(QColor(150, 150, 150), 2, Qt.DashLine))
        p.drawRoundedRect(QRectF(self.rect()).adjusted(20, 20, -20, -20), 16, 16)
        p.setFont(self.placeholder_font())
        p.setPen(QColor(170, 170, 170))
        lines = self.placeholder_lines()
        step = QFontMetrics(self.placeholder_font()).lineSpacing()
        y = (self.height() - step * len(lines)) / 2
        for i, line in enumerate(lines):
            p.drawText(QRectF(0, y + i * step, self.width(), step), Qt.AlignHCenter | Qt.AlignVCenter, line)

    def placeholder_font(self) -> QFont:
        f = QFont(self.font())
        f.setPointSizeF(f.pointSizeF() * 1.5)
        return f

    def placeholder_lines(self) -> List[str]:
        """The placeholder wrapped to the view's width inside its frame; a word too long for a line (a file name)
        is shortened in the middle, so nothing is cut off at the edges."""
        fm = QFontMetrics(self.placeholder_font())
        width = max(40, self.width() - 60)
        lines: List[str] = []
        for para in self.placeholder.split("\n"):
            line = ""
            for word in para.split(" "):
                if fm.horizontalAdvance(word) > width:
                    word = fm.elidedText(word, Qt.ElideMiddle, width)
                cand = f"{line} {word}" if line else word
                if line and fm.horizontalAdvance(cand) > width:
                    lines.append(line)
                    line = word
                else:
                    line = cand
            lines.append(line)
        return lines

    def _paint_checker(self, p: QPainter, r: QRectF) -> None:
        s = 12
        p.save()
        p.setClipRect(r)
        light, dark = QColor(200, 200, 200), QColor(160, 160, 160)
        p.fillRect(r, light)
        y = int(r.top())
        row = 0
        while y < r.bottom() and y < self.height():
            if y + s >= 0:
                x = int(r.left()) + (s if row % 2 else 0)
                while x < r.right() and x < self.width():
                    if x + s >= 0:
                        p.fillRect(x, y, s, s, dark)
                    x += 2 * s
            y += s
            row += 1
        p.restore()

    def _paint_handle(self, p: QPainter, c: QPointF) -> None:
        p.setBrush(QColor(255, 255, 255, 230))
        p.setPen(QPen(QColor(40, 40, 40, 200), 1))
        p.drawEllipse(c, 14, 14)
        path = QPainterPath()
        for d in (-1, 1):
            path.moveTo(c + QPointF(d * 4, -5))
            path.lineTo(c + QPointF(d * 9, 0))
            path.lineTo(c + QPointF(d * 4, 5))
        p.setBrush(Qt.NoBrush)
        p.setPen(QPen(QColor(40, 40, 40), 2))
        p.drawPath(path)

    def _paint_tag(self, p: QPainter, text: str, at: QPointF, left) -> None:
        fm = p.fontMetrics()
        w, h = fm.horizontalAdvance(text) + 12, fm.height() + 6
        x = at.x() if left is True else (at.x() - w if left is False else at.x() - w / 2)
        rect = QRectF(x, at.y(), w, h)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(0, 0, 0, 150))
        p.drawRoundedRect(rect, 4, 4)
        p.setPen(QColor(255, 255, 255))
        p.drawText(rect, Qt.AlignCenter, text)

    # --- interaction -------------------------------------------------------------------------------------
    def resizeEvent(self, e) -> None:
        if self._fit:
            self._apply_fit()
        super().resizeEvent(e)

    def _near_split(self, pos: QPointF) -> bool:
        return self._after is not None and abs(pos.x() - self.split_x()) <= self.GRAB_PX

    def mousePressEvent(self, e) -> None:
        if e.button() != Qt.LeftButton or self._before is None:
            return super().mousePressEvent(e)
        pos = e.position()
        self._drag = "split" if self._near_split(pos) else "pan"
        self._last = pos
        if self._drag == "pan":
            self.setCursor(Qt.ClosedHandCursor)

    def mouseMoveEvent(self, e) -> None:
        pos = e.position()
        if self._drag == "split":
            r = self.image_rect()
            if r.width() > 0:
                self.set_split((pos.x() - r.left()) / r.width())
        elif self._drag == "pan":
            self._center -= (pos - self._last) / self._zoom
            self._fit = False
            self._last = pos
            self.update()
        else:
            self.setCursor(Qt.SplitHCursor if self._near_split(pos) else Qt.ArrowCursor)

    def mouseReleaseEvent(self, e) -> None:
        self._drag = None
        self.setCursor(Qt.SplitHCursor if self._near_split(e.position()) else Qt.ArrowCursor)

    def mouseDoubleClickEvent(self, e) -> None:
        self.fit()

    def wheelEvent(self, e) -> None:
        if self._before is None:
            return
        steps = e.angleDelta().y() / 120.0
        self.set_zoom(self._zoom * (1.25 ** steps), e.position())

    def keyPressEvent(self, e) -> None:
        k = e.key()
        if k in (Qt.Key_Plus, Qt.Key_Equal):
            self.set_zoom(self._zoom * 1.25)
        elif k == Qt.Key_Minus:
            self.set_zoom(self._zoom / 1.25)
        elif k == Qt.Key_0:
            self.fit()
        elif k == Qt.Key_1:
            self.set_zoom(1.0)
        elif k == Qt.Key_Left:
            self.set_split(self._split - 0.05)
        elif k == Qt.Key_Right:
            self.set_split(self._split + 0.05)
        else:
            super().keyPressEvent(e)
