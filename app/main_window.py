"""Main window: a sidebar of pages, menus (Help: a guide per page, the tour), status bar with the training run's
state, the device and the job queue, drops anywhere.

The window fits a 1366×768 screen: its default size and any restored geometry are clamped to the screen, and each
page sits in a scroll area, so no page (a long status text, a wide form) can make the window grow."""
from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Dict, List, Optional

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (QApplication, QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow,
                               QMessageBox, QProgressBar, QScrollArea, QStackedWidget, QStyle, QWidget)

from app.bridge import EngineBridge
from app.pages import PAGE_MODULES
from app.settings import settings
from engine import __version__
from engine.library import ModelLibrary

STANDARD_ICONS = {"translate": QStyle.SP_DialogApplyButton, "train": QStyle.SP_MediaPlay,
                  "draw": QStyle.SP_DialogResetButton, "latent": QStyle.SP_BrowserReload,
                  "evaluate": QStyle.SP_FileDialogDetailedView, "export": QStyle.SP_DialogSaveButton,
                  "lab": QStyle.SP_ComputerIcon}
DEFAULT_SIZE = (1280, 720)  # fits a 1366×768 laptop with its taskbar and the title bar
FRAME_MARGIN = (16, 48)  # window frame and title bar around the client area (a conservative guess)


