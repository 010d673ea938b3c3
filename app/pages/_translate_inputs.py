"""How images get onto the Translate page (the page's ``inputs`` controller): drops, Open
dialogs, the background folder scan and thumbnails, removing and clearing."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

from app.settings import settings
from app.widgets.images import to_pixmap
from engine import translate as T
from engine.imagescan import is_image_name


class TranslateInputs:
    def __init__(self, page):
        self.page = page  # app.pages.translate.TranslatePage

    def accept_paths(self, paths) -> bool:
        self.add_paths(paths)
        return True

    def add_paths(self, paths):
        paths = [str(p) for p in paths]
        if not paths:
            return None
        settings().set_last_dir(paths[0], "open")
        h = self.page.bridge.submit(T.scan_task, paths, name="Scan", kind="scan", lane="io")
        h.returned.connect(lambda res: self._scanned(res))
        h.failed.connect(lambda err: self.page.problems.add("", err.message))
        return h

    def _scanned(self, res) -> None:
        """One rule for bad input: a picture file (by its name) is listed, and one that cannot be read gets the ⚠
        mark and one problem entry, whatever is wrong with it (empty, truncated, not a picture, too large); what is
        not a picture file (or not there) gets a problem entry only."""
        unreadable = [(p, why) for p, why in res.skipped if is_image_name(p) and p.is_file()]
        for p, why in res.skipped:
            if (p, why) not in unreadable:
                self.page.problems.add(str(p), why)
        added = self.page.thumbs.add_paths(list(res.files) + [p for p, _ in unreadable])
        for p, why in unreadable:
            e = self.page.thumbs.entry(p)
            if e is not None and e in added:
                self.page._entry_failed(e, why)
        if not added:
            self.page.window_.notify(self._nothing_added(res))
        else:
            self.page.stack.setCurrentIndex(1)
            fresh = [e.path for e in added if e.status != "error"]
            if fresh:
                h = self.page.bridge.submit(T.thumbnails_task, fresh, name="Thumbnails", lane="io")
                h.partial.connect(self._thumb_ready)
            self.page.thumbs.select_entry(added[0])  # the new picture is the only selection, shown and translated
        self.page._update_buttons()

    @staticmethod
    def _nothing_added(res) -> str:
        if res.files:
            return "Those pictures are already in the list."
        if res.skipped:
            names = ", ".join(p.name for p, _ in res.skipped[:3]) + (" …" if len(res.skipped) > 3 else "")
            return f"No picture added: {names} — see the problems list for why."
        return "No pictures found there."

    def _thumb_ready(self, d) -> None:
        e = self.page.thumbs.entry(d["path"])
        if e is None:
            return
        if d["error"]:
            self.page._entry_failed(e, d["error"])
            return
        e.thumb = to_pixmap(d["thumb"])
        w, h = d["size"]
        e.info = f"{w}x{h}, {d['mode']}"
        if e.status in ("new", "reading"):
            e.status = "ready"
        self.page.thumbs.refresh(e)
        if e is self.page.thumbs.current_entry():
            self.page._show_current()

    def open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self.page, "Open images", settings().last_dir("open"),
                                                "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.gif);;"
                                                "All files (*)")
        if files:
            self.add_paths(files)

    def open_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self.page, "Open a folder of images", settings().last_dir("open"))
        if d:
            self.add_paths([d])

    def remove_selected(self) -> None:
        self.page.thumbs.remove_entries(self.page.thumbs.selected_entries())
        self._after_list_change()

    def clear_all(self) -> None:
        self.page.cancel()
        self.page.thumbs.clear_all()
        self._after_list_change()

    def _after_list_change(self) -> None:
        if self.page._shown is not None and self.page.thumbs.entry(self.page._shown[0].path) is not self.page._shown[0]:
            self.page._shown = None  # its picture left the list: do not hold it
        if not self.page.thumbs.count():
            self.page.stack.setCurrentIndex(0)
            self.page.view.set_images(None)
        self.page._show_current()
        self.page._update_buttons()
