"""The translator's window from source (pytest-qt, offscreen): drop photos, see before/after, save, export all,
switch to the generator model."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from engine.imageio import load_image
from tests.conftest import make_image


@pytest.fixture
def window(bundle_env, qtbot):
    from gstranslator.runtime import read_index
    from gstranslator.window import TranslatorWindow

    win = TranslatorWindow(read_index(bundle_env / "models"))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def drop(win, paths):
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    ev = QDropEvent(QPointF(50, 50), Qt.CopyAction, md, Qt.LeftButton, Qt.NoModifier)
    win.dropEvent(ev)
    return ev.isAccepted()


def test_drop_translate_save_and_export(window, qtbot, tmp_path):
    a = make_image(tmp_path / "in" / "a.png", 48, 40, seed=3)
    b = make_image(tmp_path / "in" / "b.png", 30, 20, seed=4, channels=4)
    (tmp_path / "in" / "c.png").write_bytes(b"not an image")
    assert drop(window, [tmp_path / "in"])
    assert window.list.count() == 3 and window.windowTitle() == "Test App"
    qtbot.waitUntil(lambda: window.pending == 0, timeout=30000)
    done = [e for e in window.entries.values() if e.after is not None]
    assert len(done) == 2 and window.view._after is not None  # before/after shown for the current photo
    bad = next(e for e in window.entries.values() if e.error)
    assert "not a readable image" in bad.error and "1 could not be read" in window.status.text()
    window.list.setCurrentRow(0)
    saved = window.save_to(str(tmp_path / "one"))
    assert saved == tmp_path / "one.png" and load_image(saved).size == (48, 40)
    assert window.export_to(str(tmp_path / "all")) == 2
    names = sorted(p.name for p in (tmp_path / "all").iterdir())
    assert names == ["a_testapp.png", "b_testapp.png"]
    assert load_image(tmp_path / "all" / "b_testapp.png").alpha is not None  # alpha kept
    assert np.array_equal(load_image(tmp_path / "all" / "a_testapp.png").rgb,
                          next(e.after for e in window.entries.values() if e.path == a))
    assert b.exists() and a.exists()
    window.grab().save(str(tmp_path / "window.png"))


def test_generator_model_in_the_same_app(window, qtbot, tmp_path):
    assert window.model_combo.isVisible() and window.model_combo.count() == 2
    window.model_combo.setCurrentIndex(1)
    assert window.gen_btn.isVisible() and not window.open_btn.isVisible() and window.psi_spin.isVisible()
    assert drop(window, [make_image(tmp_path / "x.png")]) and window.list.count() == 0  # photos need a translator
    window.seed_spin.setValue(5)
    window.generate_next()
    window.generate_next()
    qtbot.waitUntil(lambda: window.pending == 0, timeout=30000)
    assert [e.label for e in window.entries.values()] == ["seed 5", "seed 6"]
    assert all(e.before is not None and e.before.shape == (16, 16, 3) for e in window.entries.values())
    assert window.export_to(str(tmp_path / "gen")) == 2
    assert sorted(p.name for p in (tmp_path / "gen").iterdir()) == ["seed5.png", "seed6.png"]
