"""Latent page: explore a generator's latent space (seeds, truncation, noise, style mixing, interpolation), edit along
directions (GANSpace, SeFa, your own) with live rendering, and project your own photos to edit them. The model and
every setting of the panels are remembered as one form (``app.form_memory``)."""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QSlider,
                               QSpinBox, QTabWidget, QToolButton, QWidget)

from app.form_memory import FormMemory, picker_field
from app.pages._latent_actions import LatentActions
from app.pages._page import Page
from app.widgets.images import to_pixmap
from app.widgets.latent_panels import EditPanel, InterpPanel, MixPanel, PhotoPanel
from app.widgets.layout import choice, column, panel, panes
from app.widgets.model_picker import ModelPicker, catalog_of
from app.widgets.problems import ProblemsPanel
from engine.editing.session import LatentSession, ViewState
from engine.library import DEFAULT_LATENT_MODEL_ID, ModelInfo

TITLE = "Latent"
ICON = "latent"
GRID_PAGE = 24


class ImageLabel(QLabel):
    """Shows a numpy picture scaled to fit, keeping the aspect ratio."""

    def __init__(self, placeholder: str = ""):
        super().__init__(placeholder)
        self.setAlignment(Qt.AlignCenter)
        self.setMinimumSize(256, 256)
        self._pm = None

    def set_image(self, rgb) -> None:
        self._pm = to_pixmap(rgb)
        self._rescale()

    def _rescale(self) -> None:
        if self._pm is not None:
            side = max(1, min(self.width(), self.height()))
            self.setPixmap(self._pm.scaled(side, side, Qt.KeepAspectRatio, Qt.SmoothTransformation))

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self._rescale()


