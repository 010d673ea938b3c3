"""The Translate page's target-domain picker: shown only for multi-domain (StarGAN) models, remembered per model
(``choices``, part of the page's remembered form)."""
from __future__ import annotations

from typing import Any, Dict, Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from app.form_memory import Field
from engine.library import ModelInfo
from engine.multidomain import default_domain, domain_names, is_multi_domain


class DomainPicker(QWidget):
    """``Target domain: [combo]``. ``domain()`` is the chosen name, "" for single-domain models."""

    changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("Target domain:")
        row.addWidget(self.label)
        self.combo = QComboBox()
        self.combo.setToolTip("The domain this multi-domain (StarGAN) model translates into")
        self.combo.currentIndexChanged.connect(self._changed)
        row.addWidget(self.combo, 1)
        self._model_id = ""
        self.choices: Dict[str, str] = {}  # the user's target domain per model
        self.setVisible(False)

    def set_model(self, info: Optional[ModelInfo]) -> None:
        multi = info is not None and is_multi_domain(info)
        self._model_id = info.id if multi else ""
        self.combo.blockSignals(True)
        self.combo.clear()
        if multi:
            names = domain_names(info.meta)
            self.combo.addItems(names)
            want = self.choices.get(self._model_id, "")
            idx = next((i for i, n in enumerate(names) if n == want), -1)
            if idx < 0 and names:
                idx = names.index(default_domain(names))
            self.combo.setCurrentIndex(idx)
        self.combo.blockSignals(False)
        self.setVisible(multi)

    def domain(self) -> str:
        return self.combo.currentText() if self._model_id else ""

    def names(self):
        return [self.combo.itemText(i) for i in range(self.combo.count())]

    def field(self) -> Field:
        """The choices per model, for the page's :class:`app.form_memory.FormMemory`; a saved domain a model no
        longer lists shows its default domain."""
        def check(v: Any) -> str:
            ok = isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
            return "" if ok else f"the target-domain choices {v!r} are damaged"

        def put(v: Dict[str, str]) -> None:
            self.choices = dict(v)
            want = self.choices.get(self._model_id, "")
            if self._model_id and want in self.names():
                self.combo.blockSignals(True)
                self.combo.setCurrentText(want)
                self.combo.blockSignals(False)

        return Field(lambda: dict(self.choices), put, check, [self.changed])

    def _changed(self, *_) -> None:
        if self._model_id:
            self.choices[self._model_id] = self.domain()
            self.changed.emit(self.domain())
