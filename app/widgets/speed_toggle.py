"""Fast / Full choice beside a model picker: run a model's distilled fast version or the full model.

The pages list one entry per model (``engine.fastmodels.versions``); this toggle picks which version of the selected
entry runs. Default: Fast on a CPU, Full on a GPU; the user's choice is remembered (``<page>/speed``). Without a fast
version the toggle is disabled and says how to make one. The pages remember the choice with the rest of their form
(``app.form_memory``); ``settings_key`` makes the toggle remember it by itself.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QToolButton, QWidget

from app.settings import settings


def _default_speed() -> str:
    from engine.devices import pick_device
    from engine.fastmodels import default_speed

    return default_speed(pick_device().type)


class SpeedToggle(QWidget):
    changed = Signal()

    def __init__(self, settings_key: str = "", parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.key = settings_key
        self.entry = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.group = QButtonGroup(self)
        self.buttons = {}
        for speed, text in (("fast", "Fast"), ("full", "Full")):
            b = QToolButton(text=text, checkable=True)
            b.setObjectName(f"speed_{speed}")
            lay.addWidget(b)
            self.group.addButton(b)
            self.buttons[speed] = b
        want = (settings().get(self.key, "") if self.key else "") or _default_speed()
        self.buttons["fast" if want == "fast" else "full"].setChecked(True)
        self.group.buttonClicked.connect(self._clicked)
        self.set_versions(None)

    def speed(self) -> str:
        return "fast" if self.buttons["fast"].isChecked() else "full"

    def set_speed(self, speed: str) -> None:
        self.buttons["fast" if speed == "fast" else "full"].setChecked(True)
        self._clicked()

    def field(self):
        """The choice, for a page's :class:`app.form_memory.FormMemory`."""
        from app.form_memory import Field

        return Field(self.speed, self.set_speed,
                     lambda v: "" if v in ("fast", "full") else f"the speed {v!r} is not Fast or Full", [self.changed])

    def _clicked(self, *_):
        if self.key:
            settings().set(self.key, self.speed())
        self.changed.emit()

    def set_versions(self, entry) -> None:
        """The selected entry (``engine.fastmodels.Versions`` or None)."""
        self.entry = entry
        has_fast = entry is not None and entry.fast is not None
        self.setEnabled(has_fast)
        if has_fast:
            from engine.fastmodels import macs_text

            self.buttons["fast"].setToolTip(f"Run the fast version, {entry.fast.name} ({macs_text(entry.fast)}): "
                                            "about the same look at a fraction of the compute")
            self.buttons["full"].setToolTip(f"Run the full model, {entry.full.name} ({macs_text(entry.full)})")
        else:
            tip = ("This model has no fast version yet: make one on the Train page (\"Make a fast version of this "
                   "model\") or with 'ganstudio distill'.")
            for b in self.buttons.values():
                b.setToolTip(tip)

    def pick(self, entry):
        """The model of ``entry`` that runs at the chosen speed."""
        return entry.pick(self.speed()) if entry is not None else None
