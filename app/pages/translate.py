"""Translate page: drop images or folders, pick a model, see before/after, save or export all. The model, Fast / Full,
target domain and face mode (per model) and the output size are remembered as one form (``app.form_memory``)."""
from __future__ import annotations

from typing import List, Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QStackedWidget, QToolButton, QVBoxLayout, QWidget)

from app.pages._page import Page
from app.form_memory import FormMemory, picker_field
from app.pages._translate_actions import TranslateActions
from app.pages._translate_domain import DomainPicker
from app.pages._translate_faces import FaceToggle
from app.pages._translate_inputs import TranslateInputs
from app.settings import settings
from app.widgets.compare_view import CompareView
from app.widgets.images import to_pixmap
from app.widgets.model_picker import ModelPicker, catalog_of
from app.widgets.output_size import OutputSizePicker
from app.widgets.layout import button, column, panel, panes
from app.widgets.problems import ProblemsPanel
from app.widgets.thumb_list import Entry, ThumbList
from engine import translate as T
from engine.fastmodels import summary
from engine.inference import TranslateOptions
from engine.library import DEFAULT_MODEL_ID, ModelInfo, resources_dir
from engine.multidomain import TRANSLATE_TASKS

TITLE = "Translate"
ICON = "translate"


class TranslatePage(Page):
    def __init__(self, window):
        super().__init__(window)
        self.batch = None  # JobHandle of the running batch
        self.preview = None
        self._shown = None  # (Entry, LoadedImage) on screen: its preview reuses the decoded image
        self._loading = None  # (Entry, JobHandle) of the picture being read for showing
        self.inputs = TranslateInputs(self)  # drops, Open dialogs, scanning, thumbnails, removing
        self.actions = TranslateActions(self)  # model cards, importing, saving, exporting
        i, a = self.inputs, self.actions  # the page's entry points (menus, drops, shortcuts, tests)
        self.accept_paths, self.add_paths, self.open_files, self.open_folder = \
            i.accept_paths, i.add_paths, i.open_files, i.open_folder
        self.remove_selected, self.clear_all = i.remove_selected, i.clear_all
        self.import_model, self.import_path, self.show_card = a.import_model, a.import_path, a.show_card
        self.save_current, self.save_to, self.export_all, self.export_to = \
            a.save_current, a.save_to, a.export_all, a.export_to
        self._build()
        self._model_changed()
        self.memory = FormMemory("translate", {
            "model": picker_field(self.picker), "speed": self.picker.speed.field(), "domain": self.domain_picker.field(),
            "faces": self.face_toggle.field(), **self.size_picker.fields()})
        if self.memory.restore():
            self.problems.add("", self.memory.notice())
        for path, why in self.picker.catalog.problems:
            self.problems.add(str(path), why)
        self._update_buttons()

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        left = self._build_left()
        self.view = CompareView()
        self.view.placeholder = "Drop images or folders anywhere on this window"
        self.view.set_split(settings().get("translate/split", 0.5, float))
        self.view.splitChanged.connect(lambda f: settings().set("translate/split", f))
        self.stack = QStackedWidget()
        self.stack.addWidget(self._empty_state())
        self.stack.addWidget(self.view)

        self.problems = ProblemsPanel()
        column(self, (panes(left, self.stack, sizes=[330, 900]), 1), self.problems, self._build_bottom())

    def _build_left(self) -> QWidget:
        """Model picker (+ domain picker, card, output size), the thumbnail list and the add/remove buttons."""
        left, lv = panel()
        head = QHBoxLayout()
        head.addWidget(QLabel("Model:"))
        head.addStretch(1)
        self.import_btn = QToolButton(text="Import…", toolTip="Import a .pth or .safetensors generator (Ctrl+I)")
        self.import_btn.clicked.connect(self.import_model)
        head.addWidget(self.import_btn)
        self.card_btn = QToolButton(text="Card", toolTip="Show the model card: source, licence, training data")
        self.card_btn.clicked.connect(self.show_card)
        head.addWidget(self.card_btn)
        lv.addLayout(head)
        self.picker = ModelPicker(catalog_of(self.window_), TRANSLATE_TASKS, fallback=DEFAULT_MODEL_ID, label="",
                                  speed=True)
        self.model_combo = self.picker.combo
        self.picker.modelChanged.connect(lambda *_: self._model_changed())
        lv.addWidget(self.picker)
        self.domain_picker = DomainPicker()  # multi-domain (StarGAN) models only
        self.domain_combo = self.domain_picker.combo
        self.domain_picker.changed.connect(lambda *_: self._results_stale())
        lv.addWidget(self.domain_picker)
        self.face_toggle = FaceToggle()  # face models only: face mode or whole image
        self.face_toggle.changed.connect(lambda *_: self._results_stale())
        lv.addWidget(self.face_toggle)
        self.model_info = QLabel()
        self.model_info.setWordWrap(True)
        self.model_info.setStyleSheet("color: palette(mid);")
        lv.addWidget(self.model_info)
        self.size_picker = OutputSizePicker()
        self.size_picker.changed.connect(self._results_stale)
        lv.addWidget(self.size_picker)
        self.thumbs = ThumbList()
        self.thumbs.setToolTip("Your pictures: click one to see it before and after; Ctrl/Shift-click to pick "
                               "several for \"Translate selected\"")
        self.thumbs.currentItemChanged.connect(lambda *_: self._show_current())
        self.thumbs.itemSelectionChanged.connect(self._update_buttons)
        lv.addWidget(self.thumbs, 1)
        self.count_label = QLabel("No images")
        lv.addWidget(self.count_label)
        add_row = QHBoxLayout()
        for text, slot, tip in (("Add images…", self.open_files, "Add picture files to the list (Ctrl+O)"),
                                ("Add folder…", self.open_folder,
                                 "Add every picture in a folder and its subfolders (Ctrl+Shift+O)"),
                                ("Remove", self.remove_selected, "Take the selected pictures off the list "
                                                                 "(the files stay on disk)"),
                                ("Clear", self.clear_all, "Empty the list (the files stay on disk)")):
            b = QPushButton(text, toolTip=tip)
            b.clicked.connect(slot)
            add_row.addWidget(b)
            setattr(self, f"btn_{text.split()[0].lower()}", b)
        lv.addLayout(add_row)
        return left

    def _build_bottom(self) -> QHBoxLayout:
        """Translate / Cancel / progress / Save / Export."""
        bottom = QHBoxLayout()
        self.translate_btn = button("Translate selected",
                                    "Translate the selected images (Ctrl+T)", self.translate_selected)
        self.translate_all_btn = button("Translate all",
                                        "Translate every image in the list (Ctrl+Shift+T)", self.translate_all)
        self.cancel_btn = button("Cancel", "Stop the running translation (Esc)", self.cancel)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m")
        self.progress.setVisible(False)
        self.save_btn = button("Save…", "Save the shown result (Ctrl+S)", self.save_current)
        self.export_btn = button("Export all…",
                                 "Translate what is left and save every result to a folder (Ctrl+E)", self.export_all)
        for w in (self.translate_btn, self.translate_all_btn, self.cancel_btn):
            bottom.addWidget(w)
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.save_btn)
        bottom.addWidget(self.export_btn)
        return bottom

    def _empty_state(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.addStretch(1)
        title = QLabel("Drop images or folders anywhere on this window")
        title.setAlignment(Qt.AlignCenter)
        f = title.font()
        f.setPointSizeF(f.pointSizeF() * 1.6)
        title.setFont(f)
        v.addWidget(title)
        sub = QLabel("PNG, JPEG, WebP, BMP, TIFF and GIF; folders are searched recursively. "
                     "Or open files (Ctrl+O), paste an image (Ctrl+V), or try a sample:")
        sub.setAlignment(Qt.AlignCenter)
        sub.setWordWrap(True)
        v.addWidget(sub)
        row = QHBoxLayout()
        row.addStretch(1)
        for p in sorted((resources_dir() / "samples").glob("*.*")):
            if p.suffix.lower() not in (".png", ".jpg"):
                continue
            b = QToolButton()
            pm = QPixmap(str(p))
            b.setIcon(QIcon(pm.scaled(120, 120, Qt.KeepAspectRatio, Qt.SmoothTransformation)))
            b.setIconSize(pm.scaled(120, 120, Qt.KeepAspectRatio).size())
            b.setText(p.stem)
            b.setToolButtonStyle(Qt.ToolButtonTextUnderIcon)
            b.setToolTip(f"Open the sample {p.name}")
            b.clicked.connect(lambda _=False, path=p: self.add_paths([path]))
            row.addWidget(b)
        row.addStretch(1)
        v.addLayout(row)
        v.addStretch(2)
        return w

    def shortcuts(self):
        return [("Translate selected", QKeySequence("Ctrl+T"), self.translate_selected),
                ("Translate all", QKeySequence("Ctrl+Shift+T"), self.translate_all),
                ("Save result…", QKeySequence.Save, self.save_current),
                ("Export all…", QKeySequence("Ctrl+E"), self.export_all),
                ("Cancel", QKeySequence(Qt.Key_Escape), self.cancel)]

    # --- models ------------------------------------------------------------------------------------------
    def current_model(self) -> Optional[ModelInfo]:
        return self.picker.current()

    def _model_changed(self) -> None:
        m = self.current_model()
        self.model_info.setText(summary(m) if m else "No models: use Import… to add one.")
        self.model_info.setToolTip("\n".join(p for p in (m.label, m.description) if p) if m else "")
        self.card_btn.setEnabled(bool(m and m.card))
        self.domain_picker.set_model(m)
        self.size_picker.set_model(m)
        self.face_toggle.set_model(m)
        self._results_stale()

    def _results_stale(self) -> None:
        """Results of another model (or another target domain) are stale; show the current image again."""
        key = self.actions.result_key()
        if self.batch is not None and not self.batch.done:  # its results would be the old model's
            self.batch.cancel()
            self.window_.notify("The batch was stopped: the model or its settings changed. Translate again to use "
                                "the new one.")
        for e in self.thumbs.all_entries():
            if e.result is not None and e.result_model != key:
                e.result, e.status = None, "ready"
                self.thumbs.refresh(e)
        self._show_current()

    # --- showing -----------------------------------------------------------------------------------------
    def _show_current(self) -> None:
        e = self.thumbs.current_entry()
        self._update_buttons()
        if e is None or self.bridge.manager.closed:  # (a thumbnail that arrives while the window closes)
            return
        if e.status == "error":
            self.view.set_images(None)
            self.view.placeholder = f"Cannot open {e.path.name}:\n{e.error}"
            self.view.update()
            return
        if self._shown is not None and self._shown[0] is e:  # decoded already: show it, do not read it again
            self._show_loaded(e, self._shown[1])
            return
        if self._loading is not None and self._loading[0] is e:
            return  # being read already
        self.view.placeholder = "Loading…"
        h = self.bridge.submit(T.load_task, e.path, name="Open image", kind="show", lane="io", replace=True)
        self._loading = (e, h)
        h.finished.connect(lambda *_, h=h: self._load_ended(h))
        h.returned.connect(lambda img, e=e: self._show_loaded(e, img))
        h.failed.connect(lambda err, e=e: self._entry_failed(e, err.message))

    def _load_ended(self, h) -> None:
        if self._loading is not None and self._loading[1] is h:
            self._loading = None

    def _show_loaded(self, e: Entry, img) -> None:
        if e is not self.thumbs.current_entry() or self.bridge.manager.closed:  # late delivery while closing
            return
        after = to_pixmap(e.result.rgb, e.result.alpha) if e.result is not None else None
        self.view.after_hint = "" if after else "Translating…"
        self.view.set_images(to_pixmap(img.rgb, img.alpha), after, keep_view=True)
        self._shown = (e, img)
        if e.result is None and self.batch is None and self.current_model():
            self._translate([e], kind="preview")

    def _entry_failed(self, e: Entry, message: str) -> None:
        """Mark a picture unreadable: the ⚠ mark, one problem entry (never two, whoever finds it first)."""
        reason = message.split(f"{e.path}: ", 1)[-1]  # an ImageLoadError's message starts with the path
        if e.status != "error":
            e.status, e.error = "error", reason
            self.problems.add(str(e.path), reason)
            self.thumbs.refresh(e)
            self._update_buttons()
        if e is self.thumbs.current_entry():
            self.view.set_images(None)
            self.view.placeholder = f"Cannot open {e.path.name}:\n{e.error}"
            self.view.update()

    # --- translating -------------------------------------------------------------------------------------
    def translate_selected(self) -> None:
        self._translate(self.thumbs.selected_entries() or [e for e in [self.thumbs.current_entry()] if e])

    def translate_all(self) -> None:
        self._translate(self.thumbs.all_entries())

    def _translate(self, entries: List[Entry], kind: str = "batch", out_dir: str = ""):
        m = self.current_model()
        entries = [e for e in entries if e.status != "error"]
        if not m or not entries:
            return None
        if kind == "batch":
            entries = [e for e in entries if e.result is None or out_dir]
            if not entries:
                self.window_.notify("Everything shown is already translated.")
                return None
            if self.preview is not None:
                self.preview.cancel()
        side, fit = self.size_picker.max_side()
        cfg = T.TranslateConfig(model=m.id, inputs=tuple(str(e.path) for e in entries), keep_images=True,
                                out_dir=out_dir, suffix=self.actions.result_suffix() if out_dir else "",
                                domain=self.domain_picker.domain(), faces=self.face_toggle.mode(),
                                options=TranslateOptions(max_side=side, fit_side=fit))
        shown, shown_img = self._shown or (None, None)
        loaded = {str(shown.path): shown_img} if any(e is shown for e in entries) else {}
        task = lambda c, ctx: T.translate_task(c, ctx, self.library, info=m, loaded=loaded)  # noqa: E731
        target = f" to {cfg.domain}" if cfg.domain else ""
        h = self.bridge.submit(task, cfg, name=f"Translate with {m.name}{target}", kind=f"translate-{kind}",
                               replace=(kind == "preview"))
        for e in entries:
            e.status = "translating" if kind == "preview" else "queued"
            self.thumbs.refresh(e)
        h.partial.connect(lambda item, key=self.actions.result_key(): self._item_done(item, key))
        h.failed.connect(lambda err: self.problems.add("Translation", err.message))
        h.finished.connect(lambda state, es=entries, kind=kind, out=out_dir: self._job_ended(es, state, kind, out))
        if kind == "batch":
            self.batch = h
            self.progress.setRange(0, len(entries))
            self.progress.setValue(0)
            self.progress.setVisible(True)
            h.progress.connect(lambda p: (self.progress.setMaximum(int(p.total) or len(entries)),
                                          self.progress.setValue(int(p.done))))
            h.started.connect(lambda: self._mark(entries, "queued", "translating"))
            self.window_.show_job(h, "Translating")
        else:
            self.preview = h
        self._update_buttons()
        return h

    def _mark(self, entries, old: str, new: str) -> None:
        for e in entries:
            if e.status == old:
                e.status = new
                self.thumbs.refresh(e)

    def _item_done(self, item, model_id: str) -> None:
        e = self.thumbs.entry(item.source)
        if e is None:
            return
        if item.error:
            self._entry_failed(e, item.error)
            return
        if model_id != self.actions.result_key():  # finished after the model (or its settings) changed: stale
            if e.status in ("queued", "translating"):
                e.status = "ready"
                self.thumbs.refresh(e)
            return
        e.result, e.result_model, e.status, e.notes = item.image, model_id, "done", item.notes
        for n in item.notes:
            self.problems.add(e.path.name, n)
        self.thumbs.refresh(e)
        if e is self.thumbs.current_entry() and item.image is not None:
            self.view.after_hint = ""
            self.view.set_after(to_pixmap(item.image.rgb, item.image.alpha))
        self._update_buttons()

    def _job_ended(self, entries, state: str, kind: str, out_dir: str = "") -> None:
        for e in entries:
            if e.status in ("queued", "translating"):
                e.status = "ready"
                self.thumbs.refresh(e)
        if kind == "batch":
            self.batch = None
            self.progress.setVisible(False)
            done = sum(1 for e in entries if e.status == "done")
            saved = f"; saved in {out_dir}" if out_dir and done else ""  # Export all: where the files went
            self.window_.notify(f"Translation {state}: {done} of {len(entries)} done{saved}.")
        elif self.preview is not None and self.preview.done:
            self.preview = None
        self._update_buttons()

    def cancel(self) -> None:
        for h in (self.batch, self.preview):
            if h is not None:
                h.cancel()

    def _update_buttons(self) -> None:
        n = self.thumbs.count()
        busy = self.batch is not None
        cur = self.thumbs.current_entry()
        done = sum(1 for e in self.thumbs.all_entries() if e.status == "done")
        errors = sum(1 for e in self.thumbs.all_entries() if e.status == "error")
        self.count_label.setText(f"{n} image{'s' if n != 1 else ''}, {done} translated"
                                 + (f", {errors} unreadable" if errors else "") if n else "No images")
        self.translate_btn.setEnabled(n > 0 and not busy)
        self.translate_all_btn.setEnabled(n > 0 and not busy)
        self.cancel_btn.setEnabled(busy or self.preview is not None)
        self.save_btn.setEnabled(cur is not None and cur.result is not None)
        self.export_btn.setEnabled(n > 0 and not busy)
        self.btn_remove.setEnabled(bool(self.thumbs.selectedItems()))
        self.btn_clear.setEnabled(n > 0)

    def shutdown(self) -> None:
        self.cancel()


create = TranslatePage  # the page protocol's create(window) (app/pages/__init__.py)
