"""Train page: choose folder A and folder B (button or drop), pick a preset (or advanced settings), Start / Pause /
Resume / Cancel (Cancel asks first), watch the run's state (Running, Paused, Cancelled, Finished, Failed) in the header
and the status bar, one speed figure, an ETA while it runs, the losses, the latest sample grid and a log of
milestones. Every checkpoint writes the generators (and their cards) to the run folder and the Translate page's model
list is reloaded; unfinished runs are listed and can be resumed after the app restarts. Every field of the form is
remembered as one record and restored whole (or not at all). The training is ``engine.training.core.train_task`` on
the GPU lane; what is shown comes from ``engine.training.run_status.RunStatus``."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMessageBox,
                               QPlainTextEdit, QScrollArea, QSplitter, QVBoxLayout, QWidget)

from app.pages._page import Page
from app.form_memory import Field, FormMemory, path_check
from app.widgets.folder_box import FolderBox
from app.widgets.images import to_pixmap
from app.widgets.loss_chart import LossChart
from app.widgets.model_picker import catalog_of
from app.widgets.layout import button, column, panes
from app.widgets.problems import ProblemsPanel
from app.widgets.run_header import RunHeader
from app.widgets.train_settings import TrainSettings, method_presets
from engine.fsutil import slug, unique_path
from engine.training import core
from engine.training.run_status import RunStatus
from engine.training.runs import RunFolder, list_runs, runs_root

TITLE = "Train"
ICON = "train"
CHART_KEYS = [("G", "G (total)"), ("D", "D"), ("cycle", "cycle"), ("idt", "identity"), ("NCE", "PatchNCE")]
FORM_KEY = "train"


SAMPLE_PLACEHOLDER = "The latest samples appear here:\npictures of your folders beside what the model makes of them"


class TrainPage(Page):
    def __init__(self, window):
        super().__init__(window)
        self.handle = None  # JobHandle of the running training
        self.run_dir: Optional[Path] = None
        self.run_name = ""
        self.run = RunStatus()
        self.steps_done = 0
        self._build()
        every_setting = Field(self.settings.form_values, self.settings.set_values, self.settings.check_form,
                              [self.settings.changed], spread=True)  # checked and shown together
        self.memory = FormMemory(FORM_KEY, {"settings": every_setting,
                                            "folder_a": folder_field(self.box_a, "Folder A"),
                                            "folder_b": folder_field(self.box_b, "Folder B")})
        self.restore_form()
        self.refresh_runs()
        self._update_buttons()

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        scroll = self._build_left()
        right = self._build_right()

        column(self, panes(scroll, right, sizes=[400, 880]))

    def _build_left(self) -> QScrollArea:
        left = QWidget()
        lv = QVBoxLayout(left)
        self.box_a = FolderBox(self.bridge, "Folder A (e.g. photos)", "A")
        self.box_b = FolderBox(self.bridge, "Folder B (e.g. paintings)", "B")
        for box, what in ((self.box_a, "the images to translate from (domain A, e.g. photos)"),
                          (self.box_b, "the images to translate to (domain B, e.g. paintings)")):
            box.setToolTip(f"Folder A or B: {what}. Choose… or drop a folder here; at least 2 images, a few hundred "
                           "are better")
            box.changed.connect(self._folders_changed)
            box.scanned.connect(lambda _n: self._update_buttons())
            lv.addWidget(box)
        models = [(m.id, m.label) for m in self.window_.library.list(task="translate")]
        self.settings = TrainSettings(method_presets(), models)
        lv.addWidget(self.settings)
        row = QHBoxLayout()
        self.start_btn = button("Start training",
                                "Start a new run with these folders and settings (its models appear in the "
                                "Translate page's list at the first checkpoint)", self.start)
        self.pause_btn = button("Pause", "Pause the run (a checkpoint is written first); press again to resume",
                                self.toggle_pause)
        self.cancel_btn = button("Cancel",
                                 "Stop the run after saving a checkpoint (asks first); it can be resumed later",
                                 lambda: self.cancel())
        for b in (self.start_btn, self.pause_btn, self.cancel_btn):
            row.addWidget(b)
        lv.addLayout(row)
        self.fast_btn = button("Make a fast version of this model…",
                               "Distil a translation model into a small network that runs many times faster on a "
                               "CPU with nearly the same pictures", self.make_fast_version)
        lv.addWidget(self.fast_btn)
        lv.addWidget(QLabel("<b>Unfinished runs</b>"))
        self.runs = QListWidget()
        self.runs.setToolTip("Runs that were paused, cancelled, interrupted or failed: pick one and resume it")
        self.runs.setMaximumHeight(110)
        self.runs.setWordWrap(True)  # long run names wrap instead of scrolling sideways
        self.runs.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.runs.itemSelectionChanged.connect(self._update_buttons)
        lv.addWidget(self.runs)
        self.runs_empty = QLabel("None. A run you pause or cancel, or one that is interrupted, appears here and can "
                                 "be resumed, even after a restart.")
        self.runs_empty.setWordWrap(True)
        self.runs_empty.setStyleSheet("color: palette(mid);")
        lv.addWidget(self.runs_empty)
        self.resume_btn = button("Resume selected run",
                                 "Continue the selected run from its last checkpoint, with its own settings",
                                 self.resume_selected)
        lv.addWidget(self.resume_btn)
        lv.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # the form wraps instead of scrolling sideways
        scroll.setMinimumWidth(380)
        return scroll

    def _build_right(self) -> QWidget:
        right = QWidget()
        rv = QVBoxLayout(right)
        self.header = RunHeader()
        self.state_label, self.status_label, self.progress = (self.header.state_label, self.header.status_label,
                                                              self.header.progress)
        self.speed_label, self.eta_label, self.mem_label = (self.header.speed_label, self.header.eta_label,
                                                            self.header.mem_label)
        rv.addWidget(self.header)
        split = QSplitter(Qt.Vertical)
        self.chart = LossChart(CHART_KEYS)
        self.chart.setToolTip("Mean losses per log interval: G (generators), D (discriminators), cycle, identity")
        split.addWidget(self.chart)
        self.sample_label = QLabel(SAMPLE_PLACEHOLDER)
        self.sample_label.setAlignment(Qt.AlignCenter)
        self.sample_label.setMinimumHeight(180)
        self.sample_label.setStyleSheet("color: palette(mid);")
        self.sample_label.setToolTip("The latest sample grid: each picture beside its translation (CycleGAN also shows "
                                     "the way back; CUT and FastCUT show a B picture passed through the model, which "
                                     "should stay as it is)")
        split.addWidget(self.sample_label)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setToolTip("Milestones of the run (start, first models, 25/50/75 %, pauses, the end); every "
                            "checkpoint and loss is in the run folder's train.log")
        self.log.setMaximumBlockCount(500)
        self.log.setPlaceholderText("The run's milestones appear here: start, first models, 25 / 50 / 75 %, the end.")
        split.addWidget(self.log)
        split.setSizes([280, 320, 90])
        rv.addWidget(split, 1)
        self.problems = ProblemsPanel()
        rv.addWidget(self.problems)
        return right

    def controls(self):
        """Every control of the page (the tooltip check walks these)."""
        return [self.box_a, self.box_b, self.box_a.pick_btn, self.box_b.pick_btn, *self.settings.controls(),
                self.start_btn, self.pause_btn, self.cancel_btn, self.runs, self.resume_btn, self.state_label,
                self.progress, self.chart, self.sample_label, self.log]

    # --- folders and the remembered form -----------------------------------------------------------------
    def accept_paths(self, paths) -> bool:
        """Dropped on the page: folders fill A, then B (two folders at once fill both)."""
        dirs = [Path(p) if Path(p).is_dir() else Path(p).parent for p in paths]
        if not dirs:
            return False
        if self.handle is not None:
            self.window_.notify("A run is training: its folders cannot change until it stops.")
            return True
        if len(dirs) >= 2:
            self.box_a.set_folder(str(dirs[0]))
            self.box_b.set_folder(str(dirs[1]))
        elif not self.box_a.path or self.box_b.path:
            self.box_a.set_folder(str(dirs[0]))
        else:
            self.box_b.set_folder(str(dirs[0]))
        return True

    def _folders_changed(self) -> None:
        self._update_buttons()

    def form_values(self) -> Dict[str, Any]:
        return self.memory.values()

    def restore_form(self) -> str:
        """Show last session's form, every field or none; returns why not ("" when restored or nothing saved)."""
        why = self.memory.restore()
        if why:  # the page-wide sentence of every page, and what to do next here
            hint = "Choose that folder again, then Start." if self.memory.partial else \
                "Choose two folders of images, then Start."
            self.status_label.setText(f"{self.memory.notice()} {hint}")
        return why

    # --- starting ----------------------------------------------------------------------------------------
    def new_run_dir(self, name: str) -> Path:
        base = slug(name, "run")[:80].rstrip("-") or "run"  # a 300-character name is still a folder name
        return unique_path(runs_root() / f"{base}-{time.strftime('%Y%m%d-%H%M')}")

    def make_config(self):
        v = self.settings.values()
        name = v.pop("name") or f"{Path(self.box_a.path).name}2{Path(self.box_b.path).name}"
        preset = v.pop("preset")
        cfg = core.build_config(self.settings.family(), preset, data_a=self.box_a.path, data_b=self.box_b.path,
                                out_dir=str(self.new_run_dir(name)), name=name, **v)
        if cfg.init_from:
            cfg = core.get_trainer(cfg.family).adopt_init_architecture(cfg, self.window_.library)
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
        return self._submit(cfg, f"Training {cfg.name}")

    def make_fast_version(self, values: Optional[dict] = None):
        """Ask for a model and a folder of photos (``values`` skips the dialog), then start a distillation run."""
        from app.widgets.fast_version_dialog import FastVersionDialog, fast_version_config
        from engine.devices import pick_device

        if self.handle is not None:
            return None
        models = self.window_.library.list(task="translate")
        if values is None:
            dlg = FastVersionDialog(models, self, self.settings.values().get("init_from") or "")
            if dlg.exec() != QDialog.Accepted:
                return None
            values = dlg.values()
        try:
            name = next((m.name for m in models if m.id == values.get("teacher")), "model")
            cfg = fast_version_config(values, str(self.new_run_dir(f"{name} fast")), pick_device().type, models)
        except Exception as e:  # noqa: BLE001 - shown to the user
            from engine.errors import describe_exception

            self.problems.add("Fast version", describe_exception(e).message)
            return None
        return self._submit(cfg, f"Making {cfg.name}")

    def _resumable(self) -> Optional[QListWidgetItem]:
        """The chosen unfinished run, unless another process is training it (its row is greyed out)."""
        it = self.runs.currentItem()
        return it if it is not None and it.flags() & Qt.ItemIsEnabled else None

    def resume_selected(self):
        it = self._resumable()
        if it is None or self.handle is not None:
            return None
        try:
            cfg = core.resume_config(it.data(Qt.UserRole))
            moved = self._ask_moved_data(cfg)
            if moved is None:
                self.problems.add(it.text(), "Not resumed: its training folders were not found.")
                return None
            if moved:
                cfg = core.resume_config(it.data(Qt.UserRole), **moved)
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

    def _ask_moved_data(self, cfg) -> Optional[Dict[str, str]]:
        """The run's data folders that are gone (moved, renamed, a drive not plugged in), each asked for anew:
        {field: new folder}; {} when all are there; None when the user cancels a question."""
        import os

        from engine.training.runs import is_data_field

        found: Dict[str, str] = {}
        for key, value in vars(cfg).items():
            if not (is_data_field(key) and isinstance(value, str) and value) or os.path.isdir(value):
                continue
            what = {"data_a": "folder A", "data_b": "folder B"}.get(key, "training folder")
            start = str(Path(value).parent)
            while True:  # until a usable folder is chosen, or the question is cancelled
                d = QFileDialog.getExistingDirectory(self, f"The run's {what} ({value}) is gone: where is it now?",
                                                     start)
                if not d:
                    return None
                why = moved_folder_problem(d, [v for k, v in vars(cfg).items() if is_data_field(k) and k != key
                                               and isinstance(v, str)] + list(found.values()))
                if not why:
                    break
                QMessageBox.warning(self, "Not that folder", f"{d}: {why}\nChoose the folder the run trained on.")
                start = d
            found[key] = d
        return found

    def _submit(self, cfg, title: str):
        self.run_dir = Path(cfg.out_dir)
        self.run_name = cfg.name or self.run_dir.name
        self._first_models = True
        if not cfg.resume_from:  # a new run shows nothing of the last one
            self.chart.clear()
            self.sample_label.clear()
            self.sample_label.setText(SAMPLE_PLACEHOLDER)
        self.log.clear()
        self.problems.clear()
        self.progress.setRange(0, max(1, cfg.steps))
        self.progress.setValue(0)
        self.run.start(cfg.steps)
        if cfg.resume_from:  # until the run reports, it is where its checkpoint is (not "step 0")
            self.run.step = int(RunFolder(cfg.out_dir).read_status().get("checkpoint_step") or 0)
            self.progress.setValue(self.run.step)
        h = self.bridge.submit(core.train_task, cfg, name=title, kind="train", lane="gpu")
        h.progress.connect(self._on_progress)
        h.partial.connect(self._on_partial)
        h.log.connect(self.log.appendPlainText)
        h.failed.connect(lambda err: (self.problems.add("Training", err.message),
                                      self._set_state("failed", err.message)))
        h.returned.connect(lambda res: self._set_state("finished", step=res.step))
        h.cancelled.connect(self._on_cancelled)
        h.paused.connect(lambda: self._set_state("paused", log=f"Paused at step {self.run.step}."))
        h.resumed.connect(lambda: self._set_state("running", log=f"Resumed at step {self.run.step}."))
        h.finished.connect(self._ended)
        self.handle = h
        self.window_.show_job(h, "", messages=False)  # the progress bar; the run's name and state are beside it
        self._render()
        self._update_buttons()
        return h

    # --- live updates ------------------------------------------------------------------------------------
    def _render(self) -> None:
        self.header.render(self.run)
        self.window_.show_run_state(self.run.status_bar_text(self.run_name), self.run.state)

    def _set_state(self, state: str, message: str = "", step: Optional[int] = None, log: str = "") -> None:
        self.run.set_state(state, message, step)
        if log:
            self.log.appendPlainText(log)
        self._render()
        self._update_buttons()

    def _on_progress(self, p) -> None:
        training = p.message.startswith("step ")
        self.progress.setFormat("step %v / %m" if training else "%v / %m")
        if p.total and not training:
            self.progress.setMaximum(int(p.total))
            self.progress.setValue(int(p.done))
        self.run.on_progress(p.done, p.total, training, p.message)
        self.steps_done = self.run.step if training else 0
        self._render()

    def _on_partial(self, d) -> None:
        if not isinstance(d, dict):
            return
        ev = d.get("event")
        if ev == "log":
            self.chart.add(d["step"], d["losses"])
            self.run.on_log(d)
            self._render()
        elif ev == "sample" and d.get("sample") is not None:
            self._show_sample(to_pixmap(d["sample"]))
        elif ev == "checkpoint":
            catalog_of(self.window_).refresh()  # every page's model list shows the new models
            if self._first_models and d.get("models"):
                self._first_models = False
                self.window_.notify(f"The first models of {self.run_name} are in the Translate page's list "
                                    "(marked partial until the run finishes).")

    def _on_cancelled(self) -> None:
        self._set_state("cancelled", log=f"Cancelled at step {self.run.step} of {self.run.total}; resume it from "
                                         "Unfinished runs.")

    def _show_sample(self, pm: QPixmap) -> None:
        w, h = max(200, self.sample_label.width()), max(160, self.sample_label.height())
        self.sample_label.setPixmap(pm.scaled(w, h, Qt.KeepAspectRatio, Qt.SmoothTransformation))

    def _ended(self, state: str) -> None:
        self.handle = None
        if self.run.active:  # an ending without its own signal (dropped): say what is known
            self._set_state("cancelled" if state == "cancelled" else "failed", "the job ended")
        self.refresh_runs()
        self._update_buttons()

    # --- control -----------------------------------------------------------------------------------------
    def toggle_pause(self) -> None:
        if self.handle is None:
            return
        if self.handle.job.paused:
            self.handle.resume()
        else:
            self.handle.pause()
        self._update_buttons()

    def confirm_cancel(self) -> bool:
        box = QMessageBox(QMessageBox.Question, "Cancel training?",
                          f"Stop training {self.run_name} at step {self.run.step} of {self.run.total}?",
                          parent=self)
        box.setInformativeText("A checkpoint is saved first: the run stays in Unfinished runs and can be resumed. "
                               "Its models are marked partial until it finishes.")
        stop = box.addButton("Cancel training", QMessageBox.DestructiveRole)
        box.addButton("Keep training", QMessageBox.RejectRole)
        box.setObjectName("confirm_cancel")
        box.exec()
        return box.clickedButton() is stop

    def cancel(self, confirm: bool = True) -> None:
        if self.handle is None or (confirm and not self.confirm_cancel()) or self.handle is None:
            return
        self.handle.cancel()
        self._set_state("cancelling")

    def refresh_runs(self) -> None:
        self.runs.clear()
        running = str(self.run_dir) if self.handle is not None and self.run_dir else ""
        for info in list_runs():
            if not info.unfinished or str(info.path) == running:
                continue
            live = info.state in ("running", "starting", "paused")  # another process has it (dead: "interrupted")
            state = "training in another process" if live else info.state
            it = QListWidgetItem(f"{info.name}: {state}, step {info.step} of {info.total}")
            it.setData(Qt.UserRole, str(info.path))
            it.setToolTip(f"{info.path}\n{info.message}" + ("\nIt can be resumed here once that process stops."
                                                            if live else ""))
            if live:
                it.setFlags(it.flags() & ~Qt.ItemIsEnabled & ~Qt.ItemIsSelectable)
            self.runs.addItem(it)
        empty = self.runs.count() == 0  # an empty state, not an empty box
        self.runs_empty.setVisible(empty)
        self.runs.setVisible(not empty)
        self.resume_btn.setVisible(not empty)

    def _update_buttons(self) -> None:
        busy = self.handle is not None
        ready = bool(self.box_a.path and self.box_b.path) and self.box_a.count >= 2 and self.box_b.count >= 2
        self.start_btn.setEnabled(ready and not busy)
        self.fast_btn.setEnabled(not busy)
        paused = busy and self.handle.job.paused
        self.pause_btn.setEnabled(busy and self.run.state in ("running", "paused", "starting"))
        self.pause_btn.setText("Resume" if paused else "Pause")
        self.cancel_btn.setEnabled(busy and self.run.state != "cancelling")
        self.resume_btn.setEnabled(not busy and self._resumable() is not None)
        self.settings.set_enabled(not busy)
        for box in (self.box_a, self.box_b):
            box.pick_btn.setEnabled(not busy)
            box.setAcceptDrops(not busy)

    def on_shown(self) -> None:
        if self.handle is None:
            self.refresh_runs()

    def close_note(self) -> str:
        """What closing the window would stop ("" when nothing)."""
        if self.handle is None:
            return ""
        return (f"The training of {self.run_name} stops. It keeps a checkpoint at the current step and can be resumed "
                "from the Train page's Unfinished runs.")

    def shutdown(self) -> None:
        if self.handle is not None:
            self.handle.cancel()


def moved_folder_problem(folder: str, others) -> str:
    """Why ``folder`` cannot stand in for a moved training folder ("" when it can): no images to train on, or
    another of the run's folders."""
    import os

    from engine.imageio import scan_inputs

    if any(os.path.realpath(folder) == os.path.realpath(o) for o in others if o):
        return "this is another of the run's folders."
    n = len(scan_inputs([folder]).files)
    return "" if n >= 2 else f"it holds {n} image{'s' if n != 1 else ''}; a training folder needs at least 2."


def folder_field(box: FolderBox, label: str) -> Field:
    """A folder box of the remembered form: a saved folder that no longer exists is refused."""
    return Field(lambda: box.path, lambda v: v and box.set_folder(str(v)), path_check(label), [box.changed],
                 optional=True)


create = TrainPage  # the page protocol's create(window) (app/pages/__init__.py)
