"""The output policy and the divergence message in the GUI (pytest-qt, offscreen)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tests.app.conftest import window  # noqa: F401  (the GUI tests' main window fixture)
from tests.engine.training_helpers import make_folders
from tests.hostile.conftest import strays

pytest.importorskip("pytestqt")


@pytest.mark.parametrize("answer", ["no", "yes"])
def test_saving_over_an_existing_file_asks_first(qtbot, window, tmp_path, monkeypatch, answer):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from engine.imageio import load_image

    page = window.show_page("draw")
    mine = tmp_path / "mine"  # the user types a name without extension: ".png" is added, then it exists
    (tmp_path / "mine.png").write_bytes(b"my own picture")
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(mine), "")))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: asked.append(a[2]) or (QMessageBox.Yes if answer == "yes" else QMessageBox.No)))
    page.save_sketch()
    assert len(asked) == 1 and "mine.png already exists" in asked[0]
    if answer == "no":
        assert (tmp_path / "mine.png").read_bytes() == b"my own picture"
    else:
        qtbot.waitUntil(lambda: (tmp_path / "mine.png").read_bytes() != b"my own picture", timeout=10000)
        assert isinstance(load_image(tmp_path / "mine.png").rgb, np.ndarray)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.png"] and not strays(tmp_path)


def test_a_diverged_run_says_so_and_keeps_the_last_good_checkpoint(qtbot, window, tmp_path, monkeypatch):
    from engine import guard as _guard

    monkeypatch.setattr(_guard, "MAX_BAD_STEPS", 3)
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    a, b = make_folders(tmp_path / "data", 2)
    page = window.show_page("train")
    page.box_a.set_folder(str(a))
    page.box_b.set_folder(str(b))
    qtbot.waitUntil(lambda: page.box_a.count == 2 and page.box_b.count == 2, timeout=20000)
    page.settings.method.setCurrentIndex(page.settings.method.findData("cyclegan"))
    page.settings.select_preset("tiny")
    made = page.make_config
    # the page never offers such a learning rate; it stands for any run that blows up
    monkeypatch.setattr(page, "make_config", lambda: made().replace(
        lr=1e10, image_size=32, ngf=4, ndf=4, lambda_identity=0.0, steps=12, log_every=1, sample_every=0,
        checkpoint_every=1))
    try:
        handle = page.start()
        with qtbot.waitSignal(handle.finished, timeout=120000) as ended:
            pass
    finally:
        torch.set_num_threads(n)
    assert ended.args == ["failed"]
    text = page.status_label.text()
    assert "diverged at step" in text and "last good checkpoint kept (step 1)" in text
    status = json.loads((page.run_dir / "status.json").read_text())
    assert status["checkpoint_kept"] == 1 and (page.run_dir / "checkpoints" / "latest.safetensors").exists()
