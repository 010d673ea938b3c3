"""How images get onto the Translate page (mixed into :class:`app.pages.translate.TranslatePage`): drops, Open
dialogs, the background folder scan and thumbnails, removing and clearing."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from app.settings import settings
from app.widgets.images import to_pixmap
from engine import translate as T


class TranslateInputs:
    def accept_paths(self, paths) -> bool:
        self.add_paths(paths, translate_first=True)
        return True

    def add_paths(self, paths, translate_first: bool = False):
        paths = [str(p) for p in paths]
        if not paths:
            return None
        settings().set_last_dir(paths[0], "open")
        h = self.bridge.submit(T.scan_task, paths, name="Scan", kind="scan", lane="io")
        h.finished.connect(lambda res: self._scanned(res, translate_first))
        h.failed.connect(lambda err: self.problems.add("", err.message))
        return h

    def _scanned(self, res, translate_first: bool) -> None:
        for p, why in res.skipped:
            self.problems.add(str(p), why)
        added = self.thumbs.add_paths(res.files)
        if not added and not res.files:
            self.window_.notify("No images found in what was dropped.")
        if added:
            self.stack.setCurrentIndex(1)
            h = self.bridge.submit(T.thumbnails_task, [e.path for e in added], name="Thumbnails", lane="io")
            h.partial.connect(self._thumb_ready)
            if translate_first or self.thumbs.current_entry() is None:
                self.thumbs.select_entry(added[0])
        self._update_buttons()

    def _thumb_ready(self, d) -> None:
        e = self.thumbs.entry(d["path"])
        if e is None:
            return
        if d["error"]:
            e.status, e.error = "error", d["error"]
            self.problems.add(str(e.path), d["error"])
        else:
            e.thumb = to_pixmap(d["thumb"])
            w, h = d["size"]
            e.info = f"{w}x{h}, {d['mode']}"
            if e.status in ("new", "reading"):
                e.status = "ready"
        self.thumbs.refresh(e)
        if e is self.thumbs.current_entry():
            self._show_current()

    def open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open images", settings().last_dir("open"),
                                                "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.gif);;"
                                                "All files (*)")
        if files:
            self.add_paths(files, translate_first=True)

    def open_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Open a folder of images", settings().last_dir("open"))
        if d:
            self.add_paths([d], translate_first=True)

    def remove_selected(self) -> None:
        self.thumbs.remove_entries(self.thumbs.selected_entries())
        self._after_list_change()

    def clear_all(self) -> None:
        self.cancel()
        self.thumbs.clear_all()
        self._after_list_change()

    def _after_list_change(self) -> None:
        if not self.thumbs.count():
            self.stack.setCurrentIndex(0)
            self.view.set_images(None)
        self._show_current()
        self._update_buttons()
