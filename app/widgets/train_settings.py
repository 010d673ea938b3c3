"""Training settings: the method (FastCUT, CUT or CycleGAN), a preset (quick preview 128 px, standard 256 px, high
quality) and an advanced panel with every choice, including the data-efficiency switches (DiffAugment, EMA, R1).
``family()`` and ``values()`` give ``engine.training.core.build_config`` its family and overrides; the page
remembers ``form_values()`` (every field) and shows it again with ``set_values()``. Every control has a tooltip."""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit,
                               QSpinBox, QToolButton, QVBoxLayout, QWidget)

from engine.config import options_of
from engine.training import core



def train_methods() -> List[Tuple[str, str, str, Dict[str, Any]]]:
    """(key, family, label, config overrides) of every registered family that trains from two folders (its
    ``methods``), the fast one first: a newly registered family appears here without editing this file."""
    fams = sorted(core.discover_families().values(), key=lambda cls: (cls.page_rank, cls.family))
    return [(key, cls.family, label, dict(over)) for cls in fams for key, label, over in cls.methods]


def method_presets() -> Dict[str, Dict[str, Dict[str, Any]]]:
    """The preset tables of the families :func:`train_methods` offers (what :class:`TrainSettings` takes)."""
    return {fam: core.presets(fam) for _key, fam, _label, _over in train_methods()}

PRESETS = [("quick", "Quick preview (128 px)"), ("standard", "Standard (256 px)"),
           ("high", "High quality (256 px, full recipe)"), ("tiny", "Smoke test (64 px, seconds)")]
