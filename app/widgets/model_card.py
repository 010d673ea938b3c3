"""The model card of a library model (its MODEL_CARD.md, with its sample pictures) in a non-modal dialog, headed by
the facts every model has (architecture, MACs at 256x256, and for a fast version the teacher it was distilled from).
Models without a MODEL_CARD.md (trained runs, fast versions) get the facts and their description."""
from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout, QWidget


def card_markdown(model) -> str:
    from engine.fastmodels import facts
    from engine.library import ModelLibrary

    head = "\n".join(facts(model, ModelLibrary().list()))
    if model.card:
        return head + "\n\n" + model.card.read_text(encoding="utf-8")
    return f"# {model.name}\n\n{model.description}\n\n{head}\n"


def show_model_card(parent: QWidget, model) -> Optional[QDialog]:
    """Open the card of ``model``; returns the dialog, or None when no model is given."""
    if not model:
        return None
    dlg = QDialog(parent)
    dlg.setWindowTitle(f"Model card: {model.name}")
    dlg.resize(760, 640)
    tb = QTextBrowser(dlg)
    tb.setObjectName("modelCardText")
    if model.card:
        tb.setSearchPaths([str(model.card.parent)])
    tb.setMarkdown(card_markdown(model))
    QVBoxLayout(dlg).addWidget(tb)
    dlg.show()
    return dlg
