"""Evaluate page: compare generated images (folders or models on a test folder) with real ones; FID, KID, IS,
precision/recall, diversity and mode collapse in a table with sample grids; charts of training runs; HYPE. The folders,
the model, the metrics and the classifier are remembered as one form (``app.form_memory``)."""
from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
from typing import List, Optional

from PySide6.QtWidgets import (QApplication, QFileDialog, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QProgressBar, QPushButton,
                               QTabWidget, QVBoxLayout)

from app.pages._page import Page
from app.form_memory import FormMemory, path_field, picker_field
from app.pages.evaluate_results import ResultsPanel
from app.settings import settings
from app.widgets.classifier_dialog import ClassifierDialog
from app.widgets.hype_view import HypeView
from app.widgets.metric_chart import RunCharts
from app.widgets.metric_options import MetricOptionsBox
from app.widgets.model_picker import ModelPicker, catalog_of
from app.widgets.layout import button, column, panel, panes
from app.widgets.problems import ProblemsPanel
from engine.metrics import EvalConfig, ExtractorCache, MetricOptions, eval_task
from engine.metrics.classifier import ClassifierConfig, train_classifier_task
from engine.metrics.runs import METRICS_FILE
from engine.training.runs import list_runs

TITLE = "Evaluate"
ICON = "evaluate"


@dataclass
class Candidate:
    """One thing to compare with the real images: a folder of generated images, or a model on an input folder."""

    kind: str  # folder | model
    path: str  # the folder (generated images, or the model's inputs)
    model: str = ""
    model_name: str = ""
    depth: int = 1  # how many trailing parts of the path the label shows (more where two would read alike)

    @property
    def label(self) -> str:
        parts = Path(self.path).parts
        where = str(Path(*parts[-self.depth:])) if parts and self.depth < len(parts) else self.path
        if self.kind == "model":
            return f"{self.model_name or self.model} on {where}"
        return where or self.path


