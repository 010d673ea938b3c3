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


def test_switching_the_method_keeps_what_the_user_set_and_offers_only_its_losses(qtbot):
    """A helper's pass: CycleGAN with hinge, lr 0.001, cycle weight 3 and 777 steps came back from a look at CUT as
    lsgan, 0.0002, 10 and 3000; FastCUT offered WGAN losses that it then refused."""
    from app.widgets.train_settings import TrainSettings, method_presets

    w = TrainSettings(method_presets(), [])
    qtbot.addWidget(w)
    assert w.family() == "cut"  # FastCUT, the default
    losses = [w.gan_loss.itemText(i) for i in range(w.gan_loss.count())]
    assert "wgan" not in losses and "wgan_gp" not in losses and "hinge" in losses
    w.method.setCurrentIndex(w.method.findData("cyclegan"))
    assert "wgan_gp" in [w.gan_loss.itemText(i) for i in range(w.gan_loss.count())]
    w.gan_loss.setCurrentText("wgan_gp")
    w.lr.setValue(0.001)
    w.lambda_cyc.setValue(3)
    w.steps.setValue(777)
    w.method.setCurrentIndex(w.method.findData("cut"))
    assert w.lr.value() == 0.001 and w.steps.value() == 777
    assert w.gan_loss.currentText() == "lsgan"  # CUT has no WGAN: its own default
    w.method.setCurrentIndex(w.method.findData("cyclegan"))
    assert (w.lr.value(), w.lambda_cyc.value(), w.steps.value()) == (0.001, 3.0, 777)
    w.select_preset("tiny")  # choosing a preset on purpose sets all of its values
    assert w.lr.value() == 2e-4 and w.steps.value() != 777
