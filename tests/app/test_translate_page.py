"""Translate page driven like a user: drops, translate, cancel, errors, saving, remembered settings."""
from __future__ import annotations


import numpy as np
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from engine.imageio import load_image


def drop(win, paths):
    mime = QMimeData()  # keep a reference: Qt does not own it
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(300, 300)
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(win, enter)
    assert enter.isAccepted()
    ev = QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(win, ev)
    return mime


def select_model(page, model_id):
    """Pick a model in the page's model picker (re-reading the library when it was written after the window)."""
    assert page.picker.select(model_id), [m.id for m in page.picker.models]
    assert page.picker.listed().id == model_id  # the entry (its fast version may be what runs)


def test_first_launch_shows_empty_state_and_default_model(window):
    page = window.pages["translate"]
    assert page.picker.listed().id == "vintagify"
    assert page.current_model().id == "vintagify-fast"  # its fast version runs by default on a CPU
    assert page.stack.currentIndex() == 0  # helpful empty state
    assert "CPU" in window.device_label.text() or "GPU" in window.device_label.text()
    assert not page.translate_all_btn.isEnabled()


def test_drop_files_and_folder_then_translate_all(window, qtbot, image_factory, tiny_model_id, tmp_path):
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    a = image_factory("a.png", w=40, h=32)
    image_factory("folder/b.png", w=24, h=24, seed=1)
    image_factory("folder/deeper/c.jpg", w=30, h=20, seed=2)
    mime = drop(window, [a, tmp_path / "folder"])
    qtbot.waitUntil(lambda: page.thumbs.count() == 3, timeout=10000)
    assert page.stack.currentIndex() == 1
    # the first dropped image is shown and translated as a preview
    qtbot.waitUntil(lambda: page.view.after() is not None, timeout=20000)
    assert page.view.before().width() == 40
    page.translate_all_btn.click()
    qtbot.waitUntil(lambda: all(e.status == "done" for e in page.thumbs.all_entries()), timeout=30000)
    qtbot.waitUntil(lambda: page.batch is None, timeout=5000)
    assert page.count_label.text() == "3 images, 3 translated"
    e = page.thumbs.entry(a)
    assert e.result.rgb.shape == (32, 40, 3)
    del mime


def test_corrupt_file_gives_error_message(window, qtbot, tmp_path, image_factory, tiny_model_id):
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    good = image_factory("good.png")
    mime = drop(window, [bad, good, tmp_path / "missing.png"])
    qtbot.waitUntil(lambda: page.problems.count() >= 2, timeout=10000)
    texts = "\n".join(page.problems.texts())
    assert "broken.jpg" in texts and ("truncated" in texts or "corrupt" in texts)
    assert "missing.png: not found" in texts
    assert page.problems.isVisible()
    assert page.thumbs.entry(bad).status == "error"
    page.thumbs.select_entry(page.thumbs.entry(bad))
    qtbot.waitUntil(lambda: "Cannot open broken.jpg" in page.view.placeholder, timeout=5000)
    del mime


def slow_batch_started(page, qtbot, image_factory, monkeypatch, n: int) -> None:
    """``n`` pictures on the page, translated slowly (0.15 s each) by Translate all, until the first is done."""
    import time

    import engine.inference as inf

    real = inf.Translator.translate_many
    monkeypatch.setattr(inf.Translator, "translate_many", lambda self, imgs: time.sleep(0.15) or real(self, imgs))
    paths = [image_factory(f"many/{i:02d}.png", w=24, h=24, seed=i) for i in range(n)]
    page.add_paths([paths[0].parent])
    qtbot.waitUntil(lambda: page.thumbs.count() == n, timeout=10000)
    page.translate_all_btn.click()
    qtbot.waitUntil(lambda: page.cancel_btn.isEnabled() and page.progress.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: any(e.status == "done" for e in page.thumbs.all_entries()), timeout=20000)


def test_cancel_a_batch(window, qtbot, image_factory, tiny_model_id, monkeypatch):
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    slow_batch_started(page, qtbot, image_factory, monkeypatch, 25)
    page.cancel_btn.click()
    qtbot.waitUntil(lambda: page.batch is None, timeout=10000)
    done = sum(e.status == "done" for e in page.thumbs.all_entries())
    assert 0 < done < 25
    assert not page.progress.isVisible() and page.translate_all_btn.isEnabled()
    assert all(e.status in ("done", "ready") for e in page.thumbs.all_entries())


