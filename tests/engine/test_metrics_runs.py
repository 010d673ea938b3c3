"""Runs and the CLI: metrics.jsonl series, evaluation during training, ``ganstudio eval`` on two folders and on a
model with a test folder, the Markdown/HTML report."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app.cli import main
from engine.metrics import api, image_set
from engine.metrics.report import to_html, to_markdown
from engine.metrics.translate_eval import generated_dir
from engine.metrics.runs import TrainingEvaluator, append_metrics, numeric_metrics, read_metrics
from tests.metrics_support import _fid_cache_file, fid_extractor, make_folder  # noqa: F401


def test_read_metrics_skips_bad_lines_and_a_half_written_last_line(tmp_path):
    run = tmp_path / "runs" / "r1"
    append_metrics(run, {"step": 100, "loss_G": 2.0, "fid": 250.0, "note": "text is ignored"})
    append_metrics(run, {"step": 0, "loss_G": 3.0})
    append_metrics(run, {"step": 150, "eval": {"fid": 120.0, "kid": 0.1}})  # the trainer core's nested record
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write("garbage\n")
        fh.write('{"loss_G": 1.0}\n')  # no step
        fh.write('{"step": 200, "loss_G": 1.')  # still being written
    rm = read_metrics(run)
    assert rm.series["loss_G"] == [(0.0, 3.0), (100.0, 2.0)]
    assert rm.series["fid"] == [(100.0, 250.0)] and "note" not in rm.series
    assert rm.series["eval_fid"] == [(150.0, 120.0)] and rm.series["eval_kid"] == [(150.0, 0.1)]
    assert rm.bad_lines == 2
    with pytest.raises(ValueError):
        append_metrics(run, {"fid": 1.0})


def test_training_evaluator_appends_kid_to_metrics_jsonl(tmp_path, fid_extractor):
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, size=(10, 32, 32, 3), dtype=np.uint8)
    ev = TrainingEvaluator(real, run_dir=tmp_path / "run", every=500, metrics=("fid", "kid"),
                           extractor=fid_extractor)
    assert not ev.due(0) and ev.due(1000) and not ev.due(1001)
    fake = np.clip(real.astype(int) + rng.integers(-60, 60, size=real.shape), 0, 255).astype(np.uint8)
    rec = ev.evaluate(1000, fake)
    assert rec["step"] == 1000 and rec["kid"] == pytest.approx(rec["kid"]) and "fid" not in rec  # too few for FID
    assert rec["eval_n_real"] == 10 and rec["eval_n_fake"] == 10
    assert read_metrics(tmp_path / "run").series["kid"] == [(1000.0, rec["kid"])]
    assert numeric_metrics({"kid": 0.5, "n_fake": 10, "extractor": "x", "messages": {}}) == {"kid": 0.5,
                                                                                             "n_fake": 10.0}


@pytest.fixture
def shared_extractor(monkeypatch, fid_extractor):
    """The CLI builds its extractor through ExtractorCache; hand it the session's instead of building another."""
    monkeypatch.setattr(api.ExtractorCache, "get", lambda self, device=None, is_weights="": fid_extractor)
    return fid_extractor


