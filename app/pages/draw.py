"""Draw page: draw (or load) a sketch or a label map on the left, see the model's result on the right as you draw.

Works with every translation model: pix2pix models trained on sketches (black pen on white, "sketch from photo"
in the model's training edge style), pix2pix label-map models (a palette of the model's class colours) and
CycleGAN models used as one-way translators. The canvas has the model's training resolution. The model, Fast / Full,
the style choice, the brush size and the pen colour are remembered as one form (``app.form_memory``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

import cv2
import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QMenu, QPushButton,
                               QToolButton)

from app.form_memory import FormMemory, picker_field
from app.pages._draw_live import LiveRender
from app.pages._page import Page
from app.settings import settings
from app.widgets.draw_tools import DrawTools
from app.widgets.image_panel import ImagePanel
from app.widgets.images import to_pixmap
from app.widgets.model_picker import ModelPicker, catalog_of
from app.widgets.layout import column, panes
from app.widgets.problems import ProblemsPanel
from app.widgets.save_dialog import ask_save_image
from app.widgets.sketch_canvas import SketchCanvas
from engine import draw as DR
from engine.fastmodels import summary
from engine.imageio import save_image
from engine.library import ModelInfo, resources_dir

TITLE = "Draw"
ICON = "draw"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.gif);;All files (*)"
NORM_MODES = [("eval", "Style: as trained (steadier)"), ("train", "Style: adapt to this drawing (bolder)")]
CANVAS_MIN_PX = 512  # on screen, whatever the model's resolution (a 128 px model is drawn at 4x)


KIND_NOUN = {"sketch": "sketch", "label": "label map", "image": "picture"}


class DrawPage(Page):
    resultShown = Signal(object)  # engine.draw.RenderResult

    def __init__(self, window):
        super().__init__(window)
        self.live = DR.LiveTranslator(self.library)
        self.spec = DR.DrawSpec()
        self._kept: Dict[str, np.ndarray] = {}  # a drawing per input kind, kept while a model of another kind is used
        self._saved_drawing: Optional[np.ndarray] = None  # the drawing as last saved (closing asks when it differs)
        self.result: Optional[np.ndarray] = None
        self.active = False
        self._build()
        self.renderer = LiveRender(self.bridge, self.live, self.canvas.array, parent=self)
        self.canvas.changed.connect(self.renderer.changed)
        self.canvas.strokeFinished.connect(self.renderer.stroke_finished)
        self.canvas.historyChanged.connect(self._update_buttons)
        self.renderer.rendered.connect(self._show_result)
        self.renderer.strokeRendered.connect(self._stroke_latency)
        self.renderer.failed.connect(lambda msg: self.problems.add("Translation", msg))
        self._shortcuts()
        self._model_changed()
        self.memory = FormMemory("draw", {
            "model": picker_field(self.picker), "speed": self.picker.speed.field(), "style": self.norm_combo,
            "brush": self.tools.size_spin, "pen_color": self.tools.color_field()})
        if self.memory.restore():
            self.problems.add("", self.memory.notice())

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        top = QHBoxLayout()
        self.picker = ModelPicker(catalog_of(self.window_), ("translate",),
                                  text=lambda m: f"{m.label} · {m.family or 'model'}", order=DR.model_order,
                                  speed=True)
        self.model_combo = self.picker.combo
        self.picker.modelChanged.connect(lambda *_: self._model_changed())
        top.addWidget(self.picker, 1)
        self.norm_combo = QComboBox(toolTip="How this model adapts to your drawing. 'As trained' uses what it "
                                            "learnt from its training pictures (steadier); 'adapt to this drawing' "
                                            "measures your drawing itself (bolder, as the original pix2pix demo; "
                                            "technically: batch-norm statistics in eval or train mode)")
        for key, text in NORM_MODES:
            self.norm_combo.addItem(text, key)
        self.norm_combo.currentIndexChanged.connect(self._norm_changed)
        top.addWidget(self.norm_combo)
        self.model_info = QLabel(wordWrap=True)
        self.model_info.setStyleSheet("color: palette(mid);")

        self.canvas = SketchCanvas()
        self.canvas.setMinimumSize(CANVAS_MIN_PX, CANVAS_MIN_PX)
        self.canvas.setToolTip("Draw here with the left button; the right button erases. Ctrl+wheel changes the "
                               "brush; drop a sketch or a photo here to load it")
        self.tools = DrawTools(self.canvas)
        self.output = ImagePanel("Draw on the left (or load a sketch, or make one with Sketch from photo): the model's "
                                  "result appears here as you draw.")
        self.latency_label = QLabel("")
        self.save_result_btn = QPushButton("Save result…", toolTip="Save the translated picture")
        self.save_result_btn.clicked.connect(self.save_result)
        bottom = self._canvas_buttons()
        bottom.addWidget(self.latency_label)
        bottom.addStretch(1)
        bottom.addWidget(self.save_result_btn)
        self.problems = ProblemsPanel()
        split = panes(self.canvas, self.output, sizes=[600, 600], grow=None)
        column(self, top, self.model_info, self.tools, (split, 1), bottom, self.problems)

    def _canvas_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.undo_btn = QPushButton("Undo", toolTip="Undo the last stroke (Ctrl+Z)")
        self.redo_btn = QPushButton("Redo", toolTip="Redo (Ctrl+Shift+Z or Ctrl+Y)")
        self.clear_btn = QPushButton("Clear", toolTip="Start again on an empty canvas (Delete); undoable")
        self.load_btn = QPushButton("Load…", toolTip="Load a sketch, label map or picture into the canvas")
        self.sketch_btn = QToolButton(text="Sketch from photo", popupMode=QToolButton.MenuButtonPopup)
        self.sketch_menu = QMenu(self.sketch_btn)
        self.sketch_btn.setMenu(self.sketch_menu)
        self.sketch_btn.clicked.connect(self.sketch_from_photo)
        self.save_sketch_btn = QPushButton("Save sketch…", toolTip="Save the drawing as a PNG")
        for b, slot in ((self.undo_btn, self.canvas.undo), (self.redo_btn, self.canvas.redo),
                        (self.clear_btn, self.canvas.clear), (self.load_btn, self.load_dialog),
                        (self.save_sketch_btn, self.save_sketch)):
            b.clicked.connect(lambda _=False, s=slot: s())
        for w in (self.undo_btn, self.redo_btn, self.clear_btn, self.load_btn, self.sketch_btn,
                  self.save_sketch_btn):
            row.addWidget(w)
        row.addSpacing(16)
        self.sketch_menu.addAction("Choose a photo…", self.sketch_from_photo)
        for p in sorted((resources_dir() / "samples").glob("*.*")):
            if p.suffix.lower() in (".png", ".jpg", ".jpeg"):
                self.sketch_menu.addAction(f"Sample: {p.stem}", lambda p=p: self.sketch_from_path(str(p)))
        return row

    def _shortcuts(self) -> None:
        keys = [("Ctrl+Z", self.canvas.undo), ("Ctrl+Shift+Z", self.canvas.redo), ("Ctrl+Y", self.canvas.redo),
                ("[", self.tools.smaller), ("]", self.tools.bigger), ("E", self.tools.toggle_eraser),
                ("B", self.tools.select_pen), ("Delete", self.canvas.clear)]
        self.actions_ = []
        for seq, slot in keys:
            a = QAction(seq, self)
            a.setShortcut(QKeySequence(seq))
            a.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            a.triggered.connect(lambda _=False, s=slot: s())
            self.addAction(a)
            self.actions_.append(a)

    # --- models ------------------------------------------------------------------------------------------
    def current_model(self) -> Optional[ModelInfo]:
        return self.picker.current()

    def select_model(self, model_id: str) -> None:
        self.picker.select(model_id)

    def _model_changed(self) -> None:
        m = self.current_model()
        if m is None:
            self.model_info.setText("No translation models: train one or import one on the Translate page.")
            self._update_buttons()
            return
        old, self.spec = self.spec, DR.draw_spec(m)
        note = self._adapt_canvas(old)
        uses_bn = (m.meta.get("arch_kwargs") or {}).get("norm") == "batch"
        self.norm_combo.setVisible(uses_bn)
        self.norm_combo.blockSignals(True)
        self.norm_combo.setCurrentIndex(1 if self.spec.norm_mode == "train" else 0)
        self.norm_combo.blockSignals(False)
        text = f"{summary(m)} — {DR.describe_spec(self.spec)}"
        self.model_info.setText(text)
        self.model_info.setToolTip(m.description or "")
        self.sketch_btn.setToolTip("Turn a photo into a sketch in the style this model was trained with: "
                                   + (self.spec.sketch or DR.SketchStyle()).describe())
        self.result = None
        self.output.set_pixmap(None)
        self.latency_label.setText(note)
        if self.active:
            self.renderer.set_model(m.id, self.norm_combo.currentData())
        self._update_buttons()

    def _adapt_canvas(self, old: DR.DrawSpec) -> str:
        """Fit the canvas to the new model's input. A drawing of another kind (a sketch when a label-map model is
        chosen) is kept aside and comes back when a model of its kind is chosen again; returns a note saying so."""
        spec = self.spec
        if spec.input_kind == "label":
            self.tools.set_palette(spec.palette, spec.pen)
        else:
            self.tools.set_palette([], self.canvas.pen_color if old.input_kind != "label" else DR.BLACK)
        note = ""
        interp = cv2.INTER_NEAREST if spec.input_kind == "label" else cv2.INTER_AREA
        if old.input_kind != spec.input_kind:
            if not self.canvas.is_blank():
                self._kept[old.input_kind] = self.canvas.array()
                noun = KIND_NOUN.get(old.input_kind, "drawing")
                note = f"Your {noun} is kept: it comes back when you choose a model that takes a {noun} again."
            self.canvas.reset(spec.size, spec.background)
            kept = self._kept.pop(spec.input_kind, None)
            if kept is not None:
                self.canvas.set_array(cv2.resize(kept, (spec.size, spec.size), interpolation=interp), record=False)
                note = f"Your earlier {KIND_NOUN.get(spec.input_kind, 'drawing')} is back."
        elif self.canvas.is_blank():
            self.canvas.reset(spec.size, spec.background)
        elif self.canvas.canvas_size != spec.size:
            self.canvas.set_array(cv2.resize(self.canvas.array(), (spec.size, spec.size), interpolation=interp))
        self.canvas.background = spec.background
        return note

    def _norm_changed(self) -> None:
        m = self.current_model()
        if m is not None and self.active:
            self.renderer.set_model(m.id, self.norm_combo.currentData())

    def on_shown(self) -> None:
        if not self.active:
            self.active = True
            m = self.current_model()
            if m is not None:
                self.renderer.set_model(m.id, self.norm_combo.currentData())

    # --- results -----------------------------------------------------------------------------------------
    def _show_result(self, res: DR.RenderResult) -> None:
        if self.spec.input_kind == "sketch" and self.canvas.is_blank():
            # nothing drawn: the empty state, not what the model makes of a white page (texture, no picture)
            self.result = None
            self.output.set_pixmap(None)
            self._update_buttons()
            return
        self.result = res.rgb
        self.output.set_pixmap(to_pixmap(res.rgb))
        self.output.caption = f"{res.rgb.shape[1]}×{res.rgb.shape[0]} · {res.seconds * 1000:.0f} ms"
        self.output.update()
        for n in res.notes:
            self.problems.add("Translation", n)
        self._update_buttons()
        self.resultShown.emit(res)

    def _stroke_latency(self, seconds: float) -> None:
        self.latency_label.setText(f"Updated {seconds * 1000:.0f} ms after the stroke")

    # --- loading -----------------------------------------------------------------------------------------
    def accept_paths(self, paths) -> bool:
        if paths:
            self.load_path(str(paths[0]))
        return True

    def load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a sketch or picture", settings().last_dir("draw"),
                                              IMAGE_FILTER)
        if path:
            self.load_path(path)

    def load_path(self, path: str):
        settings().set_last_dir(path, "draw")
        h = self.bridge.submit(DR.load_canvas_task, (path, self.spec.size), name="Load into canvas", lane="io")
        h.returned.connect(lambda rgb: self._set_canvas(rgb, f"Loaded {Path(path).name}"))
        h.failed.connect(lambda err: self._load_failed(path, err.message))
        return h

    def sketch_from_photo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Make a sketch from a photo", settings().last_dir("draw"),
                                              IMAGE_FILTER)
        if path:
            settings().set_last_dir(path, "draw")  # the next dialog opens here
            self.sketch_from_path(path)

    def sketch_from_path(self, path: str):
        style = self.spec.sketch or DR.SketchStyle()
        h = self.bridge.submit(DR.sketch_from_photo_task, (path, self.spec.size, style), name="Sketch from photo",
                               lane="io")
        h.returned.connect(lambda rgb: self._set_canvas(rgb, f"Sketch of {Path(path).name} ({style.title})"))
        h.failed.connect(lambda err: self._load_failed(path, err.message))
        return h

    def _set_canvas(self, rgb: np.ndarray, message: str) -> None:
        if self.spec.input_kind == "label":
            rgb = DR.recolor_to_palette(rgb, self.spec.palette)
        self.canvas.set_array(rgb)
        self.latency_label.setText(message)  # not the last stroke's "Updated … ms after the stroke"
        self.renderer.request_now()
        self.window_.notify(message)

    def _load_failed(self, path: str, message: str) -> None:
        self.problems.add(Path(path).name, message)
        self.window_.notify(f"Could not load {Path(path).name}; the canvas is unchanged.")

    # --- saving ------------------------------------------------------------------------------------------
    def save_sketch(self) -> None:
        chosen = self._ask_save("Save sketch", "sketch.png")
        if chosen:
            self.save_sketch_to(*chosen)

    def save_result(self) -> None:
        if self.result is None:
            self.window_.notify("Nothing to save yet: draw something first.")
            return
        chosen = self._ask_save("Save result", "result.png")
        if chosen:
            self.save_result_to(*chosen)

    def _ask_save(self, title: str, name: str):
        """``(path, overwrite)`` or None; asks before replacing an existing file."""
        chosen = ask_save_image(self, title, str(Path(settings().last_dir("draw_save")) / name))
        return (str(chosen[0]), chosen[1]) if chosen else None

    def save_sketch_to(self, path: str, overwrite: bool = False):
        drawing = self.canvas.array()
        h = self._save(path, drawing, overwrite)
        h.returned.connect(lambda _p, d=drawing: setattr(self, "_saved_drawing", d))  # saved only once it is written
        return h

    def save_result_to(self, path: str, overwrite: bool = False):
        return self._save(path, self.result, overwrite) if self.result is not None else None

    def _save(self, path: str, rgb: np.ndarray, overwrite: bool = False):
        """Replace an existing file only when the user confirmed (``overwrite``); else a free name is picked."""
        settings().set_last_dir(path, "draw_save")
        h = self.bridge.submit(lambda cfg, ctx: save_image(cfg[0], cfg[1], overwrite=overwrite), (path, rgb.copy()),
                               name="Save", lane="io")
        h.returned.connect(lambda p: self.window_.notify(f"Saved {p}"))
        h.failed.connect(lambda err: self.problems.add(Path(path).name, err.message))
        return h

    def _update_buttons(self) -> None:
        self.undo_btn.setEnabled(self.canvas.can_undo())
        self.redo_btn.setEnabled(self.canvas.can_redo())
        self.save_result_btn.setEnabled(self.result is not None)
        self.sketch_btn.setEnabled(self.current_model() is not None)

    def close_note(self) -> str:
        """What closing the window would lose ("" when nothing): a drawing that was never saved as it is now."""
        saved = self._saved_drawing
        if self.canvas.is_blank() or (saved is not None and np.array_equal(saved, self.canvas.array())):
            return ""
        return "Your drawing on the Draw page is not saved (Save sketch… keeps it)."

    def shutdown(self) -> None:
        self.renderer.shutdown()


create = DrawPage  # the page protocol's create(window) (app/pages/__init__.py)
