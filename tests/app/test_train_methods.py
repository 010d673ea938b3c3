"""Train page methods (pytest-qt, offscreen): FastCUT is offered first as the fast choice, CUT and CycleGAN beside it;
each shows only its own settings; the data-efficiency switches (DiffAugment, EMA, R1) reach the run's config and are
remembered."""
from __future__ import annotations

from tests.engine.training_helpers import make_folders


def test_fastcut_is_the_default_and_its_switches_reach_the_config(qtbot, window, tmp_path):
    a, b = make_folders(tmp_path / "data", 3)
    page = window.show_page("train")
    s = page.settings
    assert s.method.currentText().startswith("FastCUT") and s.method.itemText(2).startswith("CycleGAN")
    s.select_preset("quick")
    assert s.ema.isChecked() and all(box.isChecked() for box in s.aug_boxes.values())  # the quick recipe
    assert not s.adv_form.isRowVisible(s.lambda_cyc) and not s.adv_form.isRowVisible(s.pool)
    assert [s.generator.itemText(i) for i in range(s.generator.count())] == ["resnet_9blocks", "resnet_6blocks"]
    page.box_a.set_folder(str(a))
    page.box_b.set_folder(str(b))
    s.r1.setValue(0.5)
    s.aug_boxes["cutout"].setChecked(False)
    cfg = page.make_config()
    assert cfg.family == "cut" and cfg.mode == "fastcut" and cfg.image_size == 128
    assert cfg.ema_decay == 0.999 and cfg.r1_gamma == 0.5 and cfg.diffaug == "color,translation"


def test_cyclegan_shows_its_cycle_settings_and_the_choice_is_remembered(qtbot, window, tmp_path):
    a, b = make_folders(tmp_path / "data", 3)
    page = window.show_page("train")
    s = page.settings
    s.method.setCurrentIndex(s.method.findData("cyclegan"))
    assert s.adv_form.isRowVisible(s.lambda_cyc) and s.generator.count() == 4
    s.ema.setChecked(True)
    page.box_a.set_folder(str(a))
    page.box_b.set_folder(str(b))
    cfg = page.make_config()
    assert cfg.family == "cyclegan" and cfg.ema_decay == 0.999 and cfg.lambda_a == 10.0
    s.remember()
    from app.widgets.train_settings import TrainSettings
    from engine.training import core

    again = TrainSettings({fam: core.presets(fam) for fam in ("cut", "cyclegan")}, [])
    qtbot.addWidget(again)
    assert again.family() == "cyclegan" and again.ema.isChecked()
