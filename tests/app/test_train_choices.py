"""The Train page's choices come from the registries: a newly registered generator is offered."""
from __future__ import annotations

from tests.engine.test_registry_plugins import toy_generator  # noqa: F401  (fixture)


def test_registered_generator_is_offered_on_the_train_page(qtbot, toy_generator):  # noqa: F811
    from app.widgets.train_settings import TrainSettings, method_presets

    w = TrainSettings(method_presets(), [])
    qtbot.addWidget(w)
    w.method.setCurrentIndex(w.method.findData("cyclegan"))  # CUT offers only generators with PatchNCE taps
    items = [w.generator.itemText(i) for i in range(w.generator.count())]
    assert "toy_gen" in items and "resnet_9blocks" in items
    losses = [w.gan_loss.itemText(i) for i in range(w.gan_loss.count())]
    assert {"lsgan", "wgan_gp", "hinge"} <= set(losses)


def test_an_incomplete_remembered_form_names_what_is_missing(qtbot):
    from app.widgets.train_settings import TrainSettings, method_presets

    w = TrainSettings(method_presets(), [])
    qtbot.addWidget(w)
    full = w.form_values()
    assert w.check_form(full) == ""
    partial = {k: v for k, v in full.items() if k not in ("preset", "device")}
    assert w.check_form(partial) == "the saved settings are incomplete (no preset, device)"
