"""The window: drop photos or folders, see before/after, Save one or Export all. Models run on one worker thread."""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (QApplication, QComboBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel,
                               QListWidget, QListWidgetItem, QMainWindow, QMessageBox, QProgressBar, QPushButton,
                               QSpinBox, QSplitter, QStyle, QVBoxLayout, QWidget)

from . import app_info, bundle_dir, icon_path, images
from .runtime import ModelEntry, ModelError, OnnxModel, default_threads, read_index

try:
    from .compare_view import CompareView  # copied in by GAN Studio's app builder
except ImportError:  # running from GAN Studio's source tree
    from app.widgets.compare_view import CompareView


# A plain record: its field list looks like other records' (engine.translate.ItemResult) by shape only (deliberate).
@dataclass
class Entry:
    key: str
    label: str
    path: Optional[Path] = None
    seed: Optional[int] = None
    before: Optional[np.ndarray] = None
    alpha: Optional[np.ndarray] = None
    after: Optional[np.ndarray] = None
    error: str = ""
    saved: Optional[Path] = None


class _Relay(QObject):
    done = Signal(str, object, object, object)  # key, model id, (before, alpha, after) or None, error text


class TranslatorWindow(QMainWindow):
    def __init__(self, models: List[ModelEntry]):
        super().__init__()
        self.info = app_info()
        self.models = models
        self.entries: Dict[str, Entry] = {}
        self.nets: Dict[str, OnnxModel] = {}
        self.pending = 0
        self.export_dir: Optional[Path] = None
        self._taken: set = set()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="translate")
        self.relay = _Relay()
        self.relay.done.connect(self._done)
        self.setWindowTitle(self.info["title"])
        ip = icon_path()
        if ip:
            self.setWindowIcon(QIcon(str(ip)))
        self.setAcceptDrops(True)
        self._build()
        self._actions()
        self._model_changed()
        self.resize(1100, 720)

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        top = QHBoxLayout()
        self.model_combo = QComboBox()
        for m in self.models:
            self.model_combo.addItem(m.name, m.id)
        self.model_combo.setVisible(len(self.models) > 1)
        self.model_combo.currentIndexChanged.connect(self._model_changed)
        top.addWidget(self.model_combo)
        self.open_btn = QPushButton("Open…")
        self.open_btn.clicked.connect(self.open_files)
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, prefix="seed ")
        self.psi_spin = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.05, prefix="psi ")
        self.gen_btn = QPushButton("Generate")
        self.gen_btn.clicked.connect(self.generate_next)
        self.save_btn = QPushButton("Save…")
        self.save_btn.clicked.connect(self.save_current)
        self.export_btn = QPushButton("Export all…")
        self.export_btn.clicked.connect(self.export_all)
        for w in (self.open_btn, self.seed_spin, self.psi_spin, self.gen_btn):
            top.addWidget(w)
        top.addStretch(1)
        self.progress = QProgressBar(maximumWidth=180, visible=False)
        for w in (self.progress, self.save_btn, self.export_btn):
            top.addWidget(w)
        self.list = QListWidget(iconSize=QSize(72, 72), minimumWidth=200, maximumWidth=320)
        self.list.currentItemChanged.connect(lambda *_: self._show_current())
        self.view = CompareView()
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.view)
        split.setStretchFactor(1, 1)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self.setCentralWidget(central)
        self.status = QLabel()
        self.statusBar().addWidget(self.status, 1)

    def _actions(self) -> None:
        for text, seq, slot in (("Open", QKeySequence.Open, self.open_files), ("Save", QKeySequence.Save,
                                self.save_current), ("Export all", QKeySequence("Ctrl+E"), self.export_all),
                                ("Quit", QKeySequence.Quit, self.close)):
            a = QAction(text, self)
            a.setShortcut(seq)
            a.triggered.connect(lambda *_, s=slot: s())
            self.addAction(a)

    def model(self) -> ModelEntry:
        return self.models[max(0, self.model_combo.currentIndex())]

    def _model_changed(self) -> None:
        m = self.model()
        gen = m.task == "generate"
        self.open_btn.setVisible(not gen)
        for w in (self.seed_spin, self.gen_btn):
            w.setVisible(gen)
        self.psi_spin.setVisible(gen and m.psi is not None)
        if m.psi is not None:
            self.psi_spin.setValue(m.psi)
        self.view.placeholder = ("Press Generate to make an image" if gen else
                                 "Drop photos or folders here, or press Open…")
        self.view.labels = ("Generated", "") if gen else ("Before", "After")
        keep = [e for e in self.entries.values() if (e.seed is not None) == gen]
        self._clear()
        for e in keep:
            e.after, e.error, e.saved = None, "", None
            self._add_entry(e)
        self._update()

    # --- adding work -------------------------------------------------------------------------------------
    def add_paths(self, paths: List[str]) -> int:
        if self.model().task != "translate":
            return 0
        files, skipped = images.scan(paths)
        for p, why in skipped:
            self.status.setText(f"Skipped {p}: {why}")
        n = 0
        for f in files:
            key = str(f.resolve())
            if key not in self.entries:
                self._add_entry(Entry(key, f.name, path=f))
                n += 1
        if n and self.list.currentRow() < 0:
            self.list.setCurrentRow(0)
        self._update()
        return n

    def generate_next(self) -> None:
        s = self.seed_spin.value()
        key = f"seed:{s}"
        if key not in self.entries:
            self._add_entry(Entry(key, f"seed {s}", seed=s))
        self.list.setCurrentRow(list(self.entries).index(key))
        self.seed_spin.setValue(s + 1)

    def _add_entry(self, e: Entry) -> None:
        self.entries[e.key] = e
        it = QListWidgetItem(e.label)
        it.setData(Qt.UserRole, e.key)
        it.setIcon(self.style().standardIcon(QStyle.SP_FileIcon))
        it.setToolTip(str(e.path or e.label))
        self.list.addItem(it)
        self._submit(e)

    def _submit(self, e: Entry) -> None:
        m = self.model()
        psi = self.psi_spin.value() if self.psi_spin.isVisible() else None
        self.pending += 1
        self.pool.submit(self._work, e.key, e.path, e.seed, m, psi)
        self._update()

    def _work(self, key: str, path: Optional[Path], seed: Optional[int], m: ModelEntry, psi) -> None:
        """Worker thread: load, run, hand the pixels back to the GUI thread."""
        try:
            net = self.nets.get(m.id)
            if net is None:
                net = self.nets[m.id] = OnnxModel(m.file, threads=default_threads())
            if seed is not None:
                out = net.generate([seed], psi)[0]
                self.relay.done.emit(key, m.id, (out, None, None), "")
                return
            rgb, alpha = images.load(path)
            self.relay.done.emit(key, m.id, (rgb, alpha, net.translate(rgb)), "")
        except (images.ImageError, ModelError) as e:
            self.relay.done.emit(key, m.id, None, getattr(e, "reason", str(e)))
        except Exception as e:  # noqa: BLE001 - shown to the user, the app keeps running
            self.relay.done.emit(key, m.id, None, f"{type(e).__name__}: {e}")

    def _done(self, key: str, model_id: str, result, error: str) -> None:
        self.pending -= 1
        e = self.entries.get(key)
        if e is None or model_id != self.model().id:
            self._update()
            return
        if error:
            e.error = error
            self.status.setText(f"{e.label}: {error}")
        else:
            e.before, e.alpha, e.after = result  # a generated image is shown alone, as "before"
            if self.export_dir is not None:
                self._save_entry(e, self.export_dir)
        self._refresh_item(e)
        if self._current() is e:
            self._show_current()
        self._update()

    # --- showing -----------------------------------------------------------------------------------------
    def _current(self) -> Optional[Entry]:
        it = self.list.currentItem()
        return self.entries.get(it.data(Qt.UserRole)) if it else None

    def _refresh_item(self, e: Entry) -> None:
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.data(Qt.UserRole) == e.key:
                shown = e.after if e.after is not None else e.before
                if shown is not None:
                    it.setIcon(QIcon(QPixmap.fromImage(images.to_qimage(shown).scaled(
                        72, 72, Qt.KeepAspectRatio, Qt.SmoothTransformation))))
                elif e.error:
                    it.setIcon(self.style().standardIcon(QStyle.SP_MessageBoxWarning))
                it.setText(f"{e.label}\n{'cannot read' if e.error else 'done' if shown is not None else 'working…'}")

    def _show_current(self) -> None:
        e = self._current()
        self._update()
        if e is None:
            self.view.set_images(None)
            return
        if e.error:
            self.view.set_images(None)
            self.view.placeholder = f"Cannot use {e.label}:\n{e.error}"
            self.view.update()
            return
        before = QPixmap.fromImage(images.to_qimage(e.before, e.alpha)) if e.before is not None else None
        after = QPixmap.fromImage(images.to_qimage(e.after, e.alpha)) if e.after is not None else None
        self.view.after_hint = "" if after or e.seed is not None else "Translating…"
        self.view.set_images(before, after, keep_view=True)

    def _update(self) -> None:
        done = sum(1 for e in self.entries.values() if self._result(e) is not None)
        self.progress.setVisible(self.pending > 0)
        self.progress.setRange(0, max(1, len(self.entries)))
        self.progress.setValue(done)
        cur = self._current()
        self.save_btn.setEnabled(cur is not None and self._result(cur) is not None)
        self.export_btn.setEnabled(bool(self.entries))
        if self.pending:
            self.status.setText(f"Working: {done} of {len(self.entries)} done")
        elif self.entries and not self.status.text().startswith(("Saved", "Exported", "Skipped")):
            bad = sum(1 for e in self.entries.values() if e.error)
            self.status.setText(f"{done} of {len(self.entries)} done with {self.model().name}"
                                + (f"; {bad} could not be read" if bad else ""))

    @staticmethod
    def _result(e: Entry) -> Optional[np.ndarray]:
        return e.before if e.seed is not None else e.after

    # --- saving ------------------------------------------------------------------------------------------
    def _save_entry(self, e: Entry, folder: Path, dest: Optional[Path] = None) -> Optional[Path]:
        img = self._result(e)
        if img is None:
            return None
        try:
            dest = dest or images.output_path(e.path or Path(f"{e.label.replace(' ', '')}.png"), folder,
                                              f"_{self.info['name']}" if e.path else "", "", e.alpha is not None,
                                              [k for k in self.entries], self._taken)
            e.saved = images.save(dest, img, e.alpha)
        except (images.ImageError, OSError) as err:
            QMessageBox.warning(self, "Save", str(err))
            return None
        self.status.setText(f"Saved {e.saved}")
        return e.saved

    def save_current(self) -> None:
        e = self._current()
        if e is None or self._result(e) is None:
            return
        stem = e.path.stem + f"_{self.info['name']}" if e.path else e.label.replace(" ", "")
        path, _ = QFileDialog.getSaveFileName(self, "Save result", str(Path.home() / f"{stem}.png"),
                                              "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)")
        if path:
            self.save_to(path)

    def save_to(self, path: str) -> Optional[Path]:
        e = self._current()
        p = Path(path) if Path(path).suffix else Path(path + ".png")
        return self._save_entry(e, p.parent, p) if e else None

    def export_all(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export all results to", str(Path.home()))
        if d:
            self.export_to(d)

    def export_to(self, folder: str) -> int:
        """Save every finished result now and the others as they finish."""
        self.export_dir = Path(folder)
        n = sum(1 for e in self.entries.values() if self._save_entry(e, self.export_dir) is not None)
        self.status.setText(f"Exported {n} image{'s' if n != 1 else ''} to {folder}"
                            + (f"; {self.pending} more when done" if self.pending else ""))
        return n

    # --- drops, closing ----------------------------------------------------------------------------------
    def dragEnterEvent(self, ev) -> None:
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths and self.add_paths(paths) >= 0:
            ev.acceptProposedAction()

    def open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open photos", str(Path.home()),
                                                "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.gif)")
        if files:
            self.add_paths(files)

    def _clear(self) -> None:
        self.entries.clear()
        self.list.clear()
        self.view.set_images(None)

    def closeEvent(self, ev) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        super().closeEvent(ev)


def run_window(paths: List[str], screenshot: Optional[str] = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    info = app_info()
    app.setApplicationName(info["title"])
    app.setDesktopFileName(info["name"])
    try:
        models = read_index(bundle_dir() / "models")
    except ModelError as e:
        QMessageBox.critical(None, info["title"], str(e))
        return 2
    win = TranslatorWindow(models)
    win.show()
    if paths:
        win.add_paths(paths)
    if screenshot:
        _screenshot_when_idle(win, screenshot)
    return app.exec()


def _screenshot_when_idle(win: TranslatorWindow, dest: str, timeout_ms: int = 120_000) -> None:
    """Hidden test hook: save a PNG of the window once the work is done, then quit."""
    waited = [0]

    def tick() -> None:
        waited[0] += 200
        if win.pending and waited[0] < timeout_ms:
            QTimer.singleShot(200, tick)
            return
        QApplication.processEvents()
        win.grab().save(dest)
        win.close()
        QApplication.quit()

    QTimer.singleShot(400, tick)