class LatentPage(Page):
    def __init__(self, window):
        super().__init__(window)
        self.session: Optional[LatentSession] = None
        self.current = None  # engine.editing.latent.Latent shown
        self.last_render = None  # numpy picture on screen (tests, saving)
        self.renders = 0
        self.noise_seed = 0
        self.positives: list = []
        self.negatives: list = []
        self.project_job = None
        self.photo_rgb = None
        self._loaded = False
        self.actions = a = LatentActions(self)  # rendering, seeds, directions, mixing, interpolation, photos
        self.accept_paths, self.open_seed, self.show_card, self.load_photo = \
            a.accept_paths, a.open_seed, a.show_card, a.load_photo  # the page's entry points (drops, tests)
        self.compute_directions, self.mark_example = a.compute_directions, a.mark_example
        self.save_directions_to, self.load_directions_from = a.save_directions_to, a.load_directions_from
        self.export_interpolation_to = a.export_interpolation_to
        self._build()
        self.memory = FormMemory("latent", {
            "model": picker_field(self.picker), "psi": self.psi, "noise": self.noise_mode,
            "noise_strength": self.noise_strength, "first_seed": self.start_seed, **self.edit_panel.fields(),
            **self.mix_panel.fields(), **self.interp_panel.fields(), **self.photo_panel.fields()})
        if self.memory.restore():
            self.problems.add("", self.memory.notice())

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        top = self._build_top()
        left = self._build_seed_list()
        center = self._build_center()

        self.tabs = QTabWidget()
        self.edit_panel, self.mix_panel = EditPanel(), MixPanel()
        self.interp_panel, self.photo_panel = InterpPanel(), PhotoPanel()
        for w, name in ((self.edit_panel, "Edit"), (self.mix_panel, "Mix"), (self.interp_panel, "Interpolate"),
                        (self.photo_panel, "Photo")):
            self.tabs.addTab(w, name)
        self.tabs.setMinimumWidth(330)

        self.problems = ProblemsPanel()
        column(self, top, (panes(left, center, self.tabs, sizes=[300, 560, 380]), 1), self.problems)
        self._connect()

    def _build_top(self) -> QHBoxLayout:
        top = QHBoxLayout()
        self.picker = ModelPicker(catalog_of(self.window_), ("generate",), fallback=DEFAULT_LATENT_MODEL_ID)
        self.picker.setToolTip("The generator whose latent space you explore")
        self.model_combo = self.picker.combo
        self.picker.modelChanged.connect(lambda *_: self._loaded and self._model_changed())
        top.addWidget(self.picker, 1)
        self.card_btn = QToolButton(text="Card", toolTip="Show the model card")
        self.card_btn.clicked.connect(self.actions.show_card)
        top.addWidget(self.card_btn)
        top.addSpacing(12)
        top.addWidget(QLabel("Truncation ψ:"))
        self.psi = QSlider(Qt.Horizontal, minimum=0, maximum=150, value=70)
        self.psi.setToolTip("Pull towards the average image (0) or use the full variety (1); seeds only")
        self.psi.setFixedWidth(110)
        self.psi_label = QLabel("0.70")
        top.addWidget(self.psi)
        top.addWidget(self.psi_label)
        top.addSpacing(12)
        top.addWidget(QLabel("Noise:"))
        self.noise_mode = choice((("stored", "const"), ("resampled", "random"), ("off", "none")),
                                 "Per-pixel noise: the model's stored maps, freshly drawn maps, or none")
        top.addWidget(self.noise_mode)
        self.resample_btn = QPushButton("Resample")
        self.resample_btn.setToolTip("Draw new noise maps (fine detail such as hair changes)")
        top.addWidget(self.resample_btn)
        top.addWidget(QLabel("Strength:"))
        self.noise_strength = QSlider(Qt.Horizontal, minimum=0, maximum=200, value=100)
        self.noise_strength.setFixedWidth(80)
        self.noise_strength.setToolTip("Noise strength (0–200 %)")
        self.noise_label = QLabel("100%")
        top.addWidget(self.noise_strength)
        top.addWidget(self.noise_label)
        return top

    def _build_seed_list(self) -> QWidget:
        left, lv = panel()
        row = QHBoxLayout()
        row.addWidget(QLabel("Seeds from"))
        self.start_seed = QSpinBox(minimum=0, maximum=2 ** 31 - GRID_PAGE - 1,
                                   toolTip="The first seed of the grid: each seed is one random picture, always the "
                                           "same for the same number")
        row.addWidget(self.start_seed, 1)
        self.prev_btn = QToolButton(text="◀", toolTip="Previous page of seeds")
        self.next_btn = QToolButton(text="▶", toolTip="Next page of seeds")
        row.addWidget(self.prev_btn)
        row.addWidget(self.next_btn)
        lv.addLayout(row)
        self.grid = QListWidget()
        self.grid.setViewMode(QListWidget.IconMode)
        self.grid.setIconSize(QSize(72, 72))
        self.grid.setGridSize(QSize(84, 96))
        self.grid.setResizeMode(QListWidget.Adjust)
        self.grid.setMovement(QListWidget.Static)
        self.grid.setToolTip("Click a seed to open it")
        lv.addWidget(self.grid, 1)
        return left

    def _build_center(self) -> QWidget:
        center, cv = panel()
        self.view = ImageLabel("Choose a generator model")
        cv.addWidget(self.view, 1)
        self.caption = QLabel("")
        self.caption.setAlignment(Qt.AlignCenter)
        cv.addWidget(self.caption)
        row = QHBoxLayout()
        self.save_btn = QPushButton("Save image…", toolTip="Save the picture shown, at the model's resolution")
        row.addStretch(1)
        row.addWidget(self.save_btn)
        cv.addLayout(row)
        return center

    def _connect(self) -> None:
        self.psi.valueChanged.connect(lambda v: (self.psi_label.setText(f"{v / 100:.2f}"), self.actions.psi_changed()))
        self.noise_mode.currentIndexChanged.connect(lambda *_: self.actions.request_render())
        self.noise_strength.valueChanged.connect(lambda v: (self.noise_label.setText(f"{v}%"),
                                                            self.actions.request_render()))
        self.resample_btn.clicked.connect(self.actions.resample_noise)
        self.start_seed.editingFinished.connect(self.actions.refresh_grid)
        self.prev_btn.clicked.connect(lambda: self.actions.page_seeds(-1))
        self.next_btn.clicked.connect(lambda: self.actions.page_seeds(1))
        self.grid.itemClicked.connect(lambda it: self.actions.open_seed(int(it.data(Qt.UserRole))))
        self.save_btn.clicked.connect(self.actions.save_image)
        ep = self.edit_panel
        ep.computeRequested.connect(self.actions.compute_directions)
        ep.slidersChanged.connect(self.actions.request_render)
        ep.saveRequested.connect(self.actions.save_directions)
        ep.loadRequested.connect(self.actions.load_directions)
        ep.markRequested.connect(self.actions.mark_example)
        ep.createRequested.connect(self.actions.create_direction)
        ep.clearExamplesRequested.connect(self.actions.clear_examples)
        ep.set_examples(0, 0)
        self.mix_panel.changed.connect(self.actions.mix_changed)
        self.interp_panel.exportRequested.connect(self.actions.export_interpolation)
        self.interp_panel.addCurrentRequested.connect(self.actions.add_current_seed)
        self.interp_panel.cancelRequested.connect(self.actions.cancel_interpolation)
        pp = self.photo_panel
        pp.openRequested.connect(self.actions.open_photo)
        pp.projectRequested.connect(self.actions.project)
        pp.embedRequested.connect(self.actions.embed)
        pp.cancelRequested.connect(lambda: self.project_job and self.project_job.cancel())

    # --- models ------------------------------------------------------------------------------------------
    def on_shown(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.reload_models()

    def reload_models(self) -> None:
        """First showing: load the chosen generator (or say how to get one)."""
        for path, why in self.picker.catalog.problems:
            self.problems.add(str(path), why)
        if not self.picker.models:
            self.view.setText("No generator models found. Train one (ganstudio train stylegan) or import a "
                              "DCGAN generator.")
        self._model_changed()

    def current_model(self) -> Optional[ModelInfo]:
        return self.picker.current()

    def _model_changed(self) -> None:
        m = self.current_model()
        self.card_btn.setEnabled(bool(m and m.card))
        if m is None:
            return
        self.session = None
        self.current = None
        self.grid.clear()
        self.edit_panel.set_directions([])
        self.actions.clear_examples()
        self.actions.forget_projection()
        self.view.setText(f"Loading {m.name}…")
        h = self.bridge.submit(lambda mid, ctx: LatentSession.open(self.library, mid), m.id,
                               name=f"Load {m.name}", kind="latent-load", replace=True)
        h.returned.connect(self._session_ready)
        h.failed.connect(lambda err: (self.problems.add(m.name, err.message), self.view.setText(err.message)))

    def _session_ready(self, session: LatentSession) -> None:
        if self.bridge.manager.closed:  # the model finished loading after the window closed: start nothing
            return
        self.session = session
        has_w = session.model.has_w
        for w in (self.resample_btn, self.noise_mode, self.noise_strength):
            w.setEnabled(has_w)
        self.tabs.setTabEnabled(1, has_w)
        self.tabs.setTabToolTip(1, "" if has_w else "Style mixing needs a style-based (w space) model.")
        if not has_w:  # only z paths without a style space; a w model keeps the user's choice
            self.interp_panel.mode.setCurrentIndex(1)
        self.interp_panel.mode.setEnabled(has_w)
        self.photo_panel.space.setEnabled(has_w)
        self.photo_panel.set_encoder(session.encoder is not None)
        if session.encoder_problem:
            self.problems.add(session.model.name, session.encoder_problem)
        self.actions.refresh_grid()
        self.actions.open_seed(self.start_seed.value())

    def view_state(self) -> Optional[ViewState]:
        if self.session is None or self.current is None:
            return None
        mix = self.mix_panel.from_b()
        return ViewState(self.current, psi=self.psi.value() / 100, noise_mode=self.noise_mode.currentData(),
                         noise_seed=self.noise_seed, noise_scale=self.noise_strength.value() / 100,
                         alphas=self.edit_panel.alphas(),
                         mix_with=self.session.seed(self.mix_panel.seed_b.value()) if mix else None,
                         mix_groups=tuple(mix))

    def close_note(self) -> str:
        """What closing the window would lose ("" when nothing): a projection still running."""
        if self.project_job is not None:
            return "A photo is being projected on the Latent page; quitting stops it and loses what it found."
        if self.actions.interp_job is not None:
            return "An interpolation is being exported on the Latent page; quitting stops it (nothing is written)."
        return ""

    def shutdown(self) -> None:
        if self.project_job is not None:
            self.project_job.cancel()

    def item_for_seed(self, seed: int) -> Optional[QListWidgetItem]:
        for i in range(self.grid.count()):
            if int(self.grid.item(i).data(Qt.UserRole)) == seed:
                return self.grid.item(i)
        return None

    def _grid_part(self, part) -> None:
        for seed, img in part:
            it = self.item_for_seed(seed)
            if it is not None:
                it.setIcon(QIcon(to_pixmap(img)))


create = LatentPage  # the page protocol's create(window) (app/pages/__init__.py)
