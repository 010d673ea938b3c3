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


def test_cyclegan_shows_its_cycle_settings_and_the_choice_comes_back_after_a_restart(qtbot, tmp_path, open_window):
    a, b = make_folders(tmp_path / "data", 3)
    win = open_window()
    page = win.show_page("train")
    s = page.settings
    page.box_a.set_folder(str(a))
    page.box_b.set_folder(str(b))
    qtbot.waitUntil(lambda: page.box_a.count == 3 and page.box_b.count == 3, timeout=20000)
    s.method.setCurrentIndex(s.method.findData("cyclegan"))
    assert s.adv_form.isRowVisible(s.lambda_cyc) and s.generator.count() == 4
    s.generator.setCurrentText("unet_128")
    s.ema.setChecked(True)
    s.r1.setValue(2.0)
    cfg = page.make_config()
    assert cfg.family == "cyclegan" and cfg.ema_decay == 0.999 and cfg.lambda_a == 10.0 and cfg.r1_gamma == 2.0
    before = page.form_values()
    win.close()
    page2 = open_window().pages["train"]
    qtbot.waitUntil(lambda: page2.box_a.count == 3 and page2.box_b.count == 3, timeout=20000)
    assert page2.form_values() == before
    s2 = page2.settings
    assert s2.family() == "cyclegan" and s2.ema.isChecked() and s2.generator.currentText() == "unet_128"


def test_the_loss_chart_lists_only_the_losses_of_the_running_family(qtbot):
    from app.pages.train import CHART_KEYS
    from app.widgets.loss_chart import LossChart

    chart = LossChart(CHART_KEYS)
    qtbot.addWidget(chart)
    assert chart.legend_labels() == []
    chart.add(10, {"G": 25.0, "D": 0.2, "NCE": 2.5})  # a FastCUT log record
    assert chart.legend_labels() == ["G (total)", "D", "PatchNCE"]
    chart.set_history([{"step": 5, "G": 3.0, "D": 0.4, "cycle": 1.2, "idt": 0.5}])  # a CycleGAN run
    assert chart.legend_labels() == ["G (total)", "D", "cycle", "identity"]
