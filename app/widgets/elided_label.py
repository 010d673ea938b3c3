"""Text that never asks for more width than it is given. :class:`ElidedLabel`: a one-line label whose text ends in "…"
when it does not fit (the whole text is in the tooltip), for status texts that change often in crowded tool bars, so
they cannot widen the window. :func:`elide_rows`: the rows of a list view are as wide as the view and long names are
cut in the middle (their start and end stay readable; the item's tooltip has the whole name): no sideways
scrolling."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QAbstractItemView, QLabel, QSizePolicy, QStyledItemDelegate


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


class _FitRows(QStyledItemDelegate):
    """Rows no wider than the view's viewport, so the view elides their text instead of scrolling sideways."""

    def sizeHint(self, option, index) -> QSize:  # noqa: N802 - Qt name
        s = super().sizeHint(option, index)
        return QSize(min(s.width(), self.parent().viewport().width()), s.height())


def elide_rows(view: QAbstractItemView, mode: Qt.TextElideMode = Qt.ElideMiddle) -> None:
    """Make the rows of ``view`` (a list) fit its width, long texts elided with ``mode``; no horizontal scroll bar."""
    view.setTextElideMode(mode)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    view.setItemDelegate(_FitRows(view))
    if hasattr(view, "setResizeMode"):
        view.setResizeMode(view.ResizeMode.Adjust)  # lay the rows out again when the view's width changes
