"""The Metrics box of the Evaluate page: which metrics, which classifier for the classifier-based diversity scores,
and where the full Inception weights for the Inception Score are (remembered in the settings). The page remembers the
metrics and the classifier with its form (``fields()``)."""
from __future__ import annotations

from pathlib import Path
from typing import List

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFileDialog, QGridLayout, QGroupBox, QHBoxLayout, QLabel

from app.settings import settings
from app.widgets.layout import button
from engine.metrics import default_metrics, metric_names
from engine.metrics.classifier import list_classifiers
from engine.metrics.report import MEANING
from engine.metrics.weights import IS_WEIGHTS_NAME, find_is_weights
from engine.registry import METRICS

METRIC_TIPS = {"fid": MEANING["fid"], "kid": MEANING["kid"], "is": MEANING["is"],
               "pr": MEANING["precision"] + "\n" + MEANING["recall"], "diversity": MEANING["diversity_fake"],
               "mode_collapse": MEANING["collapsed_share"] + "\n" + MEANING["modes_covered"]}


class MetricOptionsBox(QGroupBox):
    changed = Signal()
    trainRequested = Signal()

    def __init__(self, parent=None):
        super().__init__("Metrics", parent)
        g = QGridLayout(self)
        self.checks = {}
        chosen = set(default_metrics())  # the page's remembered form shows the user's choice
        names = metric_names()  # every registered metric, in registration order
        for i, key in enumerate(names):
            meta = METRICS.meta(key)
            cb = QCheckBox(meta.get("label", key), toolTip=METRIC_TIPS.get(key, meta["doc"]))
            cb.setChecked(key in chosen)
            cb.toggled.connect(self._toggled)
            self.checks[key] = cb
            g.addWidget(cb, i // 2, i % 2)
        row = (len(names) + 1) // 2  # the rows below the check boxes (3 for the six built-in metrics)
        g.addWidget(QLabel("Classifier:"), row, 0)
        crow = QHBoxLayout()
        self.classifier_combo = QComboBox()
        self.classifier_combo.setToolTip("Classifier for the classifier-based diversity scores (named in the "
                                         "results; the Inception Score itself needs the full Inception weights)")
        crow.addWidget(self.classifier_combo, 1)
        train = button("Train…", "Train a domain classifier from two or more folders, e.g. trainA and trainB",
                       self.trainRequested.emit)
        crow.addWidget(train)
        g.addLayout(crow, row, 1)
        g.addWidget(QLabel("IS weights:"), row + 1, 0)
        irow = QHBoxLayout()
        self.is_label = QLabel()
        self.is_label.setWordWrap(True)
        irow.addWidget(self.is_label, 1)
        pick = button("Choose…",
                      f"pytorch-fid's full {IS_WEIGHTS_NAME}, verified by checksum and shapes", self.choose_is_weights)
        irow.addWidget(pick)
        g.addLayout(irow, row + 1, 1)
        self.reload_classifiers()
        self._show_is_weights()

    def _toggled(self) -> None:
        self.changed.emit()

    def fields(self) -> dict:
        """The remembered fields (``app.form_memory``): the metrics ticked and the classifier (a deleted classifier
        is refused)."""
        from app.form_memory import Field

        def check(v) -> str:
            bad = [k for k in v if k not in self.checks] if isinstance(v, list) else [v]
            return f"the metric {bad[0]!r} is not offered any more" if bad else ""

        return {"metrics": Field(self.selected, self.set_selected, check, [self.changed]),
                "classifier": self.classifier_combo}

    def selected(self) -> List[str]:
        return [k for k, cb in self.checks.items() if cb.isChecked()]

    def set_selected(self, keys) -> None:
        for k, cb in self.checks.items():
            cb.setChecked(k in keys)

    def reload_classifiers(self, select: str = "") -> None:
        self.classifier_combo.clear()
        self.classifier_combo.addItem("none", "")
        for p in list_classifiers():
            self.classifier_combo.addItem(p.stem, str(p))
        self.classifier_combo.setCurrentIndex(max(0, self.classifier_combo.findData(select)))

    def classifier(self) -> str:
        return self.classifier_combo.currentData() or ""

    def is_weights(self) -> str:
        return settings().get("evaluate/is_weights", "") or ""

    def choose_is_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Full Inception weights for the Inception Score",
                                              settings().last_dir("weights"), "PyTorch weights (*.pth *.pt)")
        if path:
            settings().set_last_dir(path, "weights")
            settings().set("evaluate/is_weights", path)
            self._show_is_weights()

    def _show_is_weights(self) -> None:
        found = find_is_weights(self.is_weights() or None)
        self.is_label.setText(Path(found).name if found else "not set: IS unavailable")
        self.is_label.setToolTip(str(found) if found else f"The Inception Score needs {IS_WEIGHTS_NAME}.")