class MainWindow(QMainWindow):
    _ask_on_close = False  # set while File > Quit closes the window (it asks like the close button does)

    def __init__(self, library: Optional[ModelLibrary] = None, bridge: Optional[EngineBridge] = None):
        super().__init__()
        self.setWindowTitle("GAN Studio")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.library = library or ModelLibrary()
        self.bridge = bridge or EngineBridge(self)
        self.pages: Dict[str, QWidget] = {}
        self.guide = None
        self.tour = None
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
            self.stack.addWidget(page_frame(page))
            it = QListWidgetItem(self._page_icon(mod.ICON), mod.TITLE)
            it.setToolTip(f"{mod.TITLE} (Ctrl+{len(self.pages)}): " + _page_summary(name))
            it.setTextAlignment(Qt.AlignHCenter)
            it.setSizeHint(QSize(96, 64))
            self.sidebar.addItem(it)
        self.sidebar.currentRowChanged.connect(self._page_changed)
        self.sidebar.setCurrentRow(0)
        self.sidebar.setToolTip("The pages of GAN Studio; F1 shows a short guide to the page you are on")
        self.resize(self.fit_size(QSize(*DEFAULT_SIZE)))

    def fit_size(self, want: QSize) -> QSize:
        """``want`` made small enough for the screen's available area (frame and title bar included)."""
        scr = self.screen() or QApplication.primaryScreen()
        if scr is None:
            return want
        avail = scr.availableGeometry()
        return QSize(min(want.width(), avail.width() - FRAME_MARGIN[0]),
                     min(want.height(), avail.height() - FRAME_MARGIN[1]))

    def clamp_to_screen(self) -> None:
        """Keep the whole window on its screen: shrink it to the available area, then move it inside."""
        scr = self.screen() or QApplication.primaryScreen()
        if scr is None:
            return
        avail = scr.availableGeometry()
        size = self.fit_size(self.size())
        if size != self.size():
            self.resize(size)
        x = min(max(self.x(), avail.left()), max(avail.left(), avail.right() - size.width() - FRAME_MARGIN[0]))
        y = min(max(self.y(), avail.top()), max(avail.top(), avail.bottom() - size.height() - FRAME_MARGIN[1]))
        if (x, y) != (self.x(), self.y()):
            self.move(x, y)

    def _page_icon(self, icon: str) -> QIcon:
        from engine.library import resources_dir

        p = resources_dir() / "icons" / f"{icon}.svg"
        if p.exists():
            return QIcon(str(p))
        return self.style().standardIcon(STANDARD_ICONS.get(icon, QStyle.SP_FileIcon))

    def _page_changed(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        page = self.current_page()
        if hasattr(page, "on_shown"):
            page.on_shown()
        name = list(self.pages)[row] if 0 <= row < len(self.pages) else ""
        settings().set("window/page", name)
        if self.guide is not None and self.guide.isVisible():
            self.guide.show_page(name)

    def show_page(self, name: str) -> QWidget:
        idx = list(self.pages).index(name)
        self.sidebar.setCurrentRow(idx)
        return self.pages[name]

    def current_page(self) -> QWidget:
        row = self.stack.currentIndex()
        return list(self.pages.values())[row] if 0 <= row < len(self.pages) else None

    def current_page_name(self) -> str:
        row = self.stack.currentIndex()
        return list(self.pages)[row] if 0 <= row < len(self.pages) else ""

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
        self._action(file_menu, "&Quit", QKeySequence.Quit, self.quit_asking)
        edit = mb.addMenu("&Edit")
        self._action(edit, "&Paste image", QKeySequence.Paste, self.paste)
        if tr is not None:
            self._action(edit, "Cancel running work", QKeySequence(Qt.Key_Escape), tr.cancel)
        view = mb.addMenu("&View")
        for i, name in enumerate(self.pages):
            self._action(view, self.sidebar.item(i).text(), QKeySequence(f"Ctrl+{i + 1}"),
                         lambda n=name: self.show_page(n))
        help_menu = mb.addMenu("&Help")
        self._action(help_menu, "&Guide to this page", QKeySequence(Qt.Key_F1), self.show_guide)
        self._action(help_menu, "Take the &tour", None, self.start_tour)
        help_menu.addSeparator()
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
        self.job_label.setToolTip("The long job that is running (translating, scanning, exporting…)")
        self.job_progress = QProgressBar()
        self.job_progress.setMaximumWidth(160)
        self.job_progress.setVisible(False)
        self.job_progress.setToolTip("Progress of the running job")
        self.run_state_label = QLabel("")
        self.run_state_label.setObjectName("status_run_state")
        self.run_state_label.setToolTip("The training run: Running, Paused, Cancelled, Finished or Failed (Train "
                                        "page)")
        self.run_state_label.setVisible(False)
        self.queue_label = QLabel("")
        try:
            dev_text = devices.describe().status_text()
        except Exception as e:  # noqa: BLE001 - a broken driver must not stop the app
            dev_text = f"Device: unavailable ({e})"
        self.device_label = QLabel(dev_text)
        self.device_label.setToolTip("Where models run. Set GANSTUDIO_DEVICE=cpu to force the CPU.")
        sb.addPermanentWidget(self.run_state_label)
        sb.addPermanentWidget(self.job_label)
        sb.addPermanentWidget(self.job_progress)
        sb.addPermanentWidget(self.queue_label)
        sb.addPermanentWidget(self.device_label)

    # --- jobs and messages -------------------------------------------------------------------------------
    def notify(self, text: str, ms: int = 6000) -> None:
        self.statusBar().showMessage(text, ms)

    def show_run_state(self, text: str, state: str = "") -> None:
        """The training run's state in the status bar (the Train page calls this on every change)."""
        self.run_state_label.setText(text)
        self.run_state_label.setVisible(bool(text))
        colour = {"running": "#1f8a3b", "paused": "#b26b00", "failed": "#c0392b"}.get(state, "")
        self.run_state_label.setStyleSheet(f"color: {colour}; font-weight: bold;" if colour else "")

    def show_job(self, handle, title: str, messages: bool = True) -> None:
        """Mirror a long job's progress in the status bar (``messages``: also its progress text; the Train page
        shows its own state instead, so that one speed figure is on screen)."""
        self.job_label.setText(title)
        self.job_progress.setVisible(True)
        self.job_progress.setRange(0, 0)

        def on_progress(p):
            if p.total:
                self.job_progress.setRange(0, 1000)
                self.job_progress.setValue(int(1000 * p.done / p.total))
            if p.message and messages:
                self.job_label.setText(f"{title}: {p.message}")

        def on_end(_state):
            self.job_label.setText("")
            self.job_progress.setVisible(False)

        handle.progress.connect(on_progress)
        handle.finished.connect(on_end)

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
            self.clamp_to_screen()  # a geometry saved on a bigger screen (or by an old version) must still fit
        st = s.get("window/state")
        if isinstance(st, (QByteArray, bytes)) and st:
            self.restoreState(st)
        page = s.get("window/page", "")
        if page in self.pages:
            self.show_page(page)

    def quit_asking(self) -> bool:
        """File ▸ Quit: like the window's close button, asks first when a training runs or a drawing is unsaved."""
        self._ask_on_close = True
        try:
            return self.close()
        finally:
            self._ask_on_close = False

    def close_notes(self) -> list:
        return [n for n in (getattr(p, "close_note", lambda: "")() for p in self.pages.values()) if n]

    def closeEvent(self, e) -> None:
        notes = self.close_notes() if (e.spontaneous() or self._ask_on_close) else []
        if notes:  # the user closes (a program or test closing the window is not asked)
            answer = QMessageBox.question(self, "Quit GAN Studio?", "\n\n".join(notes) + "\n\nQuit anyway?",
                                          QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
            if answer != QMessageBox.Yes:
                e.ignore()
                return
        s = settings()
        s.set("window/geometry", self.saveGeometry())
        s.set("window/state", self.saveState())
        s.sync()
        for page in self.pages.values():
            if hasattr(page, "shutdown"):
                page.shutdown()
        self.bridge.shutdown()
        super().closeEvent(e)

    # --- help ------------------------------------------------------------------------------------------------
    def show_guide(self) -> None:
        """Help ▸ Guide to this page (F1): the page's short guide in a small window beside this one."""
        from app.help import GuideDialog

        if self.guide is None:
            self.guide = GuideDialog(self)
        self.guide.show_page(self.current_page_name())
        self.place_aside(self.guide)
        self.guide.show()
        self.guide.raise_()

    def start_tour(self):
        """Help ▸ Take the tour (and the first start): a step per page; Skip ends it."""
        from app.tour import Tour

        back_to = self.current_page_name()
        if self.tour is None:
            self.tour = Tour(self)
            self.tour.ended.connect(lambda _how: self.show_page(self._tour_back_to) if self._tour_back_to else None)
        self._tour_back_to = back_to
        self.tour.go(0)
        self.place_aside(self.tour)
        self.tour.show()
        self.tour.raise_()
        return self.tour

    def place_aside(self, dlg) -> None:
        """Put a helper window (guide, tour) in the window's bottom-right corner, as small as its text allows, so
        that the controls it talks about (top and left on every page) stay in view."""
        dlg.adjustSize()
        frame = self.frameGeometry()
        x = frame.right() - dlg.frameGeometry().width() - 24
        y = frame.bottom() - dlg.frameGeometry().height() - 96  # above the buttons and the status bar
        dlg.move(max(frame.left(), x), max(frame.top(), y))

    def maybe_start_tour(self):
        """Start the tour on a first run (nothing remembered yet); None when it was finished or skipped before."""
        from app.tour import tour_wanted

        return self.start_tour() if tour_wanted() else None

    def about(self) -> None:
        QMessageBox.about(self, "About GAN Studio",
                          f"<h3>GAN Studio {__version__}</h3><p>GAN image translation, training, latent editing, "
                          "evaluation and export in one program.</p><p>Models are listed with their model cards "
                          "(source, licence, training data).</p>")


def page_frame(page: QWidget) -> QScrollArea:
    """The page inside a frameless scroll area: however large a page's minimum size grows (a long status text, a
    wide table), the window keeps its size and the page scrolls instead."""
    area = QScrollArea()
    area.setFrameShape(QFrame.NoFrame)
    area.setWidgetResizable(True)
    area.setWidget(page)
    return area


def _page_summary(name: str) -> str:
    from app.help import GUIDES

    g = GUIDES.get(name)
    return g.what.split(". ")[0].rstrip(".") + "." if g else ""


def app_icon() -> QIcon:
    from engine.library import resources_dir

    for name in ("ganstudio.svg", "ganstudio.png"):
        p = resources_dir() / "icons" / name
        if p.exists():
            return QIcon(str(p))
    return QIcon()
