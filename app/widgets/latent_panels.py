"""The side panels of the Latent page: edit directions, style mixing, interpolation export, photo projection.

Each panel only builds widgets and emits signals; the page owns the session and submits the jobs.
"""
from __future__ import annotations

from typing import List

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QScrollArea, QSlider, QSpinBox, QVBoxLayout,
                               QWidget)

from app.widgets.layout import choice

SLIDER_STEPS = 10  # slider units per sigma
SLIDER_RANGE = 3  # +- sigmas


class EditPanel(QWidget):
    """Direction sliders (GANSpace / SeFa / user-defined), save/load, and the positive/negative example picker."""

    computeRequested = Signal(str, int)  # method, count
    slidersChanged = Signal()
    saveRequested = Signal()
    loadRequested = Signal()
    markRequested = Signal(bool)  # True = positive
    createRequested = Signal(str)
    clearExamplesRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        v = QVBoxLayout(self)
        row = QHBoxLayout()
        self.method = choice((("GANSpace (PCA)", "ganspace"), ("SeFa (closed form)", "sefa")),
                             "GANSpace: principal axes of sampled latents. SeFa: eigenvectors of the style weights. "
                             "Both find directions without labels.")
        self.count = QSpinBox(minimum=1, maximum=64, value=10, toolTip="Number of directions")
        self.compute_btn = QPushButton("Find directions", toolTip="Look for the directions in which this model's "
                                                                   "pictures change most (a few seconds)")
        self.compute_btn.clicked.connect(lambda: self.computeRequested.emit(self.method.currentData(),
                                                                            self.count.value()))
        row.addWidget(self.method, 1)
        row.addWidget(self.count)
        row.addWidget(self.compute_btn)
        v.addLayout(row)
        self.sliders: List[QSlider] = []
        self.value_labels: List[QLabel] = []
        self.area = QScrollArea()
        self.area.setWidgetResizable(True)
        self.slider_box = QWidget()
        self.grid = QGridLayout(self.slider_box)
        self.grid.setAlignment(Qt.AlignTop)
        self.area.setWidget(self.slider_box)
        v.addWidget(self.area, 1)
        self.empty = QLabel("No directions yet: find some, load a set, or define one below.")
        self.empty.setWordWrap(True)
        self.grid.addWidget(self.empty, 0, 0, 1, 3)
        row = QHBoxLayout()
        for text, sig, tip in (("Reset", None, "Put every slider back to 0"),
                               ("Save set…", self.saveRequested, "Save these directions to a file to use them again"),
                               ("Load set…", self.loadRequested, "Load directions saved earlier for this model")):
            b = QPushButton(text, toolTip=tip)
            b.clicked.connect(self.reset if sig is None else sig.emit)
            row.addWidget(b)
            setattr(self, f"btn_{text.split()[0].lower()}", b)
        v.addLayout(row)
        v.addWidget(self._user_box())

    def _user_box(self) -> QGroupBox:
        box = QGroupBox("Your own direction (pick examples)")
        g = QGridLayout(box)
        self.pos_btn = QPushButton("+ Has it")
        self.pos_btn.setToolTip("Add the image shown as a positive example")
        self.neg_btn = QPushButton("− Lacks it")
        self.neg_btn.setToolTip("Add the image shown as a negative example")
        self.pos_btn.clicked.connect(lambda: self.markRequested.emit(True))
        self.neg_btn.clicked.connect(lambda: self.markRequested.emit(False))
        self.examples = QLabel("0 positive, 0 negative")
        self.name_edit = QLineEdit(placeholderText="name, e.g. smile", toolTip="The name of your new direction")
        self.create_btn = QPushButton("Create direction", toolTip="Make a slider from your examples: from the "
                                                                 "pictures that lack it towards those that have it")
        self.create_btn.clicked.connect(lambda: self.createRequested.emit(self.name_edit.text().strip() or "custom"))
        clear = QPushButton("Clear", toolTip="Forget the examples picked so far")
        clear.clicked.connect(self.clearExamplesRequested.emit)
        g.addWidget(self.pos_btn, 0, 0)
        g.addWidget(self.neg_btn, 0, 1)
        g.addWidget(clear, 0, 2)
        g.addWidget(self.examples, 1, 0, 1, 3)
        g.addWidget(self.name_edit, 2, 0, 1, 2)
        g.addWidget(self.create_btn, 2, 2)
        return box

    def fields(self) -> dict:
        """The remembered fields (``app.form_memory``)."""
        return {"directions_method": self.method, "directions_count": self.count, "direction_name": self.name_edit}

    def set_examples(self, pos: int, neg: int) -> None:
        self.examples.setText(f"{pos} positive, {neg} negative")
        self.create_btn.setEnabled(pos > 0 and neg > 0)

    def set_directions(self, names: List[str]) -> None:
        for w in self.sliders + self.value_labels:
            w.deleteLater()
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() and item.widget() is not self.empty:
                item.widget().deleteLater()
        self.sliders, self.value_labels = [], []
        self.empty.setVisible(not names)
        self.grid.addWidget(self.empty, 0, 0, 1, 3)
        for i, name in enumerate(names):
            s = QSlider(Qt.Horizontal)
            s.setRange(-SLIDER_RANGE * SLIDER_STEPS, SLIDER_RANGE * SLIDER_STEPS)
            s.setToolTip(f"Move along {name}: watch what changes in the picture (the amount is in standard "
                         "deviations of the latent distribution; directions are numbered by how much the pictures "
                         "vary along them)")
            lab = QLabel("0.0σ")
            lab.setMinimumWidth(44)
            s.valueChanged.connect(lambda val, lab=lab: (lab.setText(f"{val / SLIDER_STEPS:+.1f}σ"),
                                                         self.slidersChanged.emit()))
            self.grid.addWidget(QLabel(name), i + 1, 0)
            self.grid.addWidget(s, i + 1, 1)
            self.grid.addWidget(lab, i + 1, 2)
            self.sliders.append(s)
            self.value_labels.append(lab)

    def alphas(self) -> List[float]:
        return [s.value() / SLIDER_STEPS for s in self.sliders]

    def reset(self) -> None:
        for s in self.sliders:
            s.blockSignals(True)
            s.setValue(0)
            s.blockSignals(False)
        for lab in self.value_labels:
            lab.setText("0.0σ")
        self.slidersChanged.emit()