def test_cli_eval_two_folders_json(tmp_path, capsys, shared_extractor):
    real = make_folder(tmp_path / "real", 10, "circles", seed=1)
    fake = make_folder(tmp_path / "fake", 10, "boxes", seed=2)
    (fake / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    details = tmp_path / "details.json"
    code = main(["eval", str(real), str(fake), "--metrics", "fid,kid,is,pr", "--json", "--details", str(details)])
    out, err = capsys.readouterr()
    res = json.loads(out)
    assert set(res) == {"kid", "kid_std", "precision", "recall", "n_real", "n_fake", "extractor"}
    assert res["n_real"] == 10 and res["n_fake"] == 10 and "Inception-v3" in res["extractor"]
    assert "bicubic" in res["extractor"]
    assert "fid: FID needs at least 50 images" in err and "Use KID" in err
    assert "is: Inception Score unavailable" in err and "broken.jpg" in err
    assert code == 3  # partly done: FID and IS left out, a file skipped
    full = json.loads(details.read_text())
    assert full["messages"]["fid"] and full["skipped"][0]["path"].endswith("broken.jpg")


def test_cli_eval_model_on_a_test_folder(tmp_path, capsys, shared_extractor):
    inputs = make_folder(tmp_path / "testA", 5, "circles", seed=3)
    real = make_folder(tmp_path / "testB", 5, "boxes", seed=4)
    report = tmp_path / "report.html"
    code = main(["eval", "--model", "vintagify", "--input", str(inputs), "--real", str(real),
                 "--metrics", "diversity,mode_collapse", "--report", str(report), "-q"])
    assert code == 0, capsys.readouterr().err
    html = report.read_text()
    assert "Vintage" in html and html.count("data:image/png") >= 2  # sample grids of both sets
    out = generated_dir("vintagify", [str(inputs)])
    assert len(list(out.glob("*.png"))) == 5


def test_cli_eval_model_progress_never_goes_backwards(tmp_path, capsys, shared_extractor, monkeypatch):
    """``ganstudio eval --model`` used to drop from 40% to 0 when the metrics' sub-steps reported to the root."""
    from app.cli import progress

    seen = []
    monkeypatch.setattr(progress.TerminalProgress, "update",
                        lambda self, done, total, message="": seen.append(done / total) if total else None)
    inputs = make_folder(tmp_path / "testA", 4, "circles", seed=5)
    real = make_folder(tmp_path / "testB", 4, "boxes", seed=6)
    code = main(["eval", "--model", "vintagify", "--input", str(inputs), "--real", str(real),
                 "--metrics", "diversity,mode_collapse"])
    assert code == 0, capsys.readouterr().err
    assert seen[-1] == 1.0 and any(f > 0.4 for f in seen[:-1])
    assert all(b >= a - 1e-9 for a, b in zip(seen, seen[1:])), seen


def test_cli_eval_usage_errors(capsys):
    assert main(["eval", "only_one_folder"]) == 2
    assert "Give two folders" in capsys.readouterr().err
    assert main(["eval", "--model", "vintagify", "--real", "x"]) == 2
    assert "--input" in capsys.readouterr().err


def test_markdown_and_html_reports(tmp_path, fid_extractor):
    rng = np.random.default_rng(1)
    fake = rng.integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
    ev = api.evaluate_sets(None, image_set(fake), ("kid", "diversity", "mode_collapse"), extractor=fid_extractor,
                           label="model X")
    api.add_thumbnails(ev, 4, 3)
    md = to_markdown([ev.metrics])
    assert md.splitlines()[0].startswith("| Compared | KID ↓") and "| model X |" in md
    assert "n/a" in md and "KID compares with real images" in md  # no number without real images, and why
    html = to_html([ev], {"chart": b"\x89PNG fake"}, ["HYPE-∞ 25.0%"])
    assert "<table>" in html and "model X" in html and "HYPE-∞ 25.0%" in html and "Generated samples" in html


def test_trainer_core_evaluate_logs_only_numbers_and_extracts_the_real_set_once(fid_extractor, monkeypatch):
    """engine.training's default Trainer.evaluate() goes through TrainingEvaluator (one metrics API): the record it
    logs to metrics.jsonl holds numbers only, and the real images' features are computed once per run."""
    from types import SimpleNamespace

    import torch

    from engine.training.core import Trainer

    rng = np.random.default_rng(2)
    real = rng.integers(0, 256, size=(10, 32, 32, 3), dtype=np.uint8)
    fake = rng.integers(0, 64, size=(10, 32, 32, 3), dtype=np.uint8)  # darker: clearly another distribution
    extracted = []
    extract = fid_extractor.extract
    monkeypatch.setattr(fid_extractor, "extract", lambda images, *a: extracted.append(images.label) or
                        extract(images, *a))
    t = SimpleNamespace(eval_fakes=lambda n: (real, fake), device=torch.device("cpu"), step=1,
                        _evaluator=TrainingEvaluator(real, extractor=fid_extractor))
    res = Trainer.evaluate(t)
    assert res["kid"] > 0 and res["n_real"] == 10.0 and "fid" not in res
    assert all(isinstance(v, float) for v in res.values())
    json.dumps({"step": 1, "eval": res})
    t.step = 2
    again = Trainer.evaluate(t)
    assert again["kid"] == pytest.approx(res["kid"])
    assert extracted == ["real", "generated", "generated"]  # real features reused at the second evaluation