def test_save_and_export_all(window, qtbot, image_factory, tiny_model_id, tmp_path):
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    a = image_factory("a.png", w=20, h=20)
    b = image_factory("b.png", w=20, h=20, seed=1)
    page.add_paths([a, b])
    qtbot.waitUntil(lambda: page.thumbs.entry(a) is not None and page.thumbs.entry(a).result is not None,
                    timeout=20000)
    h = page.save_to(page.thumbs.entry(a), str(tmp_path / "saved.png"))
    qtbot.waitUntil(lambda: h.done, timeout=5000)
    assert load_image(tmp_path / "saved.png").rgb.shape == (20, 20, 3)
    out = tmp_path / "export"
    page.export_to(str(out))
    qtbot.waitUntil(lambda: len(list(out.glob("*.png"))) == 2, timeout=20000)
    assert sorted(p.name for p in out.glob("*.png")) == ["a_tiny.png", "b_tiny.png"]


def test_paste_image_from_clipboard(window, qtbot, tiny_model_id):
    page = window.pages["translate"]
    img = QImage(30, 20, QImage.Format_RGB888)
    img.fill(Qt.red)
    QApplication.clipboard().setImage(img)
    window.paste()
    qtbot.waitUntil(lambda: page.thumbs.count() == 1, timeout=10000)
    e = page.thumbs.all_entries()[0]
    assert e.path.name.startswith("pasted-") and load_image(e.path).rgb[0, 0].tolist() == [255, 0, 0]


def test_import_model_then_it_is_listed_and_remembered(window, qtbot, tmp_path):
    import torch

    from engine.models import get_model

    page = window.pages["translate"]
    torch.save(get_model("resnet_6blocks", ngf=4).state_dict(), tmp_path / "latest_net_G_A.pth")
    h = page.import_path(str(tmp_path / "latest_net_G_A.pth"))
    qtbot.waitUntil(lambda: h.done, timeout=10000)
    qtbot.waitUntil(lambda: page.current_model().id == "latest_net_g_a", timeout=5000)
    assert "(imported)" in page.model_combo.currentText()
    window.close()
    from app.main_window import MainWindow
    from engine.library import ModelLibrary

    win2 = MainWindow(library=ModelLibrary())
    qtbot.addWidget(win2)
    assert win2.pages["translate"].current_model().id == "latest_net_g_a"  # last model remembered


def test_bad_import_is_reported_not_crashing(window, qtbot, tmp_path):
    page = window.pages["translate"]
    p = tmp_path / "junk.pth"
    p.write_bytes(b"not a checkpoint")
    page.import_path(str(p))
    qtbot.waitUntil(lambda: page.problems.count() == 1, timeout=10000)
    assert "junk.pth" in page.problems.texts()[0]


def test_compare_view_split_and_zoom(window, qtbot, image_factory):
    from app.widgets.images import to_pixmap

    v = window.pages["translate"].view
    rgb = np.zeros((50, 80, 3), np.uint8)
    v.set_images(to_pixmap(rgb), to_pixmap(rgb + 255))
    window.pages["translate"].stack.setCurrentIndex(1)
    qtbot.waitExposed(v)
    x = v.split_x()
    qtbot.mousePress(v, Qt.LeftButton, pos=QPointF(x, v.height() / 2).toPoint())
    qtbot.mouseMove(v, pos=QPointF(x - 40, v.height() / 2).toPoint())
    qtbot.mouseRelease(v, Qt.LeftButton, pos=QPointF(x - 40, v.height() / 2).toPoint())
    assert v.split < 0.5
    z = v.zoom
    qtbot.keyClick(v, Qt.Key_Plus)
    assert v.zoom > z
    qtbot.keyClick(v, Qt.Key_0)
    assert abs(v.zoom - z) < 1e-6


def test_card_button_shows_the_bundled_model_card(window, qtbot):
    from PySide6.QtWidgets import QDialog, QTextBrowser

    from app.widgets.model_card import show_model_card

    page = window.pages["translate"]
    m = page.current_model()
    assert m.card is not None and m.card.is_file()
    page.card_btn.click()
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()]
    assert len(dialogs) == 1 and m.name in dialogs[0].windowTitle()
    text = dialogs[0].findChild(QTextBrowser).toPlainText()
    assert "trained" in text.lower() and len(text) > 200  # the card says what the model was trained on
    dialogs[0].close()
    assert show_model_card(page, None) is None


