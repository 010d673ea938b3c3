"""Fast / Full per model on the Translate and Draw pages, the model card's facts, and the Train page's "Make a fast
version of this model"."""
from __future__ import annotations

import pytest
import torch

from engine.library import model_meta, save_model
from engine.models import get_model


@pytest.fixture
def pair(_isolated_home, tiny_model_id):
    """The tiny teacher of tests/app/conftest.py and a fast version of it."""
    torch.manual_seed(1)
    net = get_model("mobile_resnet", ngf=8, n_blocks=2, head_kernel=3)
    teacher = _isolated_home / "models" / "tiny" / "model.safetensors"
    meta = model_meta(id="tiny-fast", name="Tiny test model (fast)", family="cyclegan", task="translate",
                      arch="mobile_resnet", arch_kwargs={"ngf": 8, "n_blocks": 2, "head_kernel": 3},
                      description="a fast version for tests",
                      distilled_from={"id": "tiny", "name": "Tiny test model", "arch": "resnet_6blocks",
                                      "file": str(teacher), "macs_256": 10**9})
    save_model(_isolated_home / "models" / "tiny-fast" / "model.safetensors", net, meta)
    # and a model without a fast version (every bundled translation model has one)
    solo = model_meta(id="solo", name="Model without a fast version", family="cyclegan", task="translate",
                      arch="mobile_resnet", arch_kwargs={"ngf": 8, "n_blocks": 2, "head_kernel": 3})
    save_model(_isolated_home / "models" / "solo" / "model.safetensors", net, solo)
    return "tiny", "tiny-fast"


@pytest.mark.parametrize("page_name", ["translate", "draw"])
def test_fast_full_toggle_picks_the_version_and_is_remembered(window, pair, page_name):
    from app.settings import settings

    from app.widgets.model_picker import catalog_of

    page = window.pages[page_name]
    catalog_of(window).refresh()
    speed = page.picker.speed
    assert page.picker.select("tiny")
    ids = [page.model_combo.itemData(i) for i in range(page.model_combo.count())]
    assert "tiny" in ids and "tiny-fast" not in ids  # one entry per model
    assert speed.isEnabled()
    assert speed.speed() == "fast"  # default on a CPU
    assert page.current_model().id == "tiny-fast"
    changed = []
    page.picker.modelChanged.connect(changed.append)
    speed.buttons["full"].click()
    assert page.current_model().id == "tiny" and [m.id for m in changed] == ["tiny"]
    assert settings().load_form(page_name)["speed"] == "full"  # remembered with the rest of the page
    speed.buttons["fast"].click()
    assert page.current_model().id == "tiny-fast"
    assert "fast version" in speed.buttons["fast"].toolTip()
    # a model without a fast version: the toggle is off and says how to make one
    assert page.picker.select("solo") and page.current_model().id == "solo"
    assert not speed.isEnabled() and "Train page" in speed.buttons["fast"].toolTip()
    # selecting the fast version's id selects its model's entry; a library refresh keeps the choice
    assert page.picker.select("tiny-fast")
    catalog_of(window).refresh()
    assert page.model_combo.currentData() == "tiny" and page.current_model().id == "tiny-fast"


def test_translate_with_the_fast_version_and_its_card(window, pair, qtbot, image_factory):
    from app.widgets.model_card import card_markdown

    from app.widgets.model_picker import catalog_of

    page = window.pages["translate"]
    catalog_of(window).refresh()
    assert page.picker.select("tiny")
    m = page.current_model()
    text = card_markdown(m)
    assert "fast version of: **Tiny test model**" in text and "MACs at 256x256" in text
    page.show_card()
    page.add_paths([str(image_factory("a.png"))])
    qtbot.waitUntil(lambda: page.thumbs.count() == 1, timeout=10000)
    page.translate_all()
    qtbot.waitUntil(lambda: all(e.status == "done" for e in page.thumbs.all_entries()), timeout=30000)
    qtbot.waitUntil(lambda: page.batch is None, timeout=5000)
    entry = page.thumbs.all_entries()[0]
    assert entry.result is not None and entry.result_model.startswith("tiny-fast")


