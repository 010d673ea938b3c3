"""Training settings: a preset (quick preview 128 px, standard 256 px, high quality) and an advanced panel with
every CycleGAN choice. ``values()`` returns the overrides for ``engine.training.core.build_config``; the page
remembers ``form_values()`` (every field) and shows it again with ``set_values()``. Every control has a tooltip."""
from __future__ import annotations

from typing import Any, Dict, List

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

PRESETS = [("quick", "Quick preview (128 px)"), ("standard", "Standard (256 px)"),
           ("high", "High quality (256 px, full recipe)"), ("tiny", "Smoke test (64 px, seconds)")]
GENERATORS = ["resnet_9blocks", "resnet_6blocks", "unet_256", "unet_128"]
DISCRIMINATORS = ["basic", "n_layers", "pixel"]
LOSSES = ["lsgan", "bce", "nonsaturating", "hinge", "wgan", "wgan_gp"]
AUGS = ["color", "translation", "cutout"]
TIPS = {
    "preset": "A starting recipe: Smoke test checks that everything works in seconds; Quick preview shows whether "
              "the idea works (128 px); Standard and High quality make models worth keeping (256 px, hours on a GPU)",
    "steps": "How many training steps the run makes in total. Checkpoints, samples and log lines are spread over "
             "the run (about every 5 %, 2.5 % and 0.25 % of it)",
    "name": "The name of the run and of its models in every model list (default: folder A's name, 2, folder B's)",
    "adv": "Show or hide every CycleGAN setting (the preset fills them in)",
    "size": "Training resolution in pixels: images are resized and cropped to this square size",
    "batch": "Images per step: larger batches are faster per image but need more GPU memory",
    "generator": "Generator network: ResNet generators keep the image structure; U-Nets are lighter",
    "ngf": "Channels of the generator's first layer: wider is stronger, slower and larger",
    "discriminator": "Discriminator network: 'basic' is the 70×70 PatchGAN of the CycleGAN paper",
    "gan_loss": "Adversarial loss: lsgan is CycleGAN's default; the others are for experiments",
    "lr": "Adam learning rate (constant for half the run, then decaying linearly to 0)",
    "lambda_cyc": "Weight of the cycle-consistency loss (A → B → A should give A back)",
    "lambda_idt": "Weight of the identity loss (relative to the cycle weight): keeps colours when nothing needs to "
                  "change",
    "pool": "How many earlier fakes the discriminators see again (0 = none); stabilises training",
    "aug": "DiffAugment: augment real and fake images alike; helps with small folders (a few hundred images)",
    "init": "Start from random weights, or fine-tune an existing translate model (its architecture is used)",
    "device": "Where to train: auto picks the GPU when there is one",
}


