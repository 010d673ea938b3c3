"""The Draw page's tool strip: pen / eraser, brush size, and the colour: a free colour (sketch and photo models) or
the class colours of a label-map model's palette. Acts directly on a :class:`SketchCanvas`."""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QButtonGroup, QColorDialog, QGridLayout, QHBoxLayout, QLabel, QSlider, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)

from app.widgets.sketch_canvas import SketchCanvas

Color = Tuple[int, int, int]


def swatch(color: Color, size: int = 18) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(*color))
    return QIcon(pm)


class DrawTools(QWidget):
    toolChanged = Signal()

    def __init__(self, canvas: SketchCanvas, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.canvas = canvas
        self.palette_colors: List[Color] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.pen_btn = QToolButton(text="Pen", checkable=True, checked=True, toolTip="Draw (B)")
        self.eraser_btn = QToolButton(text="Eraser", checkable=True, toolTip="Erase with the background (E); the "
                                                                             "right mouse button always erases")
        group = QButtonGroup(self)
        group.setExclusive(True)
        for b in (self.pen_btn, self.eraser_btn):
            group.addButton(b)
            row.addWidget(b)
        group.buttonToggled.connect(lambda *_: self._apply())
        row.addSpacing(8)
        row.addWidget(QLabel("Size"))
        self.size_slider = QSlider(Qt.Horizontal, minimum=1, maximum=64, toolTip="Brush size in canvas pixels "
                                                                                 "([ smaller, ] bigger, Ctrl+wheel)")
        self.size_slider.setMaximumWidth(140)
        self.size_spin = QSpinBox(minimum=1, maximum=64, suffix=" px", toolTip="Brush size in canvas pixels "
                                                                               "([ and ] change it)")
        self.size_slider.valueChanged.connect(self.size_spin.setValue)
        self.size_spin.valueChanged.connect(self.size_slider.setValue)
        self.size_spin.valueChanged.connect(lambda *_: self._apply())
        row.addWidget(self.size_slider)
        row.addWidget(self.size_spin)
        row.addSpacing(8)
        self.color_btn = QToolButton(text="Colour…", toolTip="Pen colour")
        self.color_btn.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.color_btn.clicked.connect(self.pick_color)
        row.addWidget(self.color_btn)
        row.addStretch(1)
        lay.addLayout(row)
        self.palette_box = QWidget()
        self.palette_grid = QGridLayout(self.palette_box)
        self.palette_grid.setContentsMargins(0, 0, 0, 0)
        self.palette_grid.setSpacing(2)
        self.palette_group = QButtonGroup(self)
        self.palette_group.setExclusive(True)
        lay.addWidget(self.palette_box)
        self.palette_box.setVisible(False)
        self.set_brush_size(canvas.brush_size)
        canvas.brushChanged.connect(self.set_brush_size)
        self._show_color()

    # --- colour ------------------------------------------------------------------------------------------
    def set_palette(self, colors: Sequence[Color], pen: Color) -> None:
        """Label-map models: one button per class colour; no free colour."""
        for b in self.palette_group.buttons():
            self.palette_group.removeButton(b)
            b.deleteLater()
        self.palette_colors = [tuple(c) for c in colors]
        for i, c in enumerate(self.palette_colors):
            b = QToolButton(checkable=True, toolTip=f"class {i + 1}: rgb{tuple(c)}")
            b.setIcon(swatch(c, 20))
            b.clicked.connect(lambda _=False, c=c: self.set_color(c))
            self.palette_group.addButton(b, i)
            self.palette_grid.addWidget(b, i // 12, i % 12)
        self.palette_box.setVisible(bool(self.palette_colors))
        self.color_btn.setVisible(not self.palette_colors)
        self.canvas.antialias = not self.palette_colors
        self.set_color(pen)

    def set_color(self, color: Color) -> None:
        self.canvas.pen_color = tuple(color)
        if color in self.palette_colors:
            self.palette_group.button(self.palette_colors.index(color)).setChecked(True)
        self.select_pen()
        self._show_color()
        self.toolChanged.emit()

    def color_field(self):
        """The pen colour for a page's :class:`app.form_memory.FormMemory`: any colour for sketch models, one of the
        class colours for a label-map model."""
        from app.form_memory import Field

        def check(v) -> str:
            if not (isinstance(v, list) and len(v) == 3 and all(isinstance(c, int) and 0 <= c <= 255 for c in v)):
                return f"the pen colour {v!r} is not a colour"
            if self.palette_colors and tuple(v) not in self.palette_colors:
                return f"the pen colour rgb{tuple(v)} is not one of this model's class colours"
            return ""

        return Field(lambda: [int(c) for c in self.canvas.pen_color], lambda v: self.set_color(tuple(v)), check,
                     [self.toolChanged])

    def pick_color(self) -> None:
        c = QColorDialog.getColor(QColor(*self.canvas.pen_color), self, "Pen colour")
        if c.isValid():
            self.set_color((c.red(), c.green(), c.blue()))

    def _show_color(self) -> None:
        self.color_btn.setIcon(swatch(self.canvas.pen_color))

    # --- tools -------------------------------------------------------------------------------------------
    def select_pen(self) -> None:
        self.pen_btn.setChecked(True)

    def toggle_eraser(self) -> None:
        (self.pen_btn if self.eraser_btn.isChecked() else self.eraser_btn).setChecked(True)

    def set_brush_size(self, n: int) -> None:
        self.size_spin.setValue(max(1, min(64, int(n))))

    def bigger(self) -> None:
        n = self.size_spin.value()
        self.set_brush_size(n + max(1, n // 4))

    def smaller(self) -> None:
        n = self.size_spin.value()
        self.set_brush_size(n - max(1, n // 5))

    def _apply(self) -> None:
        self.canvas.eraser = self.eraser_btn.isChecked()
        self.canvas.set_brush_size(self.size_spin.value())
        self.toolChanged.emit()
