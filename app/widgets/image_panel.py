"""A picture scaled to fit (aspect kept, centred) with a placeholder text while there is none, and an optional
caption in the bottom-left corner (e.g. how long the update took)."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget


class ImagePanel(QWidget):
    def __init__(self, placeholder: str = "", parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setMinimumSize(200, 200)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self._pixmap: Optional[QPixmap] = None
        self.placeholder = placeholder
        self.caption = ""

    def set_pixmap(self, pm: Optional[QPixmap]) -> None:
        self._pixmap = pm
        self.update()

    def pixmap(self) -> Optional[QPixmap]:
        return self._pixmap

    def image_rect(self) -> QRectF:
        if self._pixmap is None or self._pixmap.isNull():
            return QRectF()
        pw, ph = self._pixmap.width(), self._pixmap.height()
        s = min((self.width() - 8) / pw, (self.height() - 8) / ph)
        w, h = pw * s, ph * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def sizeHint(self) -> QSize:
        return QSize(520, 520)

    def paintEvent(self, e) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        if self._pixmap is None or self._pixmap.isNull():
            p.setPen(self.palette().mid().color())
            p.drawText(self.rect().adjusted(20, 20, -20, -20), Qt.AlignCenter | Qt.TextWordWrap, self.placeholder)
            p.end()
            return
        r = self.image_rect()
        p.setRenderHint(QPainter.SmoothPixmapTransform, True)
        p.drawPixmap(r, self._pixmap, QRectF(self._pixmap.rect()))
        p.setPen(QColor(120, 120, 120))
        p.drawRect(r.adjusted(-0.5, -0.5, 0.5, 0.5))
        if self.caption:
            fm = p.fontMetrics()
            tw = fm.horizontalAdvance(self.caption) + 12
            box = QRectF(r.left() + 6, r.bottom() - fm.height() - 10, tw, fm.height() + 4)
            p.fillRect(box, QColor(0, 0, 0, 140))
            p.setPen(QColor(255, 255, 255))
            p.drawText(box, Qt.AlignCenter, self.caption)
        p.end()
