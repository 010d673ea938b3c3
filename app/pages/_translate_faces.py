"""The Translate page's face-mode toggle: shown for models trained on face crops (model card: input face), where it
chooses between face mode (find the faces, translate each aligned crop, blend it back) and whole-image mode.
Remembered per model (``choices``, part of the page's remembered form)."""
from __future__ import annotations

from typing import Any, Dict, Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox

from app.form_memory import Field
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
        self.choices: Dict[str, bool] = {}  # the user's choice per face model (on when never chosen)
        self.toggled.connect(self._toggled)
        self.setVisible(False)

    def set_model(self, info: Optional[ModelInfo]) -> None:
        face = info is not None and info.input == "face"
        self._model_id = info.id if face else ""
        self._show_choice()
        self.setVisible(face)

    def _show_choice(self) -> None:
        self.blockSignals(True)
        self.setChecked(self.choices.get(self._model_id, True) if self._model_id else False)
        self.blockSignals(False)

    def field(self) -> Field:
        """The choices per model, for the page's :class:`app.form_memory.FormMemory`."""
        def check(v: Any) -> str:
            ok = isinstance(v, dict) and all(isinstance(x, bool) for x in v.values())
            return "" if ok else f"the face-mode choices {v!r} are damaged"

        def put(v: Dict[str, bool]) -> None:
            self.choices = dict(v)
            self._show_choice()

        return Field(lambda: dict(self.choices), put, check, [self.changed])

    def mode(self) -> str:
        if not self._model_id:
            return "auto"
        return "on" if self.isChecked() else "off"

    def _toggled(self, on: bool) -> None:
        if self._model_id:
            self.choices[self._model_id] = bool(on)
            self.changed.emit(self.mode())
