"""The header of the Train page: the run's state as a coloured word (Running, Paused, Cancelled, Finished, Failed),
one line saying what that means (``RunStatus.detail``), the step bar, and the one speed figure, ETA and GPU memory (only while running).
It renders an :class:`engine.training.run_status.RunStatus`; it keeps no state of its own."""
from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QSizePolicy, QWidget

from engine.training.run_status import RunStatus

COLOURS = {"idle": "palette(mid)", "starting": "#1f6fb2", "running": "#1f8a3b", "paused": "#b26b00",
           "cancelling": "#b26b00", "cancelled": "#7a7a7a", "finished": "#1f6fb2", "failed": "#c0392b"}


class RunHeader(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.state_label = QLabel()
        self.state_label.setObjectName("run_state")
        self.state_label.setToolTip("The state of the training run: Running, Paused, Cancelled, Finished or Failed")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # long messages wrap, never
        self.progress = QProgressBar()                                               # widen the window
        self.progress.setFormat("step %v / %m")
        self.progress.setToolTip("Training steps done of the run's total")
        self.speed_label, self.eta_label, self.mem_label = QLabel(), QLabel(), QLabel()
        self.speed_label.setToolTip("Training speed, measured over the last log interval")
        self.eta_label.setToolTip("Estimated time to the end of the run (shown only while it runs)")
        self.mem_label.setToolTip("Peak GPU memory of the run")
        grid.addWidget(self.state_label, 0, 0)
        grid.addWidget(self.status_label, 0, 1, 1, 3)
        grid.addWidget(self.progress, 1, 0, 1, 4)
        for i, w in enumerate((self.speed_label, self.eta_label, self.mem_label)):
            grid.addWidget(w, 2, i + 1 if i else 0, 1, 1 if i else 2)
        grid.setColumnStretch(3, 1)
        self.render(RunStatus())

    def render(self, st: RunStatus) -> None:
        self.state_label.setText(st.word)
        self.state_label.setStyleSheet(f"font-weight: bold; color: white; background: {COLOURS[st.state]}; "
                                       "padding: 2px 8px; border-radius: 3px;")
        self.status_label.setText(st.detail())  # the state word is beside it
        if st.total:
            self.progress.setMaximum(max(1, st.total))
            self.progress.setValue(min(st.step, st.total))
        self.speed_label.setText(st.speed_text())
        self.eta_label.setText(st.eta_text())
        self.mem_label.setText(st.memory_text())