def test_face_toggle_for_face_models_translates_the_face_or_the_whole_image(window, qtbot, samples):
    page = window.pages["translate"]
    assert page.face_toggle.isHidden()  # vintagify: not a face model, no toggle
    select_model(page, "face2anime")
    assert not page.face_toggle.isHidden() and page.face_toggle.isChecked()
    assert "face" in page.face_toggle.toolTip()
    mime = drop(window, [samples / "astronaut.png"])
    qtbot.waitUntil(lambda: page.thumbs.count() == 1, timeout=10000)
    e = page.thumbs.all_entries()[0]
    qtbot.waitUntil(lambda: e.result is not None, timeout=60000)
    src = load_image(samples / "astronaut.png").rgb
    mid = page.current_model().id
    assert mid == "face2anime-fast"  # its fast version, on a CPU; it crops faces like its teacher
    assert e.result_model == f"{mid}#faces-on"
    assert np.array_equal(e.result.rgb[400:], src[400:])  # only the face changed
    page.face_toggle.click()  # whole image
    assert page.face_toggle.mode() == "off"
    qtbot.waitUntil(lambda: e.result is not None and e.result_model == f"{mid}#faces-off", timeout=60000)
    assert np.abs(e.result.rgb[400:].astype(int) - src[400:].astype(int)).mean() > 5
    # remembered per model
    select_model(page, "vintagify")
    assert page.face_toggle.isHidden() and page.face_toggle.mode() == "auto"
    select_model(page, "face2anime")
    assert not page.face_toggle.isChecked()
    select_model(page, "anime2face")  # anime portraits: whole image, run as its own fast version on a CPU
    assert page.face_toggle.isHidden() and page.current_model().id == "anime2face-fast"
    del mime


def test_photo_without_a_face_says_so_and_is_translated_whole(window, qtbot, image_factory):
    page = window.pages["translate"]
    select_model(page, "face2anime")
    plain = image_factory("plain.png", w=64, h=48)
    mime = drop(window, [plain])
    qtbot.waitUntil(lambda: page.thumbs.count() == 1, timeout=10000)
    e = page.thumbs.all_entries()[0]
    qtbot.waitUntil(lambda: e.result is not None, timeout=60000)
    assert e.notes == ["No face found in plain.png: translated the whole image instead."]
    assert any("No face found in plain.png" in t for t in page.problems.texts())  # shown to the user
    del mime


def test_switching_the_model_mid_batch_stops_it_and_keeps_no_result_of_the_old_model(window, qtbot, image_factory,
                                                                                   tiny_model_id, monkeypatch,
                                                                                   _isolated_home):
    """Results that finished after a switch were stored as done and exported under the new model's name."""
    from engine.library import model_meta, save_model
    from engine.models import get_model

    meta = model_meta(id="other", name="Other test model", family="cyclegan", task="translate",
                      arch="resnet_6blocks", arch_kwargs={"ngf": 8})
    save_model(_isolated_home / "models" / "other" / "model.safetensors", get_model("resnet_6blocks", ngf=8), meta)
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    slow_batch_started(page, qtbot, image_factory, monkeypatch, 12)
    select_model(page, "other")
    qtbot.waitUntil(lambda: page.batch is None, timeout=10000)
    key = page.actions.result_key()
    assert all(e.result is None or e.result_model == key for e in page.thumbs.all_entries())
    assert not any(e.status == "done" and e.result_model != key for e in page.thumbs.all_entries())


def test_remove_takes_the_selected_pictures_off_without_an_error(window, qtbot, image_factory, tiny_model_id):
    """Every Remove printed KeyError tracebacks: the list told the page the current item changed while it was
    half updated."""
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    paths = [image_factory(f"r/{i}.png", w=24, h=24, seed=i) for i in range(3)]
    page.add_paths(paths)
    qtbot.waitUntil(lambda: page.thumbs.count() == 3, timeout=10000)
    page.thumbs.setCurrentRow(1)
    page.thumbs.item(1).setSelected(True)
    page.remove_selected()  # an exception in a slot fails the test (pytest-qt)
    assert [e.path for e in page.thumbs.all_entries()] == [paths[0], paths[2]]
    assert page.thumbs.current_entry() is not None and page.count_label.text().startswith("2 images")
