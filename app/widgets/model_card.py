"""The model card of a library model (its MODEL_CARD.md, with its sample pictures) in a non-modal dialog, headed by
the facts every model has (architecture, MACs at 256x256, and for a fast version the teacher it was distilled from).
Models without a MODEL_CARD.md (trained runs, fast versions) get the facts and their description. The dialog fits
inside the main window: pictures wider than the text are scaled down, so nothing scrolls sideways."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtGui import QImageReader, QTextCursor, QTextDocument
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

CARD_W, CARD_H, MARGIN = 760, 640, 60


def card_markdown(model) -> str:
    from engine.fastmodels import facts
    from engine.library import ModelLibrary

    head = "\n".join(facts(model, ModelLibrary().list()))
    if model.card:  # the card's title first, then the facts the app knows (speed, teacher...), then the card
        text = model.card.read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        if first.startswith("# "):
            return f"{first}\n\n{head}\n\n{rest.lstrip()}"
        return head + "\n\n" + text
    return f"# {model.name}\n\n{model.description}\n\n{head}\n"


def show_model_card(parent: QWidget, model) -> Optional[QDialog]:
    """Open the card of ``model``; returns the dialog, or None when no model is given."""
    if not model:
        return None
    dlg = QDialog(parent)
    dlg.setWindowTitle(f"Model card: {model.name}")
    win = parent.window()
    dlg.resize(min(CARD_W, max(320, win.width() - MARGIN)), min(CARD_H, max(240, win.height() - MARGIN)))
    tb = QTextBrowser(dlg)
    tb.setObjectName("modelCardText")
    if model.card:
        tb.setSearchPaths([str(model.card.parent)])
    tb.setMarkdown(card_markdown(model))
    if model.card:
        fit_images(tb.document(), model.card.parent, dlg.width() - 60)
    lay = QVBoxLayout(dlg)
    lay.addWidget(tb)
    buttons = QDialogButtonBox(QDialogButtonBox.Close, dlg)  # Esc closes it too
    buttons.rejected.connect(dlg.close)
    lay.addWidget(buttons)
    dlg.show()
    return dlg


def fit_images(doc: QTextDocument, folder: Path, max_width: int) -> int:
    """Scale every picture of ``doc`` wider than ``max_width`` px down to it (aspect kept); returns how many."""
    changed = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            fmt = frag.charFormat()
            if fmt.isImageFormat():
                img = fmt.toImageFormat()
                size = QImageReader(str(Path(folder) / img.name())).size()
                if size.isValid() and size.width() > max_width:
                    img.setWidth(max_width)
                    img.setHeight(size.height() * max_width / size.width())
                    changed.append((frag.position(), frag.length(), img))
            it += 1
        block = block.next()
    for pos, length, img in changed:
        cur = QTextCursor(doc)
        cur.setPosition(pos)
        cur.setPosition(pos + length, QTextCursor.KeepAnchor)
        cur.setCharFormat(img)
    return len(changed)