class EvaluatePage(Page):
    def __init__(self, window):
        super().__init__(window)
        self.extractors = ExtractorCache()
        self.candidates: List[Candidate] = []
        self.handles: list = []
        self.queue: List[Candidate] = []
        self._build()
        self.memory = FormMemory("evaluate", {
            "real": path_field(self.real_edit, "the folder of real images"), "model": picker_field(self.picker),
            "inputs": path_field(self.input_edit, "the folder the model translates"), **self.metrics_box.fields()})
        if self.memory.restore():
            self.problems.add("", self.memory.notice())
        self._update_buttons()

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        left, lv = panel()
        lv.addWidget(self._real_box())
        lv.addWidget(self._candidates_box(), 1)
        self.metrics_box = MetricOptionsBox()
        self.metrics_box.changed.connect(self._update_buttons)
        self.metrics_box.trainRequested.connect(self.train_classifier)
        lv.addWidget(self.metrics_box)
        run_row = QHBoxLayout()
        self.run_btn = button("Run evaluation", "Compare every entry of the list with the real images", self.run)
        self.cancel_btn = QPushButton("Cancel", toolTip="Stop the evaluation (finished rows stay)")
        self.cancel_btn.clicked.connect(self.cancel)
        run_row.addWidget(self.run_btn, 1)
        run_row.addWidget(self.cancel_btn)
        lv.addLayout(run_row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lv.addWidget(self.progress)
        lv.addWidget(self.status)

        self.results = ResultsPanel(self)
        self.charts = RunCharts()
        add_run = QPushButton("Add run folder…", toolTip="Chart the metrics a training run recorded over its steps")
        add_run.clicked.connect(self.open_run)
        self.charts.layout().itemAt(1).layout().addWidget(add_run)
        self.hype = HypeView(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.results, "Results")
        self.tabs.addTab(self.results.compare, "Comparison chart")
        self.tabs.addTab(self.results.collapse, "Mode collapse")
        self.tabs.addTab(self.charts, "Training charts")
        self.tabs.addTab(self.hype, "Human (HYPE)")

        self.problems = ProblemsPanel()
        column(self, (panes(left, self.tabs, sizes=[400, 840]), 1), self.problems)  # names in the left column whole

    def _real_box(self) -> QGroupBox:
        box = QGroupBox("Real images")
        row = QHBoxLayout(box)
        self.real_edit = QLineEdit()
        self.real_edit.setPlaceholderText("Drop a folder of real images, e.g. testB")
        self.real_edit.setToolTip("The real pictures everything is compared with (drop a folder on the page)")
        self.real_edit.textChanged.connect(lambda *_: self._update_buttons())
        browse = QPushButton("Browse…", toolTip="Choose the folder of real pictures")
        browse.clicked.connect(lambda: self._pick_folder(self.real_edit, "Folder of real images"))
        row.addWidget(self.real_edit, 1)
        row.addWidget(browse)
        return box

    def _candidates_box(self) -> QGroupBox:
        box = QGroupBox("Compare (generated images or models, side by side)")
        v = QVBoxLayout(box)
        self.cand_list = QListWidget()
        self.cand_list.setToolTip("Drop folders of generated images here; each entry is one row of the results")
        v.addWidget(self.cand_list, 1)
        row = QHBoxLayout()
        add = QPushButton("Add generated folder…", toolTip="Compare a folder of generated pictures (or drop "
                                                          "folders on the page)")
        add.clicked.connect(self.open_generated)
        rem = QPushButton("Remove", toolTip="Take the selected entry off the list")
        rem.clicked.connect(self.remove_selected)
        row.addWidget(add, 1)
        row.addWidget(rem)
        v.addLayout(row)
        grid = QGridLayout()
        grid.addWidget(QLabel("Or a model, translating a folder:"), 0, 0, 1, 3)
        self.picker = ModelPicker(catalog_of(self.window_), ("translate",), label="")
        self.picker.setToolTip("A translation model to evaluate: it translates the input folder, and its results "
                               "are compared with the real images")
        self.picker.modelChanged.connect(lambda *_: self._update_buttons())
        self.model_combo = self.picker.combo
        grid.addWidget(self.picker, 1, 0, 1, 3)  # a row of its own, as on Translate: model names are readable
        grid.addWidget(QLabel("On:"), 2, 0)
        self.input_edit = QLineEdit()
        self.input_edit.setPlaceholderText("test inputs, e.g. testA")
        self.input_edit.setToolTip("The pictures the model translates before comparing (e.g. testA)")
        self.input_edit.textChanged.connect(lambda *_: self._update_buttons())
        grid.addWidget(self.input_edit, 2, 1)
        pick = button("…", "Choose the folder the model translates",
                      lambda: self._pick_folder(self.input_edit, "Folder the model translates"))
        grid.addWidget(pick, 2, 2)
        self.add_model_btn = button("Add model",
                                    "Translate the input folder with the model and compare the results", self.add_model)
        grid.addWidget(self.add_model_btn, 3, 1, 1, 2)
        v.addLayout(grid)
        return box

    # --- choices -----------------------------------------------------------------------------------------
    def selected_metrics(self) -> List[str]:
        return self.metrics_box.selected()

    def _pick_folder(self, edit: QLineEdit, title: str) -> None:
        d = QFileDialog.getExistingDirectory(self, title, edit.text() or settings().last_dir("eval"))
        if d:
            settings().set_last_dir(d, "eval")
            edit.setText(d)

    def set_real(self, folder) -> None:
        self.real_edit.setText(str(folder))

    def add_candidate(self, c: Candidate) -> Candidate:
        same = os.path.realpath(os.path.expanduser(c.path))  # "real20/" and "real20" are one folder
        if any(x.kind == c.kind and os.path.realpath(os.path.expanduser(x.path)) == same and x.model == c.model
               for x in self.candidates):
            return c
        while c.label in {x.label for x in self.candidates} and c.depth < len(Path(c.path).parts):
            c.depth += 1  # run1/samples beside run2/samples: one row each in the results, not one replacing the other
        self.candidates.append(c)
        it = QListWidgetItem(c.label)
        it.setToolTip(c.path if c.kind == "folder" else f"{c.model}: translate {c.path}")
        self.cand_list.addItem(it)
        self._update_buttons()
        return c

    def add_folder(self, folder) -> Candidate:
        return self.add_candidate(Candidate("folder", str(folder)))

    def add_model(self, model_id: Optional[str] = None, inputs: Optional[str] = None) -> Optional[Candidate]:
        mid = model_id or self.model_combo.currentData()
        folder = inputs or self.input_edit.text().strip()
        if not mid or not folder:
            self.window_.notify("Choose a model and the folder it should translate.")
            return None
        name = next((m.name for m in self.picker.models if m.id == mid), mid)
        return self.add_candidate(Candidate("model", folder, mid, name))

    def remove_selected(self) -> None:
        for it in self.cand_list.selectedItems():
            row = self.cand_list.row(it)
            self.cand_list.takeItem(row)
            self.candidates.pop(row)
        self._update_buttons()

    def open_generated(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Folder of generated images", settings().last_dir("eval"))
        if d:
            settings().set_last_dir(d, "eval")
            self.add_folder(d)

    def open_run(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Training run folder", settings().last_dir("runs"))
        if d:
            settings().set_last_dir(d, "runs")
            self.add_run(d)

    def add_run(self, folder) -> None:
        if self.charts.add_run(folder) is None:
            self.problems.add(str(folder), f"no {METRICS_FILE} with numeric values per step")
        else:
            self.tabs.setCurrentWidget(self.charts)

    def accept_paths(self, paths) -> bool:
        """Drops: a run folder goes to the charts, the first folder becomes the real set, others are compared."""
        for p in map(Path, paths):
            if p.is_dir() and (p / METRICS_FILE).is_file():
                self.add_run(p)
            elif p.is_dir() and not self.real_edit.text().strip():
                self.set_real(p)
            elif p.is_dir():
                self.add_folder(p)
            else:
                self.problems.add(str(p), "drop folders of images (or a training run folder) here")
        return True

    def on_shown(self) -> None:
        if not self.charts.runs:
            for r in [i.path for i in list_runs() if (i.path / METRICS_FILE).exists()][:5]:
                self.charts.add_run(r)

    # --- running -----------------------------------------------------------------------------------------
    def config_for(self, c: Candidate) -> EvalConfig:
        opts = MetricOptions(classifier=self.metrics_box.classifier())
        common = dict(real=(self.real_edit.text().strip(),), metrics=tuple(self.selected_metrics()), options=opts,
                      is_weights=self.metrics_box.is_weights(), label=c.label)
        if c.kind == "model":
            return EvalConfig(model=c.model, inputs=(c.path,), **common)
        return EvalConfig(fake=(c.path,), **common)

    def run(self) -> None:
        if self.busy or not self.candidates or not self.real_edit.text().strip():
            return
        self.queue = list(self.candidates)
        self.problems.clear()
        self._total, self._evaluated = len(self.queue), 0
        self._next()

    def _next(self) -> None:
        if not self.queue:
            self.handles = []
            self.progress.setVisible(False)
            n, total = self._evaluated, self._total
            self.status.setText(f"Evaluated {n} set{'s' if n != 1 else ''}." if n == total else
                                f"Evaluated {n} of {total} sets; the problems list says why not the others." if n
                                else "Nothing was evaluated; the problems list says why.")
            self._update_buttons()
            return
        c = self.queue.pop(0)
        try:
            cfg = self.config_for(c)
        except Exception as e:  # noqa: BLE001 - a bad setting is shown, not raised
            self.problems.add(c.label, str(e))
            return self._next()
        done = self._total - len(self.queue) - 1
        h = self.bridge.submit(lambda cfg, ctx: eval_task(cfg, ctx, self.library, self.extractors), cfg,
                               name=f"Evaluate {c.label}", kind="evaluate")
        h.progress.connect(lambda p, d=done: self._progress(d, p))
        h.returned.connect(self._finished)
        h.failed.connect(lambda err, c=c: self.problems.add(c.label, err.message))
        h.finished.connect(lambda state: self._ended(state))
        self.handles = [h]
        self.window_.show_job(h, f"Evaluating {c.label}")
        self.progress.setVisible(True)
        self._update_buttons()

    def _progress(self, done: int, p) -> None:
        frac = (done + (p.fraction or 0.0)) / max(1, self._total)
        self.progress.setValue(int(1000 * frac))
        self.status.setText(p.message)

    def _finished(self, ev) -> None:
        self._evaluated += 1
        self.results.add_evaluation(ev)
        for s in ev.metrics.get("skipped", []):
            self.problems.add(s["path"], f"skipped ({s['set']}): {s['reason']}")
        self.tabs.setCurrentWidget(self.results)

    def _ended(self, state: str) -> None:
        if state in ("finished", "failed"):  # a set that fails is in the problems list; the others still run
            self._next()
        else:
            self.queue = []
            self.handles = []
            self.progress.setVisible(False)
            self.status.setText(f"Evaluation {state}.")
            self._update_buttons()

    def cancel(self) -> None:
        self.queue = []
        for h in self.handles:
            h.cancel()

    @property
    def busy(self) -> bool:
        return bool(self.handles)

    def train_classifier(self) -> None:
        dlg = ClassifierDialog(self)
        if dlg.exec():
            self.start_classifier_training(dlg.folders(), dlg.name.text().strip() or "domain classifier")

    def start_classifier_training(self, folders, name: str):
        h = self.bridge.submit(lambda cfg, ctx: train_classifier_task(cfg, ctx, self.extractors),
                               ClassifierConfig(folders=dict(folders), name=name), name="Train domain classifier",
                               kind="classifier")
        h.returned.connect(lambda r: (self.metrics_box.reload_classifiers(select=r["path"]),
                                      self.window_.notify(f"Trained {r['label']}")))
        h.failed.connect(lambda err: self.problems.add("Domain classifier", err.message))
        self.window_.show_job(h, "Training a domain classifier")
        return h

    def _update_buttons(self) -> None:
        ready = bool(self.candidates and self.real_edit.text().strip() and self.selected_metrics())
        self.run_btn.setEnabled(ready and not self.busy)
        self.cancel_btn.setEnabled(self.busy)
        self.add_model_btn.setEnabled(self.picker.current() is not None)
        if not self.busy and not ready:
            self.status.setText("Choose the real images, add something to compare and pick metrics.")
        elif not self.busy and self.status.text().startswith("Choose the real images"):
            self.status.setText("")

    def copy_markdown(self) -> str:
        text = self.results.markdown(self.hype.score_lines())
        QApplication.clipboard().setText(text)
        self.window_.notify("Copied the results as Markdown.")
        return text

    def close_note(self) -> str:
        """What closing the window would lose ("" when nothing): a running evaluation, results not kept."""
        if self.busy:
            return "An evaluation is running on the Evaluate page; quitting stops it and loses its results."
        n = len(self.results.evaluations)
        if n and not self.results.kept:
            return (f"The Evaluate page's results ({n} set{'s' if n != 1 else ''}) are not saved "
                    "(Export HTML report… or Copy as Markdown keeps them).")
        return ""

    def shutdown(self) -> None:
        self.cancel()
        self.hype.shutdown()


create = EvaluatePage  # the page protocol's create(window) (app/pages/__init__.py)