class TrainSettings(QWidget):
    changed = Signal()  # any field changed by the user (not while set_values fills them)

    def __init__(self, presets: Dict[str, Dict[str, Any]], init_models: List[tuple], parent=None):
        super().__init__(parent)
        self.table = presets
        self._quiet = True
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        self.preset = QComboBox(toolTip=TIPS["preset"])
        for key, label in PRESETS:
            if key in presets:
                self.preset.addItem(label, key)
        self.preset.currentIndexChanged.connect(self._apply_preset)
        form.addRow("Preset:", self.preset)
        self.steps = QSpinBox(minimum=1, maximum=10_000_000, singleStep=500, toolTip=TIPS["steps"])
        self.steps.setGroupSeparatorShown(True)
        form.addRow("Steps:", self.steps)
        self.name = QLineEdit(placeholderText="e.g. photo2anime (default: from the folders)", toolTip=TIPS["name"])
        form.addRow("Run name:", self.name)
        lay.addLayout(form)
        self.adv_btn = QToolButton(text="Advanced settings ▸", checkable=True, toolTip=TIPS["adv"])
        self.adv_btn.setAutoRaise(True)
        self.adv_btn.toggled.connect(self._toggle)
        lay.addWidget(self.adv_btn)
        self.adv = QGroupBox()
        self._advanced(init_models)
        self.adv.setVisible(False)
        lay.addWidget(self.adv)
        self._apply_preset()
        self._quiet = False
        self._connect_changes()

    def _advanced(self, init_models) -> None:
        f = QFormLayout(self.adv)
        f.setRowWrapPolicy(QFormLayout.WrapLongRows)
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
        self.aug_boxes = {a: QCheckBox(a, toolTip=TIPS["aug"]) for a in AUGS}
        for box in self.aug_boxes.values():
            ah.addWidget(box)
        self.init = QComboBox()
        self.init.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)  # long model names: no
        self.init.setMinimumContentsLength(16)                                          # sideways scrolling
        self.init.addItem("Random weights (train from scratch)", "")
        for mid, label in init_models:
            self.init.addItem(f"Fine-tune {label}", mid)
            self.init.setItemData(self.init.count() - 1, f"Fine-tune {label}", Qt.ToolTipRole)  # the full name
        self.device = QComboBox()
        self.device.addItems(["auto", "cpu", "cuda"])
        for key, w in (("size", self.size), ("batch", self.batch), ("generator", self.generator), ("ngf", self.ngf),
                       ("discriminator", self.discriminator), ("gan_loss", self.gan_loss), ("lr", self.lr),
                       ("lambda_cyc", self.lambda_cyc), ("lambda_idt", self.lambda_idt), ("pool", self.pool),
                       ("init", self.init), ("device", self.device)):
            w.setToolTip(TIPS[key])
        for label, w in (("Image size:", self.size), ("Batch size:", self.batch), ("Generator:", self.generator),
                         ("Generator width:", self.ngf), ("Discriminator:", self.discriminator),
                         ("GAN loss:", self.gan_loss), ("Learning rate:", self.lr), ("Cycle weight:", self.lambda_cyc),
                         ("Identity weight:", self.lambda_idt), ("Image pool:", self.pool), ("DiffAugment:", augs),
                         ("Start from:", self.init), ("Device:", self.device)):
            f.addRow(label, w)

    def _connect_changes(self) -> None:
        for w in (self.preset, self.generator, self.discriminator, self.gan_loss, self.init, self.device):
            w.currentIndexChanged.connect(self._emit_changed)
        for w in (self.steps, self.size, self.batch, self.ngf, self.lr, self.lambda_cyc, self.lambda_idt, self.pool):
            w.valueChanged.connect(self._emit_changed)
        for box in self.aug_boxes.values():
            box.toggled.connect(self._emit_changed)
        self.name.textChanged.connect(self._emit_changed)
        self.adv_btn.toggled.connect(self._emit_changed)

    def controls(self) -> List[QWidget]:
        """Every control of the panel (for checks that each has a tooltip)."""
        return [self.preset, self.steps, self.name, self.adv_btn, self.size, self.batch, self.generator, self.ngf,
                self.discriminator, self.gan_loss, self.lr, self.lambda_cyc, self.lambda_idt, self.pool,
                *self.aug_boxes.values(), self.init, self.device]

    def _toggle(self, on: bool) -> None:
        self.adv.setVisible(on)
        self.adv_btn.setText("Advanced settings ▾" if on else "Advanced settings ▸")

    def _apply_preset(self) -> None:
        if getattr(self, "_filling", False):
            return
        key = self.preset.currentData()
        p = dict(self.table.get(key, {}))
        quiet, self._quiet = self._quiet, True
        try:
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
        finally:
            self._quiet = quiet

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

    def form_values(self) -> Dict[str, Any]:
        """Everything on screen, for the remembered form (``values()`` plus whether Advanced is open)."""
        return dict(self.values(), advanced_open=self.adv_btn.isChecked())

    def check_form(self, v: Dict[str, Any]) -> str:
        """Why ``v`` cannot be shown exactly ("" if it can): a preset, choice or model that no longer exists."""
        if self.preset.findData(v.get("preset")) < 0:
            return f"the preset {v.get('preset')!r} no longer exists"
        for combo, key in ((self.generator, "generator"), (self.discriminator, "discriminator"),
                           (self.gan_loss, "gan_loss"), (self.device, "device")):
            if combo.findText(str(v.get(key, ""))) < 0:
                return f"{key.replace('_', ' ')} {v.get(key)!r} is not offered any more"
        if v.get("init_from") and self.init.findData(v["init_from"]) < 0:
            return f"the model {v['init_from']!r} to fine-tune from is gone"
        return ""

    def set_values(self, v: Dict[str, Any]) -> None:
        """Show ``v`` (a ``form_values()`` record, checked with ``check_form``) in every field."""
        self._quiet = self._filling = True
        try:
            self.preset.setCurrentIndex(self.preset.findData(v["preset"]))
            self.steps.setValue(int(v["steps"]))
            self.size.setValue(int(v["image_size"]))
            self.batch.setValue(int(v["batch_size"]))
            self.generator.setCurrentText(v["generator"])
            self.ngf.setValue(int(v["ngf"]))
            self.discriminator.setCurrentText(v["discriminator"])
            self.gan_loss.setCurrentText(v["gan_loss"])
            self.lr.setValue(float(v["lr"]))
            self.lambda_cyc.setValue(float(v["lambda_a"]))
            self.lambda_idt.setValue(float(v["lambda_identity"]))
            self.pool.setValue(int(v["pool_size"]))
            augs = str(v.get("diffaug", "")).split(",")
            for a, box in self.aug_boxes.items():
                box.setChecked(a in augs)
            self.init.setCurrentIndex(max(0, self.init.findData(v.get("init_from", ""))))
            self.device.setCurrentText(v["device"])
            self.name.setText(str(v.get("name", "")))
            self.adv_btn.setChecked(bool(v.get("advanced_open", False)))
        finally:
            self._quiet = self._filling = False
        self._emit_changed()

    def _emit_changed(self) -> None:
        if not self._quiet:
            self.changed.emit()

    def set_enabled(self, on: bool) -> None:
        for w in (self.preset, self.steps, self.name, self.adv):
            w.setEnabled(on)