class MixPanel(QWidget):
    """Style mixing: the shown image (A) with seed B; checked layer groups come from B."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        f = QFormLayout(self)
        self.enabled = QCheckBox("Mix the image shown with seed B",
                                 toolTip="Take some layers (coarse, middle, fine) from another seed's picture")
        self.seed_b = QSpinBox(minimum=0, maximum=2 ** 31 - 1, value=1, toolTip="The seed whose picture lends "
                                                                                "the checked layers")
        self.groups = {}
        f.addRow(self.enabled)
        f.addRow("Seed B:", self.seed_b)
        for g, text in (("coarse", "Coarse (4–8 px: pose, face shape)"), ("middle", "Middle (16–32 px: features)"),
                        ("fine", "Fine (64 px+: colours, texture)")):
            cb = QCheckBox(f"from B: {text}", toolTip=f"Take the {g} layers from seed B: {text.split('(')[1][:-1]}")
            cb.setChecked(g == "coarse")
            self.groups[g] = cb
            f.addRow(cb)
            cb.toggled.connect(lambda *_: self.changed.emit())
        self.preview = QLabel()
        self.preview.setMinimumSize(96, 96)
        f.addRow("B:", self.preview)
        self.enabled.toggled.connect(lambda *_: self.changed.emit())
        self.seed_b.valueChanged.connect(lambda *_: self.changed.emit())

    def fields(self) -> dict:
        """The remembered fields (``app.form_memory``)."""
        return {"mix": self.enabled, "mix_seed_b": self.seed_b,
                **{f"mix_{g}_from_b": cb for g, cb in self.groups.items()}}

    def from_b(self) -> List[str]:
        return [g for g, cb in self.groups.items() if cb.isChecked()] if self.enabled.isChecked() else []


class InterpPanel(QWidget):
    """Interpolation between chosen seeds, exported as GIF or MP4."""

    exportRequested = Signal(str)  # "gif" | "mp4"
    addCurrentRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        f = QFormLayout(self)
        self.seeds = QLineEdit("0, 1, 2")
        self.seeds.setToolTip("Seeds to pass through, in order (the path loops back to the first)")
        add = QPushButton("Add shown seed", toolTip="Append the seed shown now to the list")
        add.clicked.connect(self.addCurrentRequested.emit)
        row = QHBoxLayout()
        row.addWidget(self.seeds, 1)
        row.addWidget(add)
        f.addRow("Seeds:", row)
        self.mode = choice((("Linear in w", "w"), ("Spherical in z", "z")),
                           "How to travel between seeds: straight lines between styles (w, smoothest) or great "
                           "circles between random codes (z)")
        f.addRow("Path:", self.mode)
        self.frames = QSpinBox(minimum=2, maximum=500, value=24, toolTip="Frames per transition")
        f.addRow("Frames per step:", self.frames)
        self.fps = QSpinBox(minimum=1, maximum=120, value=24, toolTip="Frames per second of the animation")
        f.addRow("Frames per second:", self.fps)
        self.size = choice(((f"{s} px", s) for s in (128, 256, 512)), "Side of the exported animation in pixels")
        self.size.setCurrentIndex(1)
        f.addRow("Video size:", self.size)
        row = QHBoxLayout()
        self.gif_btn = QPushButton("Export GIF…", toolTip="Save the animation as a GIF (plays everywhere)")
        self.mp4_btn = QPushButton("Export MP4…", toolTip="Save the animation as an MP4 video (smaller, smoother)")
        self.gif_btn.clicked.connect(lambda: self.exportRequested.emit("gif"))
        self.mp4_btn.clicked.connect(lambda: self.exportRequested.emit("mp4"))
        row.addWidget(self.gif_btn)
        row.addWidget(self.mp4_btn)
        f.addRow(row)
        self.progress = QProgressBar()
        self.cancel_btn = QPushButton("Cancel", toolTip="Stop the export (nothing is written)")
        self.cancel_btn.clicked.connect(self.cancelRequested.emit)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_btn)
        f.addRow(row)
        self.set_running(False)

    def set_running(self, running: bool) -> None:
        """While an export runs: its progress and Cancel show, the export buttons wait."""
        for w in (self.progress, self.cancel_btn):
            w.setVisible(running)
        for b in (self.gif_btn, self.mp4_btn):
            b.setEnabled(not running)

    def fields(self) -> dict:
        """The remembered fields (``app.form_memory``)."""
        return {"interp_seeds": self.seeds, "interp_path": self.mode, "interp_frames": self.frames,
                "interp_fps": self.fps, "interp_size": self.size}

    def seed_list(self) -> List[int]:
        out = []
        for part in self.seeds.text().replace(";", ",").split(","):
            part = part.strip()
            if part:
                if not part.isdigit():
                    raise ValueError(f"'{part}' is not a seed number")
                out.append(int(part))
        return out


class PhotoPanel(QWidget):
    """Project a photo: open/drop, settings, progress with the live reconstruction, reconstruction error; with an
    encoder (VAE-GAN) also instant embedding."""

    HINT = ("Drop a face photo on the window (or open one) to find it in the model's latent space; then edit it "
            "with the sliders.")
    HINT_ENCODER = ("This model has an encoder: a dropped or opened photo is embedded instantly (one pass through "
                    "the encoder). Project refines the embedding by optimisation.")

    openRequested = Signal()
    projectRequested = Signal()
    embedRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        v = QVBoxLayout(self)
        self.hint = QLabel(self.HINT)
        self.hint.setWordWrap(True)
        v.addWidget(self.hint)
        f = QFormLayout()
        self.space = choice((("w+ (one style per layer, closest)", "w+"), ("w (one style, easiest to edit)", "w")),
                            "Where to look for your photo: w+ matches it more closely, w keeps the sliders working "
                            "best")
        f.addRow("Space:", self.space)
        self.steps = QSpinBox(minimum=10, maximum=5000, value=200, toolTip="Optimisation steps: more = closer "
                                                                           "match, slower")
        f.addRow("Steps:", self.steps)
        self.features = QCheckBox("Deep-feature loss (Inception)", toolTip="Match what the picture shows, not "
                                                                           "only its pixels (slower, usually closer)")
        self.features.setChecked(True)
        f.addRow(self.features)
        v.addLayout(f)
        row = QHBoxLayout()
        self.open_btn = QPushButton("Open photo…", toolTip="Choose a photo to find in this model's latent space")
        self.open_btn.clicked.connect(self.openRequested.emit)
        self.embed_btn = QPushButton("Embed instantly (encoder)")
        self.embed_btn.setToolTip("Find the photo's latent code in one pass through the model's encoder")
        self.embed_btn.clicked.connect(self.embedRequested.emit)
        self.embed_btn.setVisible(False)
        self.project_btn = QPushButton("Project")
        self.project_btn.setToolTip("Find the photo's latent code by optimisation (slower, closer)")
        self.project_btn.clicked.connect(self.projectRequested.emit)
        self.cancel_btn = QPushButton("Cancel", toolTip="Stop the projection (what it found so far stays)")
        self.cancel_btn.clicked.connect(self.cancelRequested.emit)
        self.cancel_btn.setEnabled(False)
        for b in (self.open_btn, self.project_btn, self.cancel_btn):
            row.addWidget(b)
        v.addLayout(row)
        v.addWidget(self.embed_btn)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        v.addWidget(self.progress)
        pics = QHBoxLayout()
        self.target = QLabel("photo")
        self.recon = QLabel("reconstruction")
        for lab in (self.target, self.recon):
            lab.setMinimumSize(128, 128)
            lab.setAlignment(Qt.AlignCenter)
            lab.setStyleSheet("border: 1px solid palette(mid);")
            pics.addWidget(lab)
        v.addLayout(pics)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        v.addWidget(self.error)
        v.addStretch(1)

    def fields(self) -> dict:
        """The remembered fields (``app.form_memory``)."""
        return {"photo_space": self.space, "photo_steps": self.steps, "photo_deep_features": self.features}

    def set_encoder(self, available: bool) -> None:
        """Offer instant embedding only for models with an encoder."""
        self.embed_btn.setVisible(available)
        self.hint.setText(self.HINT_ENCODER if available else self.HINT)
