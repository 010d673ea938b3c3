"""Issue 18, items 8 and 9 on the Translate, Draw, Latent, Evaluate, Export and Lab pages: plain words, layouts that
fit, dialogs that remember, drops, a large Draw canvas and a tooltip on every control. Each test does what the user
did and checks what the user sees."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QComboBox, QFileDialog, QLineEdit, QListWidget,
                               QPlainTextEdit, QSlider, QTabBar, QTextBrowser, QWidget)

from .test_translate_page import drop, select_model

CONTROLS = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QListWidget, QPlainTextEdit, QSlider)


@pytest.fixture
def laptop(window, qtbot):
    """The main window on a 1366x768 laptop screen."""
    window.resize(1366, 768)
    qtbot.wait(50)
    return window


@pytest.mark.parametrize("name", ["translate", "draw", "latent", "evaluate", "export", "lab"])
def test_every_control_has_a_tooltip(laptop, name):
    page = laptop.show_page(name)
    missing = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r} in {type(w.parent()).__name__}"
               for w in page.findChildren(QWidget) if isinstance(w, CONTROLS) and not w.toolTip().strip()
               and not isinstance(w.parent(), (QComboBox, QAbstractSpinBox, QTabBar))  # Qt's own inner parts
               and not w.objectName().startswith("qt_")]
    assert missing == []


def test_draw_canvas_is_large_and_the_style_choice_speaks_plainly(laptop, qtbot):
    page = laptop.show_page("draw")
    page.select_model("sketch2anime")  # a pix2pix model working at 128 px, with batch norm
    assert page.canvas.canvas_size == 128
    qtbot.waitUntil(lambda: page.canvas.image_rect().width() >= 512, timeout=5000)  # shown at 4x or more
    assert page.canvas.image_rect().height() >= 512
    assert page.norm_combo.isVisible()
    texts = [page.norm_combo.itemText(i) for i in range(page.norm_combo.count())]
    assert texts == ["Style: as trained (steadier)", "Style: adapt to this drawing (bolder)"]
    assert not any("norm" in t.lower() or "eval" in t for t in texts)


def test_sketch_from_photo_opens_in_the_last_folder(window, monkeypatch, image_factory):
    page = window.show_page("draw")
    page.select_model("sketch2anime")
    photo = image_factory("photos/me.png", w=80, h=80)
    asked = []

    def fake_open(parent, title, folder, filt):
        asked.append(folder)
        return str(photo), filt

    monkeypatch.setattr(QFileDialog, "getOpenFileName", fake_open)
    page.sketch_from_photo()
    page.sketch_from_photo()
    assert asked[1] == str(photo.parent)


def test_drop_a_photo_on_draw_loads_it_into_the_canvas(window, qtbot, image_factory):
    page = window.show_page("draw")
    page.select_model("sketch2anime")
    assert page.canvas.is_blank()
    mime = drop(window, [image_factory("sketch.png", w=100, h=100)])
    qtbot.waitUntil(lambda: not page.canvas.is_blank(), timeout=10000)
    assert window.current_page() is page and "Loaded sketch.png" in window.statusBar().currentMessage()
    del mime


def test_drop_folders_on_evaluate(window, image_factory, tmp_path):
    page = window.show_page("evaluate")
    image_factory("real/a.png")
    image_factory("gen/b.png")
    mime = drop(window, [tmp_path / "real", tmp_path / "gen"])
    assert window.current_page() is page
    assert page.real_edit.text() == str(tmp_path / "real")  # the first folder is the real set
    assert [c.label for c in page.candidates] == ["gen"]  # the next one is compared
    del mime


def test_save_proposes_a_name_of_the_type_selected(window, qtbot, image_factory, tiny_model_id, monkeypatch):
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    asked = []

    def fake_save(parent, title, default, filters, selected, *options):
        asked.append((default, selected))
        return str(Path(default).with_suffix("")), selected  # the user typed a name without an extension

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save)
    written = []
    monkeypatch.setattr(page.actions, "save_to", lambda e, path: written.append(path))
    for name in ("photo.jpg", "drawing.png"):
        img = image_factory(name, w=40, h=40)
        page.add_paths([img])
        qtbot.waitUntil(lambda: page.thumbs.entry(img) is not None and page.thumbs.entry(img).result is not None,
                        timeout=20000)
        page.save_current()
    (jpg_default, jpg_filter), (png_default, png_filter) = asked
    assert jpg_default.endswith("photo_tiny.jpg") and jpg_filter.startswith("JPEG")
    assert png_default.endswith("drawing_tiny.png") and png_filter.startswith("PNG")
    assert written[0].endswith("photo_tiny.jpg") and written[1].endswith("drawing_tiny.png")


def test_model_card_fits_inside_its_window(laptop, qtbot):
    page = laptop.pages["translate"]
    select_model(page, "vintagify")
    assert page.card_btn.isEnabled()
    qtbot.mouseClick(page.card_btn, Qt.LeftButton)
    dlg = next(w for w in page.findChildren(QWidget) if w.windowTitle().startswith("Model card"))
    qtbot.waitExposed(dlg)
    assert dlg.width() <= laptop.width() and dlg.height() <= laptop.height()
    tb = dlg.findChild(QTextBrowser)
    qtbot.wait(100)
    assert tb.horizontalScrollBar().maximum() == 0  # nothing wider than the card: no sideways scrolling
    dlg.close()


def test_export_describes_the_ticked_model_not_the_highlighted_row(window):
    page = window.show_page("export")
    ids = [page.model_list.item(i).data(Qt.UserRole) for i in range(page.model_list.count())]
    page.set_checked([])
    page.model_list.setCurrentRow(ids.index("dcgan-faces"))  # the user clicks one row ...
    page.set_checked(["vintagify"])  # ... but ticks another
    text = page.model_info.text()
    assert "Vintage photo" in text and "DCGAN" not in text
    page.set_checked([])
    assert page.model_info.text() == "Tick a model to export it."


def test_the_empty_loss_chart_shows_no_meaningless_axis():
    from app.widgets.loss_chart import LossChart

    chart = LossChart([("G", "G"), ("D", "D")])
    assert chart.x_labels() == []  # not "0 0 0 0 1"
    chart.add(1, {"G": 2.0, "D": 1.0})
    chart.add(2, {"G": 1.5, "D": 0.9})
    labels = chart.x_labels()
    assert len(labels) == len(set(labels)) >= 2


def test_advanced_training_settings_open_without_sideways_scrolling(laptop, qtbot):
    from PySide6.QtWidgets import QScrollArea

    page = laptop.show_page("train")
    page.settings.adv_btn.setChecked(True)  # the user opens Advanced settings
    qtbot.wait(100)
    scroll = page.settings.parent()
    while scroll is not None and not isinstance(scroll, QScrollArea):
        scroll = scroll.parent()
    assert scroll is not None
    assert not scroll.horizontalScrollBar().isVisible()
    assert page.settings.width() <= scroll.viewport().width()
    assert laptop.width() <= 1366  # and the window did not grow


LONG_NAME = "Portrait photo to watercolour painting, trained on 12k faces at 256 px with DiffAugment"


def test_evaluate_combo_shows_whole_model_names(laptop, _isolated_home):
    from .test_model_picker import write_model

    write_model(_isolated_home, "long", LONG_NAME)
    laptop.catalog.refresh()
    page = laptop.show_page("evaluate")
    combo = page.model_combo
    fm = combo.fontMetrics()
    assert combo.width() >= fm.horizontalAdvance("Face photo → anime (CPU preview) (bundled)")  # bundled names whole
    widest = max(fm.horizontalAdvance(combo.itemText(i)) for i in range(combo.count()))
    assert combo.view().minimumWidth() >= widest  # the drop-down shows every name whole
    assert page.picker.select("long")
    assert LONG_NAME in combo.toolTip()
    assert laptop.width() <= 1366


def test_export_list_cuts_long_names_in_the_middle_without_sideways_scrolling(laptop, _isolated_home, qtbot):
    from .test_model_picker import write_model

    write_model(_isolated_home, "long", LONG_NAME)
    laptop.catalog.refresh()
    page = laptop.show_page("export")
    lst = page.model_list
    qtbot.wait(50)
    item = next(lst.item(i) for i in range(lst.count()) if lst.item(i).data(Qt.UserRole) == "long")
    rect = lst.visualItemRect(item)
    assert lst.horizontalScrollBar().maximum() == 0 and lst.horizontalScrollBarPolicy() == Qt.ScrollBarAlwaysOff
    assert rect.width() <= lst.viewport().width()  # the row fits the list ...
    assert lst.fontMetrics().horizontalAdvance(item.text()) > rect.width()  # ... so its long name is cut
    assert lst.textElideMode() == Qt.ElideMiddle  # in the middle: start and end stay readable
    assert item.text() in item.toolTip() and LONG_NAME in item.toolTip()  # the whole name on hover
    laptop.resize(1000, 700)  # a narrower window: the rows follow
    qtbot.wait(50)
    assert lst.visualItemRect(item).width() <= lst.viewport().width()


def test_evaluate_notes_scroll_instead_of_being_cut_off(laptop, qtbot):
    from PySide6.QtWidgets import QScrollArea

    page = laptop.show_page("evaluate")
    res = page.results
    res.meaning.setText("What the numbers mean:\n" + "\n".join(f"• metric {i}: a sentence that explains it, long "
                                                                  "enough to wrap on a laptop screen" for i in range(12)))
    qtbot.wait(50)
    area = res.meaning.parent()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parent()
    assert area is not None and area.horizontalScrollBarPolicy() == Qt.ScrollBarAlwaysOff
    m = res.meaning
    assert m.height() >= m.heightForWidth(m.width())  # every line has its room (reached by scrolling) ...
    assert area.verticalScrollBar().maximum() > 0  # ... rather than being squeezed and cut off
    assert laptop.width() <= 1366


def test_train_shows_an_empty_state_for_unfinished_runs(laptop):
    page = laptop.show_page("train")
    assert page.runs.count() == 0
    assert page.runs_empty.isVisible() and "can be resumed" in page.runs_empty.text()
    assert not page.runs.isVisible() and not page.resume_btn.isVisible()  # no empty box, no dead button
    assert "A → B → A" not in page.sample_label.text()  # the placeholder fits every method, not only CycleGAN


def test_a_narrow_chart_keeps_its_legend_off_the_axis_labels(qtbot):
    from PySide6.QtGui import QColor

    from app.widgets.plots import LineChart, Series

    chart = LineChart("Mode coverage", right_range=(0.0, 1.0), right_label="%", integer=True)
    qtbot.addWidget(chart)
    chart.set_series([Series("modes", QColor("green"), [0, 20, 40], [0, 1, 1]),
                      Series("HQ", QColor("orange"), [0, 20, 40], [0.0, 0.04, 0.05], axis="right")])
    fm = chart.fontMetrics()
    assert chart.legend_texts(fm, 600) == ["modes 1", "HQ 5%"]  # room: names and values
    assert chart.legend_texts(fm, 110) == ["modes", "HQ"]  # a narrow Lab chart: the names alone
    chart.resize(180, 160)
    assert not chart.grab().toImage().isNull()


def test_lab_status_is_whole_on_a_laptop(laptop, qtbot):
    page = laptop.show_page("lab")
    for text in ("step 12,345 of 100,000", "stopped at step 12,345"):
        page.status.setText(text)
        qtbot.wait(20)
        assert page.status.elided() == text  # not "step 12,34…"
    assert laptop.width() <= 1366


def test_a_name_typed_with_no_picture_extension_gets_the_chosen_type(qtbot, tmp_path, monkeypatch):
    """'out.txt' typed with JPEG chosen ended in 'Unexpected error: ValueError: cannot save as .txt'."""
    from app.widgets.save_dialog import ask_save_image, filters

    for typed, chosen, expected in (("out.txt", filters()[1], "out.txt.jpg"), ("out", filters()[0], "out.png"),
                                    ("out.webp", filters()[0], "out.webp")):
        monkeypatch.setattr(QFileDialog, "getSaveFileName",
                            lambda *a, t=typed, c=chosen: (str(tmp_path / t), c))
        assert ask_save_image(None, "Save", str(tmp_path / "x.png")) == (tmp_path / expected, False)
