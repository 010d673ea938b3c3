"""Export page (pytest-qt, offscreen): pick models, export, see progress and size, choices remembered."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine.export.card import read_card
from tests.export_models import make_library


@pytest.fixture
def window(qtbot, tmp_path):
    from app.main_window import MainWindow

    win = MainWindow(library=make_library(tmp_path / "lib", ["tiny-resnet", "tiny-dcgan", "multi"]))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def page_of(window):
    return window.show_page("export")


def test_lists_exportable_models_only(window):
    page = page_of(window)
    ids = [page.model_list.item(i).data(Qt.UserRole) for i in range(page.model_list.count())]
    assert "tiny-resnet" in ids and "tiny-dcgan" in ids and "multi" not in ids
    assert not page.export_btn.isEnabled()  # nothing ticked yet


def test_export_onnx_from_the_page(window, qtbot, tmp_path):
    page = page_of(window)
    page.kind_buttons["onnx"].setChecked(True)
    assert not page.name_edit.isVisible() and not page.archive_check.isVisible()
    page.set_checked(["tiny-resnet", "tiny-dcgan"])
    page.out_edit.setText(str(tmp_path / "onnx"))
    assert "2 files will be written to" in page.dest_label.text()
    qtbot.mouseClick(page.export_btn, Qt.LeftButton)
    assert page.progress.isVisible() and page.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: page.job is None, timeout=240_000)
    assert "Wrote 2 ONNX files" in page.status.text(), page.status.text()
    assert read_card(tmp_path / "onnx" / "tiny-resnet.onnx")["io"]["task"] == "translate"
    assert (tmp_path / "onnx" / "tiny-dcgan.md").exists() and page.open_btn.isEnabled()
    assert "parity" in page.log.toPlainText()
    page.grab().save(str(tmp_path / "export_page.png"))
    # the choices come back in a new page
    from app.pages.export import ExportPage

    again = ExportPage(window)
    assert again.kind() == "onnx" and again.out_edit.text() == str(tmp_path / "onnx")
    assert sorted(again.checked_ids()) == ["tiny-dcgan", "tiny-resnet"]


def test_form_errors_are_shown(window, tmp_path):
    page = page_of(window)
    page.kind_buttons["app"].setChecked(True)
    page.set_checked(["tiny-resnet"])
    page.out_edit.setText("")
    assert page.start_export() is None and page.status.text() == "Choose the output folder."
    page.out_edit.setText(str(tmp_path))
    page.name_edit.setText("9 lives")
    assert page.start_export() is None and "starts with a letter" in page.status.text()
    page.name_edit.setText("vintage")
    assert f"The program will be {tmp_path / 'vintage' / 'vintage'}" == page.dest_label.text()


def test_app_build_can_be_cancelled(window, qtbot, tmp_path):
    page = page_of(window)
    page.kind_buttons["app"].setChecked(True)
    page.set_checked(["tiny-resnet"])
    page.name_edit.setText("vintage")
    page.out_edit.setText(str(tmp_path / "apps"))
    h = page.start_export()
    assert h is not None and not page.export_btn.isEnabled()
    page.cancel()
    qtbot.waitUntil(lambda: page.job is None, timeout=120_000)
    assert "cancelled" in page.status.text() and not (tmp_path / "apps" / "vintage").exists()
    assert page.export_btn.isEnabled()


def _app_build_declined(window, folder, monkeypatch, archive=False):
    """The Export page set to build app 'vintage' into ``folder``; every 'replace?' question is answered No."""
    page = page_of(window)
    page.kind_buttons["app"].setChecked(True)
    page.set_checked(["tiny-resnet"])
    page.name_edit.setText("vintage")
    page.out_edit.setText(str(folder))
    page.archive_check.setChecked(archive)
    asked = []
    monkeypatch.setattr("app.pages.export.confirm_replace", lambda parent, paths: asked.append(paths) or False)
    return page, asked


def test_building_over_an_earlier_build_asks_first(window, tmp_path, monkeypatch):
    from engine.export.app_builder import MARKER

    earlier = tmp_path / "vintage"
    earlier.mkdir()
    (earlier / MARKER).write_text("{}")
    page, asked = _app_build_declined(window, tmp_path, monkeypatch)
    assert page.start_export() is None
    assert asked == [[earlier]] and "earlier build" in page.status.text() and "kept" in page.status.text()
    assert sorted(p.name for p in earlier.iterdir()) == [MARKER] and page.job is None


def test_the_bundled_models_are_listed_by_task_and_name_each_fast_version_below_its_model(tmp_path):
    from app.pages.export import export_order
    from engine.library import ModelLibrary

    lib = ModelLibrary(user=tmp_path / "user", runs=tmp_path / "runs")
    names = [m.name for m in sorted(lib.list(), key=export_order)]
    tasks = [m.task for m in sorted(lib.list(), key=export_order)]
    assert tasks == sorted(tasks, key=lambda t: t != "translate")  # translation models first, generators last
    assert names.index("Face photo → anime (fast)") == names.index("Face photo → anime") + 1
    assert names.index("Vintage photo (fast)") == names.index("Vintage photo") + 1
    assert names.index("Sketch → anime (fast)") == names.index("Sketch → anime portrait (CPU preview)") + 1


def test_building_with_an_archive_that_exists_asks_first(window, tmp_path, monkeypatch):
    tar = tmp_path / "vintage.tar.gz"
    tar.write_bytes(b"shared with a friend")
    page, asked = _app_build_declined(window, tmp_path, monkeypatch, archive=True)
    assert page.start_export() is None
    assert asked == [[tar]] and "the archive" in page.status.text() and "kept" in page.status.text()
    assert tar.read_bytes() == b"shared with a friend" and page.job is None
