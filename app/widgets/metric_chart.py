"""Charts of metrics over training steps (QtCharts), fed from runs' ``metrics.jsonl``.

:class:`MetricChart` draws any number of (step, value) series; :class:`RunCharts` adds a list of runs and of the
numeric keys they logged (tick to plot), reloads runs that are still writing, and renders to PNG for reports.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from PySide6.QtCharts import QChart, QChartView, QLineSeries, QValueAxis
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QWidget)

from app.widgets.layout import button, column, panel, panes
from engine.metrics.runs import RunMetrics, read_metrics

PREFERRED_KEYS = ("fid", "kid", "eval_fid", "eval_kid")


class MetricChart(QChartView):
    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setRenderHint(QPainter.Antialiasing)
        self.chart_ = QChart()
        self.chart_.legend().setAlignment(Qt.AlignBottom)
        self.setChart(self.chart_)
        self.setMinimumHeight(220)
        self.series_names: List[str] = []

    def set_series(self, groups: Dict[str, Dict[str, Sequence[Tuple[float, float]]]], title: str = "") -> None:
        """``groups``: value name -> {series label -> [(step, value)]}. Each value name gets its own y axis
        (alternating left and right), so FID (hundreds) and KID (hundredths) are both readable."""
        c = self.chart_
        c.removeAllSeries()
        for ax in list(c.axes()):
            c.removeAxis(ax)
        c.setTitle(title)
        self.series_names = []
        groups = {k: v for k, v in groups.items() if any(v.values())}
        if not groups:
            return
        ax_x = QValueAxis()
        ax_x.setTitleText("step")
        ax_x.setLabelFormat("%d")
        c.addAxis(ax_x, Qt.AlignBottom)
        xs: List[float] = []
        for g, (key, series) in enumerate(groups.items()):
            ax_y = QValueAxis()
            ax_y.setTitleText(key)
            c.addAxis(ax_y, Qt.AlignLeft if g % 2 == 0 else Qt.AlignRight)
            ys: List[float] = []
            for name, points in series.items():
                s = QLineSeries()
                s.setName(name)
                for x, y in points:
                    s.append(float(x), float(y))
                    xs.append(x)
                    ys.append(y)
                s.setPointsVisible(len(points) < 40)
                c.addSeries(s)
                s.attachAxis(ax_x)
                s.attachAxis(ax_y)
                self.series_names.append(name)
            lo, hi = min(ys), max(ys)
            pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
            ax_y.setRange(lo - pad, hi + pad)
            if len(series) == 1:
                ax_y.setLinePenColor(c.series()[-1].color())
                ax_y.setLabelsColor(c.series()[-1].color())
        ax_x.setRange(min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1)
        ax_x.applyNiceNumbers()

    def png_bytes(self, width: int = 900, height: int = 420) -> bytes:
        old = self.size()
        self.resize(width, height)
        pm = self.grab()
        self.resize(old)
        ba = QByteArray()
        buf = QBuffer(ba)
        buf.open(QIODevice.WriteOnly)
        pm.save(buf, "PNG")
        return bytes(ba.data())


class RunCharts(QWidget):
    """Runs on the left (tick to plot), the keys they logged below, the chart on the right."""

    changed = Signal()

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.runs: Dict[str, RunMetrics] = {}
        self.run_list = QListWidget()
        self.run_list.itemChanged.connect(self._refresh)
        self.key_list = QListWidget()
        self.run_list.setToolTip("Training runs: tick the ones to draw")
        self.key_list.setToolTip("Values measured during training (losses, FID, KID): tick the ones to draw")
        self.key_list.itemChanged.connect(self._refresh)
        self.chart = MetricChart()
        self.info = QLabel("Add a training run folder (one with metrics.jsonl) to chart its metrics over steps.")
        self.info.setWordWrap(True)
        self.reload_btn = button("Reload",
                                 "Read the runs' metrics.jsonl again (runs still training keep growing)", self.reload)
        left, lv = panel()
        lv.addWidget(QLabel("Runs"))
        lv.addWidget(self.run_list, 1)
        lv.addWidget(QLabel("Values"))
        lv.addWidget(self.key_list, 1)
        lv.addWidget(self.reload_btn)
        row = QHBoxLayout()  # the Evaluate page adds its "Add run folder" button to this row
        row.addWidget(self.info, 1)
        column(self, (panes(left, self.chart, sizes=[200, 700]), 1), row)
        self.timer = QTimer(self)
        self.timer.setInterval(15000)
        self.timer.timeout.connect(self.reload)

    def add_run(self, folder) -> Optional[RunMetrics]:
        rm = read_metrics(folder)
        if not rm.series:
            self.info.setText(f"{rm.path} has no numeric values with a 'step' yet.")
            return None
        key = str(Path(folder))
        new = key not in self.runs
        self.runs[key] = rm
        if new:
            it = QListWidgetItem(Path(folder).name)
            it.setData(Qt.UserRole, key)
            it.setToolTip(key)
            it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
            it.setCheckState(Qt.Checked)
            self.run_list.addItem(it)
        self._update_keys()
        self._refresh()
        self.timer.start()
        return rm

    def reload(self) -> None:
        for key in list(self.runs):
            self.runs[key] = read_metrics(key)
        self._update_keys()
        self._refresh()

    def _update_keys(self) -> None:
        keys = sorted({k for rm in self.runs.values() for k in rm.keys()})
        have = {self.key_list.item(i).text(): self.key_list.item(i) for i in range(self.key_list.count())}
        self.key_list.blockSignals(True)
        for k in keys:
            if k not in have:
                it = QListWidgetItem(k)
                it.setFlags(it.flags() | Qt.ItemIsUserCheckable)
                it.setCheckState(Qt.Checked if k in PREFERRED_KEYS else Qt.Unchecked)
                self.key_list.addItem(it)
        if not any(self.key_list.item(i).checkState() == Qt.Checked for i in range(self.key_list.count())) \
                and self.key_list.count():
            self.key_list.item(0).setCheckState(Qt.Checked)
        self.key_list.blockSignals(False)

    def checked(self, lw: QListWidget, role=None) -> List[str]:
        out = []
        for i in range(lw.count()):
            it = lw.item(i)
            if it.checkState() == Qt.Checked:
                out.append(it.data(Qt.UserRole) if role else it.text())
        return out

    def _refresh(self, *_args) -> None:
        runs = self.checked(self.run_list, role=True)
        keys = self.checked(self.key_list)
        groups: Dict[str, Dict[str, list]] = {}
        for k in keys:
            for r in runs:
                rm = self.runs.get(r)
                if rm and k in rm.series:
                    groups.setdefault(k, {})[f"{Path(r).name}: {k}" if len(runs) > 1 else k] = rm.series[k]
        self.chart.set_series(groups, ", ".join(groups) + " over training steps" if groups else "")
        bad = sum(self.runs[r].bad_lines for r in runs if r in self.runs)
        n_series = sum(len(g) for g in groups.values())
        n_points = sum(len(v) for g in groups.values() for v in g.values())
        self.info.setText(f"{n_series} series, {n_points} points" + (f"; {bad} unreadable lines skipped" if bad
                                                                       else ""))
        self.changed.emit()
