"""What the Translate page does with model files and results (the page's ``actions`` controller):
model cards, importing, saving one result, exporting all."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from app.settings import settings
from app.widgets.model_card import show_model_card
from app.widgets.save_dialog import ask_save_image
from app.widgets.thumb_list import Entry
from engine import translate as T
from engine.fsutil import slug
from engine.imageio import output_name


class TranslateActions:
    def __init__(self, page):
        self.page = page  # app.pages.translate.TranslatePage

    def result_key(self) -> str:
        """What a shown result was made with: the model id, plus the target domain of a multi-domain model and the
        output size, and the face mode of a face model."""
        m = self.page.current_model()
        domain = self.page.domain_picker.domain()
        size = self.page.size_picker.key_text()
        faces = self.page.face_toggle.mode()
        return ((m.id if m else "") + (f"#{domain}" if domain else "") + (f"@{size}" if size else "")
                + (f"#faces-{faces}" if faces != "auto" else ""))

    def result_suffix(self) -> str:
        """Appended to saved file names: ``_<model id>`` (``_<model id>_<domain>`` for multi-domain models)."""
        m = self.page.current_model()
        domain = slug(self.page.domain_picker.domain(), "", lower=False)
        return f"_{m.id if m else 'result'}" + (f"_{domain}" if domain else "")

    def show_card(self) -> None:
        show_model_card(self.page, self.page.current_model())

    def import_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.page, "Import a generator", settings().last_dir("models"),
                                              "Model files (*.pth *.pt *.safetensors);;All files (*)")
        if path:
            settings().set_last_dir(path, "models")
            self.import_path(path)

    def import_path(self, path: str):
        library = self.page.library
        h = self.page.bridge.submit(lambda p, ctx: library.import_model(p), path, name="Import model", lane="io")
        h.returned.connect(lambda info: (self.page.picker.catalog.refresh(), self.page.picker.select(info.id),
                                         self.page.window_.notify(f"Imported {info.name} ({info.arch})")))
        h.failed.connect(lambda err: self.page.problems.add(Path(path).name, err.message))
        return h

    def save_current(self) -> None:
        e = self.page.thumbs.current_entry()
        if not e or e.result is None:
            self.page.window_.notify("Nothing to save yet: translate the image first.")
            return
        default = str(Path(settings().last_dir("save")) / output_name(e.path, self.result_suffix(), None,
                                                                     e.result.alpha is not None))
        chosen = ask_save_image(self.page, "Save result", default)
        if chosen:  # overwrite only after the user said to replace the existing file
            self.save_to(e, str(chosen[0]), **({"overwrite": True} if chosen[1] else {}))

    def save_to(self, e: Entry, path: str, overwrite: bool = False):
        """Save one result; an existing file is replaced only with ``overwrite`` (the user confirmed), never an
        input; otherwise a free name is picked."""
        settings().set_last_dir(path, "save")
        dest = Path(path) if Path(path).suffix else Path(path + ".png")
        h = self.page.bridge.submit(T.save_results_task, [(e.path, e.result, dest, overwrite)], name="Save",
                                    lane="io")
        h.returned.connect(lambda written: self.page.window_.notify(f"Saved {written[0]}"))
        h.failed.connect(lambda err: self.page.problems.add("Save", err.message))
        return h

    def export_all(self) -> None:
        d = QFileDialog.getExistingDirectory(self.page, "Export all results to", settings().last_dir("export", "save"))
        if d:
            self.export_to(d)

    def export_to(self, folder: str):
        """Save finished results, translate and save the rest."""
        settings().set_last_dir(folder, "export")
        m = self.page.current_model()
        entries = [e for e in self.page.thumbs.all_entries() if e.status != "error"]
        done = [e for e in entries if e.result is not None]
        todo = [e for e in entries if e.result is None]
        handles = []
        if done and m:
            items = [(e.path, e.result, Path(folder) / output_name(e.path, self.result_suffix(), None,
                                                                   e.result.alpha is not None)) for e in done]
            h = self.page.bridge.submit(T.save_results_task, items, name="Export", lane="io")
            h.returned.connect(lambda w: self.page.window_.notify(f"Exported {len(w)} image(s) to {folder}"))
            h.failed.connect(lambda err: self.page.problems.add("Export", err.message))
            handles.append(h)
        if todo:
            handles.append(self.page._translate(todo, out_dir=folder))
        return handles
