"""A folder chooser for one image domain: pick or drop a folder, see how many images it holds (and how many files
would be skipped) and a strip of sample thumbnails. Scanning and thumbnails run on the engine's io lane."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QFileDialog, QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout,
                               QWidget)

from app.settings import settings
from app.widgets.images import to_pixmap
from app.widgets.layout import button
from engine import translate as T

STRIP = 6


class FolderBox(QFrame):
    changed = Signal(str)  # folder path ("" when cleared)
    scanned = Signal(int)  # usable image count (by file type; decoding is checked when training starts)

    def __init__(self, bridge, title: str, key: str, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.bridge, self.key = bridge, key
        self.path = ""
        self.count = 0
        self.skipped: List = []
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.StyledPanel)
        self.setObjectName(f"folder_{key}")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        top = QHBoxLayout()
        self.title = QLabel(f"<b>{title}</b>")
        top.addWidget(self.title)
        top.addStretch(1)
        self.pick_btn = button("Choose…", "Choose a folder of images (or drop one here)", self.choose)
        top.addWidget(self.pick_btn)
        lay.addLayout(top)
        self.path_label = QLabel("Drop a folder of images here")
        self.path_label.setWordWrap(True)
        self.path_label.setStyleSheet("color: palette(mid);")
        lay.addWidget(self.path_label)
        self.count_label = QLabel("")
        lay.addWidget(self.count_label)
        strip = QHBoxLayout()
        strip.setSpacing(3)
        self.thumbs: List[QLabel] = []
        for _ in range(STRIP):
            t = QLabel()
            t.setFixedSize(QSize(52, 52))
            t.setAlignment(Qt.AlignCenter)
            t.setStyleSheet("background: palette(alternate-base);")
            t.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
            strip.addWidget(t)
            self.thumbs.append(t)
        strip.addStretch(1)
        lay.addLayout(strip)

    def choose(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Choose a folder of images", self.path or settings().last_dir("train"))
        if d:
            self.set_folder(d)

    def set_folder(self, path: str):
        self.path = str(Path(path))
        settings().set_last_dir(self.path, "train")
        self.path_label.setText(self.path)
        self.path_label.setToolTip(self.path)
        self.count_label.setText("Counting images…")
        for t in self.thumbs:
            t.clear()
        self.changed.emit(self.path)
        h = self.bridge.submit(T.scan_task, [self.path], name=f"Scan folder {self.key}", kind=f"train-scan-{self.key}",
                               lane="io", replace=True)
        h.returned.connect(lambda res, p=self.path: self._scanned(p, res))
        h.failed.connect(lambda err: self.count_label.setText(err.message))
        return h

    def _scanned(self, path: str, res) -> None:
        if path != self.path or self.bridge.manager.closed:  # another folder since, or the window closed
            return
        if not Path(path).is_dir():  # typed, dropped or remembered: not a folder (any more)
            self.count, self.skipped = 0, []
            self.count_label.setText("This folder does not exist; choose another." if not Path(path).exists()
                                     else "This is a file; choose a folder of images.")
            self.scanned.emit(0)
            return
        self.count, self.skipped = len(res.files), list(res.skipped)
        text = f"{self.count} image{'s' if self.count != 1 else ''}"
        if self.skipped:
            text += f", {len(self.skipped)} other file{'s' if len(self.skipped) != 1 else ''} skipped"
            self.count_label.setToolTip("\n".join(f"{p.name}: {r}" for p, r in self.skipped[:30]))
        if self.count < 2:
            text += " — at least 2 are needed"
        self.count_label.setText(text)
        self.scanned.emit(self.count)
        if res.files:
            step = max(1, len(res.files) // STRIP)
            pick = res.files[::step][:STRIP]
            h = self.bridge.submit(lambda ps, ctx: T.thumbnails_task(ps, ctx, max_side=52), pick,
                                   name="Thumbnails", lane="io")
            h.partial.connect(lambda d, p=path, pick=pick: self._thumb(p, pick, d))

    def _thumb(self, path: str, pick, d) -> None:
        if path != self.path or d.get("thumb") is None:
            return
        i = [str(p) for p in pick].index(str(d["path"]))
        self.thumbs[i].setPixmap(to_pixmap(d["thumb"]))
        self.thumbs[i].setToolTip(Path(d["path"]).name)

    # drops on this box (highlighted while a folder is dragged over it)
    def dragEnterEvent(self, e) -> None:
        if any(u.isLocalFile() for u in e.mimeData().urls()):
            e.acceptProposedAction()
            self._highlight(True)

    def dragLeaveEvent(self, e) -> None:
        self._highlight(False)

    def dropEvent(self, e) -> None:
        self._highlight(False)
        paths = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if paths:
            p = Path(paths[0])
            self.set_folder(str(p if p.is_dir() else p.parent))
            e.acceptProposedAction()

    def _highlight(self, on: bool) -> None:
        self.setStyleSheet(f"#{self.objectName()} {{ border: 2px dashed palette(highlight); }}" if on else "")
