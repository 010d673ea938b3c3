"""Small, fast QPainter charts for live training views: a multi-series line chart and a bar chart.

They repaint from plain Python lists several times a second without the weight of QtCharts, and keep a consistent
look: light card background, thin grid, tick labels, a legend in the corner.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

CARD_BG = QColor(252, 252, 253)
FRAME = QColor(214, 217, 223)
GRID = QColor(236, 238, 242)
TEXT = QColor(70, 74, 82)
MUTED = QColor(130, 135, 145)


def nice_ticks(lo: float, hi: float, n: int = 4, integer: bool = False) -> List[float]:
    """About ``n`` round tick values covering [lo, hi] (whole numbers only with ``integer``)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if integer:
        step = max(1.0, round(step))
    start = math.ceil(lo / step) * step
    out = []
    v = start
    while v <= hi + 1e-9 * step:
        out.append(round(v, 10))
        v += step
    return out


def fmt_tick(v: float) -> str:
    a = abs(v)
    if a >= 10000:
        return f"{v / 1000:.0f}k"
    if a >= 1000:
        return f"{v / 1000:.1f}k".replace(".0k", "k")
    if a >= 10 or v == int(v):
        return f"{v:.0f}"
    return f"{v:.2g}"


@dataclass
class Series:
    name: str
    color: QColor
    xs: Sequence[float] = field(default_factory=list)
    ys: Sequence[float] = field(default_factory=list)
    axis: str = "left"  # "left" or "right"
    dashed: bool = False
    smooth: float = 0.0  # > 0: draw the raw curve faintly and an exponential moving average (this weight) on top


def ema(values: Sequence[float], weight: float) -> List[float]:
    """Exponential moving average (TensorBoard-style smoothing), debiased at the start; NaN/inf are skipped."""
    out, acc, norm = [], 0.0, 0.0
    for v in values:
        if math.isfinite(v):
            acc = weight * acc + (1 - weight) * v
            norm = weight * norm + (1 - weight)
        out.append(acc / norm if norm else float("nan"))
    return out


