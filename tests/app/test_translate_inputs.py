"""Issue 18, items 5 and 6: what the user sees after adding images, good and bad, to the Translate page."""
from __future__ import annotations

from .test_translate_page import drop, select_model


def selected_names(page):
    return sorted(e.path.name for e in page.thumbs.selected_entries())


def test_a_newly_added_image_becomes_the_only_selection_and_is_shown_translated(window, qtbot, image_factory,
                                                                                tiny_model_id):
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    a, b, c = (image_factory(f"{n}.png", w=40 + i * 8, h=32, seed=i) for i, n in enumerate("abc"))
    page.add_paths([a, b])
    qtbot.waitUntil(lambda: page.thumbs.count() == 2, timeout=10000)
    page.thumbs.selectAll()  # the user picked both (Ctrl+A) ...
    assert selected_names(page) == ["a.png", "b.png"]
    page.add_paths([c])  # ... then adds another picture
    qtbot.waitUntil(lambda: page.thumbs.count() == 3, timeout=10000)
    assert selected_names(page) == ["c.png"]  # the new one is the only selection
    assert page.thumbs.current_entry().path.name == "c.png"
    qtbot.waitUntil(lambda: page.view.before() is not None and page.view.before().width() == 56, timeout=10000)
    qtbot.waitUntil(lambda: page.thumbs.entry(c).status == "done", timeout=20000)  # translated at once
    assert page.view.after().width() == 56
    page.translate_selected()  # acts on the new picture only
    assert page.thumbs.entry(a).status != "queued" and page.thumbs.entry(b).status != "queued"


def test_dropping_several_selects_only_the_first_new_one(window, qtbot, image_factory, tiny_model_id):
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    files = [image_factory(f"{n}.png", seed=i) for i, n in enumerate("xyz")]
    mime = drop(window, files)
    qtbot.waitUntil(lambda: page.thumbs.count() == 3, timeout=10000)
    assert selected_names(page) == ["x.png"]
    del mime


def huge_png(path):
    """A valid PNG header claiming 30000 x 30000 pixels (refused before decoding), a few bytes on disk."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_bad_files_one_rule_one_entry_each(window, qtbot, tmp_path, image_factory, tiny_model_id):
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    good = image_factory("good.png")
    huge = huge_png(tmp_path / "huge.png")
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a picture")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    page.add_paths([huge, good, text, empty])
    qtbot.waitUntil(lambda: page.thumbs.count() == 4, timeout=10000)  # every picture file is listed, bad or not
    qtbot.waitUntil(lambda: page.problems.count() >= 3, timeout=10000)
    qtbot.wait(500)  # late duplicates would arrive now
    texts = page.problems.texts()
    assert len(texts) == 3, texts  # one entry per bad file
    for bad in (huge, text, empty):
        entry = page.thumbs.entry(bad)
        assert entry.status == "error"
        mine = [t for t in texts if bad.name in t]
        assert len(mine) == 1 and mine[0].count(bad.name) == 1, mine  # once, and the path is not doubled
        assert str(tmp_path) not in mine[0].split(": ", 1)[1]
    assert "megapixels" in next(t for t in texts if "huge.png" in t)
    assert "empty file" in next(t for t in texts if "empty.png" in t)
    assert "not an image" in next(t for t in texts if "notes.jpg" in t)
    assert page.count_label.text().endswith(", 3 unreadable")


def test_error_text_fits_and_status_bar_does_not_blame_a_drop(window, qtbot, tmp_path, tiny_model_id, monkeypatch):
    from PySide6.QtGui import QFontMetrics
    from PySide6.QtWidgets import QFileDialog

    page = window.pages["translate"]
    text = tmp_path / ("a-file-with-a-rather-long-name-that-is-not-really-a-picture-at-all" * 2 + ".jpg")
    text.write_text("hello")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(text)], ""))
    page.open_files()  # through the dialog, not a drop
    qtbot.waitUntil(lambda: page.problems.count() == 1, timeout=10000)
    qtbot.waitUntil(lambda: "Cannot open" in page.view.placeholder, timeout=10000)
    assert "dropped" not in window.statusBar().currentMessage()
    lines = page.view.placeholder_lines()
    fm = QFontMetrics(page.view.placeholder_font())
    assert all(fm.horizontalAdvance(line) <= page.view.width() for line in lines), lines
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(tmp_path / "readme.txt")], ""))
    (tmp_path / "readme.txt").write_text("x")
    page.open_files()
    qtbot.waitUntil(lambda: page.problems.count() == 2, timeout=10000)
    assert "dropped" not in window.statusBar().currentMessage()
    assert "readme.txt" in window.statusBar().currentMessage()
