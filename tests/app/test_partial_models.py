"""A cancelled run is not a finished model: Translate lists it as "partial, step 3 of 8" with a card from the run, and
after a restart the remembered model is still the one the user picked, never the partial run (issue 18, item 2)."""
from __future__ import annotations

from tests.engine.training_helpers import cancelled_tiny_run, make_folders


def texts(combo):
    return [combo.itemText(i) for i in range(combo.count())]


def test_partial_run_is_marked_has_a_card_and_is_not_the_default_after_restart(tmp_path, _isolated_home,
                                                                              open_window):
    a, b = make_folders(tmp_path / "data", 3)
    cancelled_tiny_run(a, b, _isolated_home / "runs" / "cut", name="cut", checkpoint_every=2)
    win = open_window()
    tr = win.pages["translate"]
    partial = [t for t in texts(tr.model_combo) if t.startswith("cut:")]
    assert partial and all(t.endswith("(partial, step 3 of 8)") for t in partial)
    assert not any("(trained)" in t for t in partial)
    assert "partial" not in tr.model_combo.currentText()  # the first start shows a finished model
    first = tr.model_combo.currentText()
    i = tr.model_combo.findText(partial[0])
    tr.model_combo.setCurrentIndex(i)  # looked at (e.g. by a reload), not picked: not remembered
    assert tr.card_btn.isEnabled()  # the card generated from the run
    card = tr.current_model().card.read_text(encoding="utf-8")
    assert "partial, step 3 of 8" in card
    win.close()

    win2 = open_window()
    tr2 = win2.pages["translate"]
    assert tr2.model_combo.currentText() == first  # the partial run did not become the default
    i = tr2.model_combo.findText(partial[0])
    tr2.model_combo.setCurrentIndex(i)
    tr2.model_combo.activated.emit(i)  # the user picks it in the list: now it is remembered
    win2.close()

    win3 = open_window()
    assert win3.pages["translate"].model_combo.currentText() == partial[0]
    win3.close()