class _Card(QWidget):
    def __init__(self, title: str = "", parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.title = title
        self.placeholder = "waiting for data"
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(180, 120)

    def sizeHint(self) -> QSize:
        return QSize(300, 170)

    def _begin_paint(self) -> Tuple[QPainter, QRectF]:
        """A painter on the card with its frame and title drawn and the small font set; the frame's rectangle."""
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        r = self._frame(p)
        f = QFont(self.font())
        f.setPointSizeF(max(6.5, f.pointSizeF() * 0.82))
        p.setFont(f)
        return p, r

    def _frame(self, p: QPainter) -> QRectF:
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(QPen(FRAME, 1))
        p.setBrush(CARD_BG)
        p.drawRoundedRect(r, 6, 6)
        f = QFont(self.font())
        f.setBold(True)
        p.setFont(f)
        p.setPen(TEXT)
        p.drawText(r.adjusted(10, 5, -10, 0), Qt.AlignLeft | Qt.AlignTop, self.title)
        p.setFont(self.font())
        return r


class LineChart(_Card):
    """Series over steps. The y range ignores the most extreme 1 % so one spike does not flatten the curves."""

    def __init__(self, title: str = "", parent: Optional[QWidget] = None, *, y_range: Optional[Tuple[float, float]]
                 = None, right_range: Optional[Tuple[float, float]] = None, right_label: str = "",
                 integer: bool = False):
        super().__init__(title, parent)
        self.integer = integer
        self.series: List[Series] = []
        self.y_range = y_range
        self.right_range = right_range
        self.right_label = right_label

    def set_series(self, series: List[Series]) -> None:
        self.series = series
        self.update()

    def _range(self, axis: str) -> Tuple[float, float]:
        fixed = self.y_range if axis == "left" else self.right_range
        if fixed:
            return fixed
        ys = np.concatenate([np.asarray(s.ys, np.float64) for s in self.series if s.axis == axis and len(s.ys)]
                            or [np.zeros(0)])
        ys = ys[np.isfinite(ys)]
        if not ys.size:
            return 0.0, 1.0
        lo, hi = (np.percentile(ys, [1, 99]) if ys.size > 50 else (ys.min(), ys.max()))
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        pad = 0.08 * (hi - lo)
        return float(lo - pad), float(hi + pad)

    def paintEvent(self, _e) -> None:
        p, r = self._begin_paint()
        fm = p.fontMetrics()
        has_right = any(s.axis == "right" for s in self.series)
        plot = r.adjusted(44, 26, -(40 if has_right else 12), -22)
        xs_all = [x for s in self.series for x in s.xs]
        if not xs_all or plot.width() < 20 or plot.height() < 20:
            p.setPen(MUTED)
            p.drawText(r, Qt.AlignCenter, self.placeholder)
            return
        x0, x1 = min(xs_all), max(xs_all)
        if x1 <= x0:
            x1 = x0 + 1
        ranges = {"left": self._range("left"), "right": self._range("right")}

        def sx(x: float) -> float:
            return plot.left() + (x - x0) / (x1 - x0) * plot.width()

        def sy(y: float, axis: str = "left") -> float:
            lo, hi = ranges[axis]
            y = min(max(y, lo), hi)
            return plot.bottom() - (y - lo) / (hi - lo) * plot.height()

        self._axes(p, plot, x0, x1, ranges, has_right, sx, sy, fm)
        p.setClipRect(plot.adjusted(-1, -1, 1, 1))
        for s in self.series:
            self._draw_series(p, s, sx, sy)
        p.setClipping(False)
        self._legend(p, plot, fm)

    def _axes(self, p, plot, x0, x1, ranges, has_right, sx, sy, fm) -> None:
        for v in nice_ticks(*ranges["left"], integer=self.integer):
            y = sy(v)
            p.setPen(QPen(GRID, 1))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            p.setPen(MUTED)
            p.drawText(QRectF(plot.left() - 42, y - 8, 38, 16), Qt.AlignRight | Qt.AlignVCenter, fmt_tick(v))
        if has_right:
            for v in nice_ticks(*ranges["right"]):
                p.drawText(QRectF(plot.right() + 4, sy(v, "right") - 8, 36, 16), Qt.AlignLeft | Qt.AlignVCenter,
                           fmt_tick(v * 100) + "%" if self.right_label == "%" else fmt_tick(v))
        for v in nice_ticks(x0, x1, 4):
            x = sx(v)
            p.setPen(QPen(GRID, 1))
            p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            p.setPen(MUTED)
            p.drawText(QRectF(x - 30, plot.bottom() + 3, 60, 16), Qt.AlignHCenter | Qt.AlignTop, fmt_tick(v))
        p.setPen(QPen(FRAME, 1))
        p.drawRect(plot)

    @classmethod
    def _draw_series(cls, p: QPainter, s: Series, sx, sy) -> None:
        if s.smooth > 0:
            faint = QColor(s.color)
            faint.setAlpha(60)
            cls._draw_line(p, s.xs, s.ys, faint, 1.0, s, sx, sy)
            cls._draw_line(p, s.xs, ema(s.ys, s.smooth), s.color, 1.8, s, sx, sy)
        else:
            cls._draw_line(p, s.xs, s.ys, s.color, 1.6, s, sx, sy)

    @staticmethod
    def _draw_line(p: QPainter, xs, ys, color: QColor, width: float, s: Series, sx, sy) -> None:
        n = min(len(xs), len(ys))
        if not n:
            return
        pen = QPen(color, width)
        if s.dashed:
            pen.setStyle(Qt.DashLine)
        p.setPen(pen)
        path = QPainterPath()
        started = False
        for x, y in zip(xs[:n], ys[:n]):
            if not math.isfinite(y):
                started = False
                continue
            pt = QPointF(sx(x), sy(y, s.axis))
            if started:
                path.lineTo(pt)
            else:
                path.moveTo(pt)
                started = True
        p.setBrush(Qt.NoBrush)
        p.drawPath(path)
        if n == 1 and math.isfinite(ys[0]):
            p.setBrush(color)
            p.drawEllipse(QPointF(sx(xs[0]), sy(ys[0], s.axis)), 2.5, 2.5)

    def _legend(self, p: QPainter, plot: QRectF, fm) -> None:
        """Names with their last values in the plot's top-right corner; in a narrow plot the names alone, so the
        legend never runs over the axis labels."""
        items = list(zip(self.series, self.legend_texts(fm, plot.width())))
        p.save()
        p.setClipRect(plot)
        x = plot.right() - 6
        for s, text in reversed(items):
            w = fm.horizontalAdvance(text)
            x -= w + 18
            p.setPen(QPen(s.color, 3))
            p.drawLine(QPointF(x, plot.top() + 9), QPointF(x + 10, plot.top() + 9))
            p.setPen(TEXT)
            p.drawText(QRectF(x + 13, plot.top() + 1, w + 4, 16), Qt.AlignLeft | Qt.AlignVCenter, text)
        p.restore()


    def legend_texts(self, fm, width: float) -> List[str]:
        """The legend's entries for a plot ``width`` px wide: "name value", or the names alone where that is too
        wide."""
        texts = []
        for s in self.series:
            ys = ema(s.ys, s.smooth) if s.smooth > 0 else list(s.ys)
            last = next((v for v in reversed(ys) if math.isfinite(v)), None)
            pct = s.axis == "right" and self.right_label == "%"
            texts.append(s.name + ("" if last is None else (f" {last * 100:.0f}%" if pct else f" {last:.3g}")))
        if sum(fm.horizontalAdvance(t) + 18 for t in texts) > width - 8:
            texts = [s.name for s in self.series]
        return texts


class BarChart(_Card):
    """One bar per category (modes, digit classes, compared sets), with a dashed line at the fair share and optional
    error bars (± one std)."""

    def __init__(self, title: str = "", parent: Optional[QWidget] = None):
        super().__init__(title, parent)
        self.values: List[float] = []
        self.labels: List[str] = []
        self.colors: List[QColor] = []
        self.errors: List[float] = []
        self.reference: Optional[float] = None
        self.note = ""
        self.value_fmt = ""  # e.g. "{:.3f}": the value written above each bar

    def set_bars(self, values: Sequence[float], labels: Sequence[str], colors: Optional[Sequence[QColor]] = None,
                 reference: Optional[float] = None, note: str = "", errors: Sequence[float] = (),
                 value_fmt: str = "") -> None:
        self.values = [float(v) for v in values]
        self.labels = list(labels)
        self.colors = list(colors or [])
        self.errors = [float(e) for e in errors]
        self.value_fmt = value_fmt
        self.reference = reference
        self.note = note
        self.update()

    def paintEvent(self, _e) -> None:
        p, r = self._begin_paint()
        fm = p.fontMetrics()
        if self.note and fm.horizontalAdvance(self.title + self.note) * 1.15 + 30 < r.width():
            p.setPen(MUTED)
            p.drawText(r.adjusted(10, 6, -10, 0), Qt.AlignRight | Qt.AlignTop, self.note)
        plot = r.adjusted(12, 28 + (14 if self.value_fmt else 0), -12, -20)
        n = len(self.values)
        if not n or plot.height() < 10:
            p.setPen(MUTED)
            p.drawText(r, Qt.AlignCenter, self.placeholder)
            return
        errs = self.errors + [0.0] * (n - len(self.errors))
        top = max(max(v + e for v, e in zip(self.values, errs)), self.reference or 0.0, 1e-9) * 1.1
        slot = plot.width() / n
        show_every = max(1, int(math.ceil(14 / max(1.0, slot))))
        for i, v in enumerate(self.values):
            h = v / top * plot.height()
            bar = QRectF(plot.left() + i * slot + slot * 0.15, plot.bottom() - h, slot * 0.7, h)
            color = self.colors[i % len(self.colors)] if self.colors else QColor(91, 108, 214)
            p.setPen(Qt.NoPen)
            p.setBrush(color)
            p.drawRoundedRect(bar, 1.5, 1.5)
            if self.value_fmt:
                p.setPen(TEXT)
                text = self.value_fmt.format(v) + (f" ± {self.value_fmt.format(errs[i])}" if errs[i] > 0 else "")
                top_y = plot.bottom() - (v + errs[i]) / top * plot.height()
                p.drawText(QRectF(plot.left() + i * slot, top_y - 16, slot, 14), Qt.AlignHCenter | Qt.AlignBottom,
                           text)
            if errs[i] > 0:
                cx, lo, hi = bar.center().x(), max(0.0, v - errs[i]), v + errs[i]
                y_lo, y_hi = plot.bottom() - lo / top * plot.height(), plot.bottom() - hi / top * plot.height()
                p.setPen(QPen(TEXT, 1))
                p.drawLine(QPointF(cx, y_lo), QPointF(cx, y_hi))
                for y in (y_lo, y_hi):
                    p.drawLine(QPointF(cx - 4, y), QPointF(cx + 4, y))
            if i % show_every == 0:
                p.setPen(MUTED)
                p.drawText(QRectF(plot.left() + i * slot - 8, plot.bottom() + 2, slot + 16, 16),
                           Qt.AlignHCenter | Qt.AlignTop, self.labels[i] if i < len(self.labels) else str(i))
        if self.reference:
            y = plot.bottom() - self.reference / top * plot.height()
            p.setPen(QPen(MUTED, 1, Qt.DashLine))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(QPen(FRAME, 1))
        p.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.bottom()))
