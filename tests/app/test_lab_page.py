"""Lab page (pytest-qt, offscreen): start two configurations side by side, watch every view update, stop; train the
conditional GAN on digits and generate a picked digit."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.library import ModelLibrary


@pytest.fixture
def lab(qtbot, _isolated_home):
    from app.main_window import MainWindow

    n = torch.get_num_threads()
    w = MainWindow(library=ModelLibrary())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w, w.show_page("lab")
    w.close()
    torch.set_num_threads(n)


def test_lab_runs_two_configurations_live_and_stops(qtbot, lab):
    win, page = lab
    assert "lab" in win.pages and page.data.currentData() == "ring8"
    a, b = page.sides
    assert a.isVisible() and b.isVisible()
    b.settings.minibatch.setCurrentIndex(b.settings.minibatch.findData("stddev"))
    b.settings.unrolled.setValue(0)
    page.steps.setValue(100000)
    page.start()
    assert page.running and page.stop_btn.isEnabled() and page.start_btn.text() == "Restart"
    qtbot.waitUntil(lambda: page.snapshots >= 3, timeout=60000)
    for side in (a, b):
        assert side.field.snap is not None and side.field.snap["fake"].shape == (600, 2)
        assert side.field._surface is not None  # the decision surface image
        assert len(side.loss_chart.series) == 2 and len(side.loss_chart.series[0].xs) >= 2
        assert len(side.mode_chart.series[0].xs) >= 2
        assert len(side.hist_chart.values) == 8
        assert "modes" in side.stats.text() and "steps/s" in side.stats.text()
    assert a.title.text() == "A: Non-saturating" and b.title.text() == "B: Non-saturating + minibatch std-dev"
    first_step = a.last["step"]
    qtbot.waitUntil(lambda: a.last["step"] > first_step, timeout=60000)  # the plots keep updating
    img = a.field.grab().toImage()
    assert img.width() > 100 and not img.isNull()
    assert page.status.text().startswith("step ") and page.status.text().endswith(" of 100,000")  # fits the bar
    page.stop()
    qtbot.waitUntil(lambda: not page.running, timeout=30000)
    assert page.status.text().startswith("stopped at step")
    assert page.start_btn.text() == "Start" and not page.stop_btn.isEnabled()


def test_lab_conditional_digits_and_class_picker(qtbot, lab):
    win, page = lab
    page.compare.setChecked(False)
    assert not page.sides[1].isVisible()
    page.data.setCurrentIndex(page.data.findData("digits"))
    a = page.sides[0]
    assert a.views.currentWidget() is a.digits and not page.layers["field"].isEnabled()
    a.settings.conditional.setChecked(True)
    page.steps.setValue(150)
    page.start()
    qtbot.waitUntil(lambda: not page.running, timeout=120000)
    assert page.status.text() == "finished at step 150"
    assert a.digits.picker.isVisible() and a.digits.fake.has_image() and a.digits.real.has_image()
    assert "right class" in a.stats.text() and len(a.hist_chart.values) == 10
    a.digits.buttons.button(3).click()
    qtbot.waitUntil(lambda: a.digits.pick_view.has_image(), timeout=30000)
    assert a.digits.pick_view.caption.startswith("Digit 3: classifier agrees on")
    arr = a.digits.pick_view.grab().toImage()
    assert not arr.isNull()


def test_lab_remembers_its_settings(qtbot, lab):
    from app.main_window import MainWindow

    win, page = lab
    page.data.setCurrentIndex(page.data.findData("spiral"))
    page.sides[1].settings.loss.setCurrentIndex(page.sides[1].settings.loss.findData("hinge"))
    win.close()
    w2 = MainWindow(library=ModelLibrary())
    qtbot.addWidget(w2)
    p2 = w2.pages["lab"]
    assert p2.data.currentData() == "spiral"
    assert p2.sides[1].settings.config("spiral").loss == "hinge"
    assert np.isclose(p2.sides[1].settings.config("spiral").lr_d, 1e-3)
    w2.close()
