"""The pieces pages are laid out with: resizable side-by-side panes, a column of rows, a side panel, a button, a
choice list."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, Sequence, Tuple, Union

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

Row = Union[QWidget, QLayout, Tuple[Union[QWidget, QLayout], int]]


def panes(*widgets: QWidget, sizes: Optional[Sequence[int]] = None, grow: Optional[int] = 1) -> QSplitter:
    """The widgets side by side in a splitter the user can drag; pane ``grow`` (an index, or None for an even
    share) takes the width the window gains, ``sizes`` are the starting widths (None: their size hints)."""
    split = QSplitter(Qt.Horizontal)
    for w in widgets:
        split.addWidget(w)
    if grow is not None:
        split.setStretchFactor(grow, 1)
    if sizes is not None:
        split.setSizes(list(sizes))
    return split


def column(parent: QWidget, *rows: Row) -> QVBoxLayout:
    """Lays ``rows`` (widgets or layouts) out top to bottom as ``parent``'s layout; a ``(row, stretch)`` pair takes
    that share of the height the others leave."""
    lay = QVBoxLayout(parent)
    for row in rows:
        row, stretch = row if isinstance(row, tuple) else (row, 0)
        if isinstance(row, QLayout):
            lay.addLayout(row, stretch)
        else:
            lay.addWidget(row, stretch)
    return lay


def panel() -> Tuple[QWidget, QVBoxLayout]:
    """A widget for a splitter pane and its column layout, without margins (the pane's frame has them)."""
    w = QWidget()
    lay = QVBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    return w, lay


def button(text: str, tip: str, slot: Optional[Callable] = None) -> QPushButton:
    """A push button with its tooltip that calls ``slot`` when clicked."""
    b = QPushButton(text)
    b.setToolTip(tip)
    if slot is not None:
        b.clicked.connect(slot)
    return b


def choice(items: Iterable[Tuple[str, Any]], tip: str) -> QComboBox:
    """A combo box of ``(text, data)`` items with its tooltip."""
    combo = QComboBox()
    for text, data in items:
        combo.addItem(text, data)
    combo.setToolTip(tip)
    return combo
