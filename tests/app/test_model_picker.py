"""The ModelPicker of every page, the library's change signal, and what the Translate page hands to its task."""
from __future__ import annotations

import torch

from engine import translate as T
from engine.library import ModelLibrary, model_meta, save_model
from engine.models import get_model

from .test_translate_page import drop, select_model


def write_model(home, mid: str, name: str, task: str = "translate"):
    torch.manual_seed(0)
    net = get_model("resnet_6blocks", ngf=4)
    meta = model_meta(id=mid, name=name, family="cyclegan", task=task, arch="resnet_6blocks",
                      arch_kwargs={"ngf": 4}, description=f"{name} for tests")
    save_model(home / "models" / mid / "model.safetensors", net, meta)


def test_every_page_lists_a_new_model_when_the_library_announces_it(window, _isolated_home):
    tr, draw, ev, ex = (window.pages[n] for n in ("translate", "draw", "evaluate", "export"))
    before = tr.current_model().id
    write_model(_isolated_home, "newcomer", "Newcomer model")
    assert "newcomer" not in [m.id for m in tr.picker.models]  # listed once, not re-read by every page
    window.catalog.refresh()  # what Import and a training checkpoint do
    for page in (tr, draw, ev):
        assert any(page.model_combo.itemText(i).startswith("Newcomer model (imported)")
                   for i in range(page.model_combo.count()))
    assert any("Newcomer model" in ex.model_list.item(i).text() for i in range(ex.model_list.count()))
    assert tr.current_model().id == before  # the user's choice is kept


def test_a_picked_model_is_remembered_per_page(qtbot, _isolated_home, tiny_model_id):
    from app.main_window import MainWindow

    win = MainWindow(library=ModelLibrary())
    qtbot.addWidget(win)
    select_model(win.pages["translate"], tiny_model_id)
    win.pages["draw"].select_model("sketch2anime")
    win.close()
    win2 = MainWindow(library=ModelLibrary())
    qtbot.addWidget(win2)
    assert win2.pages["translate"].current_model().id == tiny_model_id
    assert win2.pages["draw"].model_combo.currentData() == "sketch2anime"  # the picked entry ...
    assert win2.pages["draw"].current_model().id == "sketch2anime-fast"  # ... run as its fast version on a CPU
    win2.close()


def test_translate_combo_shows_whole_model_names(window, _isolated_home):
    write_model(_isolated_home, "long", "A model with a rather long descriptive name, trained on faces")
    window.catalog.refresh()
    page = window.pages["translate"]
    combo = page.model_combo
    fm = combo.fontMetrics()
    widest = max(fm.horizontalAdvance(combo.itemText(i)) for i in range(combo.count()))
    assert combo.view().minimumWidth() >= widest  # the drop-down is wide enough for every name
    select_model(page, "long")
    assert "rather long descriptive name" in combo.toolTip()  # the whole name where the combo is narrow
    assert combo.width() >= fm.horizontalAdvance("Face photo → anime (CPU preview) (bundled)")


def test_preview_reuses_the_model_info_and_the_decoded_image(window, qtbot, image_factory, tiny_model_id,
                                                             monkeypatch):
    page = window.pages["translate"]
    select_model(page, tiny_model_id)
    lists, decodes = [], []
    real_list, real_load = ModelLibrary.list, T.load_image
    monkeypatch.setattr(ModelLibrary, "list", lambda self, *a, **k: lists.append(1) or real_list(self, *a, **k))
    monkeypatch.setattr(T, "load_image", lambda p, *a, **k: decodes.append(str(p)) or real_load(p, *a, **k))
    a = image_factory("a.png", w=40, h=32)
    mime = drop(window, [a])
    qtbot.waitUntil(lambda: page.view.after() is not None, timeout=20000)
    qtbot.waitUntil(lambda: page.preview is None, timeout=10000)
    assert lists == []  # the library is not re-read for a preview
    assert len(decodes) == 2, decodes  # the thumbnail and the shown picture; the preview translates the shown one
    del mime


def test_output_size_choices(window, qtbot, image_factory, tiny_model_id):
    page = window.pages["translate"]
    select_model(page, "vintagify")
    assert page.size_picker.combo.itemText(0) == "Model's size (512 px)"
    select_model(page, tiny_model_id)
    a = image_factory("a.png", w=80, h=40)
    mime = drop(window, [a])
    qtbot.waitUntil(lambda: page.view.after() is not None, timeout=20000)
    assert page.view.after().width() == 80  # default: the input's size
    sp = page.size_picker
    sp.combo.setCurrentIndex(sp.combo.findData("long"))
    assert sp.side.isVisible()
    sp.side.setValue(128)
    page.translate_selected()
    qtbot.waitUntil(lambda: page.view.after() is not None and page.view.after().width() == 128, timeout=20000)
    assert page.view.after().height() == 64  # proportions kept
    del mime
