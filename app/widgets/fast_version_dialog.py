""""Make a fast version of this model": the Train page's dialog for a distillation run (``ganstudio distill``).

The user picks the model, a folder of photos (or drops one) and a size; the dialog builds the distillation config
(the CPU-friendly "quick" recipe on a CPU, "standard" on a GPU). Bad choices (a model that cannot be distilled, a
student that would not be smaller, too few photos) are reported by the run itself before any work starts.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QWidget)

from app.settings import settings
from app.widgets.layout import choice

#: (label, target MACs at 256x256 or "" for a tenth of the teacher's)
SIZES = [("A tenth of the model's compute (recommended)", ""), ("About 3 GMACs", "3G"), ("About 1 GMACs", "1G")]


class FastVersionDialog(QDialog):
    def __init__(self, models: List, parent: Optional[QWidget] = None, selected: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Make a fast version of this model")
        self.models = [m for m in models if m.task == "translate" and not m.meta.get("distilled_from")]
        form = QFormLayout(self)
        form.addRow(QLabel("A small network learns to give the same pictures as the model, at a fraction of the "
                           "compute. It learns from any folder of photos like the ones you will translate."))
        self.model_combo = QComboBox()
        for m in self.models:
            self.model_combo.addItem(m.label, m.id)
        want = selected or settings().get("train/fast_teacher", "") or ""
        self.model_combo.setCurrentIndex(max(0, next((i for i, m in enumerate(self.models) if m.id == want), 0)))
        form.addRow("Model:", self.model_combo)
        row = QHBoxLayout()
        self.photos = QLineEdit(settings().get("train/fast_photos", "") or "")
        self.photos.setPlaceholderText("a folder of at least 16 photos (a few hundred is better)")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.photos, 1)
        row.addWidget(browse)
        form.addRow("Photos:", row)
        self.size_combo = choice(SIZES, "The fast version's compute per 256x256 image; smaller is faster and a "
                                        "little less faithful")
        form.addRow("Size:", self.size_combo)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Start")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.ok_button = buttons.button(QDialogButtonBox.Ok)
        self.photos.textChanged.connect(self._update)
        self._update()

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Folder of photos", self.photos.text() or settings().last_dir())
        if d:
            self.photos.setText(d)

    def _update(self) -> None:
        text = self.photos.text().strip()
        self.ok_button.setEnabled(bool(self.models and text) and Path(text).is_dir())

    def values(self) -> dict:
        teacher = self.model_combo.currentData() or ""
        settings().set("train/fast_teacher", teacher)
        settings().set("train/fast_photos", self.photos.text())
        return {"teacher": teacher, "data": self.photos.text(), "target_macs": self.size_combo.currentData() or ""}


def fast_version_config(values: dict, out_dir: str, device_type: str, models: List):
    """The distillation config of the dialog's choices."""
    from engine.training import core

    teacher = next((m for m in models if m.id == values["teacher"]), None)
    name = f"{teacher.name} (fast)" if teacher else "fast version"
    preset = "standard" if device_type in ("cuda", "mps") else "quick"
    size = int(core.get_trainer("distill").presets()[preset]["image_size"])
    working = int((teacher.meta.get("image_size") or teacher.meta.get("trained_at") or 0) if teacher else 0)
    extra = {}
    if 0 < working < size and working % 64 == 0:  # a 128-px model (faces, sketches) is distilled at its own size,
        # where it is used (a student taught at 256 px follows it at 128 px less closely), with as many pixels per step
        extra = dict(image_size=working, batch_size=max(1, (size // working) ** 2) if preset == "quick" else None)
    return core.build_config("distill", preset, out_dir=out_dir, name=name, **values, **extra)
