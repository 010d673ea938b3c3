"""Main window: a sidebar of pages, menus, status bar with the device and the job queue, drops anywhere."""
from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Dict, List, Optional

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow,
                               QMessageBox, QProgressBar, QStackedWidget, QStyle, QWidget)

from app.bridge import EngineBridge
from app.pages import PAGE_MODULES
from app.settings import settings
from engine import __version__
from engine.library import ModelLibrary

STANDARD_ICONS = {"translate": QStyle.SP_DialogApplyButton, "train": QStyle.SP_MediaPlay,
                  "draw": QStyle.SP_DialogResetButton, "latent": QStyle.SP_BrowserReload,
                  "evaluate": QStyle.SP_FileDialogDetailedView, "export": QStyle.SP_DialogSaveButton,
                  "lab": QStyle.SP_ComputerIcon}


class MainWindow(QMainWindow):
    def __init__(self, library: Optional[ModelLibrary] = None, bridge: Optional[EngineBridge] = None):
        super().__init__()
        self.setWindowTitle("GAN Studio")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.library = library or ModelLibrary()
        self.bridge = bridge or EngineBridge(self)
        self.pages: Dict[str, QWidget] = {}
        self._build()
        self._menus()
        self._status()
        self.bridge.jobsChanged.connect(self._jobs_changed)
        self.restore_state()

    # --- layout ------------------------------------------------------------------------------------------
    def _build(self) -> None:
        central = QWidget()
        lay = QHBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(112)
        self.sidebar.setIconSize(QSize(28, 28))
        self.sidebar.setViewMode(QListWidget.IconMode)
        self.sidebar.setMovement(QListWidget.Static)
        self.sidebar.setSpacing(6)
        self.sidebar.setStyleSheet("#sidebar { border: none; background: palette(alternate-base); }"
                                   "#sidebar::item { padding: 6px; width: 96px; }")
        self.stack = QStackedWidget()
        lay.addWidget(self.sidebar)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        for name in PAGE_MODULES:
            mod = importlib.import_module(f"app.pages.{name}")
            page = mod.create(self)
            self.pages[name] = page
            self.stack.addWidget(page)
            it = QListWidgetItem(self._page_icon(mod.ICON), mod.TITLE)
            it.setTextAlignment(Qt.AlignHCenter)
            it.setSizeHint(QSize(96, 64))
            self.sidebar.addItem(it)
        self.sidebar.currentRowChanged.connect(self._page_changed)
        self.sidebar.setCurrentRow(0)
        self.resize(1280, 820)

    def _page_icon(self, icon: str) -> QIcon:
        from engine.library import resources_dir

        p = resources_dir() / "icons" / f"{icon}.svg"
        if p.exists():
            return QIcon(str(p))
        return self.style().standardIcon(STANDARD_ICONS.get(icon, QStyle.SP_FileIcon))

    def _page_changed(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        page = self.stack.widget(row)
        if hasattr(page, "on_shown"):
            page.on_shown()
        settings().set("window/page", list(self.pages)[row] if 0 <= row < len(self.pages) else "")

    def show_page(self, name: str) -> QWidget:
        idx = list(self.pages).index(name)
        self.sidebar.setCurrentRow(idx)
        return self.pages[name]

    def current_page(self) -> QWidget:
        return self.stack.currentWidget()

    def _menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        tr = self.pages.get("translate")
        if tr is not None:
            self._action(file_menu, "&Open images…", QKeySequence.Open, lambda: self._on_translate("open_files"))
            self._action(file_menu, "Open &folder…", QKeySequence("Ctrl+Shift+O"),
                         lambda: self._on_translate("open_folder"))
            file_menu.addSeparator()
            for text, seq, slot in tr.shortcuts():
                if text != "Cancel":
                    self._action(file_menu, text, seq, slot)
            file_menu.addSeparator()
            self._action(file_menu, "&Import model…", QKeySequence("Ctrl+I"), tr.import_model)
            file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.Quit, self.close)
        edit = mb.addMenu("&Edit")
        self._action(edit, "&Paste image", QKeySequence.Paste, self.paste)
        if tr is not None:
            self._action(edit, "Cancel running work", QKeySequence(Qt.Key_Escape), tr.cancel)
        view = mb.addMenu("&View")
        for i, name in enumerate(self.pages):
            self._action(view, self.sidebar.item(i).text(), QKeySequence(f"Ctrl+{i + 1}"),
                         lambda n=name: self.show_page(n))
        help_menu = mb.addMenu("&Help")
        self._action(help_menu, "&About GAN Studio", None, self.about)

    def _action(self, menu, text, seq, slot) -> QAction:
        a = QAction(text, self)
        if seq is not None:
            a.setShortcut(seq)
            a.setShortcutContext(Qt.WindowShortcut)
        a.triggered.connect(lambda *_: slot())
        menu.addAction(a)
        return a

    def _on_translate(self, method: str) -> None:
        page = self.show_page("translate")
        getattr(page, method)()

    def _status(self) -> None:
        from engine import devices

        sb = self.statusBar()
        self.job_label = QLabel("")
        self.job_progress = QProgressBar()
        self.job_progress.setMaximumWidth(160)
        self.job_progress.setVisible(False)
        self.queue_label = QLabel("")
        try:
            dev_text = devices.describe().status_text()
        except Exception as e:  # noqa: BLE001 - a broken driver must not stop the app
            dev_text = f"Device: unavailable ({e})"
        self.device_label = QLabel(dev_text)
        self.device_label.setToolTip("Where models run. Set GANSTUDIO_DEVICE=cpu to force the CPU.")
        sb.addPermanentWidget(self.job_label)
        sb.addPermanentWidget(self.job_progress)
        sb.addPermanentWidget(self.queue_label)
        sb.addPermanentWidget(self.device_label)

    # --- jobs and messages -------------------------------------------------------------------------------
    def notify(self, text: str, ms: int = 6000) -> None:
        self.statusBar().showMessage(text, ms)

    def show_job(self, handle, title: str) -> None:
        """Mirror a long job's progress in the status bar."""
        self.job_label.setText(title)
        self.job_progress.setVisible(True)
        self.job_progress.setRange(0, 0)

        def on_progress(p):
            if p.total:
                self.job_progress.setRange(0, 1000)
                self.job_progress.setValue(int(1000 * p.done / p.total))
            if p.message:
                self.job_label.setText(f"{title}: {p.message}")

        def on_end(_state):
            self.job_label.setText("")
            self.job_progress.setVisible(False)

        handle.progress.connect(on_progress)
        handle.ended.connect(on_end)

    def _jobs_changed(self) -> None:
        queued = [j for j in self.bridge.manager.queued("gpu")]
        self.queue_label.setText(f"{len(queued)} queued" if queued else "")
        self.queue_label.setToolTip("\n".join(j.name for j in queued))

    # --- drops and paste ---------------------------------------------------------------------------------
    def dragEnterEvent(self, e) -> None:
        md = e.mimeData()
        if md.hasUrls() or md.hasImage():
            e.acceptProposedAction()

    def dragMoveEvent(self, e) -> None:
        if e.mimeData().hasUrls() or e.mimeData().hasImage():
            e.acceptProposedAction()

    def dropEvent(self, e) -> None:
        md = e.mimeData()
        paths = [u.toLocalFile() for u in md.urls() if u.isLocalFile()]
        if not paths and md.hasImage():
            paths = [self._save_pasted(md.imageData())]
        if paths:
            e.acceptProposedAction()
            self.open_paths(paths)

    def open_paths(self, paths: List[str]) -> None:
        page = self.current_page()
        if hasattr(page, "accept_paths") and page.accept_paths(paths):
            return
        self.show_page("translate").accept_paths(paths)

    def paste(self) -> None:
        md = QApplication.clipboard().mimeData()
        if md is None:
            return
        paths = [u.toLocalFile() for u in md.urls() if u.isLocalFile()] if md.hasUrls() else []
        if not paths and md.hasImage():
            paths = [self._save_pasted(md.imageData())]
        if not paths and md.hasText() and Path(md.text().strip()).exists():
            paths = [md.text().strip()]
        if paths:
            self.open_paths(paths)
        else:
            self.notify("The clipboard holds no image or file.")

    def _save_pasted(self, qimg) -> str:
        from app.widgets.images import from_qimage
        from engine.fsutil import user_cache_dir
        from engine.imageio import save_image

        rgb, alpha = from_qimage(qimg)
        dest = user_cache_dir() / "pasted" / time.strftime("pasted-%Y%m%d-%H%M%S.png")
        return str(save_image(dest, rgb, alpha))

    # --- state -------------------------------------------------------------------------------------------
    def restore_state(self) -> None:
        s = settings()
        geo = s.get("window/geometry")
        if isinstance(geo, (QByteArray, bytes)) and geo:
            self.restoreGeometry(geo)
        st = s.get("window/state")
        if isinstance(st, (QByteArray, bytes)) and st:
            self.restoreState(st)
        page = s.get("window/page", "")
        if page in self.pages:
            self.show_page(page)

    def closeEvent(self, e) -> None:
        s = settings()
        s.set("window/geometry", self.saveGeometry())
        s.set("window/state", self.saveState())
        s.sync()
        for page in self.pages.values():
            if hasattr(page, "shutdown"):
                page.shutdown()
        self.bridge.shutdown()
        super().closeEvent(e)

    def about(self) -> None:
        QMessageBox.about(self, "About GAN Studio",
                          f"<h3>GAN Studio {__version__}</h3><p>GAN image translation, training, latent editing, "
                          "evaluation and export in one program.</p><p>Models are listed with their model cards "
                          "(source, licence, training data).</p>")


def app_icon() -> QIcon:
    from engine.library import resources_dir

    for name in ("ganstudio.svg", "ganstudio.png"):
        p = resources_dir() / "icons" / name
        if p.exists():
            return QIcon(str(p))
    return QIcon()
