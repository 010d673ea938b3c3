"""A live line chart of training losses (QtCharts): one series per loss, axes that follow the data."""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QMargins, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


class LossChart(QChartView):
    MAX_POINTS = 2000  # older points are thinned out so long runs stay fast

    def __init__(self, keys: Iterable[Tuple[str, str]], parent=None):
        """``keys``: (loss name in the partial results, legend label)."""
        chart = QChart()
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.legend().setAlignment(Qt.AlignBottom)
        chart.setTitle("Losses")
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.Antialiasing)
        self.setMinimumHeight(200)
        self.ax = QValueAxis()
        self.ax.setTitleText("step")
        self.ax.setLabelFormat("%d")
        self.ay = QValueAxis()
        chart.addAxis(self.ax, Qt.AlignBottom)
        chart.addAxis(self.ay, Qt.AlignLeft)
        self.series: Dict[str, QLineSeries] = {}
        self.points: Dict[str, List[QPointF]] = {}
        for i, (key, label) in enumerate(keys):
            s = QLineSeries()
            s.setName(label)
            s.setPen(QPen(QColor(COLORS[i % len(COLORS)]), 1.6))
            self.series[key] = s
            self.points[key] = []
        self.clear()

    def clear(self) -> None:
        for k, s in self.series.items():
            s.clear()
            self.points[k] = []
        self.ax.setRange(0, 1)
        self.ay.setRange(0, 1)
        for axis in (self.ax, self.ay):  # no "0 0 0 0 1" before there is anything to measure
            axis.setLabelsVisible(False)
        self.ax.setTitleText("step (the losses appear after the first steps)")
        self._legend()

    def _legend(self) -> None:
        """Only the losses the running family reports are on the chart and in its legend (FastCUT has no cycle or
        identity loss, CycleGAN no PatchNCE): a series joins the chart with its first point."""
        chart, shown = self.chart(), set(self.chart().series())
        for k, s in self.series.items():
            if self.points[k] and s not in shown:
                chart.addSeries(s)
                s.attachAxis(self.ax)
                s.attachAxis(self.ay)
            elif not self.points[k] and s in shown:
                chart.removeSeries(s)

    def legend_labels(self) -> List[str]:
        legend = self.chart().legend()
        return [m.label() for s in self.chart().series() for m in legend.markers(s)]

    def add(self, step: int, losses: Dict[str, float]) -> None:
        for k, s in self.series.items():
            if k in losses:
                self.points[k].append(QPointF(float(step), float(losses[k])))
                if len(self.points[k]) > self.MAX_POINTS:
                    self.points[k] = self.points[k][::2]
                    s.replace(self.points[k])
                else:
                    s.append(self.points[k][-1])
        self._legend()
        self._rescale()

    def set_history(self, records: Iterable[Dict[str, float]]) -> None:
        self.clear()
        for k, s in self.series.items():
            self.points[k] = [QPointF(float(r["step"]), float(r[k])) for r in records if k in r]
            if len(self.points[k]) > self.MAX_POINTS:
                self.points[k] = self.points[k][:: len(self.points[k]) // self.MAX_POINTS + 1]
            s.replace(self.points[k])
        self._legend()
        self._rescale()

    def _rescale(self) -> None:
        pts = [p for v in self.points.values() for p in v]
        if not pts:
            return
        xs, ys = [p.x() for p in pts], [p.y() for p in pts]
        x0, x1 = min(xs), max(max(xs), min(xs) + 1)
        self.ax.setRange(x0, x1)
        self.ax.setTickCount(int(max(2, min(6, x1 - x0 + 1))))  # integer step labels never repeat
        self.ax.setTitleText("step")
        for axis in (self.ax, self.ay):
            axis.setLabelsVisible(True)
        lo, hi = min(ys), max(ys)
        pad = (hi - lo) * 0.05 or 0.5
        self.ay.setRange(min(0.0, lo - pad), hi + pad)
        self.ay.applyNiceNumbers()

    def x_labels(self) -> List[str]:
        """The step labels shown under the chart (empty while there is no data)."""
        if not self.ax.labelsVisible():
            return []
        n, lo, hi = self.ax.tickCount(), self.ax.min(), self.ax.max()
        return [f"{lo + (hi - lo) * i / (n - 1):.0f}" for i in range(n)]

    def count(self, key: str) -> int:
        return self.series[key].count() if key in self.series else 0

    def last(self, key: str) -> Optional[float]:
        pts = self.points.get(key) or []
        return pts[-1].y() if pts else None
