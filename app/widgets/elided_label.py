"""A one-line label that never asks for more width than it is given: text that does not fit ends in "…" (the whole
text is in the tooltip). For status texts that change often in crowded tool bars, so they cannot widen the window."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent=None, min_chars: int = 8):
        super().__init__(text, parent)
        self.min_chars = min_chars
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt name
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance("x" * self.min_chars), fm.height())

    def elided(self) -> str:
        """The text as drawn in the current width."""
        return self.fontMetrics().elidedText(self.text(), Qt.ElideRight, self.contentsRect().width())

    def paintEvent(self, e) -> None:  # noqa: N802
        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        p.drawText(self.contentsRect(), int(self.alignment()) | Qt.AlignVCenter, self.elided())
