"""Training settings: a preset (quick preview 128 px, standard 256 px, high quality) and an advanced panel with
every CycleGAN choice. ``values()`` returns the overrides for ``engine.training.core.build_config``; choices are
remembered in the app settings."""
from __future__ import annotations

from typing import Any, Dict, List

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

from app.settings import settings

PRESETS = [("quick", "Quick preview (128 px)"), ("standard", "Standard (256 px)"),
           ("high", "High quality (256 px, full recipe)"), ("tiny", "Smoke test (64 px, seconds)")]
GENERATORS = ["resnet_9blocks", "resnet_6blocks", "unet_256", "unet_128"]
DISCRIMINATORS = ["basic", "n_layers", "pixel"]
LOSSES = ["lsgan", "bce", "nonsaturating", "hinge", "wgan", "wgan_gp"]
AUGS = ["color", "translation", "cutout"]


class TrainSettings(QWidget):
    def __init__(self, presets: Dict[str, Dict[str, Any]], init_models: List[tuple], parent=None):
        super().__init__(parent)
        self.table = presets
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.preset = QComboBox()
        for key, label in PRESETS:
            if key in presets:
                self.preset.addItem(label, key)
        self.preset.currentIndexChanged.connect(self._apply_preset)
        form.addRow("Preset:", self.preset)
        self.steps = QSpinBox(minimum=1, maximum=10_000_000, singleStep=500)
        form.addRow("Steps:", self.steps)
        self.name = QLineEdit(placeholderText="e.g. photo2anime (default: from the folders)")
        form.addRow("Run name:", self.name)
        lay.addLayout(form)
        self.adv_btn = QToolButton(text="Advanced settings ▸", checkable=True)
        self.adv_btn.setAutoRaise(True)
        self.adv_btn.toggled.connect(self._toggle)
        lay.addWidget(self.adv_btn)
        self.adv = QGroupBox()
        self._advanced(init_models)
        self.adv.setVisible(False)
        lay.addWidget(self.adv)
        self._restore()

    def _advanced(self, init_models) -> None:
        f = QFormLayout(self.adv)
        self.size = QSpinBox(minimum=64, maximum=1024, singleStep=64)
        self.batch = QSpinBox(minimum=1, maximum=256)
        self.generator, self.discriminator, self.gan_loss = QComboBox(), QComboBox(), QComboBox()
        for combo, items in ((self.generator, GENERATORS), (self.discriminator, DISCRIMINATORS),
                             (self.gan_loss, LOSSES)):
            combo.addItems(items)
        self.ngf = QSpinBox(minimum=4, maximum=256)
        self.lr = QDoubleSpinBox(decimals=6, minimum=1e-6, maximum=1e-2, singleStep=1e-4)
        self.lambda_cyc = QDoubleSpinBox(minimum=0, maximum=100, singleStep=1)
        self.lambda_idt = QDoubleSpinBox(minimum=0, maximum=10, singleStep=0.1)
        self.pool = QSpinBox(minimum=0, maximum=1000)
        augs = QWidget()
        ah = QHBoxLayout(augs)
        ah.setContentsMargins(0, 0, 0, 0)
        self.aug_boxes = {a: QCheckBox(a) for a in AUGS}
        for box in self.aug_boxes.values():
            ah.addWidget(box)
        self.init = QComboBox()
        self.init.addItem("Random weights (train from scratch)", "")
        for mid, label in init_models:
            self.init.addItem(f"Fine-tune {label}", mid)
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        for label, w in (("Image size:", self.size), ("Batch size:", self.batch), ("Generator:", self.generator),
                         ("Generator width:", self.ngf), ("Discriminator:", self.discriminator),
                         ("GAN loss:", self.gan_loss), ("Learning rate:", self.lr), ("Cycle weight:", self.lambda_cyc),
                         ("Identity weight:", self.lambda_idt), ("Image pool:", self.pool), ("DiffAugment:", augs),
                         ("Start from:", self.init), ("Device:", self.device)):
            f.addRow(label, w)

    def _toggle(self, on: bool) -> None:
        self.adv.setVisible(on)
        self.adv_btn.setText("Advanced settings ▾" if on else "Advanced settings ▸")

    def _apply_preset(self) -> None:
        key = self.preset.currentData()
        p = dict(self.table.get(key, {}))
        self.steps.setValue(int(p.get("steps") or 20000))
        self.size.setValue(int(p.get("image_size", 256)))
        self.batch.setValue(int(p.get("batch_size", 1)))
        self.generator.setCurrentText(p.get("generator", "resnet_9blocks"))
        self.ngf.setValue(int(p.get("ngf", 64)))
        self.discriminator.setCurrentText("basic")
        self.gan_loss.setCurrentText("lsgan")
        self.lr.setValue(2e-4)
        self.lambda_cyc.setValue(10.0)
        self.lambda_idt.setValue(0.5)
        self.pool.setValue(int(p.get("pool_size", 50)))
        for box in self.aug_boxes.values():
            box.setChecked(False)

    def select_preset(self, key: str) -> None:
        i = self.preset.findData(key)
        if i >= 0:
            self.preset.setCurrentIndex(i)
            self._apply_preset()

    def values(self) -> Dict[str, Any]:
        """``{"preset": ..., overrides...}`` for build_config."""
        aug = ",".join(a for a, b in self.aug_boxes.items() if b.isChecked())
        return {"preset": self.preset.currentData(), "steps": self.steps.value(), "image_size": self.size.value(),
                "batch_size": self.batch.value(), "generator": self.generator.currentText(), "ngf": self.ngf.value(),
                "discriminator": self.discriminator.currentText(), "gan_loss": self.gan_loss.currentText(),
                "lr": self.lr.value(), "lambda_a": self.lambda_cyc.value(), "lambda_b": self.lambda_cyc.value(),
                "lambda_identity": self.lambda_idt.value(), "pool_size": self.pool.value(), "diffaug": aug,
                "init_from": self.init.currentData() or "", "device": self.device.currentText(),
                "name": self.name.text().strip()}

    def remember(self) -> None:
        s = settings()
        for k, v in self.values().items():
            s.set(f"train/{k}", v)
        s.set("train/advanced_open", self.adv_btn.isChecked())

    def _restore(self) -> None:
        s = settings()
        self.select_preset(s.get("train/preset", "quick") or "quick")
        if s.get("train/steps") is None:
            return
        get = lambda k, d, t=None: s.get(f"train/{k}", d, t)  # noqa: E731
        self.steps.setValue(get("steps", self.steps.value(), int))
        self.size.setValue(get("image_size", self.size.value(), int))
        self.batch.setValue(get("batch_size", self.batch.value(), int))
        self.generator.setCurrentText(get("generator", self.generator.currentText()))
        self.ngf.setValue(get("ngf", self.ngf.value(), int))
        self.discriminator.setCurrentText(get("discriminator", "basic"))
        self.gan_loss.setCurrentText(get("gan_loss", "lsgan"))
        self.lr.setValue(get("lr", 2e-4, float))
        self.lambda_cyc.setValue(get("lambda_a", 10.0, float))
        self.lambda_idt.setValue(get("lambda_identity", 0.5, float))
        self.pool.setValue(get("pool_size", 50, int))
        for a in (get("diffaug", "") or "").split(","):
            if a in self.aug_boxes:
                self.aug_boxes[a].setChecked(True)
        self.device.setCurrentText(get("device", "auto"))
        i = self.init.findData(get("init_from", ""))
        self.init.setCurrentIndex(max(0, i))
        self.adv_btn.setChecked(get("advanced_open", False, bool))

    def set_enabled(self, on: bool) -> None:
        for w in (self.preset, self.steps, self.name, self.adv):
            w.setEnabled(on)
