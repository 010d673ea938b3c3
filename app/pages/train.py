"""Train page: choose folder A and folder B, pick a preset (or advanced settings), Start / Pause / Resume / Cancel,
watch the losses, the latest sample grid, steps/s, ETA and GPU memory. Every checkpoint writes the generators to the
run folder and the Translate page's model list is reloaded; unfinished runs are listed and can be resumed after the
app restarts. The training itself is ``engine.training.core.train_task`` on the GPU lane."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPlainTextEdit,
                               QProgressBar, QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget)

from app.settings import settings
from app.widgets.folder_box import FolderBox
from app.widgets.images import to_pixmap
from app.widgets.loss_chart import LossChart
from app.widgets.problems import ProblemsPanel
from app.widgets.train_settings import TrainSettings
from engine.fsutil import unique_path
from engine.training import core
from engine.training.runs import RunFolder, list_runs, runs_root

TITLE = "Train"
ICON = "train"
CHART_KEYS = [("G", "G (total)"), ("D", "D"), ("cycle", "cycle"), ("idt", "identity")]


def create(window) -> "TrainPage":
    return TrainPage(window)


class TrainPage(QWidget):
    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.bridge = window.bridge
        self.handle = None  # JobHandle of the running training
        self.run_dir: Optional[Path] = None
        self.steps_done = 0
        self._build()
        for box, key in ((self.box_a, "folder_a"), (self.box_b, "folder_b")):
            last = settings().get(f"train/{key}", "") or ""
            if last and Path(last).is_dir():
                box.set_folder(last)
        self.refresh_runs()
        self._update_buttons()

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        scroll = self._build_left()
        right = self._build_right()

        outer = QSplitter(Qt.Horizontal)
        outer.addWidget(scroll)
        outer.addWidget(right)
        outer.setStretchFactor(1, 1)
        outer.setSizes([400, 880])
        QVBoxLayout(self).addWidget(outer)

    def _build_left(self) -> QScrollArea:
        left = QWidget()
        lv = QVBoxLayout(left)
        self.box_a = FolderBox(self.bridge, "Folder A (e.g. photos)", "A")
        self.box_b = FolderBox(self.bridge, "Folder B (e.g. paintings)", "B")
        for box in (self.box_a, self.box_b):
            box.changed.connect(self._folders_changed)
            box.scanned.connect(lambda _n: self._update_buttons())
            lv.addWidget(box)
        models = [(m.id, m.label) for m in self.window_.library.list(task="translate")]
        self.settings = TrainSettings(core.presets("cyclegan"), models)
        lv.addWidget(self.settings)
        row = QHBoxLayout()
        self.start_btn = QPushButton("Start training")
        self.start_btn.clicked.connect(self.start)
        self.pause_btn = QPushButton("Pause")
        self.pause_btn.clicked.connect(self.toggle_pause)
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.setToolTip("Stop after saving a checkpoint; the run can be resumed later")
        self.cancel_btn.clicked.connect(self.cancel)
        for b in (self.start_btn, self.pause_btn, self.cancel_btn):
            row.addWidget(b)
        lv.addLayout(row)
        lv.addWidget(QLabel("<b>Unfinished runs</b>"))
        self.runs = QListWidget()
        self.runs.setMaximumHeight(110)
        self.runs.itemSelectionChanged.connect(self._update_buttons)
        lv.addWidget(self.runs)
        self.resume_btn = QPushButton("Resume selected run")
        self.resume_btn.clicked.connect(self.resume_selected)
        lv.addWidget(self.resume_btn)
        lv.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(380)
        return scroll

    def _build_right(self) -> QWidget:
        right = QWidget()
        rv = QVBoxLayout(right)
        stats = QGridLayout()
        self.progress = QProgressBar()
        self.progress.setFormat("step %v / %m")
        self.status_label = QLabel("Choose two folders of images, then Start.")
        self.speed_label, self.eta_label, self.mem_label = QLabel("– steps/s"), QLabel("ETA –"), QLabel("")
        stats.addWidget(self.status_label, 0, 0, 1, 3)
        stats.addWidget(self.progress, 1, 0, 1, 3)
        for i, w in enumerate((self.speed_label, self.eta_label, self.mem_label)):
            stats.addWidget(w, 2, i)
        rv.addLayout(stats)
        split = QSplitter(Qt.Vertical)
        self.chart = LossChart(CHART_KEYS)
        split.addWidget(self.chart)
        self.sample_label = QLabel("The latest sample grid appears here:\nA → B → A   |   B → A → B")
        self.sample_label.setAlignment(Qt.AlignCenter)
        self.sample_label.setMinimumHeight(180)
        self.sample_label.setStyleSheet("color: palette(mid);")
        split.addWidget(self.sample_label)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setMaximumBlockCount(500)
        split.addWidget(self.log)
        split.setSizes([280, 320, 90])
        rv.addWidget(split, 1)
        self.problems = ProblemsPanel()
        rv.addWidget(self.problems)
        return right

    # --- folders -----------------------------------------------------------------------------------------
    def accept_paths(self, paths) -> bool:
        """Dropped on the page: folders fill A, then B (two folders at once fill both)."""
        dirs = [Path(p) if Path(p).is_dir() else Path(p).parent for p in paths]
        if not dirs:
            return False
        if len(dirs) >= 2:
            self.box_a.set_folder(str(dirs[0]))
            self.box_b.set_folder(str(dirs[1]))
        elif not self.box_a.path or self.box_b.path:
            self.box_a.set_folder(str(dirs[0]))
        else:
            self.box_b.set_folder(str(dirs[0]))
        return True

    def _folders_changed(self) -> None:
        settings().set("train/folder_a", self.box_a.path)
        settings().set("train/folder_b", self.box_b.path)
        self._update_buttons()

    # --- starting ----------------------------------------------------------------------------------------
    def new_run_dir(self, name: str) -> Path:
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower() or "run"
        return unique_path(runs_root() / f"{slug}-{time.strftime('%Y%m%d-%H%M')}")

    def make_config(self):
        v = self.settings.values()
        name = v.pop("name") or f"{Path(self.box_a.path).name}2{Path(self.box_b.path).name}"
        preset = v.pop("preset")
        cfg = core.build_config("cyclegan", preset, data_a=self.box_a.path, data_b=self.box_b.path,
                                out_dir=str(self.new_run_dir(name)), name=name, **v)
        if cfg.init_from:
            from engine.training.cyclegan import adopt_init_architecture

            cfg = adopt_init_architecture(cfg, self.window_.library)
        return cfg

    def start(self):
        if self.handle is not None:
            return None
        try:
            cfg = self.make_config()
        except Exception as e:  # noqa: BLE001 - shown to the user
            from engine.errors import describe_exception

            self.problems.add("Settings", describe_exception(e).message)
            return None
        self.settings.remember()
        return self._submit(cfg, f"Training {cfg.name}")

    def resume_selected(self):
        it = self.runs.currentItem()
        if it is None or self.handle is not None:
            return None
        try:
            cfg = core.resume_config(it.data(Qt.UserRole))
        except Exception as e:  # noqa: BLE001
            from engine.errors import describe_exception

            self.problems.add(it.text(), describe_exception(e).message)
            return None
        rf = RunFolder(cfg.out_dir)
        self.chart.set_history([r for r in rf.read_metrics() if "G" in r])
        sample = rf.latest_sample()
        if sample:
            self._show_sample(QPixmap(str(sample)))
        return self._submit(cfg, f"Resuming {cfg.name or rf.name}")

    def _submit(self, cfg, title: str):
        self.run_dir = Path(cfg.out_dir)
        if not cfg.resume_from:
            self.chart.clear()
        self.log.clear()
        self.problems.clear()
        self.progress.setRange(0, max(1, cfg.steps))
        self.progress.setValue(0)
        self.status_label.setText(f"{title}: reading the folders…")
        h = self.bridge.submit(core.train_task, cfg, name=title, kind="train", lane="gpu")
        h.progress.connect(self._on_progress)
        h.partial.connect(self._on_partial)
        h.log.connect(self.log.appendPlainText)
        h.failed.connect(lambda err: (self.problems.add("Training", err.message), self.status_label.setText(
            "Stopped: " + err.message)))
        h.finished.connect(lambda res: self.status_label.setText(
            f"Finished {res.step} steps. The models are in the Translate page's list."))
        h.cancelled.connect(lambda: self.status_label.setText("Cancelled; the run is saved and can be resumed."))
        h.paused.connect(self._update_buttons)
        h.resumed.connect(self._update_buttons)
        h.ended.connect(self._ended)
        self.handle = h
        self.window_.show_job(h, "Training")
        self._update_buttons()
        return h

    # --- live updates ------------------------------------------------------------------------------------
    def _on_progress(self, p) -> None:
        training = p.message.startswith("step ")
        self.progress.setFormat("step %v / %m" if training else "%v / %m")
        if p.total:
            self.progress.setMaximum(int(p.total))
            self.progress.setValue(int(p.done))
        if p.message:
            self.status_label.setText(p.message)
        self.steps_done = int(p.done) if training else 0

    def _on_partial(self, d) -> None:
        if not isinstance(d, dict):
            return
        ev = d.get("event")
        if ev == "log":
            self.chart.add(d["step"], d["losses"])
            self.speed_label.setText(f"{d['steps_per_s']:.2f} steps/s ({d['img_per_s']:.1f} img/s)")
            self.eta_label.setText(f"ETA {_fmt(d['eta_s'])}")
            self.mem_label.setText(f"GPU memory {d['gpu_mem']:.1f} GiB" if d.get("gpu_mem") else "GPU memory –")
        elif ev == "sample" and d.get("sample") is not None:
            self._show_sample(to_pixmap(d["sample"]))
        elif ev == "checkpoint":
            tr = self.window_.pages.get("translate")
            if tr is not None and hasattr(tr, "reload_models"):
                tr.reload_models()
            self.window_.notify(f"Checkpoint at step {d['step']}: the models are in the Translate page's list.")

    def _show_sample(self, pm: QPixmap) -> None:
        self.sample_pixmap = pm
        w, h = max(200, self.sample_label.width()), max(160, self.sample_label.height())
        self.sample_label.setPixmap(pm.scaled(w, h, Qt.KeepAspectRatio, Qt.SmoothTransformation))

    def _ended(self, state: str) -> None:
        self.handle = None
        self.refresh_runs()
        self._update_buttons()

    # --- control -----------------------------------------------------------------------------------------
    def toggle_pause(self) -> None:
        if self.handle is None:
            return
        if self.handle.job.state.value == "paused":
            self.handle.resume()
            self.status_label.setText("Resumed.")
        else:
            self.handle.pause()
            self.status_label.setText("Paused: a checkpoint is written; Resume continues, Cancel stops.")
        self._update_buttons()

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.status_label.setText("Cancelling: saving a checkpoint…")

    def refresh_runs(self) -> None:
        self.runs.clear()
        running = str(self.run_dir) if self.handle is not None and self.run_dir else ""
        for info in list_runs():
            if not info.unfinished or str(info.path) == running:
                continue
            it = QListWidgetItem(f"{info.name}: {info.state}, step {info.step} of {info.total}")
            it.setData(Qt.UserRole, str(info.path))
            it.setToolTip(f"{info.path}\n{info.message}")
            self.runs.addItem(it)

    def _update_buttons(self) -> None:
        busy = self.handle is not None
        ready = bool(self.box_a.path and self.box_b.path) and self.box_a.count >= 2 and self.box_b.count >= 2
        self.start_btn.setEnabled(ready and not busy)
        self.pause_btn.setEnabled(busy)
        paused = busy and self.handle.job.state.value == "paused"
        self.pause_btn.setText("Resume" if paused else "Pause")
        self.cancel_btn.setEnabled(busy)
        self.resume_btn.setEnabled(not busy and self.runs.currentItem() is not None)
        self.settings.set_enabled(not busy)
        for box in (self.box_a, self.box_b):
            box.pick_btn.setEnabled(not busy)

    def on_shown(self) -> None:
        if self.handle is None:
            self.refresh_runs()

    def shutdown(self) -> None:
        if self.handle is not None:
            self.handle.cancel()


def _fmt(s: float) -> str:
    s = int(max(0, s))
    h, m = s // 3600, s // 60 % 60
    return f"{h} h {m:02d} min" if h else f"{m} min {s % 60:02d} s"
