"""The Evaluate page's "Comparison" tab: one bar chart per metric, one bar per compared set (folders or models), KID
with its ± std error bar where the spread was measured."""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from app.widgets.plots import BarChart
from engine.metrics.report import MEANING

# (result key, chart title, key of its std or "", value format)
CHARTED = (("fid", "FID ↓", "", "{:.1f}"), ("kid", "KID ↓ (± std)", "kid_std", "{:.4f}"),
           ("precision", "Precision ↑", "", "{:.3f}"), ("recall", "Recall ↑", "", "{:.3f}"),
           ("diversity_fake", "Diversity ↑", "", "{:.2f}"), ("is", "Inception Score ↑", "is_std", "{:.2f}"),
           ("collapsed_share", "Near-duplicates ↓", "", "{:.0%}"))


def short(label: str, n: int = 14) -> str:
    return label if len(label) <= n else label[:n - 1] + "…"


def _spread(result: Dict[str, Any], std_key: str) -> float:
    """The std drawn as an error bar; none where it was not measured (KID from one distinct subset)."""
    if not std_key or (std_key == "kid_std" and result.get("kid_subsets") == 1):
        return 0.0
    return float(result.get(std_key) or 0.0)


class ComparisonCharts(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.info = QLabel("Evaluate folders or models: each metric gets a chart here with one bar per compared set.")
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.grid = QGridLayout()
        self.charts: Dict[str, BarChart] = {}
        for key, title, _, _ in CHARTED:
            c = BarChart(title)
            c.setToolTip(MEANING.get(key, ""))
            c.setVisible(False)
            self.charts[key] = c
        lay.addLayout(self.grid, 1)

    def set_results(self, results: Sequence[Dict[str, Any]]) -> None:
        labels = [short(r.get("label", "") or f"set {i + 1}") for i, r in enumerate(results)]
        for c in self.charts.values():
            self.grid.removeWidget(c)
            c.setVisible(False)
        shown = [row for row in CHARTED if any(r.get(row[0]) is not None for r in results)]
        for i, (key, _, std_key, fmt) in enumerate(shown):  # the charts shown fill the grid in order, two a row
            chart = self.charts[key]
            values = [float(r.get(key) or 0.0) for r in results]
            unmeasured = std_key == "kid_std" and any(r.get("kid_subsets") == 1 for r in results)
            chart.set_bars(values, labels, errors=[_spread(r, std_key) for r in results], value_fmt=fmt,
                           note="± not measured at this N" if unmeasured else "")
            self.grid.addWidget(chart, i // 2, i % 2)
            chart.setVisible(True)
        n = len(results)
        self.info.setText(f"{n} compared set{'s' if n != 1 else ''}: " + ", ".join(
            f"{short(r.get('label', ''), 40)} (N = {r.get('n_fake', '?')})" for r in results) if results else
            "Evaluate folders or models: each metric gets a chart here with one bar per compared set.")
        self.info.setAlignment(Qt.AlignLeft)

    def shown(self) -> List[str]:
        return [key for key, c in self.charts.items() if not c.isHidden()]
