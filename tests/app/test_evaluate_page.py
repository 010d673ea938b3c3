"""The Evaluate page with real widgets (pytest-qt, offscreen): run an evaluation on two small folders and see the
table, the reasons for missing numbers, sample grids, the chart of a run, Markdown and HTML export, cancel, HYPE."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from tests.metrics_support import _fid_cache_file, fid_extractor, make_folder  # noqa: F401


@pytest.fixture
def window(qtbot, fid_extractor):
    from app.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    page = w.show_page("evaluate")
    page.extractors.get = lambda device=None, is_weights="": fid_extractor  # share the session's network
    w.resize(1300, 850)
    w.show()
    yield w
    page.cancel()
    w.bridge.manager.wait_all(60)


def _run_and_wait(qtbot, page, timeout_s=600):
    qtbot.mouseClick(page.run_btn, Qt.LeftButton)
    assert page.busy
    qtbot.waitUntil(lambda: not page.busy, timeout=timeout_s * 1000)


def test_evaluation_of_two_small_folders_shows_table_grids_and_chart(qtbot, window, tmp_path):
    page = window.pages["evaluate"]
    real = make_folder(tmp_path / "real", 10, "circles", seed=11)
    fake = make_folder(tmp_path / "fake", 10, "boxes", seed=12)
    assert not page.run_btn.isEnabled()
    page.accept_paths([str(real), str(fake)])  # dropped: the first folder is the real set, the next is compared
    assert page.real_edit.text() == str(real) and [c.label for c in page.candidates] == ["fake"]
    page.metrics_box.set_selected(("fid", "kid", "pr", "diversity"))
    assert page.run_btn.isEnabled()
    _run_and_wait(qtbot, page)

    panel = page.results
    assert panel.table.rowCount() == 1 and panel.table.item(0, 0).text() == "fake"
    assert float(panel.cell_text(0, "KID ↓")) > 0
    assert 0 <= float(panel.cell_text(0, "Precision ↑")) <= 1
    assert panel.cell_text(0, "N real") == "10" and panel.cell_text(0, "N generated") == "10"
    fid_col = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())].index("FID ↓")
    fid_item = panel.table.item(0, fid_col)
    assert fid_item.text() == "n/a" and "Use KID" in fid_item.toolTip()
    assert "TF Inception-v3" in panel.notes.text() and "bicubic" in panel.notes.text()
    pictures = [lab for lab in panel.grids.findChildren(QLabel) if lab.pixmap() and not lab.pixmap().isNull()]
    assert len(pictures) == 2  # real and generated sample grids next to the numbers

    md = page.copy_markdown()
    assert md.startswith("| Compared | FID ↓ | KID ↓") and QApplication.clipboard().text() == md
    report = panel.export_html(str(tmp_path / "report.html"))
    assert report and (tmp_path / "report.html").read_text().count("data:image/png") >= 2

    run = tmp_path / "runs" / "cyclegan_run"
    run.mkdir(parents=True)
    (run / "metrics.jsonl").write_text("\n".join(json.dumps({"step": s, "loss_G": 3 - s / 1000, "fid": 300 - s / 10,
                                                             "kid": 0.3 - s / 10000}) for s in range(0, 2001, 250)))
    page.accept_paths([str(run)])
    assert page.tabs.currentWidget() is page.charts
    assert page.charts.chart.series_names == ["fid", "kid"]
    assert "2 series, 18 points" in page.charts.info.text()
    window.grab().save(str(tmp_path / "evaluate.png"))


def test_cancel_stops_a_running_evaluation(qtbot, window, tmp_path):
    page = window.pages["evaluate"]
    page.set_real(make_folder(tmp_path / "real", 24, "circles", seed=13))
    page.add_folder(make_folder(tmp_path / "fake", 4, "boxes", seed=14))
    qtbot.mouseClick(page.run_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Inception features" in page.status.text(), timeout=120_000)
    qtbot.mouseClick(page.cancel_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: not page.busy, timeout=120_000)
    assert page.status.text() == "Evaluation cancelled." and page.results.table.rowCount() == 0
    assert page.run_btn.isEnabled()


def test_hype_session_scripted_answers_and_resume(qtbot, window, tmp_path):
    from engine.metrics import hype as H

    hv = window.pages["evaluate"].hype
    hv.real_edit.setText(str(make_folder(tmp_path / "real", 5, "circles", seed=15)))
    hv.fake_edit.setText(str(make_folder(tmp_path / "fake", 5, "boxes", seed=16)))
    hv.rater_edit.setText("tester")
    hv.count_spin.setValue(5)
    s = hv.start()
    assert s is not None and s.mode == "inf" and hv.real_btn.isEnabled()
    for _ in range(4):
        qtbot.mouseClick(hv.real_btn if s.current()["real"] else hv.fake_btn, Qt.LeftButton)  # all correct
    resumed = hv.resume(s.path)
    assert resumed.position == 4 and hv.counter.text() == "4 / 10"
    while not resumed.finished:  # the rest: say "real" for everything
        qtbot.mouseClick(hv.real_btn, Qt.LeftButton)
    expected = H.score([H.Session.load(s.path)])
    assert hv.last_score is not None and hv.last_score.score == pytest.approx(expected.score)
    assert "HYPE-∞" in hv.result.text() and "95% CI" in hv.result.text()
    assert not hv.real_btn.isEnabled()


def test_hype_time_shows_each_image_for_the_exposure_then_masks_it(qtbot, window, tmp_path):
    hv = window.pages["evaluate"].hype
    hv.real_edit.setText(str(make_folder(tmp_path / "real", 5, "circles", seed=17)))
    hv.fake_edit.setText(str(make_folder(tmp_path / "fake", 5, "boxes", seed=18)))
    hv.count_spin.setValue(5)
    hv.mode_combo.setCurrentIndex(hv.mode_combo.findData("time"))
    s = hv.start()
    assert s.mode == "time" and s.exposure_ms() == pytest.approx(500.0)
    shown = hv.stage.pixmap().toImage()
    assert not hv.real_btn.isEnabled()  # no answers while the image is exposed
    qtbot.waitUntil(hv.real_btn.isEnabled, timeout=5000)
    assert hv.stage.pixmap().toImage() != shown  # the noise mask replaced the image
    window.activateWindow()
    qtbot.keyClick(hv.stage, Qt.Key_R if s.current()["real"] else Qt.Key_F)  # keyboard answer, correct
    assert s.position == 1 and s.answers[0].correct and s.answers[0].exposure_ms == pytest.approx(500.0)


def test_folder_comparison_is_honest_about_uncertainty_and_charted(qtbot, window, tmp_path):
    """Issue 18, item 7: with few images KID's std is 'not measured' (not 0.0000), the subsets are shown, every
    metric has a one-line meaning, and folder comparisons get a chart with one bar per set."""
    page = window.pages["evaluate"]
    real = make_folder(tmp_path / "real", 10, "circles", seed=21)
    page.accept_paths([str(real), str(make_folder(tmp_path / "boxes", 10, "boxes", seed=22)),
                       str(make_folder(tmp_path / "rings", 10, "circles", seed=23))])
    page.metrics_box.set_selected(("kid", "pr"))
    _run_and_wait(qtbot, page)
    panel = page.results
    assert panel.table.rowCount() == 2
    assert panel.cell_text(0, "KID std") == "not measured"
    assert panel.cell_text(0, "KID subsets") == "1 × 10"
    headers = {panel.table.horizontalHeaderItem(c).text(): panel.table.horizontalHeaderItem(c).toolTip()
               for c in range(panel.table.columnCount())}
    assert "realism" in headers["Precision ↑"] and "unbiased" in headers["KID ↓"]
    meaning = panel.meaning.text()
    assert meaning.startswith("What the numbers mean") and "Precision:" in meaning and "photos vs anime" in meaning
    assert "KID spread not measured" in panel.notes.text()
    page.tabs.setCurrentWidget(panel.compare)
    assert panel.compare.shown() == ["kid", "precision", "recall"]
    kid = panel.compare.charts["kid"]
    assert kid.labels == ["boxes", "rings"] and len(kid.values) == 2 and kid.values[0] > 0
    assert kid.errors == [0.0, 0.0]  # no error bar where the spread was not measured
    assert "2 compared sets" in panel.compare.info.text()


def test_two_folders_of_one_name_get_a_row_each_and_a_refused_set_is_not_counted(qtbot, window, tmp_path):
    """run1/samples and run2/samples were one row ('samples', the second replacing the first) while the status said
    'Evaluated 2 sets'; a refused set (the real folder itself) was counted as evaluated."""
    page = window.pages["evaluate"]
    real = make_folder(tmp_path / "real", 6, "circles", seed=11)
    make_folder(tmp_path / "run1" / "samples", 6, "boxes", seed=12)
    make_folder(tmp_path / "run2" / "samples", 6, "boxes", seed=13)
    page.set_real(str(real))
    page.add_folder(str(tmp_path / "run1" / "samples"))
    page.add_folder(str(tmp_path / "run2" / "samples"))
    assert [c.label for c in page.candidates] == ["samples", "run2/samples"]
    page.metrics_box.set_selected(("kid",))
    _run_and_wait(qtbot, page)
    assert page.results.table.rowCount() == 2 and page.status.text() == "Evaluated 2 sets."
    page.cand_list.clear()
    page.candidates.clear()
    page.add_folder(str(real))  # the real folder compared with itself: refused before any work
    page.run()
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert page.status.text().startswith("Nothing was evaluated") and page.problems.texts()


def test_quitting_asks_while_results_are_unsaved_and_duplicates_and_empty_real_are_clear(qtbot, window, tmp_path,
                                                                                       monkeypatch):
    """A helper's pass: closing dropped a running evaluation or the results table without asking; "real/" beside
    "real" was a second row; an empty real folder was "Evaluated 1 set" with a row of n/a and no problem listed;
    a refused HYPE file was shown to the rater; two sessions started in one second shared one file."""
    from PySide6.QtWidgets import QMessageBox

    page = window.pages["evaluate"]
    real = make_folder(tmp_path / "real", 6, "circles", seed=21)
    fake = make_folder(tmp_path / "fake", 6, "boxes", seed=22)
    page.set_real(str(real))
    page.add_folder(str(fake))
    page.add_folder(str(fake) + "/")  # the same folder typed with a slash: still one candidate
    assert [c.label for c in page.candidates] == ["fake"]
    assert window.close_notes() == []
    page.metrics_box.set_selected(("kid",))
    qtbot.mouseClick(page.run_btn, Qt.LeftButton)
    assert "evaluation is running" in window.close_notes()[0]
    qtbot.waitUntil(lambda: not page.busy, timeout=600_000)
    assert "results (1 set) are not saved" in window.close_notes()[0]
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.No)
    assert window.quit_asking() is False and "Evaluate page" in asked[0]
    page.copy_markdown()
    assert window.close_notes() == []

    (tmp_path / "empty").mkdir()
    page.set_real(str(tmp_path / "empty"))
    page.run()
    qtbot.waitUntil(lambda: not page.busy, timeout=60_000)
    assert page.status.text().startswith("Nothing was evaluated")
    assert any("No readable images in the real set" in t for t in page.problems.texts())


def test_hype_leaves_out_unreadable_files_and_never_shares_a_session_file(qtbot, window, tmp_path):
    import os
    from pathlib import Path

    from engine.metrics import hype as H

    hv = window.pages["evaluate"].hype
    fake = make_folder(tmp_path / "fake", 5, "boxes", seed=24)
    (fake / "text.png").write_text("not a picture")
    (fake / "cut.jpg").write_bytes(b"\xff\xd8\xff\xe0")  # a JPEG cut short
    hv.real_edit.setText(str(make_folder(tmp_path / "real", 7, "circles", seed=23)))
    hv.fake_edit.setText(str(fake))
    hv.rater_edit.setText("../../outside")
    hv.count_spin.setValue(7)
    a, b = hv.start(), hv.start()  # a double click on Start
    assert a.path != b.path and all(os.path.exists(p) for p in (a.path, b.path))
    for s in (a, b):
        assert Path(s.path).parent == H.sessions_dir()  # the rater's name stays a name
        assert len(s.items) == 10 and not any(i["path"].endswith(("text.png", "cut.jpg")) for i in s.items)
    assert "Left out 2 unreadable files" in hv.result.text()
