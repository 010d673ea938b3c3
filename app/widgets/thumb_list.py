"""Thumbnail list of input images with a status per item (pending, translating, done, error)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from PySide6.QtCore import QItemSelectionModel, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem

STATUS_TEXT = {"new": "", "reading": "reading…", "ready": "", "queued": "queued", "translating": "translating…",
               "done": "✓ done", "error": "⚠ error"}
STATUS_COLOR = {"done": QColor(40, 150, 60), "error": QColor(200, 60, 40), "translating": QColor(40, 110, 200),
                "queued": QColor(120, 120, 120)}


@dataclass
class Entry:
    path: Path
    status: str = "new"
    error: str = ""
    info: str = ""
    thumb: Optional[QPixmap] = None
    result: object = None  # engine.imageio.LoadedImage
    result_model: str = ""
    notes: List[str] = field(default_factory=list)


class ThumbList(QListWidget):
    THUMB = 96

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setViewMode(QListView.IconMode)
        self.setIconSize(QSize(self.THUMB, self.THUMB))
        self.setGridSize(QSize(self.THUMB + 24, self.THUMB + 44))
        self.setResizeMode(QListView.Adjust)
        self.setMovement(QListView.Static)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setSpacing(4)
        self.entries: Dict[str, Entry] = {}
        self._items: Dict[str, QListWidgetItem] = {}
        self._placeholder = self._make_placeholder("…", QColor(220, 220, 220), QColor(150, 150, 150))
        self._broken = self._make_placeholder("⚠", QColor(250, 228, 222), QColor(200, 60, 40))

    def _make_placeholder(self, text: str, bg: QColor, fg: QColor) -> QPixmap:
        pm = QPixmap(self.THUMB, self.THUMB)
        pm.fill(bg)
        p = QPainter(pm)
        f = p.font()
        f.setPointSize(28)
        p.setFont(f)
        p.setPen(fg)
        p.drawText(pm.rect(), Qt.AlignCenter, text)
        p.end()
        return pm

    def add_paths(self, paths) -> List[Entry]:
        added = []
        for p in paths:
            key = str(p)
            if key in self.entries:
                continue
            e = Entry(Path(p))
            self.entries[key] = e
            it = QListWidgetItem(QIcon(self._placeholder), "")
            it.setData(Qt.UserRole, key)
            self.addItem(it)
            self._items[key] = it
            self.refresh(e)
            added.append(e)
        return added

    def entry(self, key) -> Optional[Entry]:
        return self.entries.get(str(key))

    def refresh(self, e: Entry) -> None:
        it = self._items.get(str(e.path))
        if it is None:
            return
        name = e.path.name if len(e.path.name) <= 18 else e.path.name[:15] + "…"
        status = STATUS_TEXT.get(e.status, e.status)
        it.setText(f"{name}\n{status}" if status else name)
        it.setSizeHint(QSize(self.THUMB + 20, self.THUMB + 40))
        if e.thumb is not None:
            it.setIcon(QIcon(e.thumb))
        elif e.status == "error":
            it.setIcon(QIcon(self._broken))
        color = STATUS_COLOR.get(e.status)
        it.setForeground(color if color is not None else self.palette().text().color())
        tip = [str(e.path)]
        if e.info:
            tip.append(e.info)
        if e.error:
            tip.append(f"Error: {e.error}")
        if e.notes:
            tip += e.notes
        it.setToolTip("\n".join(tip))

    def selected_entries(self) -> List[Entry]:
        return [self.entries[i.data(Qt.UserRole)] for i in self.selectedItems()]

    def all_entries(self) -> List[Entry]:
        return [self.entries[self.item(i).data(Qt.UserRole)] for i in range(self.count())]

    def current_entry(self) -> Optional[Entry]:
        it = self.currentItem()
        return self.entries.get(it.data(Qt.UserRole)) if it else None

    def select_entry(self, e: Entry) -> None:
        """Make ``e`` current and the only selection (so "Translate selected" acts on what is shown)."""
        it = self._items.get(str(e.path))
        if it is not None:
            self.setCurrentItem(it, QItemSelectionModel.ClearAndSelect)
            self.scrollToItem(it)

    def remove_entries(self, entries) -> None:
        for e in entries:
            key = str(e.path)
            it = self._items.get(key)
            if it is not None:
                self.takeItem(self.row(it))  # first: it tells the page the current item changed, and the page reads
            self._items.pop(key, None)       # the list, which must still be whole then
            self.entries.pop(key, None)

    def clear_all(self) -> None:
        self.clear()
        self.entries.clear()
        self._items.clear()
