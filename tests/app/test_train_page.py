"""Train page (pytest-qt, offscreen): choose folders, see counts and samples, start a tiny run, watch progress, a
sample grid and the loss chart, find the model in the Translate page, pause, cancel, resume after a "restart"."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.engine.training_helpers import cancelled_tiny_run, make_folders


@pytest.fixture
def win(one_thread, window):
    """The main window (tests/app/conftest.py), with one torch thread while the tiny runs train."""
    return window


def choose(qtbot, page, a, b):
    page.box_a.set_folder(str(a))
    page.box_b.set_folder(str(b))
    qtbot.waitUntil(lambda: page.box_a.count == 5 and page.box_b.count == 5, timeout=20000)
    qtbot.waitUntil(lambda: page.box_b.thumbs[0].pixmap() is not None and not page.box_b.thumbs[0].pixmap().isNull(),
                    timeout=20000)


def answer_dialog(button_text: str) -> None:
    """Click ``button_text`` in the next modal dialog (as the user would), once it is on screen."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def click():
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(20, click)
            return
        next(b for b in box.buttons() if b.text() == button_text).click()

    QTimer.singleShot(0, click)


def test_train_page_runs_a_tiny_training_and_cancels(qtbot, win, tmp_path):
    a, b = make_folders(tmp_path / "data", 5)
    (b / "readme.txt").write_text("not an image")
    page = win.show_page("train")
    assert list(win.pages)[0] == "translate" and "train" in win.pages
    assert not page.start_btn.isEnabled() and page.state_label.text() == "Ready"
    choose(qtbot, page, a, b)
    assert page.box_a.count_label.text() == "5 images"
    assert page.box_b.count_label.text() == "5 images, 1 other file skipped"
    assert page.start_btn.isEnabled()
    assert page.accept_paths([str(b), str(a)])  # two folders dropped at once fill A, then B
    qtbot.waitUntil(lambda: page.box_a.path == str(b) and page.box_a.count == 5, timeout=20000)
    page.accept_paths([str(a), str(b)])
    qtbot.waitUntil(lambda: page.box_a.path == str(a) and page.box_b.count == 5, timeout=20000)
    page.settings.select_preset("tiny")
    page.settings.steps.setValue(60)
    page.settings.name.setText("faces2art")
    handle = page.start()
    assert handle is not None and not page.start_btn.isEnabled() and page.cancel_btn.isEnabled()
    qtbot.waitUntil(lambda: page.chart.count("G") >= 2, timeout=60000)
    qtbot.waitUntil(lambda: page.sample_label.pixmap() is not None and not page.sample_label.pixmap().isNull(),
                    timeout=60000)
    # Running: the state in the header and the status bar, ONE speed figure, an ETA
    assert page.state_label.text() == "Running" and page.status_label.text().startswith("step ")
    assert win.run_state_label.isVisibleTo(win) and "faces2art: Running, step " in win.run_state_label.text()
    assert page.steps_done >= 2 and page.progress.maximum() == 60 and page.progress.format() == "step %v / %m"
    assert "steps/s" in page.speed_label.text() and page.eta_label.text().startswith("ETA ")
    shown = [page.status_label.text(), win.job_label.text(), win.run_state_label.text(), page.mem_label.text()]
    assert not any("steps/s" in t for t in shown)
    tr = win.pages["translate"]
    qtbot.waitUntil(lambda: any("faces2art" in tr.model_combo.itemText(i) for i in range(tr.model_combo.count())),
                    timeout=60000)
    # Paused: no speed, no ETA, the state says so (header and status bar)
    page.toggle_pause()
    qtbot.waitUntil(lambda: page.pause_btn.text() == "Resume", timeout=20000)
    assert page.state_label.text() == "Paused" and page.status_label.text().startswith("at step ")
    assert page.speed_label.text() == "" and page.eta_label.text() == ""
    assert "Running" not in win.run_state_label.text() and "Paused" in win.run_state_label.text()
    page.toggle_pause()
    qtbot.waitUntil(lambda: page.state_label.text() == "Running", timeout=20000)
    # Cancel asks first: "Keep training" keeps it running
    answer_dialog("Keep training")
    page.cancel()
    assert page.state_label.text() == "Running" and handle.job.state.value == "running"
    with qtbot.waitSignal(handle.finished, timeout=60000) as ended:
        answer_dialog("Cancel training")
        page.cancel()
    assert ended.args == ["cancelled"]
    assert page.state_label.text() == "Cancelled" and "can be resumed" in page.status_label.text()
    assert page.eta_label.text() == "" and page.speed_label.text() == ""
    assert "Cancelled" in win.run_state_label.text()
    # the log holds milestones, not a line per save
    log = page.log.toPlainText()
    assert "Starting FastCUT at step 0 of 60" in log and "Cancelled at step" in log and "Paused at step" in log
    assert "Checkpoint at step" not in log and log.count("First models saved at step") == 1
    assert page.runs.count() == 1 and "faces2art" in page.runs.item(0).text()
    assert page.start_btn.isEnabled()
    # a new run shows nothing of the last one (its sample grid stayed on screen)
    page.settings.name.setText("second")
    h2 = page.start()
    assert page.sample_label.pixmap().isNull() and "latest samples appear here" in page.sample_label.text()
    with qtbot.waitSignal(h2.finished, timeout=60000):
        h2.cancel()


