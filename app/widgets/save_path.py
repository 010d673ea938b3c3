"""Saving in the GUI follows the engine's output policy (``engine.outputs``): a file is replaced only after the user
said so. Every "Save as" goes through :func:`ask_save_path` (our own question, also for names the dialog did not see,
like ``result`` + ``.png``); a page that writes several files asks once with :func:`confirm_replace`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Tuple

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


def confirm_replace(parent: Optional[QWidget], paths: Sequence[Path]) -> bool:
    """Ask before replacing ``paths`` (existing files). True: replace them."""
    paths = [Path(p) for p in paths]
    if not paths:
        return True
    if len(paths) == 1:
        text = f"{paths[0].name} already exists in {paths[0].parent}.\nDo you want to replace it?"
    else:
        names = "\n".join(f"  {p.name}" for p in paths[:8]) + (f"\n  … and {len(paths) - 8} more"
                                                                 if len(paths) > 8 else "")
        text = f"{len(paths)} files already exist in {paths[0].parent}:\n{names}\nDo you want to replace them?"
    answer = QMessageBox.question(parent, "Replace existing files?" if len(paths) > 1 else "Replace file?", text,
                                  QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
    return answer == QMessageBox.Yes


def ask_save_path(parent: Optional[QWidget], title: str, default: str, filters: str,
                  default_ext: str = ".png") -> Optional[Tuple[Path, bool]]:
    """A save dialog; returns ``(path, overwrite)`` or None when cancelled or when the user would not replace."""
    path, _ = QFileDialog.getSaveFileName(parent, title, default, filters,
                                          options=QFileDialog.DontConfirmOverwrite)
    if not path:
        return None
    return checked_save_path(parent, path, default_ext)


def checked_save_path(parent: Optional[QWidget], path: str, default_ext: str = ".png") -> Optional[Tuple[Path, bool]]:
    """``path`` with ``default_ext`` added when it has no extension; asks before replacing an existing file."""
    dest = Path(path) if Path(path).suffix else Path(path + default_ext)
    try:
        exists = dest.exists()
    except OSError:  # a name too long, say: the save itself reports it, in words
        exists = False
    if exists:
        if not confirm_replace(parent, [dest]):
            return None
        return dest, True
    return dest, False
