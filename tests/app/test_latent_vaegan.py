"""Latent page with a VAE-GAN: the decoder is the generator and its encoder embeds a dropped photo instantly."""
from __future__ import annotations

import numpy as np

from tests.lab_models import VAE_KW, save_tiny_vaegan

from .test_latent_page import open_page, wait_new_render
from .test_translate_page import drop


def test_vaegan_embeds_a_photo_instantly_and_edits_it(window, qtbot, image_factory, tmp_path, _isolated_home):
    dec, _ = save_tiny_vaegan(_isolated_home / "models")
    page = open_page(window, qtbot, dec)
    seed_img = page.last_render.copy()
    assert seed_img.shape == (VAE_KW["image_size"], VAE_KW["image_size"], 3)
    pp = page.photo_panel
    assert not pp.embed_btn.isHidden() and pp.embed_btn.text() == "Embed instantly (encoder)"
    assert "encoder" in pp.hint.text()
    # a dropped photo is embedded at once, without an optimisation job
    n = page.renders
    mime = drop(window, [image_factory("me.png", w=60, h=50)])
    embedded = wait_new_render(qtbot, page, n)
    qtbot.waitUntil(lambda: page.current is not None and page.current.label == "photo me.png", timeout=20000)
    assert page.tabs.currentWidget() is pp and page.project_job is None
    assert pp.error.text().startswith("Embedded instantly by the encoder. Reconstruction error: MSE")
    assert not pp.recon.pixmap().isNull() and "PSNR" in page.caption.text()
    assert page.projection.method == "encoder"
    assert np.array_equal(embedded, page.projection.reconstruction)
    assert np.abs(embedded.astype(int) - seed_img).mean() > 0.5  # the picture changed to the embedded photo
    # the button embeds another photo
    other = image_factory("other.png", w=40, h=40, seed=5)
    h = page.load_photo(str(other), project=False)
    qtbot.waitUntil(lambda: h.done and page.photo_name == "other.png", timeout=10000)
    n = page.renders
    pp.embed_btn.click()
    second = wait_new_render(qtbot, page, n)
    assert page.current.label == "photo other.png" and not np.array_equal(second, embedded)
    window.grab().save(str(tmp_path / "latent_vaegan.png"))
    # edit it with a SeFa slider
    page.edit_panel.method.setCurrentIndex(page.edit_panel.method.findData("sefa"))
    page.edit_panel.compute_btn.click()
    qtbot.waitUntil(lambda: len(page.edit_panel.sliders) > 0, timeout=30000)
    n = page.renders
    page.edit_panel.sliders[0].setValue(20)
    edited = wait_new_render(qtbot, page, n)
    assert np.abs(edited.astype(int) - second).mean() > 0.5
    del mime
