"""The Save dialog for pictures: the proposed name and the selected file type always agree, and a name typed
without a picture extension gets the one of the chosen type."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

from PySide6.QtWidgets import QFileDialog, QWidget

from app.widgets.save_path import checked_save_path

IMAGE_TYPES = (("PNG", (".png",)), ("JPEG", (".jpg", ".jpeg")), ("WebP", (".webp",)), ("TIFF", (".tif", ".tiff")))


def filters() -> list:
    return [f"{name} ({' '.join('*' + e for e in exts)})" for name, exts in IMAGE_TYPES]


def filter_for(path: str) -> str:
    """The filter of ``path``'s type (PNG for an unknown one)."""
    ext = Path(path).suffix.lower()
    return next((f for f, (_, exts) in zip(filters(), IMAGE_TYPES) if ext in exts), filters()[0])


def ask_save_image(parent: QWidget, title: str, default: str) -> Optional[Tuple[Path, bool]]:
    """Ask where to save a picture, proposing ``default`` (a .png unless it has another picture type) with its type
    selected. Returns ``(path, overwrite)``, asking before replacing an existing file (the output policy), or None
    when cancelled."""
    if filter_for(default) == filters()[0] and Path(default).suffix.lower() != ".png":
        default = str(Path(default).with_suffix(".png"))
    path, chosen = QFileDialog.getSaveFileName(parent, title, default, ";;".join(filters()), filter_for(default),
                                               QFileDialog.DontConfirmOverwrite)
    if not path:
        return None
    if Path(path).suffix.lower() not in {e for _, exts in IMAGE_TYPES for e in exts}:
        exts = dict(zip(filters(), (e for _, e in IMAGE_TYPES))).get(chosen, (".png",))
        path += exts[0]  # no extension, or one that is no picture type ("notes.txt" -> "notes.txt.jpg")
    return checked_save_path(parent, path)
