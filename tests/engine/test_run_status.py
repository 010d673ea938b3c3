"""What a training run shows (no Qt): run states, one speed, ETA only while running, intervals scaled to the run,
quarter-way milestones instead of a log line per checkpoint, and "partial" models with a card from the run."""
from __future__ import annotations

import pytest

from engine.jobs import LogMessage
from engine.library import ModelLibrary, pick_default
from engine.training import core
from engine.training._intervals import nice_floor, scale_intervals
from engine.training.run_status import RunStatus, milestone
from tests.engine.training_helpers import cancelled_tiny_run, make_folders


def test_intervals_scale_with_the_run_not_the_preset():
    assert [nice_floor(x) for x in (0.3, 1, 3, 7, 99, 100, 149, 260)] == [1, 1, 2, 5, 50, 100, 100, 200]
    smoke = core.build_config("cyclegan", "tiny", steps=2000)
    assert (smoke.checkpoint_every, smoke.sample_every, smoke.log_every) == (100, 50, 5)  # not 6, 6, 2
    assert 2000 // smoke.checkpoint_every == 20
    short = core.build_config("cyclegan", "tiny", steps=60)  # at most a few times the preset: its own intervals
    assert (short.checkpoint_every, short.sample_every, short.log_every) == (6, 6, 2)
    quick = core.build_config("cyclegan", "quick")  # a preset at its own length is unchanged
    assert (quick.checkpoint_every, quick.sample_every, quick.log_every) == (500, 250, 25)
    mine = core.build_config("cyclegan", "tiny", steps=2000, checkpoint_every=7)  # what the user set is kept
    assert mine.checkpoint_every == 7 and mine.sample_every == 50
    assert scale_intervals({"steps": 12, "sample_every": 0, "checkpoint_every": 6}, {"steps": 2000}) == \
        {"checkpoint_every": 100}  # an interval the preset turns off stays off


def test_milestones_are_the_quarter_points_once_each():
    seen = [milestone(s - 3, s, 100) for s in range(3, 100, 3)]
    assert [m for m in seen if m] == [25, 50, 75]
    assert milestone(0, 100, 100) is None and milestone(0, 5, 0) is None  # the end is "Finished", not 100 %


def test_run_status_states_speed_and_eta():
    st = RunStatus()
    assert st.word == "Ready" and st.eta_text() == "" and st.speed_text() == ""
    st.start(2000)
    assert st.word == "Starting" and st.header() == "Starting: reading the folders…"
    st.on_progress(10, 2000, True)
    st.on_log({"step": 10, "total": 2000, "steps_per_s": 2.0, "img_per_s": 8.0, "losses": {"G": 1.0}})
    assert st.word == "Running" and st.header() == "Running · step 10 of 2000"
    assert st.speed_text() == "2.00 steps/s (8.0 img/s)" and st.eta_text() == "ETA 16 min 35 s"
    st.on_progress(20, 2000, True)  # the ETA follows the steps between log lines
    assert st.eta_text() == "ETA 16 min 30 s"
    st.set_state("paused")
    assert st.word == "Paused" and st.speed_text() == "" and st.eta_text() == "" and "Resume" in st.header()
    st.set_state("running")
    st.set_state("cancelled")
    assert st.header().startswith("Cancelled at step 20 of 2000") and st.eta_text() == ""
    assert st.status_bar_text("faces") == "Training faces: Cancelled, step 20 of 2000"
    st.set_state("failed", "Out of GPU memory at step 20.")
    assert st.header() == "Failed at step 20 of 2000: Out of GPU memory at step 20."
    with pytest.raises(ValueError):
        st.set_state("exploded")


def test_cancelled_run_models_are_partial_with_a_card_and_never_the_default(tmp_path, _isolated_home, one_thread):
    a, b = make_folders(tmp_path / "data", 3)
    events = []
    cancelled_tiny_run(a, b, _isolated_home / "runs" / "short", checkpoint_every=2, name="short", log_every=1,
                       sample_every=2, pool_size=2,
                       on_event=lambda e: events.append(e.message) if isinstance(e, LogMessage) else None)
    lib = ModelLibrary()
    runs = [m for m in lib.list(task="translate") if m.source == "run"]
    assert len(runs) == 2
    for m in runs:
        assert m.partial == "partial, step 3 of 8" and m.label.endswith("(partial, step 3 of 8)")
        assert m.card is not None and m.card.name.endswith(".md")
        text = m.card.read_text(encoding="utf-8")
        assert "**Status: partial, step 3 of 8.**" in text and str(a) in text and "Resume the run" in text
    # only the first checkpoint is a log line of the job; the others go to train.log only
    assert not any("Checkpoint at step" in e for e in events)
    assert sum(e.startswith("First models saved at step 2") for e in events) == 1
    models = lib.list(task="translate")
    assert not models[pick_default(models)].partial and lib.default().source != "run"
    only_runs = [m for m in models if m.source == "run"]
    assert pick_default(only_runs) == 0  # when nothing else exists, a partial model is still usable
    assert models[pick_default(models, remembered=runs[1].id)].id == runs[1].id  # the user's own pick wins