def test_train_page_makes_a_fast_version(window, pair, tmp_path, image_factory, qtbot):
    from app.widgets.fast_version_dialog import FastVersionDialog, fast_version_config

    models = window.library.list(task="translate")
    dlg = FastVersionDialog(models, window, "tiny")
    qtbot.addWidget(dlg)
    assert dlg.model_combo.currentData() == "tiny"
    assert dlg.model_combo.findData("tiny-fast") < 0  # fast versions are not offered as teachers
    assert not dlg.ok_button.isEnabled()
    photos = tmp_path / "photos"
    photos.mkdir()
    dlg.photos.setText(str(photos))
    assert dlg.ok_button.isEnabled()
    values = dlg.values()
    cfg = fast_version_config(values, str(tmp_path / "run"), "cpu", models)
    assert cfg.family == "distill" and cfg.teacher == "tiny" and cfg.teacher_cache > 0 and cfg.name.endswith("(fast)")
    assert fast_version_config(values, str(tmp_path / "run"), "cuda", models).teacher_cache == 0
    assert (cfg.image_size, cfg.batch_size) == (256, 1)  # the tiny teacher states no size of its own
    # a 128-px model (face2anime in face mode, the sketch models) is distilled at 128 px, 4 photos a step on a CPU
    for teacher in ("face2anime", "sketch2face"):
        small = fast_version_config(dict(values, teacher=teacher), str(tmp_path / "run"), "cpu", models)
        assert (small.image_size, small.batch_size) == (128, 4) and small.name.endswith("(fast)")
    big = fast_version_config(dict(values, teacher="vintagify"), str(tmp_path / "run"), "cpu", models)
    assert (big.image_size, big.batch_size) == (256, 1)  # trained at 512 px: the preset's size
    assert fast_version_config(dict(values, teacher="face2anime"), str(tmp_path / "run"), "cuda",
                               models).image_size == 128
    # refusals before any work, shown on the page: the tiny model is too small to compress by 10x, and with a
    # larger target the photo folder is empty
    page = window.pages["train"]
    assert page.fast_btn.isEnabled()
    page.make_fast_version(values)
    qtbot.waitUntil(lambda: page.handle is None, timeout=30000)
    assert "No mobile_resnet student fits a target of 68 MMACs" in page.status_label.text()
    page.make_fast_version(dict(values, target_macs="300M"))
    qtbot.waitUntil(lambda: page.handle is None, timeout=30000)
    assert "has 0 usable photos; a fast version needs at least 16" in page.status_label.text()
    assert not list(tmp_path.glob("run*"))


def test_a_bundled_card_opens_with_its_title_and_has_a_close_button(window, qtbot):
    """A new user's pass: the card began with a list of facts before its own title, and had no Close button."""
    from PySide6.QtWidgets import QDialogButtonBox

    from app.widgets.model_card import card_markdown, show_model_card
    from engine.library import ModelLibrary

    m = ModelLibrary().resolve("vintagify-fast")
    text = card_markdown(m)
    assert text.startswith("# ") and text.index("fast version of") > text.index("\n")
    dlg = show_model_card(window, m)
    dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.Close).click()
    assert not dlg.isVisible()


def test_the_problems_list_does_not_repeat_itself(qtbot):
    from app.widgets.problems import ProblemsPanel

    p = ProblemsPanel()
    qtbot.addWidget(p)
    for _ in range(2):  # a preview, then Translate all: the same note twice
        p.add("chelsea.png", "No face found in chelsea.png: translated the whole image instead.")
    p.add("coffee.png", "No face found in coffee.png: translated the whole image instead.")
    assert p.count() == 2 and p.title.text() == "⚠ 2 problems"


def test_the_line_under_the_picker_says_what_a_fast_model_is_in_words(window):
    """A new user's pass: it read "mobile_resnet (ngf 16, 829 MMACs at 256x256), 19.7x fewer MACs; distilled…"."""
    page = window.show_page("translate")
    assert page.picker.select("face2anime-fast")
    text = page.model_info.text()
    assert text.startswith("A fast version of Face photo → anime: about 20x less computation") and "MACs" not in text
    assert "mobile_resnet" in page.model_info.toolTip()  # the details stay one hover away
