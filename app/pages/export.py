"""Export page: turn models into a standalone app (no Python or torch needed to run it), ONNX files, or model files
for other GAN Studio users. The work runs as a job with progress; the final size is shown and the folder opens. The
ticked models and every field of the form are remembered as one form (``app.form_memory``)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QProgressBar, QPushButton,
                               QRadioButton, QToolButton, QVBoxLayout)

from app.pages._page import Page
from app.form_memory import FormMemory, path_field, picker_field
from app.settings import settings
from app.widgets.model_picker import ModelPicker, catalog_of
from app.widgets.save_path import confirm_replace
from engine.config import ConfigError
from engine.export.app_builder import (NAME_RE, BuildAppConfig, archive_path, build_app_task, default_icon,
                                       earlier_build)
from engine.export.tasks import ExportBatchConfig, existing_targets, export_batch_task
from engine.library import ModelInfo

TITLE = "Export"
ICON = "export"
KINDS = (("app", "Standalone app", "A program with the model(s) inside: runs without Python or torch; install "
                                   "it or share the .tar.gz"),
         ("onnx", "ONNX files", "One .onnx per model with its card, checked against torch (max |diff| 1e-3)"),
         ("model", "Model files", ".safetensors + model card, for other GAN Studio users"))


def export_order(m: ModelInfo):
    """Sort key of the Export page's list: translation models, then generators; finished before partial, bundled
    before the user's; by name, a fast version by its teacher's name, so that it sits right below its model."""
    teacher = ((m.meta or {}).get("distilled_from") or {}).get("name")
    return (m.task != "translate", bool(m.partial), m.source != "bundled", (teacher or m.name).lower(), bool(teacher))


class ExportPage(Page):
    def __init__(self, window):
        super().__init__(window)
        self.job = None
        self.result_dir: Optional[Path] = None
        self._build()
        self.kind_buttons["app"].setChecked(True)
        self.archive_check.setChecked(True)
        self.memory = FormMemory("export", {
            "models": picker_field(self.picker), "kind": self.kind_buttons, "name": self.name_edit,
            "title": self.title_edit, "icon": path_field(self.icon_edit, "the icon", kind="file"),
            "out": self.out_edit, "archive": self.archive_check})
        if self.memory.restore():
            self._say(self.memory.notice())
        self._show_icon()
        self._describe()
        self._kind_changed()

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Models</b> (tick one or more)"))
        self.picker = ModelPicker(catalog_of(self.window_), ("translate", "generate"), multi=True, label="",
                                  text=lambda m: f"{m.label}  ·  {m.task}", order=export_order)
        self.picker.setToolTip("Tick the models to export; the description below is of the ticked models")
        self.model_list = self.picker.list
        self.picker.checkedChanged.connect(lambda *_: (self._describe(), self._update()))
        left.addWidget(self.picker, 1)
        self.model_info = QLabel()
        self.model_info.setWordWrap(True)
        self.model_info.setStyleSheet("color: palette(mid);")
        left.addWidget(self.model_info)
        right = QVBoxLayout()
        box = QGroupBox("Export as")
        bl = QVBoxLayout(box)
        self.kind_group = QButtonGroup(self)
        self.kind_buttons = {}
        for i, (key, text, tip) in enumerate(KINDS):
            b = QRadioButton(text)
            b.setToolTip(tip)
            self.kind_group.addButton(b, i)
            self.kind_buttons[key] = b
            bl.addWidget(b)
            hint = QLabel(tip)
            hint.setStyleSheet("color: palette(mid); margin-left: 22px;")
            hint.setWordWrap(True)
            bl.addWidget(hint)
        self.kind_group.idToggled.connect(lambda *_: self._kind_changed())
        right.addWidget(box)
        right.addLayout(self._form())
        right.addLayout(self._run_row())
        self.log = QPlainTextEdit(readOnly=True, maximumBlockCount=500, toolTip="What the export did, step by step")
        self.log.setPlaceholderText("What the export did appears here.")
        right.addWidget(self.log, 1)
        lay = QHBoxLayout(self)
        lay.addLayout(left, 1)  # half the width for the list: long model names fit
        lay.addLayout(right, 1)

    def _form(self) -> QFormLayout:
        form = QFormLayout()
        self.name_edit = QLineEdit(placeholderText="e.g. vintage-photo")
        self.name_edit.setToolTip("The program's file name: letters, digits, '-' and '_'")
        self.name_edit.textChanged.connect(lambda *_: self._update())
        self.title_edit = QLineEdit(placeholderText="Window title and menu name (default: the name)",
                                    toolTip="The app's window title and its name in the applications menu")
        icon_row = QHBoxLayout()
        self.icon_edit = QLineEdit(placeholderText="empty: GAN Studio's icon",
                                   toolTip="A .png or .svg icon for the app (empty: GAN Studio's)")
        self.icon_edit.textChanged.connect(lambda *_: self._show_icon())
        self.icon_preview = QLabel()
        self.icon_preview.setFixedSize(36, 36)
        icon_btn = QToolButton(text="…", toolTip="Choose a .png or .svg icon")
        icon_btn.clicked.connect(self.choose_icon)
        for w in (self.icon_preview, self.icon_edit, icon_btn):
            icon_row.addWidget(w)
        out_row = QHBoxLayout()
        self.out_edit = QLineEdit(placeholderText="Folder to write to", toolTip="Where the export is written")
        self.out_edit.textChanged.connect(lambda *_: self._update())
        out_btn = QToolButton(text="…", toolTip="Choose the output folder")
        out_btn.clicked.connect(self.choose_folder)
        out_row.addWidget(self.out_edit)
        out_row.addWidget(out_btn)
        self.archive_check = QCheckBox("Also make a .tar.gz for sharing",
                                       toolTip="One file to send to others; they unpack it and run the app")
        self.dest_label = QLabel()
        self.dest_label.setStyleSheet("color: palette(mid);")
        self.dest_label.setWordWrap(True)
        self.app_rows = [("App name:", self.name_edit), ("Title:", self.title_edit), ("Icon:", icon_row)]
        for label, w in self.app_rows:
            form.addRow(label, w)
        form.addRow("Output folder:", out_row)
        form.addRow("", self.archive_check)
        form.addRow("", self.dest_label)
        self.form = form
        return form

    def _run_row(self) -> QVBoxLayout:
        col = QVBoxLayout()
        row = QHBoxLayout()
        self.export_btn = QPushButton("Export", toolTip="Start the export of the ticked models")
        self.export_btn.setDefault(True)
        self.export_btn.clicked.connect(self.start_export)
        self.cancel_btn = QPushButton("Cancel", toolTip="Stop the export; nothing already there is replaced")
        self.cancel_btn.clicked.connect(self.cancel)
        self.open_btn = QPushButton("Open folder", toolTip="Show the exported files in your file manager")
        self.open_btn.clicked.connect(self.open_folder)
        for b in (self.export_btn, self.cancel_btn, self.open_btn):
            row.addWidget(b)
        row.addStretch(1)
        col.addLayout(row)
        self.progress = QProgressBar(visible=False)
        self.progress.setRange(0, 1000)
        col.addWidget(self.progress)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        col.addWidget(self.status)
        return col

    # --- state -------------------------------------------------------------------------------------------
    def kind(self) -> str:
        return next(k for k, b in self.kind_buttons.items() if b.isChecked())

    def _describe(self) -> None:
        """Describe the ticked models (not the highlighted row: that is not what gets exported)."""
        ticked = self.picker.checked()
        if not ticked:
            self.model_info.setText("Tick a model to export it." if self.picker.models else
                                    "No models yet: train one or import one on the Translate page.")
            return
        self.model_info.setText("<br><br>".join(
            f"<b>{m.name}</b> ({m.family or 'model'}, {m.arch}, {m.task})<br>{m.description}" for m in ticked[:3])
            + (f"<br><br>… and {len(ticked) - 3} more" if len(ticked) > 3 else ""))

    def checked_ids(self) -> List[str]:
        return self.picker.checked_ids()

    def set_checked(self, ids: List[str]) -> None:
        self.picker.set_checked(ids)

    def _kind_changed(self) -> None:
        app = self.kind() == "app"
        for label, w in self.app_rows:
            for x in (self.form.labelForField(w), w):
                if x is not None and hasattr(x, "setVisible"):
                    x.setVisible(app)
            if isinstance(w, QHBoxLayout):
                for i in range(w.count()):
                    w.itemAt(i).widget().setVisible(app)
        self.archive_check.setVisible(app)
        self._update()

    def destination(self) -> Optional[Path]:
        out = self.out_edit.text().strip()
        if not out:
            return None
        return Path(out).expanduser() / self.name_edit.text().strip() if self.kind() == "app" else Path(out)

    def _update(self) -> None:
        busy = self.job is not None
        dest = self.destination()
        n = len(self.checked_ids())
        if self.kind() == "app" and dest is not None and self.name_edit.text().strip():
            self.dest_label.setText(f"The program will be {dest / self.name_edit.text().strip()}")
        elif dest is not None and self.kind() != "app":
            self.dest_label.setText(f"{n} file{'s' if n != 1 else ''} will be written to {dest}")
        else:
            self.dest_label.setText("")
        self.export_btn.setEnabled(not busy and n > 0)
        self.cancel_btn.setEnabled(busy)
        self.open_btn.setEnabled(self.result_dir is not None and self.result_dir.exists())
        for w in (self.model_list, self.name_edit, self.title_edit, self.icon_edit, self.out_edit):
            w.setEnabled(not busy)

    def _show_icon(self) -> None:
        p = self.icon_edit.text().strip() or str(default_icon())
        self.icon_preview.setPixmap(QIcon(p).pixmap(32, 32) if Path(p).is_file() else QIcon().pixmap(32, 32))

    def choose_icon(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "App icon", settings().last_dir("icon"), "Icons (*.png *.svg)")
        if path:
            settings().set_last_dir(path, "icon")
            self.icon_edit.setText(path)

    def choose_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export to", self.out_edit.text() or settings().last_dir("export"))
        if d:
            settings().set_last_dir(d, "export")
            self.out_edit.setText(d)

    def on_shown(self) -> None:
        if self.job is None:
            self.picker.catalog.refresh()  # models written meanwhile by the CLI appear

    # --- running -----------------------------------------------------------------------------------------
    def build_config(self):
        """The job's config from the form; a ConfigError says what is missing."""
        ids = self.checked_ids()
        if not ids:
            raise ConfigError("Tick at least one model to export.")
        out = self.out_edit.text().strip()
        if not out:
            raise ConfigError("Choose the output folder.")
        if self.kind() != "app":
            return ExportBatchConfig(kind=self.kind(), models=tuple(ids), out_dir=out)
        name = self.name_edit.text().strip()
        if not NAME_RE.match(name):
            raise ConfigError("Give the app a name that starts with a letter and uses only letters, digits, '-' and "
                              "'_' (it becomes the program's file name).")
        return BuildAppConfig(models=tuple(ids), name=name, out_dir=str(self.destination()),
                              title=self.title_edit.text().strip(), icon=self.icon_edit.text().strip(),
                              archive=self.archive_check.isChecked())

    def start_export(self):
        try:
            cfg = self.build_config()
        except ConfigError as e:
            self._say(str(e), error=True)
            return None
        lib = self.library
        if isinstance(cfg, BuildAppConfig):
            out = Path(cfg.out_dir)
            existing = [out] if earlier_build(out) else []
            if cfg.archive and archive_path(out).is_file():
                existing.append(archive_path(out))
            if existing and not confirm_replace(self, existing):  # the output policy: ask before replacing
                kept = [f"the earlier build in {p}" if p == out else f"the archive {p}" for p in existing]
                self._say(f"Nothing was built; {' and '.join(kept)} {'was' if len(kept) == 1 else 'were'} kept.")
                return None
            cfg = cfg.replace(overwrite=bool(existing))
            task, title = (lambda c, ctx: build_app_task(c, ctx, lib)), f"Build app {cfg.name}"
            self.result_dir = Path(cfg.out_dir)
        else:
            existing = existing_targets(cfg, lib)
            if existing and not confirm_replace(self, existing):  # the output policy: ask before replacing
                self._say("Nothing was exported; the existing files were kept.")
                return None
            cfg = cfg.replace(overwrite=bool(existing))
            task, title = (lambda c, ctx: export_batch_task(c, ctx, lib)), f"Export {len(cfg.models)} model(s)"
            self.result_dir = Path(cfg.out_dir)
        self.log.clear()
        self.job = h = self.bridge.submit(task, cfg, name=title, kind="export")
        h.progress.connect(self._on_progress)
        h.log.connect(self.log.appendPlainText)
        h.returned.connect(self._on_finished)
        h.failed.connect(lambda err: self._say(err.message, error=True))
        h.cancelled.connect(lambda: self._say("Export cancelled; nothing was replaced."))
        h.finished.connect(self._on_ended)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._say(f"{title}: starting…")
        self.window_.show_job(h, title)
        self._update()
        return h

    def _on_progress(self, p) -> None:
        if p.total:
            self.progress.setValue(int(1000 * min(1.0, p.done / p.total)))
        if p.message:
            self.status.setStyleSheet("")
            self.status.setText(p.message)

    def _on_finished(self, res) -> None:
        self.log.appendPlainText(res.message())
        size = getattr(res, "size", 0)
        self._say(f"{res.message()} Total size: {size / 1e6:.0f} MB." if size >= 1e6 else res.message())
        self.window_.notify(res.message())

    def _on_ended(self, _state: str) -> None:
        self.job = None
        self.progress.setVisible(False)
        self._update()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #c0392b;" if error else "")
        self.status.setText(text)
        if error:
            self.log.appendPlainText(re.sub(r"\s+", " ", text))

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def open_folder(self) -> None:
        if self.result_dir is not None and self.result_dir.exists():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.result_dir)))

    def shutdown(self) -> None:
        self.cancel()


create = ExportPage  # the page protocol's create(window) (app/pages/__init__.py)
