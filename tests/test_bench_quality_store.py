"""bench_quality keeps every finished mark in a committed JSON store, so the 16-CPU-hour comparison can be built up
over several sessions: a re-measured mark replaces the old one, a damaged store is never overwritten."""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bq():
    spec = importlib.util.spec_from_file_location("bench_quality", ROOT / "benchmarks" / "bench_quality.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _row(recipe, minutes, fid, machine="m1", size=128):
    return dict(recipe=recipe, minutes=minutes, size=size, steps=int(minutes * 10), img_per_s=0.5, vs_reference=1.5,
                fid=fid, kid=0.3, kid_std=0.01, gap_closed=0.1, floor_fid=94.0, ceiling_fid=281.7, n_real=95,
                n_fake=97, machine=machine)


def test_marks_accumulate_and_a_remeasured_mark_replaces_the_old(bq, tmp_path):
    store = tmp_path / "marks.json"
    bq.save_mark(store, _row("fastcut+da", 40, 250.0))
    bq.save_mark(store, _row("reference", 20, 300.0, machine="m2"))
    rows = bq.save_mark(store, _row("fastcut+da", 40.0, 240.0))
    assert [(r["recipe"], r["minutes"], r["fid"]) for r in rows] == [("reference", 20, 300.0), ("fastcut+da", 40.0, 240.0)]
    assert bq.load_store(store) == rows
    assert not store.with_suffix(".tmp").exists()
    lines = bq.table(rows)
    assert lines[2].startswith("| reference | 20 |") and lines[2].endswith("| 1 |")
    assert "Machine 2: m1." in lines and "Machine 1: m2." in lines
    svg = bq.svg_chart(dict(size=128, rows=rows, floor={"fid": 94.0}, ceiling={"fid": 281.7}))
    assert svg.count("<polyline") == 2 and "reference" in svg
    assert svg.count("<circle") == 2  # each recipe has one mark here: a line of one point would not show


def test_a_damaged_store_stops_the_benchmark_and_is_kept(bq, tmp_path):
    store = tmp_path / "marks.json"
    store.write_text('{"marks": [{"recipe": "reference"', encoding="utf-8")
    before = store.read_bytes()
    with pytest.raises(SystemExit, match="not a quality-marks store"):
        bq.save_mark(store, _row("cut", 20, 270.0))
    with pytest.raises(SystemExit, match="not a quality-marks store"):
        bq.main(["--minutes", "", "--record", "--store", str(store)])
    assert store.read_bytes() == before
    store.write_text(json.dumps({"marks": "nope"}), encoding="utf-8")
    with pytest.raises(SystemExit):
        bq.load_store(store)


def test_nothing_to_do_is_refused_without_touching_results(bq, tmp_path):
    results = (ROOT / "benchmarks" / "RESULTS.md").read_bytes()
    with pytest.raises(SystemExit, match="nothing to do"):
        bq.main(["--minutes", "", "--store", str(tmp_path / "none.json")])
    with pytest.raises(SystemExit, match="no stored marks"):
        bq.main(["--minutes", "", "--record", "--store", str(tmp_path / "none.json")])
    assert (ROOT / "benchmarks" / "RESULTS.md").read_bytes() == results


@pytest.mark.parametrize("mark", [{"recipe": "cut"}, dict(_row("cut", 20, 270.0), minutes="abc"),
                                  {k: v for k, v in _row("cut", 20, 270.0).items() if k != "size"},
                                  dict(_row("cut", 20, 270.0), fid=None), dict(_row("cut", 20, 270.0), recipe=3)])
def test_a_store_with_an_incomplete_mark_is_refused_before_any_training(bq, tmp_path, mark):
    """Every field the upsert, the table and the chart read is checked when the store is loaded, before hours of
    training, not after the first mark (when the mark would be lost)."""
    store = tmp_path / "marks.json"
    store.write_text(json.dumps({"marks": [mark]}), encoding="utf-8")
    before = store.read_bytes()
    with pytest.raises(SystemExit, match="not a quality-marks store"):
        bq.load_store(store)
    with pytest.raises(SystemExit, match="not a quality-marks store"):
        bq.main(["--minutes", "", "--record", "--store", str(store)])
    assert store.read_bytes() == before


def test_a_folder_as_the_store_is_refused_with_a_message(bq, tmp_path):
    with pytest.raises(SystemExit, match="not a quality-marks store"):
        bq.load_store(tmp_path)


def test_one_machine_under_two_loads_is_one_machine_in_the_legend(bq):
    rows = [_row("reference", 20, 300.0, machine="AMD EPYC; 2 cores, Python 3.11.7, load avg 2.9"),
            _row("reference", 40, 290.0, machine="AMD EPYC; 2 cores, Python 3.11.7, load avg 2.0"),
            _row("cut", 20, 280.0, machine="Intel Xeon; 2 cores, Python 3.11.7, load avg 1.0")]
    lines = bq.table(rows)
    legend = [x for x in lines if x.startswith("Machine ")]
    assert legend == ["Machine 1: AMD EPYC; 2 cores, Python 3.11.7.", "Machine 2: Intel Xeon; 2 cores, Python 3.11.7."]
    assert [x.rsplit("|", 2)[-2].strip() for x in lines[2:5]] == ["1", "1", "2"]


def test_every_recipe_is_a_valid_training_config(bq, tmp_path):
    """Each recipe the benchmark offers builds a config that validates; the compact ones keep the bundled widths and
    differ only in CUT's mode, with DiffAugment and EMA where the name says +da."""
    for recipe in bq.RECIPES[1:]:
        cfg = bq.recipe_config(recipe, 128, tmp_path / recipe, 10)
        cfg.validate()
        assert (cfg.diffaug != "") == recipe.endswith("+da") and (cfg.ema_decay > 0) == recipe.endswith("+da")
    c32, f32 = (bq.recipe_config(r, 128, tmp_path / r, 10) for r in ("cut32+da", "fastcut32+da"))
    assert (c32.mode, f32.mode) == ("cut", "fastcut")
    assert (c32.ngf, c32.ndf) == (f32.ngf, f32.ndf) == (32, 48)


def test_sigterm_during_the_reference_training_is_noted_and_the_old_handler_comes_back(bq):
    """The reference's own loop checks the flag after each step and saves what it trained (our recipes checkpoint
    through the same StopOnSignals, like `ganstudio train`): a kill at a session's end loses no steps."""
    import os
    import signal

    before = signal.getsignal(signal.SIGTERM)
    with bq.StopOnSignals() as stop:
        assert not stop.asked
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.asked
    assert signal.getsignal(signal.SIGTERM) is before


def test_the_table_says_how_much_closer_to_the_floor_each_mark_is_than_the_reference(bq):
    rows = [_row("reference", 60, 322.0), _row("cut32+da", 60, 254.0), _row("cut+da", 80, 260.0)]
    lines = bq.table(rows)
    # floor 94: (254 - 94) / (322 - 94) = 0.702 -> 29.8% closer; no reference at 80 minutes -> empty cell
    assert "| 29.8% |" in next(line for line in lines if line.startswith("| cut32+da"))
    assert next(line for line in lines if line.startswith("| cut+da")).split("|")[9].strip() == ""


def test_a_negative_thread_count_is_refused_with_a_message_before_anything_runs(bq, tmp_path, capsys):
    store = tmp_path / "marks.json"
    with pytest.raises(SystemExit):
        bq.main(["--train-threads", "-1", "--minutes", "20", "--store", str(store), "--work", str(tmp_path / "w")])
    assert "--train-threads must be 0" in capsys.readouterr().err
    assert not store.exists() and not (tmp_path / "w").exists()
