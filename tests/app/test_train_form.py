"""The Train form after a restart: every field comes back (folders A and B, preset, steps, name, advanced settings,
so Start is enabled), or, when part of it cannot (a folder was deleted), none does and the page says why
(issue 18, item 3). Folders dropped on A and B fill exactly that box (item 9)."""
from __future__ import annotations

import shutil
import warnings

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from tests.engine.training_helpers import make_folders



def drop_folder(widget, folder) -> bool:
    """Drag ``folder`` from a file manager and drop it on ``widget`` (the events Qt delivers)."""
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(folder))])
    pos = QPoint(widget.width() // 2, widget.height() // 2)
    with warnings.catch_warnings():  # PySide6 marks the QPoint constructor deprecated; it is the only one there is
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(pos, Qt.CopyAction, md, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(pos), Qt.CopyAction, md, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def fill_form(qtbot, page, a, b):
    assert drop_folder(page.box_b, b) and page.box_b.path == str(b) and page.box_a.path == ""  # B stays B
    assert drop_folder(page.box_a, a) and page.box_a.path == str(a)
    qtbot.waitUntil(lambda: page.box_a.count == 3 and page.box_b.count == 3, timeout=20000)
    s = page.settings
    s.preset.setCurrentIndex(s.preset.findData("tiny"))
    s.steps.setValue(1234)
    s.name.setText("my faces")
    s.adv_btn.setChecked(True)
    s.lambda_idt.setValue(0.25)
    s.aug_boxes["color"].setChecked(True)
    s.device.setCurrentText("cpu")


def test_every_field_of_the_train_form_comes_back_after_a_restart(qtbot, tmp_path, open_window):
    a, b = make_folders(tmp_path / "data", 3)
    win = open_window()
    page = win.show_page("train")
    fill_form(qtbot, page, a, b)
    assert page.start_btn.isEnabled()
    before = page.form_values()
    win.close()

    win2 = open_window()
    page2 = win2.pages["train"]
    qtbot.waitUntil(lambda: page2.box_a.count == 3 and page2.box_b.count == 3, timeout=20000)
    assert page2.form_values() == before
    assert page2.box_a.path_label.text() == str(a) and page2.box_b.path_label.text() == str(b)
    assert page2.settings.steps.value() == 1234 and page2.settings.name.text() == "my faces"
    assert page2.settings.adv.isVisibleTo(page2) and page2.settings.aug_boxes["color"].isChecked()
    assert page2.start_btn.isEnabled()  # Folder B came back too
    win2.close()


def test_a_missing_folder_alone_is_left_out_and_the_page_says_so(qtbot, tmp_path, open_window):
    a, b = make_folders(tmp_path / "data", 3)
    win = open_window()
    page = win.show_page("train")
    fill_form(qtbot, page, a, b)
    win.close()
    shutil.rmtree(b)

    win2 = open_window()
    page2 = win2.pages["train"]
    assert page2.box_a.path == str(a) and page2.box_b.path == ""  # only the moved folder is left out
    assert page2.settings.steps.value() == 1234 and page2.settings.name.text() == "my faces"
    assert f"are back, except: Folder B ({b}) no longer exists" in page2.status_label.text()
    assert not page2.start_btn.isEnabled()
    win2.close()
