"""GAN Lab page: train small GANs live on 2-D toy data or digits, two configurations side by side.

One job (``engine.lab.task.lab_task``) trains both columns in lockstep on the ``io`` lane; its snapshots update the
decision surface, gradient field, samples, loss curves and mode-collapse measures several times a second. The data,
steps, views and both columns' settings are remembered as one form (``app.form_memory``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox

from app.pages._page import Page
from app.form_memory import FormMemory
from app.widgets.elided_label import ElidedLabel
from app.widgets.lab_panel import SidePanel
from app.widgets.layout import button, choice, column, panes
from app.widgets.problems import ProblemsPanel
from engine.lab.config import LabConfig, LabRun
from engine.lab.data import DATASET_TITLES, DATASETS
from engine.lab.task import lab_task, sample_digits_task

TITLE = "Lab"
ICON = "lab"

DEFAULT_LEFT = LabConfig()
DEFAULT_RIGHT = LabConfig(unrolled_steps=5)


def create(window) -> "LabPage":
    from app import qt_none_guard

    qt_none_guard.install()  # live views make tens of thousands of Qt calls a minute; see the module
    return LabPage(window)


class LabPage(Page):
    def __init__(self, window):
        super().__init__(window)
        self.job = None  # JobHandle of the running Lab job
        self.snapshots = 0  # partial results received by the running job
        self._pick_seed = 0
        self._build()
        self._restore()
        self._update_buttons()

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        bar = self._build_bar()
        self.sides: List[SidePanel] = [SidePanel("A"), SidePanel("B")]
        for i, side in enumerate(self.sides):
            side.digits.picked.connect(lambda k, i=i: self.pick_digit(i, k))
        self.problems = ProblemsPanel()
        column(self, bar, (panes(*self.sides, grow=None), 1), self.problems)

    def _build_bar(self) -> QHBoxLayout:
        """Data, steps, compare, the 2-D view's layers, the status and Start / Stop."""
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Data:"))
        self.data = choice(((DATASET_TITLES[name], name) for name in DATASETS),
                           "What the GAN learns: 2-D point clouds (fast, easy to see) or handwritten digits")
        self.data.currentIndexChanged.connect(self._data_changed)
        bar.addWidget(self.data)
        bar.addWidget(QLabel("Steps:"))
        self.steps = QSpinBox(minimum=100, maximum=1_000_000, singleStep=1000, value=5000)
        self.steps.setGroupSeparatorShown(True)
        self.steps.setToolTip("Generator updates per configuration")
        bar.addWidget(self.steps)
        self.compare = QCheckBox("Compare A and B")
        self.compare.setChecked(True)
        self.compare.setToolTip("Train two settings side by side (A and B) on the same data, to see what changes")
        self.compare.toggled.connect(self._compare_toggled)
        bar.addWidget(self.compare)
        bar.addSpacing(12)
        self.layers = {}
        for key, text, tip in (("surface", "Decision surface", "Shade where the discriminator says real or fake"),
                               ("field", "Gradient field", "Arrows: where the generator is pushed to move its "
                                                           "points"),
                               ("real", "Real", "Show the real data points"),
                               ("fake", "Generated", "Show the generator's points")):
            cb = QCheckBox(text, toolTip=tip)
            cb.setChecked(True)
            cb.toggled.connect(self._layers_changed)
            self.layers[key] = cb
            bar.addWidget(cb)
        self.status = ElidedLabel("")  # changes many times a second: it must never widen the window
        self.status.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        bar.addWidget(self.status, 1)
        self.start_btn = button("Start", "Train from scratch with the settings shown", self.start)
        self.stop_btn = QPushButton("Stop", toolTip="Stop training (what is shown stays)")
        self.stop_btn.clicked.connect(self.stop)
        bar.addWidget(self.start_btn)
        bar.addWidget(self.stop_btn)
        return bar

    # --- settings ----------------------------------------------------------------------------------------
    def _restore(self) -> None:
        for side, default in zip(self.sides, (DEFAULT_LEFT, DEFAULT_RIGHT)):
            side.settings.set_config(default)
        self.memory = FormMemory("lab", {"data": self.data, "steps": self.steps, "compare": self.compare,
                                         **{f"show_{k}": cb for k, cb in self.layers.items()},
                                         **self.sides[0].settings.fields("a"), **self.sides[1].settings.fields("b")})
        if self.memory.restore():
            self.problems.add("", self.memory.notice())
        self._data_changed()
        self._compare_toggled(self.compare.isChecked())
        self._layers_changed()

    def _data_changed(self) -> None:
        data = self.data.currentData()
        for side in self.sides:
            side.set_data(data)
        for cb in self.layers.values():  # the layers belong to the 2-D view
            cb.setEnabled(data != "digits")

    def _compare_toggled(self, on: bool) -> None:
        self.sides[1].setVisible(on)

    def _layers_changed(self) -> None:
        on = {k: cb.isChecked() for k, cb in self.layers.items()}
        for side in self.sides:
            side.field.set_layers(on["surface"], on["field"], on["real"], on["fake"])

    def run_config(self) -> LabRun:
        data = self.data.currentData()
        left = self.sides[0].settings.config(data)
        right = self.sides[1].settings.config(data) if self.compare.isChecked() else None
        return LabRun(left=left, right=right, steps=self.steps.value())

    # --- running -----------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.job is not None:
            self.job.cancel()
        try:
            run = self.run_config()
        except Exception as e:  # a ConfigError: say it, do not start
            self.problems.add("Lab", str(e))
            return
        for side in self.sides:
            side.reset()
        self.snapshots = 0
        self.job = self.bridge.submit(lab_task, run, name="GAN Lab", kind="lab", lane="io", replace=True)
        job = self.job
        job.partial.connect(lambda snap, job=job: self._on_partial(job, snap))
        job.progress.connect(lambda p, job=job: job is self.job and self.status.setText(
            f"step {int(p.done):,} of {int(p.total):,}" if p.done else p.message))  # each side shows its speed
        job.failed.connect(lambda err: self.problems.add("Lab", err.message))
        job.finished.connect(lambda state, job=job: self._on_ended(job, state))
        self.status.setText("starting…")
        self._update_buttons()

    def stop(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _on_partial(self, job, snap: Dict[str, Any]) -> None:
        if job is not self.job:
            return
        self.snapshots += 1
        for side, s in zip(self.sides, snap["sides"]):
            side.show_snapshot(s)

    def _on_ended(self, job, state: str) -> None:
        if job is not self.job:
            return
        self.job = None
        last = self.sides[0].last
        words = {"finished": "finished", "cancelled": "stopped", "failed": "failed"}.get(state, state)
        self.status.setText(f"{words} at step {last['step']:,}" if last else words)
        self._update_buttons()

    @property
    def running(self) -> bool:
        return self.job is not None

    def _update_buttons(self) -> None:
        self.start_btn.setText("Restart" if self.running else "Start")
        self.stop_btn.setEnabled(self.running)

    # --- the conditional GAN's class picker --------------------------------------------------------------
    def pick_digit(self, side_index: int, label: int) -> Optional[Any]:
        side = self.sides[side_index]
        gen = (side.last or {}).get("generator")
        if gen is None:
            side.digits.pick_view.caption = "Train the conditional GAN first"
            side.digits.pick_view.update()
            return None
        self._pick_seed += 1
        h = self.bridge.submit(sample_digits_task, {"generator": gen, "label": label, "seed": self._pick_seed},
                               name="Generate digits", kind=f"lab_pick{side_index}", lane="io", replace=True)
        h.returned.connect(lambda res, side=side: self._picked(side, res))
        h.failed.connect(lambda err: self.problems.add("Lab", err.message))
        return h

    @staticmethod
    def _picked(side: SidePanel, res: Dict[str, Any]) -> None:
        side.digits.pick_view.caption = (f"Digit {res['label']}: classifier agrees on "
                                         f"{res['recognised'] * 100:.0f}%")
        side.digits.pick_view.set_image(res["grid"])

    def shutdown(self) -> None:
        self.stop()

