"""Translate page with a StarGAN model: a target-domain picker appears, and the chosen domain drives the result."""
from __future__ import annotations

import numpy as np

from tests.lab_models import DOMAINS, save_tiny_stargan

from .test_translate_page import select_model


def wait_result(qtbot, page, path, domain):
    def ready():
        e = page.thumbs.entry(path)
        return e is not None and e.result is not None and e.result_model.endswith(f"#{domain}")

    qtbot.waitUntil(ready, timeout=20000)
    return page.thumbs.entry(path).result.rgb.astype(int)


def test_stargan_domain_picker_translates_and_remembers(window, qtbot, image_factory, tiny_model_id, tmp_path,
                                                         _isolated_home):
    star = save_tiny_stargan(_isolated_home / "models")
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    assert page.domain_picker.isHidden()  # single-domain models have no picker
    select_model(page, star)
    assert page.domain_picker.isVisible() and page.domain_picker.label.text() == "Target domain:"
    assert page.domain_picker.names() == list(DOMAINS)
    assert page.domain_combo.currentText() == "monet"  # the default: the second domain
    a = image_factory("a.png", w=36, h=28)
    page.add_paths([a])
    monet = wait_result(qtbot, page, a, "monet")
    assert monet.shape == (28, 36, 3)
    page.domain_combo.setCurrentText("vangogh")  # the shown result is redone for the new domain
    vangogh = wait_result(qtbot, page, a, "vangogh")
    assert np.abs(vangogh - monet).mean() > 0.5
    assert page.view.after() is not None
    window.grab().save(str(tmp_path / "translate_stargan.png"))
    # the chosen domain is remembered per model
    select_model(page, tiny_model_id)
    assert page.domain_picker.isHidden()
    select_model(page, star)
    assert page.domain_combo.currentText() == "vangogh"
    # exported files name the model and the domain
    out = tmp_path / "export"
    wait_result(qtbot, page, a, "vangogh")
    page.export_to(str(out))
    qtbot.waitUntil(lambda: (out / "a_tinystar_vangogh.png").exists(), timeout=20000)
