"""Pictures next to the numbers: sample grids of the real and generated sets, and the mode-collapse report with
example images of each near-duplicate cluster and of the real-data clusters no generated image reached."""
from __future__ import annotations

from typing import Any, List, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.widgets.images import to_pixmap
from engine.metrics.report import grid


def _picture(thumbs: List[Any], cols: int, cell: int) -> QLabel:
    lab = QLabel()
    g = grid(thumbs, cols=cols, cell_px=cell)
    if g is not None:
        lab.setPixmap(to_pixmap(g))
    else:
        lab.setText("(no readable images)")
    lab.setAlignment(Qt.AlignLeft | Qt.AlignTop)
    return lab


def _title(text: str) -> QLabel:
    lab = QLabel(text)
    f = lab.font()
    f.setBold(True)
    lab.setFont(f)
    lab.setWordWrap(True)
    return lab


class _Scrolling(QScrollArea):
    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.body = QWidget()
        self.lay = QVBoxLayout(self.body)
        self.lay.setAlignment(Qt.AlignTop)
        self.setWidget(self.body)

    def clear(self) -> None:
        while self.lay.count():
            it = self.lay.takeAt(0)
            w = it.widget()
            if w is not None:
                w.deleteLater()

    def add(self, w: QWidget) -> QWidget:
        self.lay.addWidget(w)
        return w


class SampleGrids(_Scrolling):
    """Real and generated samples of one evaluation, side by side."""

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.show_evaluation(None)

    def show_evaluation(self, ev: Any) -> None:
        self.clear()
        if ev is None:
            self.add(QLabel("Run an evaluation to see samples of both sets here."))
            return
        row = QWidget()
        g = QGridLayout(row)
        g.setContentsMargins(0, 0, 0, 0)
        r = ev.metrics
        for col, (key, title, n) in enumerate((("real", "Real", r.get("n_real")),
                                               ("fake", f"Generated: {r.get('label', '')}", r.get("n_fake")))):
            if key not in ev.samples:
                continue
            g.addWidget(_title(f"{title} ({n} images)"), 0, col)
            g.addWidget(_picture(ev.samples[key], 4, 96), 1, col, Qt.AlignTop)
        self.add(row)


class CollapseView(_Scrolling):
    """The mode-collapse report of one evaluation with its example clusters."""

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.summary = ""
        self.show_evaluation(None)

    def show_evaluation(self, ev: Any) -> None:
        self.clear()
        rep = getattr(ev, "report", None)
        if ev is None or rep is None:
            msg = (ev.metrics.get("messages", {}).get("mode_collapse") if ev is not None else None) or \
                "Tick 'Mode collapse' and run an evaluation to see near-duplicate clusters here."
            self.summary = msg
            self.add(QLabel(msg))
            return
        self.summary = rep.summary()
        self.add(_title(f"{ev.metrics.get('label', '')}: {self.summary}"))
        rule = QLabel(f"Near-duplicates: generated images {rep.threshold_rule}.")
        rule.setWordWrap(True)
        self.add(rule)
        if not rep.clusters:
            self.add(QLabel("No near-duplicate clusters: no sign of mode collapse among the generated images."))
        for i, ex in enumerate(ev.cluster_examples):
            self.add(QLabel(f"Cluster {i + 1}: {len(rep.clusters[i].members)} near-identical generated images"))
            self.add(_picture(ex, 8, 80))
        if ev.missed_examples:
            self.add(_title(f"Real-data clusters no generated image reached ({len(rep.missed_clusters)} of "
                            f"{rep.n_real_clusters})"))
            for i, ex in enumerate(ev.missed_examples):
                n = len(rep.missed_clusters[i].members)
                self.add(QLabel(f"Missed mode {i + 1}: {n} real image{'s' if n != 1 else ''}"))
                self.add(_picture(ex, 8, 80))
