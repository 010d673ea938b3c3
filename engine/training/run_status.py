"""What a person watching a training run should see, computed without Qt: the run's state (Running, Paused,
Cancelled, Finished, Failed), one speed figure, an ETA only while it runs, and the milestones worth a log line.

The Train page feeds it the job's events and renders :meth:`RunStatus.header`, :meth:`speed_text` and
:meth:`eta_text`; the training loop uses :func:`milestone` to log quarter-way points instead of every checkpoint.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Optional

#: state -> the word shown in the header and the status bar
STATE_WORDS = {"idle": "Ready", "starting": "Starting", "running": "Running", "paused": "Paused",
               "cancelling": "Cancelling", "cancelled": "Cancelled", "finished": "Finished", "failed": "Failed"}
ACTIVE = ("starting", "running", "paused", "cancelling")
MILESTONES = (25, 50, 75)


def fmt_duration(seconds: float) -> str:
    s = int(max(0, seconds))
    h, m = s // 3600, s // 60 % 60
    return f"{h} h {m:02d} min" if h else f"{m} min {s % 60:02d} s"


def milestone(prev_step: int, step: int, total: int) -> Optional[int]:
    """The percentage (25, 50 or 75) whose step lies in ``(prev_step, step]``, if any."""
    if total <= 0:
        return None
    for pct in reversed(MILESTONES):
        at = -(-total * pct // 100)  # ceil: the first step at or past pct %
        if prev_step < at <= step < total:
            return pct
    return None


@dataclass
class RunStatus:
    state: str = "idle"
    step: int = 0
    total: int = 0
    steps_per_s: float = 0.0
    img_per_s: float = 0.0
    gpu_mem: Optional[float] = None
    losses: Dict[str, float] = field(default_factory=dict)
    message: str = ""  # the reason for Failed, or what the run is doing while Starting

    # --- events ------------------------------------------------------------------------------------------
    def start(self, total: int, message: str = "reading the folders…") -> None:
        self.state, self.step, self.total, self.message = "starting", 0, int(total), message
        self.steps_per_s = self.img_per_s = 0.0
        self.gpu_mem, self.losses = None, {}

    def on_progress(self, done: float, total: float, training: bool, message: str = "") -> None:
        """A progress event; ``training`` is False while the data are read (then ``message`` says what happens)."""
        if not training:
            if self.state == "starting":
                self.message = message
            return
        self.step, self.total = int(done), int(total) or self.total
        if self.state == "starting":
            self.state = "running"

    def on_log(self, d: Dict) -> None:
        """A ``{"event": "log", ...}`` partial result of the training loop."""
        self.step, self.total = int(d.get("step", self.step)), int(d.get("total", self.total))
        self.steps_per_s, self.img_per_s = float(d.get("steps_per_s", 0.0)), float(d.get("img_per_s", 0.0))
        self.gpu_mem = d.get("gpu_mem")
        self.losses = dict(d.get("losses") or {})
        if self.state == "starting":
            self.state = "running"

    def set_state(self, state: str, message: str = "", step: Optional[int] = None) -> None:
        if state not in STATE_WORDS:
            raise ValueError(f"unknown run state {state!r}")
        self.state, self.message = state, message
        if step is not None:
            self.step = int(step)

    # --- what is shown -----------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def word(self) -> str:
        return STATE_WORDS[self.state]

    def where(self) -> str:
        return f"step {self.step} of {self.total}" if self.total else ""

    def detail(self) -> str:
        """What the state means for the user, shown beside the state word ("at step 40 of 2000: ...")."""
        s, where = self.state, self.where()
        if s == "idle":
            return "Choose two folders of images, then Start."
        if s == "starting":
            return self.message or "…"
        if s == "running":
            return where
        if s == "paused":
            return f"at {where}: a checkpoint is saved; Resume continues, Cancel stops."
        if s == "cancelling":
            return f"at {where}: saving a checkpoint…"
        if s == "cancelled":
            return f"at {where}; the run is saved and can be resumed from Unfinished runs."
        if s == "finished":
            return f"{self.total} steps. The models are in the Translate page's list."
        return f"at {where}: {self.message}" if where else self.message

    def header(self) -> str:
        """One line: the state, where the run is and what it means for the user."""
        sep = {"idle": None, "starting": ": ", "running": " · "}.get(self.state, " ")
        return self.detail() if sep is None else f"{self.word}{sep}{self.detail()}"

    def speed_text(self) -> str:
        """The one speed figure; empty unless the run is running and has measured its speed."""
        if self.state != "running" or self.steps_per_s <= 0:
            return ""
        return f"{self.steps_per_s:.2f} steps/s ({self.img_per_s:.1f} img/s)"

    def eta_s(self) -> Optional[float]:
        if self.state != "running" or self.steps_per_s <= 0 or not self.total:
            return None
        return max(0, self.total - self.step) / self.steps_per_s

    def eta_text(self) -> str:
        """"ETA ..." while running, otherwise empty (a paused or stopped run has no ETA)."""
        eta = self.eta_s()
        return "" if eta is None else f"ETA {fmt_duration(eta)}"

    def memory_text(self) -> str:
        if self.state != "running":
            return ""
        return f"GPU memory {self.gpu_mem:.1f} GiB" if self.gpu_mem else ""

    def status_bar_text(self, name: str) -> str:
        """Short form for the main window's status bar: "Training faces2art: Paused, step 40 of 2000"."""
        where = self.where()
        return f"Training {name}: {self.word}" + (f", {where}" if where and self.state != "starting" else "")
