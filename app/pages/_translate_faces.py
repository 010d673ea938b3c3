"""The Translate page's face-mode toggle: shown for models trained on face crops (model card: input face), where it
chooses between face mode (find the faces, translate each aligned crop, blend it back) and whole-image mode.
Remembered per model."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox

from app.settings import settings
from engine.library import ModelInfo

TOOLTIP = ("This model was trained on aligned face crops. On: find every face in the photo, translate each one at "
           "the model's size and blend it back into the photo, leaving the rest as it was. Off: translate the whole "
           "image. A photo without a face is always translated whole.")


class FaceToggle(QCheckBox):
    """``mode()`` is the ``TranslateConfig.faces`` value: "on"/"off" for face models, "auto" for the others."""

    changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__("Translate faces only (blend back into the photo)", parent)
        self.setToolTip(TOOLTIP)
        self._model_id = ""
        self.toggled.connect(self._toggled)
        self.setVisible(False)

    def set_model(self, info: Optional[ModelInfo]) -> None:
        face = info is not None and info.input == "face"
        self._model_id = info.id if face else ""
        self.blockSignals(True)
        self.setChecked(bool(settings().get(self._key(), True, bool)) if face else False)
        self.blockSignals(False)
        self.setVisible(face)

    def mode(self) -> str:
        if not self._model_id:
            return "auto"
        return "on" if self.isChecked() else "off"

    def _key(self) -> str:
        return f"translate/faces/{self._model_id}"

    def _toggled(self, on: bool) -> None:
        if self._model_id:
            settings().set(self._key(), bool(on))
            self.changed.emit(self.mode())
