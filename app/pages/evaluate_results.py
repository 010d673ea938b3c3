"""The Results tab of the Evaluate page: one table row per compared set, notes saying what the numbers rest on (and
why a metric is missing), sample grids of the selected row, HTML report export and copy-as-Markdown."""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QFileDialog, QFrame, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QScrollArea, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from app.settings import settings
from app.widgets.eval_compare import ComparisonCharts
from app.widgets.eval_results import CollapseView, SampleGrids
from app.widgets.layout import panel
from app.widgets.save_path import checked_save_path
from engine.errors import GanStudioError
from engine.metrics.report import (MEANING, METRIC_OF, cell, columns_for, meanings, notes, provenance, save_html,
                                   to_markdown)


NOTE_OF = {"fid": "fid_note", "kid_std": "kid_note", "kid_subsets": "kid_note"}  # why a number is less than it seems


class ResultsPanel(QWidget):
    def __init__(self, page):
        super().__init__(page)
        self.page = page
        self.evaluations: List[Any] = []
        self.kept = True  # False while a result is neither exported nor copied (quitting asks then)
        self.table = QTableWidget(0, 0)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selected)
        self.notes = QLabel("Results appear here: one row per compared set.")
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.meaning = QLabel("")
        self.meaning.setWordWrap(True)
        self.meaning.setStyleSheet("color: palette(mid);")
        self.meaning.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.grids = SampleGrids()
        self.collapse = CollapseView()
        self.compare = ComparisonCharts()
        self.export_btn = QPushButton("Export HTML report…", toolTip="Save the table, notes, charts and sample "
                                                                    "grids as one HTML file to share")
        self.export_btn.clicked.connect(self.export_dialog)
        self.md_btn = QPushButton("Copy as Markdown", toolTip="Copy the table and notes for a README or an issue")
        self.md_btn.clicked.connect(lambda: self.page.copy_markdown())
        self.clear_btn = QPushButton("Clear", toolTip="Remove every result row")
        self.clear_btn.clicked.connect(self.clear)
        top, tv = panel()
        tv.addWidget(self.table, 3)  # three rows or more at 1366x768, the notes below scroll
        tv.addWidget(self._text_area(), 2)
        row = QHBoxLayout()
        row.addStretch(1)
        for b in (self.clear_btn, self.md_btn, self.export_btn):
            row.addWidget(b)
        tv.addLayout(row)
        split = QSplitter(Qt.Vertical)
        split.addWidget(top)
        split.addWidget(self.grids)
        split.setSizes([300, 420])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self._update_buttons()

    def _text_area(self) -> QScrollArea:
        """The notes and "what the numbers mean", scrolling when they are longer than the room (never cut off)."""
        text = QWidget()
        v = QVBoxLayout(text)
        v.setContentsMargins(0, 0, 4, 0)
        v.addWidget(self.notes)
        v.addWidget(self.meaning)
        v.addStretch(1)
        area = QScrollArea()
        area.setWidget(text)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        return area

    # --- results -----------------------------------------------------------------------------------------
    def add_evaluation(self, ev) -> None:
        """Add (or replace, for the same label) a row."""
        self.evaluations = [e for e in self.evaluations if e.label != ev.label] + [ev]
        self.kept = False
        self.refresh()
        self.table.selectRow(len(self.evaluations) - 1)

    def results(self) -> List[dict]:
        return [e.metrics for e in self.evaluations]

    def refresh(self) -> None:
        results = self.results()
        cols = columns_for(results)
        self.table.clear()
        self.table.setColumnCount(len(cols) + 1)
        self.table.setRowCount(len(results))
        self.table.setHorizontalHeaderLabels(["Compared"] + [t for _, t, _ in cols])
        for c, (key, _, _) in enumerate(cols, start=1):
            self.table.horizontalHeaderItem(c).setToolTip(MEANING.get(key, ""))
        for r, res in enumerate(results):
            name = QTableWidgetItem(res.get("label", ""))
            name.setToolTip(f"real: {res.get('real_source', '')}\ngenerated: {res.get('fake_source', '')}")
            self.table.setItem(r, 0, name)
            for c, (key, _, fmt) in enumerate(cols, start=1):
                it = QTableWidgetItem(cell(res, key, fmt))
                it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                why = res.get("messages", {}).get(METRIC_OF.get(key, ""), "")
                if why:
                    it.setToolTip(why)
                elif res.get(NOTE_OF.get(key, "")):
                    it.setToolTip(res[NOTE_OF[key]])
                self.table.setItem(r, c, it)
        lines = [provenance(results)] + notes(results)
        self.notes.setText("\n".join(f"• {n}" if i else n for i, n in enumerate(lines) if n))
        means = meanings(results)
        self.meaning.setText(("What the numbers mean:\n" + "\n".join(f"• {m}" for m in means)) if means else "")
        self.compare.set_results(results)
        self._update_buttons()

    def _selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        ev = self.evaluations[rows[0].row()] if rows else None
        self.grids.show_evaluation(ev)
        self.collapse.show_evaluation(ev)

    def cell_text(self, row: int, title: str) -> str:
        for c in range(self.table.columnCount()):
            if self.table.horizontalHeaderItem(c).text() == title:
                return self.table.item(row, c).text()
        raise KeyError(title)

    def clear(self) -> None:
        self.evaluations, self.kept = [], True
        self.refresh()
        self.grids.show_evaluation(None)
        self.collapse.show_evaluation(None)

    def _update_buttons(self) -> None:
        have = bool(self.evaluations)
        for b in (self.export_btn, self.md_btn, self.clear_btn):
            b.setEnabled(have)

    # --- export ------------------------------------------------------------------------------------------
    def markdown(self, hype: Sequence[str] = ()) -> str:
        self.kept = True
        return to_markdown(self.results(), hype)

    def export_dialog(self) -> None:
        default = str(Path(settings().last_dir("report")) / "evaluation.html")
        path, _ = QFileDialog.getSaveFileName(self, "Export HTML report", default, "HTML (*.html)",
                                              options=QFileDialog.DontConfirmOverwrite)
        if path:
            settings().set_last_dir(path, "report")
            chosen = checked_save_path(self, path if path.endswith((".html", ".htm")) else path + ".html", ".html")
            if chosen:  # asked before replacing an existing file
                self.export_html(str(chosen[0]), overwrite=chosen[1])

    def export_html(self, path: str, overwrite: bool = False) -> str:
        charts = {}
        if self.page.charts.chart.series_names:
            charts["Metrics over training steps"] = self.page.charts.chart.png_bytes()
        QApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            save_html(path, self.evaluations, charts, self.page.hype.score_lines(), overwrite=overwrite)
        except OSError as e:
            self.page.problems.add(path, f"could not write the report ({e.strerror or e})")
            return ""
        except GanStudioError as e:  # an existing file the user did not agree to replace
            self.page.problems.add(path, str(e))
            return ""
        finally:
            QApplication.restoreOverrideCursor()
        self.kept = True
        self.page.window_.notify(f"Wrote {path}")
        return path
