"""The model card of a library model (its MODEL_CARD.md, with its sample pictures) in a non-modal dialog."""
from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout, QWidget


def show_model_card(parent: QWidget, model) -> Optional[QDialog]:
    """Open ``model.card``; returns the dialog, or None when the model has no card."""
    if not model or not model.card:
        return None
    dlg = QDialog(parent)
    dlg.setWindowTitle(f"Model card: {model.name}")
    dlg.resize(760, 640)
    tb = QTextBrowser(dlg)
    tb.setSearchPaths([str(model.card.parent)])
    tb.setMarkdown(model.card.read_text(encoding="utf-8"))
    QVBoxLayout(dlg).addWidget(tb)
    dlg.show()
    return dlg