def test_the_folder_box_says_when_a_folder_does_not_exist_or_is_a_file(qtbot, win, tmp_path):
    """It said "0 images, 1 other file skipped — at least 2 are needed" for both."""
    page = win.show_page("train")
    page.box_a.set_folder(str(tmp_path / "nowhere"))
    qtbot.waitUntil(lambda: page.box_a.count_label.text() == "This folder does not exist; choose another.",
                    timeout=20000)
    (tmp_path / "photo.png").write_bytes(b"x")
    page.box_a.set_folder(str(tmp_path / "photo.png"))
    qtbot.waitUntil(lambda: page.box_a.count_label.text() == "This is a file; choose a folder of images.",
                    timeout=20000)
    assert page.box_a.count == 0 and not page.start_btn.isEnabled()


def test_unfinished_run_is_listed_after_restart_and_resumes(qtbot, win, tmp_path, _isolated_home):
    from engine.training.runs import runs_root

    a, b = make_folders(tmp_path / "data", 5)
    cancelled_tiny_run(a, b, runs_root() / "old")
    page = win.pages["train"]
    page.on_shown()  # a new window lists the runs when the page is shown
    assert page.runs.count() == 1 and "old: cancelled, step 3 of 8" in page.runs.item(0).text()
    page.runs.setCurrentRow(0)
    assert page.resume_btn.isEnabled()
    h = page.resume_selected()
    assert page.chart.count("G") == 1  # the history from metrics.jsonl (step 2; log_every 2)
    assert any("The training of old stops" in n for n in win.close_notes())  # quitting now asks first
    with qtbot.waitSignal(h.finished, timeout=90000) as ended:
        pass
    assert ended.args == ["finished"]
    assert page.runs.count() == 0 and page.progress.value() == 8
    assert page.state_label.text() == "Finished" and page.status_label.text().startswith("8 steps.")
    assert page.eta_label.text() == "" and "Finished, step 8 of 8" in win.run_state_label.text()


