"""One column of the Lab page: the settings of one GAN configuration and its live views."""
from __future__ import annotations

from typing import Any, Dict, Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QSpinBox, QStackedWidget, QVBoxLayout, QWidget)

from app.widgets.elided_label import ElidedLabel
from app.widgets.field_view import FAKE, FieldView, MosaicView
from app.widgets.layout import choice
from app.widgets.plots import BarChart, LineChart, Series
from engine.lab.config import LabConfig, loss_title, losses, minibatch_choices, minibatch_title

D_COLOR = QColor(214, 96, 77)
G_COLOR = QColor(77, 126, 214)
COVER_COLOR = QColor(36, 150, 110)
HQ_COLOR = QColor(230, 150, 40)
TTUR_RATIO = 4.0  # Heusel et al.: D learns faster than G


class SideSettings(QWidget):
    """Loss and remedies of one configuration. ``changed`` fires on every edit."""

    changed = Signal()

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        self.loss = choice(((loss_title(n), n) for n in losses()),  # the registries' lists, as everywhere
                           "Adversarial loss (engine.losses). WGAN clips D's weights; WGAN-GP adds a gradient penalty.")
        self.minibatch = choice(((minibatch_title(n).capitalize(), n) for n in minibatch_choices()),
                                "A layer that lets D compare the samples of a batch, so a collapsed G is easy to spot.")
        self.unrolled = QSpinBox(minimum=0, maximum=10, suffix=" steps", specialValueText="off")
        self.unrolled.setToolTip("Unrolled D: G is trained against D as it would be k updates later "
                                 "(slower; the real D is not changed).")
        self.d_steps = QSpinBox(minimum=1, maximum=10)
        self.d_steps.setToolTip("D (critic) updates per G update.")
        self.augment = QCheckBox("Augment")
        self.augment.setToolTip("Noise on 2-D points; random 1-pixel shifts and noise on digits. Applied to real and "
                                "generated samples alike.")
        self.spectral = QCheckBox("Spectral norm")
        self.spectral.setToolTip("Spectral normalisation of every layer of D (Lipschitz constraint).")
        self.ttur = QCheckBox("TTUR")
        self.ttur.setToolTip(f"Two time-scale update rule: D learns {TTUR_RATIO:g}x faster than G.")
        self.conditional = QCheckBox("Conditional (cGAN)")
        self.conditional.setToolTip("Digits only: G gets the class label (embedding), D is a projection "
                                    "discriminator. Pick a class below to generate it on demand.")
        grid.addWidget(QLabel("Loss"), 0, 0)
        grid.addWidget(self.loss, 0, 1)
        grid.addWidget(QLabel("Minibatch"), 0, 2)
        grid.addWidget(self.minibatch, 0, 3)
        grid.addWidget(QLabel("Unrolled D"), 1, 0)
        grid.addWidget(self.unrolled, 1, 1)
        grid.addWidget(QLabel("D steps"), 1, 2)
        grid.addWidget(self.d_steps, 1, 3)
        row = QHBoxLayout()
        for w in (self.augment, self.spectral, self.ttur, self.conditional):
            row.addWidget(w)
        row.addStretch(1)
        grid.addLayout(row, 2, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        for w in (self.loss, self.minibatch):
            w.currentIndexChanged.connect(self.changed)
        for w in (self.unrolled, self.d_steps):
            w.valueChanged.connect(self.changed)
        for w in (self.augment, self.spectral, self.ttur, self.conditional):
            w.toggled.connect(self.changed)

    def config(self, data: str, seed: int = 0) -> LabConfig:
        lr = 1e-3
        is_digits = data == "digits"
        return LabConfig(data=data, loss=self.loss.currentData(), minibatch=self.minibatch.currentData(),
                         unrolled_steps=self.unrolled.value(), augment=self.augment.isChecked(),
                         spectral_norm=self.spectral.isChecked(), d_steps=self.d_steps.value(),
                         lr_g=lr / TTUR_RATIO if self.ttur.isChecked() else lr, lr_d=lr,
                         conditional=is_digits and self.conditional.isChecked(), seed=seed)

    def set_config(self, cfg: LabConfig) -> None:
        self.loss.setCurrentIndex(max(0, self.loss.findData(cfg.loss)))
        self.minibatch.setCurrentIndex(max(0, self.minibatch.findData(cfg.minibatch)))
        self.unrolled.setValue(cfg.unrolled_steps)
        self.d_steps.setValue(cfg.d_steps)
        self.augment.setChecked(cfg.augment)
        self.spectral.setChecked(cfg.spectral_norm)
        self.ttur.setChecked(cfg.ttur)
        self.conditional.setChecked(cfg.conditional)

    def set_data(self, data: str) -> None:
        self.conditional.setEnabled(data == "digits")

    def fields(self, prefix: str) -> Dict[str, QWidget]:
        """The remembered fields (``app.form_memory``), named ``<prefix>_loss`` etc."""
        return {f"{prefix}_{name}": w for name, w in (
            ("loss", self.loss), ("minibatch", self.minibatch), ("unrolled", self.unrolled), ("d_steps", self.d_steps),
            ("augment", self.augment), ("spectral_norm", self.spectral), ("ttur", self.ttur),
            ("conditional", self.conditional))}


class DigitsView(QWidget):
    """Real and generated digit mosaics, and the class picker of the conditional GAN."""

    picked = Signal(int)

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.real = MosaicView("Real digits")
        self.fake = MosaicView("Generated (fixed z)")
        self.fake.placeholder = "Press Start to train"
        self.pick_view = MosaicView("Pick a class")
        self.pick_view.placeholder = "Pick a digit above\nto generate it"
        self.buttons = QButtonGroup(self)
        self.picker = QWidget()
        pr = QHBoxLayout(self.picker)
        pr.setContentsMargins(0, 0, 0, 0)
        pr.setSpacing(2)
        pr.addWidget(QLabel("Generate digit:"))
        for k in range(10):
            b = QPushButton(str(k))
            b.setCheckable(True)
            b.setFixedWidth(28)
            b.setToolTip(f"Generate 48 new samples of the digit {k} with the current generator")
            self.buttons.addButton(b, k)
            pr.addWidget(b)
        pr.addStretch(1)
        self.buttons.idClicked.connect(self.picked)
        grids = QHBoxLayout()
        grids.addWidget(self.real)
        grids.addWidget(self.fake)
        grids.addWidget(self.pick_view)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.picker)
        lay.addLayout(grids, 1)
        self.set_conditional(False)

    def set_conditional(self, on: bool) -> None:
        self.picker.setVisible(on)
        self.pick_view.setVisible(on)
        self.fake.caption = "Generated: one row per class" if on else "Generated (fixed z)"
        self.fake.update()


