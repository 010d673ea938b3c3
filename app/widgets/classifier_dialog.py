"""Dialog: train a domain classifier from two or more folders (one class per folder) for the classifier-based
diversity scores. Returns the folders and a name; the Evaluate page runs the training as a job."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QPushButton, QVBoxLayout, QWidget)

from app.settings import settings


class ClassifierDialog(QDialog):
    def __init__(self, parent: Optional[QWidget] = None, folders=()):
        super().__init__(parent)
        self.setWindowTitle("Train a domain classifier")
        self.resize(520, 340)
        lay = QVBoxLayout(self)
        text = QLabel("The classifier-based scores (confident predictions per image, spread of the average "
                      "prediction) need a classifier. This trains one on GAN Studio's Inception features: add one "
                      "folder per class, for example the two training folders trainA and trainB.")
        text.setWordWrap(True)
        lay.addWidget(text)
        self.list = QListWidget()
        for f in folders:
            self.list.addItem(str(f))
        lay.addWidget(self.list, 1)
        row = QHBoxLayout()
        add = QPushButton("Add folder…")
        add.clicked.connect(self.add_folder)
        rem = QPushButton("Remove")
        rem.clicked.connect(lambda: [self.list.takeItem(self.list.row(i)) for i in self.list.selectedItems()])
        row.addWidget(add)
        row.addWidget(rem)
        row.addStretch(1)
        lay.addLayout(row)
        name_row = QHBoxLayout()
        name_row.addWidget(QLabel("Name:"))
        self.name = QLineEdit("domain classifier")
        name_row.addWidget(self.name, 1)
        lay.addLayout(name_row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Train")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.list.model().rowsInserted.connect(self._update)
        self.list.model().rowsRemoved.connect(self._update)
        self._update()

    def add_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Folder of one class", settings().last_dir("eval"))
        if d:
            settings().set_last_dir(d, "eval")
            self.list.addItem(d)

    def _update(self, *_a) -> None:
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(self.list.count() >= 2)

    def folders(self) -> Dict[str, str]:
        out: Dict[str, str] = {}
        for i in range(self.list.count()):
            p = self.list.item(i).text()
            name = Path(p).name or p
            while name in out:
                name += "'"
            out[name] = p
        return out
