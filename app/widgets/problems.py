"""A non-modal list of problems (skipped files with reasons, failed jobs). Hidden while empty."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.widgets.layout import button


class ProblemsPanel(QFrame):
    changed = Signal(int)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("problems")
        self.setFrameShape(QFrame.StyledPanel)
        self.setStyleSheet("#problems { border: 1px solid #c97a00; border-radius: 4px; background: #fff8e6; }"
                           "#problems QLabel { color: #6b4100; font-weight: bold; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        top = QHBoxLayout()
        self.title = QLabel()
        top.addWidget(self.title)
        top.addStretch(1)
        self.clear_btn = button("Dismiss", "Hide these messages (nothing else changes)", self.clear)
        top.addWidget(self.clear_btn)
        lay.addLayout(top)
        self.list = QListWidget()
        self.list.setMaximumHeight(84)
        self.list.setMinimumHeight(44)  # two lines even on a crowded page at 1366x768
        self.list.setWordWrap(True)
        self.list.setToolTip("What went wrong, one entry each; hover an entry for its full text")
        lay.addWidget(self.list)
        self.setVisible(False)

    def add(self, where: str, reason: str) -> None:
        """One entry; the same entry again (a preview, then Translate all) is not listed twice."""
        text = f"{where}: {reason}" if where else reason
        if text in self.texts():
            self.list.scrollToBottom()
            return
        it = QListWidgetItem(text)
        it.setToolTip(it.text())
        it.setData(Qt.UserRole, where)
        self.list.addItem(it)
        self._refresh()

    def count(self) -> int:
        return self.list.count()

    def texts(self):
        return [self.list.item(i).text() for i in range(self.list.count())]

    def clear(self) -> None:
        self.list.clear()
        self._refresh()

    def _refresh(self) -> None:
        n = self.list.count()
        self.title.setText(f"⚠ {n} problem{'s' if n != 1 else ''}")
        self.setVisible(n > 0)
        if n:
            self.list.scrollToBottom()
        self.changed.emit(n)