class SidePanel(QFrame):
    """Title, settings, main view (2-D field or digits) and three charts for one configuration."""

    def __init__(self, name: str, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.name = name
        self.setObjectName("labSide")
        self.setStyleSheet("#labSide { border: 1px solid palette(mid); border-radius: 6px; }")
        self.last: Optional[Dict[str, Any]] = None
        self.title = ElidedLabel(name, min_chars=12)  # "B: WGAN + weight clipping + …" must not widen the page
        f = self.title.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.1)
        self.title.setFont(f)
        self.stats = QLabel("")
        self.stats.setTextFormat(Qt.RichText)
        self.stats.setWordWrap(True)
        self.settings = SideSettings()
        self.field = FieldView()
        self.digits = DigitsView()
        self.views = QStackedWidget()
        self.views.addWidget(self.field)
        self.views.addWidget(self.digits)
        self.loss_chart = LineChart("Losses")
        self.mode_chart = LineChart("Mode coverage", right_range=(0.0, 1.0), right_label="%", integer=True)
        self.hist_chart = BarChart("Samples per mode")
        charts = QHBoxLayout()
        charts.setSpacing(6)
        for c in (self.loss_chart, self.mode_chart, self.hist_chart):
            c.setMinimumHeight(150)
            charts.addWidget(c)
        top = QVBoxLayout()
        top.setSpacing(2)
        top.addWidget(self.title)
        top.addWidget(self.stats)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 8)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addWidget(self.settings)
        lay.addWidget(self.views, 3)
        lay.addLayout(charts, 2)

    def set_data(self, data: str) -> None:
        self.settings.set_data(data)
        digits = data == "digits"
        self.views.setCurrentIndex(1 if digits else 0)
        self.hist_chart.title = "Digits by class" if digits else "Samples per mode"
        self.hist_chart.update()

    def reset(self) -> None:
        self.last = None
        self.field.set_snapshot(None)
        self.digits.fake.set_image(None)
        self.digits.pick_view.set_image(None)
        self.loss_chart.set_series([])
        self.mode_chart.set_series([])
        self.hist_chart.set_bars([], [])
        self.stats.setText("")

    def show_snapshot(self, snap: Dict[str, Any]) -> None:
        self.last = snap
        self.title.setText(f"{self.name}: {snap['title']}")
        st = snap["stats"]
        losses = snap["losses"]
        self.loss_chart.set_series([Series("D", D_COLOR, losses["step"], losses["d"], smooth=0.9),
                                    Series("G", G_COLOR, losses["step"], losses["g"], smooth=0.9)])
        mh = snap["metric_history"]
        self.mode_chart.y_range = (0.0, float(st["n_modes"]) + 0.5)
        self.mode_chart.set_series([Series("modes", COVER_COLOR, mh["step"], mh["covered"]),
                                    Series("HQ", HQ_COLOR, mh["step"], mh["hq"], axis="right", smooth=0.6)])
        n, k = st["n"], st["n_modes"]
        labels = [str(i) for i in range(k)]
        self.hist_chart.set_bars(st["histogram"], labels, [FAKE], reference=0.2 * n / k,
                                 note="- - 20% of fair share")
        if snap["data"] == "digits":
            self.digits.set_conditional(bool(snap.get("conditional")))
            self.digits.real.set_image(snap["real_grid"])
            self.digits.fake.set_image(snap["fake_grid"])
        else:
            self.field.set_snapshot(snap)
        self.stats.setText(self._stats_html(snap))

    @staticmethod
    def _stats_html(snap: Dict[str, Any]) -> str:
        st = snap["stats"]
        parts = [f"modes <b>{st['modes_covered']}/{st['n_modes']}</b>",
                 f"high quality <b>{st['hq_share'] * 100:.0f}%</b>"]
        if st.get("class_accuracy") is not None:
            parts.append(f"right class <b>{st['class_accuracy'] * 100:.0f}%</b>")
        parts.append(f"step {snap['step']:,}")
        parts.append(f"{snap['steps_per_s']:,.0f} steps/s")
        text = " · ".join(parts)
        if snap.get("diverged"):
            text = f"<span style='color:#c0392b'>{snap['diverged']}</span> " + text
        return text
