"""Latent page driven like a user: open a seed, move sliders, mix, export, drop a photo and project it."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from engine.library import model_meta, save_model
from engine.models import get_model

from .test_translate_page import drop

KW = dict(z_dim=16, w_dim=16, resolution=64, channel_base=256, channel_max=16, mapping_layers=2)


@pytest.fixture
def tiny_stylegan(_isolated_home):
    torch.manual_seed(0)
    G = get_model("stylegan_g", **KW)
    with torch.no_grad():  # a random generator whose styles visibly matter
        for layer in G.noise_layers():
            layer.strength.fill_(0.2)
        G.mapping_net.w_avg.normal_()
    meta = model_meta(id="tinysg", name="Tiny StyleGAN", family="stylegan", task="generate", arch="stylegan_g",
                      arch_kwargs=KW, description="random tiny generator for tests")
    save_model(_isolated_home / "models" / "tinysg" / "model.safetensors", G, meta)
    return "tinysg"


def open_page(window, qtbot, model_id):
    page = window.show_page("latent")
    assert page.picker.select(model_id)
    qtbot.waitUntil(lambda: page.session is not None and page.session.model_id == model_id, timeout=30000)
    qtbot.waitUntil(lambda: page.last_render is not None, timeout=30000)
    return page


def wait_new_render(qtbot, page, before):
    qtbot.waitUntil(lambda: page.renders > before, timeout=30000)
    qtbot.waitUntil(lambda: not [j for j in page.bridge.manager.jobs()
                                 if j.kind == "latent-render"], timeout=30000)
    return page.last_render.copy()


def test_open_seed_move_sliders_and_mix(window, qtbot, tiny_stylegan, tmp_path):
    page = open_page(window, qtbot, tiny_stylegan)
    qtbot.waitUntil(lambda: page.grid.count() == 24 and not page.grid.item(3).icon().isNull(), timeout=30000)
    # click a seed in the grid: it opens
    n = page.renders
    rect = page.grid.visualItemRect(page.grid.item(3))
    from PySide6.QtCore import Qt
    qtbot.mouseClick(page.grid.viewport(), Qt.LeftButton, pos=rect.center())
    seed3 = wait_new_render(qtbot, page, n)
    assert page.current.seed == page.start_seed.value() + 3 and page.caption.text() == "Seed 3"
    assert seed3.shape == (64, 64, 3)
    # truncation slider at 0 shows the average image, which differs from the seed
    n = page.renders
    page.psi.setValue(0)
    avg = wait_new_render(qtbot, page, n)
    assert np.abs(avg.astype(int) - seed3).mean() > 1
    page.psi.setValue(100)
    # GANSpace directions become sliders; moving one changes the picture
    page.edit_panel.compute_btn.click()
    qtbot.waitUntil(lambda: len(page.edit_panel.sliders) == 10, timeout=60000)
    n = page.renders
    page.psi.setValue(70)
    base = wait_new_render(qtbot, page, n)
    n = page.renders
    page.edit_panel.sliders[0].setValue(25)
    edited = wait_new_render(qtbot, page, n)
    assert np.abs(edited.astype(int) - base).mean() > 1
    assert page.edit_panel.value_labels[0].text() == "+2.5σ"
    # save the set, reset, load it back
    path = tmp_path / "dirs.safetensors"
    h = page.save_directions_to(str(path))
    qtbot.waitUntil(lambda: path.exists(), timeout=10000)
    page.edit_panel.reset()
    page.load_directions_from(str(path))
    qtbot.waitUntil(lambda: len(page.edit_panel.sliders) == 10 and page.edit_panel.sliders[0].value() == 0,
                    timeout=10000)
    del h
    # style mixing with seed B: coarse layers change the picture
    n = page.renders
    page.tabs.setCurrentWidget(page.mix_panel)
    page.mix_panel.seed_b.setValue(11)
    page.mix_panel.enabled.setChecked(True)
    mixed = wait_new_render(qtbot, page, n)
    assert np.abs(mixed.astype(int) - base).mean() > 1
    # user direction from examples
    page.mark_example(True)
    page.open_seed(5)
    page.mark_example(False)
    assert page.edit_panel.create_btn.isEnabled()
    page.edit_panel.name_edit.setText("mine")
    page.edit_panel.create_btn.click()
    qtbot.waitUntil(lambda: len(page.edit_panel.sliders) == 11, timeout=30000)


def test_export_interpolation_gif(window, qtbot, tiny_stylegan, tmp_path):
    page = open_page(window, qtbot, tiny_stylegan)
    page.interp_panel.seeds.setText("1, 2")
    page.interp_panel.frames.setValue(4)
    page.interp_panel.size.setCurrentIndex(0)
    out = tmp_path / "walk.gif"
    h = page.export_interpolation_to(str(out))
    qtbot.waitUntil(lambda: out.exists(), timeout=60000)
    from PIL import Image
    im = Image.open(out)
    assert im.n_frames == 6 and im.size == (128, 128)  # 2 segments (looped) x 3 new frames
    page.interp_panel.seeds.setText("1, x")
    assert page.export_interpolation_to(str(tmp_path / "bad.gif")) is None
    assert "not a seed number" in page.problems.list.item(page.problems.list.count() - 1).text()
    del h


def test_drop_photo_and_project(window, qtbot, tiny_stylegan, image_factory):
    page = open_page(window, qtbot, tiny_stylegan)
    page.photo_panel.steps.setValue(12)
    page.photo_panel.features.setChecked(False)  # the Inception loss is covered by the engine tests
    photo = image_factory("me.png", w=90, h=70)
    partials = []
    mime = drop(window, [photo])
    qtbot.waitUntil(lambda: page.project_job is not None, timeout=20000)
    page.project_job.partial.connect(partials.append)
    assert page.photo_panel.progress.isVisible()
    qtbot.waitUntil(lambda: page.project_job is None, timeout=120000)
    assert partials and partials[-1]["image"].shape == (64, 64, 3)  # the live reconstruction was shown
    assert "PSNR" in page.photo_panel.error.text()
    assert page.current.label == "photo me.png" and page.current.truncate is False
    # edit the projected photo with a SeFa slider
    page.edit_panel.method.setCurrentIndex(1)
    page.edit_panel.compute_btn.click()
    qtbot.waitUntil(lambda: len(page.edit_panel.sliders) == 10, timeout=60000)
    names = [page.edit_panel.grid.itemAtPosition(i + 1, 0).widget().text() for i in range(2)]
    assert names == ["direction 1 (strongest)", "direction 2"]  # not "SeFa 0" or "PC0" (issue 18, item 8)
    qtbot.waitUntil(lambda: page.last_render is not None, timeout=10000)
    before = page.last_render.copy()
    n = page.renders
    page.edit_panel.sliders[0].setValue(-30)
    after = wait_new_render(qtbot, page, n)
    assert np.abs(after.astype(int) - before).mean() > 0.5
    del mime


def test_first_showing_opens_the_style_based_bundled_faces(window, qtbot):
    """On a first launch the page opens the bundled StyleGAN (mapping network, styles, noise, mixing), not the DCGAN
    that sorts first and has only a z space."""
    page = window.show_page("latent")
    qtbot.waitUntil(lambda: page.session is not None, timeout=30000)
    assert page.current_model().id == "stylegan-faces64"
    assert page.session.model.has_w and page.tabs.isTabEnabled(1)


def test_save_image_writes_the_picture_of_the_type_chosen(window, qtbot, tiny_stylegan, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from engine.imageio import load_image

    page = open_page(window, qtbot, tiny_stylegan)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "face"), "JPEG (*.jpg *.jpeg)"))
    page.actions.save_image()
    qtbot.waitUntil(lambda: (tmp_path / "face.jpg").exists(), timeout=20000)
    assert load_image(tmp_path / "face.jpg").size == page.last_render.shape[1::-1]


def test_cancel_keeps_what_the_projection_found_and_quitting_asks_while_it_runs(window, qtbot, tiny_stylegan,
                                                                                image_factory, monkeypatch):
    """A helper's pass: Cancel threw the projection away (the tooltip promised it stays) and left "Projecting…" and a
    partial picture on screen; closing the window mid-projection asked nothing; another model kept the old
    reconstruction's text."""
    page = open_page(window, qtbot, tiny_stylegan)
    page.photo_panel.steps.setValue(5000)
    page.photo_panel.features.setChecked(False)
    partials = []
    page.actions.load_photo(image_factory("me.png", w=64, h=64), project=True)
    qtbot.waitUntil(lambda: page.project_job is not None, timeout=20000)
    page.project_job.partial.connect(partials.append)
    assert "being projected" in window.close_notes()[0]
    qtbot.waitUntil(lambda: bool(partials), timeout=60000)
    qtbot.mouseClick(page.photo_panel.cancel_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.project_job is None, timeout=60000)
    assert page.photo_panel.error.text().startswith("Cancelled at step ") and "of 5000; kept" in \
        page.photo_panel.error.text()
    assert page.current.label == "photo me.png" and not page.caption.text().startswith("Projecting")
    assert window.close_notes() == []
    page.picker.select("stylegan-faces64")  # another model: the projection belonged to the first one
    assert "Project it into this model" in page.photo_panel.error.text()


def test_interpolation_export_can_be_cancelled_and_a_too_long_name_is_a_message(window, qtbot, tiny_stylegan,
                                                                                tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    page = open_page(window, qtbot, tiny_stylegan)
    ip = page.interp_panel
    ip.seeds.setText("1, 2, 3")
    ip.frames.setValue(500)
    assert ip.cancel_btn.isHidden()  # shown only while an export runs
    h = page.export_interpolation_to(str(tmp_path / "long.gif"))
    assert not ip.cancel_btn.isHidden() and not ip.gif_btn.isEnabled()
    assert "interpolation is being exported" in window.close_notes()[0]
    qtbot.mouseClick(ip.cancel_btn, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.actions.interp_job is None, timeout=60000)
    assert h.job.state.value == "cancelled" and not (tmp_path / "long.gif").exists() and ip.gif_btn.isEnabled()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / ("a" * 300 + ".png")), ""))
    page.actions.save_image()  # raised OSError (name too long) out of the dialog's check before
    qtbot.waitUntil(lambda: page.problems.count() > 0, timeout=20000)
    assert "too long" in page.problems.texts()[-1]