def test_resuming_a_run_whose_folder_moved_asks_where_it_is_now(qtbot, win, tmp_path, _isolated_home, monkeypatch):
    """It failed with 'at step 0 of 8' and gave no way to point the run at the moved folder."""
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from engine.training import core
    from engine.training.runs import runs_root

    a, b = make_folders(tmp_path / "data", 5)
    cancelled_tiny_run(a, b, runs_root() / "old")
    moved = a.with_name("A-moved")
    a.rename(moved)
    page = win.pages["train"]
    page.on_shown()
    page.runs.setCurrentRow(0)
    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda parent, title, start: asked.append(title) or "")
    assert page.resume_selected() is None  # cancelled: not resumed, and said so
    assert "folder A" in asked[0] and "Not resumed" in page.problems.texts()[0]
    # a helper's pass: any folder was taken (an empty one, B itself), then the run "failed at step 0"
    (tmp_path / "empty").mkdir()
    answers = [str(tmp_path / "empty"), str(b), str(moved)]
    warned = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda parent, title, start: answers.pop(0))
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warned.append(text))
    h = page.resume_selected()
    assert not answers and "holds 0 images" in warned[0] and "another of the run's folders" in warned[1]
    assert page.run.step == 3  # where its checkpoint is, until the run reports
    with qtbot.waitSignal(h.finished, timeout=90000) as ended:
        pass
    assert ended.args == ["finished"]
    assert core.load_run_config(runs_root() / "old").data_a == str(moved.resolve())


def test_a_failed_run_says_failed_and_why(qtbot, win, tmp_path):
    a, b = make_folders(tmp_path / "data", 5)
    page = win.show_page("train")
    choose(qtbot, page, a, b)
    for f in b.iterdir():  # the folder is emptied after it was chosen (a removed USB disk, a sync tool)
        f.unlink()
    page.settings.select_preset("tiny")
    handle = page.start()
    with qtbot.waitSignal(handle.finished, timeout=60000) as ended:
        pass
    assert ended.args == ["failed"]
    assert page.state_label.text() == "Failed" and str(b) in page.status_label.text()
    assert page.eta_label.text() == "" and page.speed_label.text() == ""
    assert "Failed" in win.run_state_label.text() and page.problems.list.count() == 1
    assert page.start_btn.isEnabled() and page.pause_btn.text() == "Pause" and not page.pause_btn.isEnabled()


def test_face_crop_checkbox_reports_folders_without_faces_before_training(qtbot, win, tmp_path):
    from tests.conftest import make_image

    a, b = tmp_path / "A", tmp_path / "B"
    for i in range(5):
        make_image(a / f"a{i}.png", w=72, h=64, seed=i)
        make_image(b / f"b{i}.png", w=72, h=64, seed=20 + i)
    page = win.show_page("train")
    assert not page.settings.face_crop.isChecked() and "face" in page.settings.face_crop.toolTip()
    choose(qtbot, page, a, b)
    page.settings.select_preset("tiny")
    page.settings.face_crop.setChecked(True)
    cfg = page.make_config()
    assert cfg.face_crop is True
    assert page.start() is not None
    qtbot.waitUntil(lambda: page.handle is None, timeout=60000)
    msg = "Faces were found in only 0 of 5 readable images of folder A"
    assert any(msg in t for t in page.problems.texts())
    assert msg in page.status_label.text() and page.steps_done == 0
    from app.settings import settings

    assert settings().load_form("train")["face_crop"] is True  # remembered with the rest of the form


def test_a_run_another_process_trains_cannot_be_resumed_here_and_a_long_name_still_makes_a_folder(qtbot, win,
                                                                                                 tmp_path,
                                                                                                 _isolated_home):
    import json
    import os
    import socket

    from engine.training.runs import runs_root

    a, b = make_folders(tmp_path / "data", 5)
    cancelled_tiny_run(a, b, runs_root() / "busy")
    status = runs_root() / "busy" / "status.json"  # as a CLI training in this moment writes it
    st = json.loads(status.read_text())
    status.write_text(json.dumps(dict(st, state="running", pid=os.getpid(), host=socket.gethostname())))
    page = win.pages["train"]
    page.on_shown()
    it = page.runs.item(0)
    assert "training in another process" in it.text() and not it.flags() & Qt.ItemIsEnabled
    page.runs.setCurrentRow(0)
    assert not page.resume_btn.isEnabled()
    folder = page.new_run_dir("x" * 300)
    assert len(folder.name) < 100 and folder.parent == runs_root()
