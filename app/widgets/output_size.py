"""Output size choice of the Translate page: the model's size, the input's size, or a chosen long side."""
from __future__ import annotations

from typing import Optional, Tuple

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QWidget

from app.widgets.layout import choice
from engine.library import ModelInfo

MODES = (("model", "Model's size"), ("input", "Input's size"), ("long", "Long side:"))


def model_size(info: Optional[ModelInfo]) -> int:
    """The size a model was trained at (its long side in px), 0 when the file does not say."""
    if info is None:
        return 0
    meta = info.meta
    training = meta.get("training") or {}
    for v in (meta.get("image_size"), meta.get("trained_at"), training.get("image_size")):
        if isinstance(v, (int, float)) and v > 0:
            return int(v)
    return 0


class OutputSizePicker(QWidget):
    """``Output size: [Model's size (128 px) v] [1024 px]``. ``changed`` fires on every change (the page remembers
    the choice with its form: ``fields()``)."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._model_side = 0
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Output size:"))
        self.combo = choice(((text, mode) for mode, text in MODES),
                            "How large the translated picture is: the size the model was trained at (fast, what "
                            "it knows best), the size of your picture, or a long side you choose")
        row.addWidget(self.combo, 1)
        self.side = QSpinBox(minimum=64, maximum=8192, singleStep=64, suffix=" px")
        self.side.setToolTip("Long side of the result in pixels (the other side keeps the picture's proportions)")
        row.addWidget(self.side)
        self.combo.setCurrentIndex(self.combo.findData("input"))
        self.side.setValue(1024)
        self.combo.currentIndexChanged.connect(self._changed)
        self.side.valueChanged.connect(self._changed)
        self._sync()

    def fields(self):
        """The remembered fields (``app.form_memory``): the choice and the long side."""
        return {"size_mode": self.combo, "size_side": self.side}

    def mode(self) -> str:
        return self.combo.currentData()

    def set_model(self, info: Optional[ModelInfo]) -> None:
        self._model_side = model_size(info)
        i = self.combo.findData("model")
        self.combo.setItemText(i, f"Model's size ({self._model_side} px)" if self._model_side else "Model's size")
        self._sync()

    def max_side(self) -> Tuple[int, bool]:
        """``(max_side, fit_side)`` for :class:`engine.inference.TranslateOptions`."""
        mode = self.mode()
        if mode == "model" and self._model_side:
            return self._model_side, True
        if mode == "long":
            return self.side.value(), True
        return 0, False

    def key_text(self) -> str:
        """What the results depend on (results made at another size are stale)."""
        side, fit = self.max_side()
        return f"{side}" if fit else ""

    def _sync(self) -> None:
        self.side.setVisible(self.mode() == "long")

    def _changed(self, *_) -> None:
        self._sync()
        self.changed.emit()