AUGS = ["color", "translation", "cutout"]
TIPS = {
    "method": "FastCUT and CUT learn one direction (A → B) with one generator and train about twice as fast per "
              "step as CycleGAN, which learns both directions (A → B and B → A)",
    "ema": "Keep an exponential moving average of the generator's weights and save it as the model: smoother, "
           "steadier results for the same training time",
    "r1": "R1 gradient penalty on real images, applied every 16 steps (off = 0); helps when the discriminator wins "
          "too easily",
    "preset": "A starting recipe: Smoke test checks that everything works in seconds; Quick preview shows whether "
              "the idea works (128 px); Standard and High quality make models worth keeping (256 px, hours on a GPU)",
    "steps": "How many training steps the run makes in total. Checkpoints, samples and log lines are spread over "
             "the run (about every 5 %, 2.5 % and 0.25 % of it)",
    "name": "The name of the run and of its models in every model list (default: folder A's name, 2, folder B's)",
    "adv": "Show or hide every CycleGAN setting (the preset fills them in)",
    "face_crop": "Find the face in every photo of folder A, rotate it so the eyes are level and train on the crops "
                 "(prepared once; your photos are not changed). The model then translates the faces inside any "
                 "photo. Stops before training, with the counts, if most photos have no face",
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

    def __init__(self, presets: Dict[str, Dict[str, Dict[str, Any]]], init_models: List[tuple], parent=None):
        """``presets``: the preset table of each family (``{family: core.presets(family)}``)."""
        super().__init__(parent)
        self.tables = presets
        self.methods = [m for m in train_methods() if m[1] in presets]
        self.table = presets[self.methods[0][1]] if self.methods else {}
        self._applied: Dict[str, Any] = {}  # the values the last preset set (a field that differs, the user changed)
        self._quiet = True
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.WrapLongRows)
        self.method = QComboBox(toolTip=TIPS["method"])
        for key, _fam, label, _over in self.methods:
            self.method.addItem(label, key)
        self.method.currentIndexChanged.connect(self._method_changed)
        form.addRow("Method:", self.method)
        self.preset = QComboBox(toolTip=TIPS["preset"])
        for key, label in PRESETS:
            if any(key in table for table in presets.values()):
                self.preset.addItem(label, key)
        self.preset.currentIndexChanged.connect(self._apply_preset)
        form.addRow("Preset:", self.preset)
        self.steps = QSpinBox(minimum=1, maximum=10_000_000, singleStep=500, toolTip=TIPS["steps"])
        self.steps.setGroupSeparatorShown(True)
        form.addRow("Steps:", self.steps)
        self.name = QLineEdit(placeholderText="e.g. photo2anime (default: from the folders)", toolTip=TIPS["name"])
        form.addRow("Run name:", self.name)
        self.face_crop = QCheckBox("Crop and align the faces in folder A", toolTip=TIPS["face_crop"])
        form.addRow("Faces:", self.face_crop)
        lay.addLayout(form)
        self.adv_btn = QToolButton(text="Advanced settings ▸", checkable=True, toolTip=TIPS["adv"])
        self.adv_btn.setAutoRaise(True)
        self.adv_btn.toggled.connect(self._toggle)
        lay.addWidget(self.adv_btn)
        self.adv = QGroupBox()
        self._advanced(init_models)
        self.adv.setVisible(False)
        lay.addWidget(self.adv)
        self._method_changed()
        self._quiet = False
        self._connect_changes()

    def _advanced(self, init_models) -> None:
        f = QFormLayout(self.adv)
        f.setRowWrapPolicy(QFormLayout.WrapLongRows)
        self.size = QSpinBox(minimum=64, maximum=1024, singleStep=64)
        self.batch = QSpinBox(minimum=1, maximum=256)
        self.generator, self.discriminator, self.gan_loss = QComboBox(), QComboBox(), QComboBox()
        for combo, name in ((self.generator, "generator"), (self.discriminator, "discriminator"),
                            (self.gan_loss, "gan_loss")):
            combo.addItems(choices("cyclegan", name))
        self.ngf = QSpinBox(minimum=4, maximum=256)
        self.lr = QDoubleSpinBox(decimals=6, minimum=1e-6, maximum=1e-2, singleStep=1e-4)
        self.lambda_cyc = QDoubleSpinBox(minimum=0, maximum=100, singleStep=1)
        self.lambda_idt = QDoubleSpinBox(minimum=0, maximum=10, singleStep=0.1)
        self.pool = QSpinBox(minimum=0, maximum=1000)
        self.ema = QCheckBox("average G's weights (0.999)", toolTip=TIPS["ema"])
        self.r1 = QDoubleSpinBox(decimals=2, minimum=0, maximum=100, singleStep=0.1, toolTip=TIPS["r1"])
        self.r1.setSpecialValueText("off")
        augs = QWidget()
        ah = QHBoxLayout(augs)
        ah.setContentsMargins(0, 0, 0, 0)
        self.aug_boxes = {a: QCheckBox(a, toolTip=TIPS["aug"]) for a in AUGS}
        for box in self.aug_boxes.values():
            ah.addWidget(box)
        self.init = QComboBox()
        self.init.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)  # long model names: no
        self.init.setMinimumContentsLength(16)                                          # sideways scrolling
        self.init.addItem("Random weights (from scratch)", "")
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
                         ("EMA:", self.ema), ("R1 penalty:", self.r1), ("Start from:", self.init),
                         ("Device:", self.device)):
            f.addRow(label, w)
        self.adv_form = f
        #: rows shown only for families whose config has the setting (CUT has no cycle, identity or pool)
        self.family_rows = {self.generator: "generator", self.ngf: "ngf", self.discriminator: "discriminator", self.lambda_cyc: "lambda_a",
                            self.lambda_idt: "lambda_identity", self.pool: "pool_size"}

    def _connect_changes(self) -> None:
        for w in (self.method, self.preset, self.generator, self.discriminator, self.gan_loss, self.init,
                  self.device):
            w.currentIndexChanged.connect(self._emit_changed)
        for w in (self.steps, self.size, self.batch, self.ngf, self.lr, self.lambda_cyc, self.lambda_idt, self.pool,
                  self.r1):
            w.valueChanged.connect(self._emit_changed)
        for box in (*self.aug_boxes.values(), self.ema):
            box.toggled.connect(self._emit_changed)
        self.name.textChanged.connect(self._emit_changed)
        self.face_crop.toggled.connect(self._emit_changed)
        self.adv_btn.toggled.connect(self._emit_changed)

    def controls(self) -> List[QWidget]:
        """Every control of the panel (for checks that each has a tooltip)."""
        return [self.method, self.preset, self.steps, self.name, self.face_crop,
                self.adv_btn, self.size, self.batch, self.generator,
                self.ngf, self.discriminator, self.gan_loss, self.lr, self.lambda_cyc, self.lambda_idt, self.pool,
                *self.aug_boxes.values(), self.ema, self.r1, self.init, self.device]

    def _toggle(self, on: bool) -> None:
        self.adv.setVisible(on)
        self.adv_btn.setText("Advanced settings ▾" if on else "Advanced settings ▸")

    def _method(self, key=None) -> Tuple[str, str, str, Dict[str, Any]]:
        key = self.method.currentData() if key is None else key
        return next((m for m in self.methods if m[0] == key), self.methods[0])

    def family(self) -> str:
        return self._method()[1]

    def _fields(self, family: str) -> set:
        return {o.name for o in options_of(core.get_trainer(family).config_cls)}

    def _method_changed(self) -> None:
        """Show the chosen method's settings only (CUT has no cycle, identity or pool) and its choices (CUT offers
        no WGAN loss) with its preset's values; what the user changed by hand is kept where the method allows it."""
        fam = self.family()
        edited = {k: v for k, v in self._all_values().items() if k in self._applied and v != self._applied[k]}
        self.table = self.tables.get(fam, {})
        fields = self._fields(fam)
        for w, name in self.family_rows.items():
            self.adv_form.setRowVisible(w, name in fields)
        for combo, name in ((self.generator, "generator"), (self.discriminator, "discriminator"),
                            (self.gan_loss, "gan_loss")):
            refill(combo, choices(fam, name))
        self._apply_preset()
        self._set_fields(edited)

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
            on = set((p.get("diffaug") or "").split(","))
            for a, box in self.aug_boxes.items():
                box.setChecked(a in on)
            self.ema.setChecked(float(p.get("ema_decay", 0.0)) > 0)
            self.r1.setValue(float(p.get("r1_gamma", 0.0)))
        finally:
            self._quiet = quiet
        self._applied = self._all_values()

    def _set_fields(self, v: Dict[str, Any]) -> None:
        """Show the preset-controlled fields in ``v``; a choice this method does not offer keeps the preset's."""
        setters = {"steps": lambda x: self.steps.setValue(int(x)), "image_size": lambda x: self.size.setValue(int(x)),
                   "batch_size": lambda x: self.batch.setValue(int(x)), "ngf": lambda x: self.ngf.setValue(int(x)),
                   "lr": lambda x: self.lr.setValue(float(x)), "lambda_a": lambda x: self.lambda_cyc.setValue(float(x)),
                   "lambda_identity": lambda x: self.lambda_idt.setValue(float(x)),
                   "pool_size": lambda x: self.pool.setValue(int(x)), "r1_gamma": lambda x: self.r1.setValue(float(x)),
                   "ema_decay": lambda x: self.ema.setChecked(float(x) > 0),
                   "diffaug": lambda x: [b.setChecked(a in str(x).split(",")) for a, b in self.aug_boxes.items()]}
        for combo, key in ((self.generator, "generator"), (self.discriminator, "discriminator"),
                           (self.gan_loss, "gan_loss")):
            setters[key] = lambda x, c=combo: c.findText(str(x)) >= 0 and c.setCurrentText(str(x))
        for key, value in v.items():
            if key in setters:
                setters[key](value)

    def select_preset(self, key: str) -> None:
        i = self.preset.findData(key)
        if i >= 0:
            self.preset.setCurrentIndex(i)
            self._apply_preset()

    def _all_values(self) -> Dict[str, Any]:
        aug = ",".join(a for a, b in self.aug_boxes.items() if b.isChecked())
        return {"preset": self.preset.currentData(), "steps": self.steps.value(), "image_size": self.size.value(),
                "batch_size": self.batch.value(), "generator": self.generator.currentText(), "ngf": self.ngf.value(),
                "discriminator": self.discriminator.currentText(), "gan_loss": self.gan_loss.currentText(),
                "lr": self.lr.value(), "lambda_a": self.lambda_cyc.value(), "lambda_b": self.lambda_cyc.value(),
                "lambda_identity": self.lambda_idt.value(), "pool_size": self.pool.value(), "diffaug": aug,
                "ema_decay": 0.999 if self.ema.isChecked() else 0.0, "r1_gamma": self.r1.value(),
                "init_from": self.init.currentData() or "", "device": self.device.currentText(),
                "face_crop": self.face_crop.isChecked(),
                "name": self.name.text().strip()}

    def values(self) -> Dict[str, Any]:
        """``{"preset": ..., overrides...}`` for build_config with :meth:`family`."""
        fields = self._fields(self.family()) | {"preset", "name"}
        out = {k: v for k, v in self._all_values().items() if k in fields}
        out.update(self._method()[3])  # e.g. CUT's mode
        return out

    def form_values(self) -> Dict[str, Any]:
        """Everything on screen, for the remembered form (every field, the method, whether Advanced is open)."""
        return dict(self._all_values(), method=self.method.currentData(), advanced_open=self.adv_btn.isChecked())

    def check_form(self, v: Dict[str, Any]) -> str:
        """Why ``v`` cannot be shown exactly ("" if it can): a preset, choice or model that no longer exists."""
        method = v.get("method", "cyclegan")
        missing = [k for k in ("preset", "generator", "discriminator", "gan_loss", "device") if k not in v]
        if missing:
            return f"the saved settings are incomplete (no {', '.join(missing)})"
        if self.method.findData(method) < 0:
            return f"the method {method!r} is not offered any more"
        if self.preset.findData(v.get("preset")) < 0:
            return f"the preset {v.get('preset')!r} no longer exists"
        fam = self._method(method)[1]
        for key in ("generator", "discriminator", "gan_loss"):  # the saved method's choices, not the shown one's
            offered = choices(fam, key)
            if offered and str(v.get(key, "")) not in offered:
                return f"{key.replace('_', ' ')} {v.get(key)!r} is not offered any more"
        if self.device.findText(str(v.get("device", ""))) < 0:
            return f"device {v.get('device')!r} is not offered any more"
        if v.get("init_from") and self.init.findData(v["init_from"]) < 0:
            return f"the model {v['init_from']!r} to fine-tune from is gone"
        return ""

    def set_values(self, v: Dict[str, Any]) -> None:
        """Show ``v`` (a ``form_values()`` record, checked with ``check_form``) in every field."""
        self._quiet = self._filling = True
        try:
            self.method.setCurrentIndex(self.method.findData(v.get("method", "cyclegan")))
            self._method_changed()
            self.preset.setCurrentIndex(self.preset.findData(v["preset"]))
            required = ("steps", "image_size", "batch_size", "generator", "ngf", "discriminator", "gan_loss", "lr",
                        "lambda_a", "lambda_identity", "pool_size")  # a record without one is damaged (KeyError)
            self._set_fields({**{k: v[k] for k in required}, "diffaug": v.get("diffaug", ""),
                              "ema_decay": v.get("ema_decay", 0.0), "r1_gamma": v.get("r1_gamma", 0.0)})
            self.init.setCurrentIndex(max(0, self.init.findData(v.get("init_from", ""))))
            self.device.setCurrentText(v["device"])
            self.name.setText(str(v.get("name", "")))
            self.face_crop.setChecked(bool(v.get("face_crop", False)))
            self.adv_btn.setChecked(bool(v.get("advanced_open", False)))
        finally:
            self._quiet = self._filling = False
        self._emit_changed()

    def _emit_changed(self) -> None:
        if not self._quiet:
            self.changed.emit()

    def set_enabled(self, on: bool) -> None:
        for w in (self.method, self.preset, self.steps, self.name, self.face_crop, self.adv):
            w.setEnabled(on)


def refill(combo: QComboBox, items: List[str]) -> None:
    """``combo`` offers ``items`` (keeping its choice when still offered); none: left as it is (its row is hidden)."""
    if not items:
        return
    current = combo.currentText()
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(items)
    combo.blockSignals(False)
    combo.setCurrentText(current if current in items else items[0])


def choices(family: str, name: str) -> List[str]:
    """The values a family's config offers for setting ``name``, read from the registries (so a newly registered
    network appears here), the config's default first."""
    cls = core.get_trainer(family).config_cls
    opt = next((o for o in options_of(cls) if o.name == name), None)
    if opt is None:  # a family without this setting
        return []
    allowed = cls.gan_losses() if name == "gan_loss" else opt.choices()  # CUT refuses WGAN
    return [opt.default] + [c for c in allowed if c != opt.default]
