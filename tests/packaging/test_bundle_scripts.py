"""scripts/make_bundled_face2anime.py reads a run with or without its optimiser checkpoint (a GPU session brings back
only the exported generators, config, status and metrics) and gets the same generators and facts."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import torch

from engine.jobs import run_inline
from engine.training import core
from tests.engine.training_helpers import make_folders, tiny_config

ROOT = Path(__file__).resolve().parents[2]


def _script(name: str = "make_bundled_face2anime"):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_face2anime_bundling_reads_a_run_without_its_checkpoint(tmp_path, _isolated_home):
    a, b = make_folders(tmp_path / "data", n=3)
    run = tmp_path / "run"
    run_inline(core.train_task, tiny_config(a, b, run, steps=4))
    light = tmp_path / "brought_back"  # what scripts/gpu_session.sh collect keeps
    (light / "models").mkdir(parents=True)
    for name in ("config.json", "status.json", "metrics.jsonl"):
        shutil.copy(run / name, light / name)
    for f in (run / "models").glob("*.safetensors"):
        shutil.copy(f, light / "models" / f.name)

    mod = _script()
    cfg_full, ga_full, gb_full, facts_full = mod.load_run(run)
    cfg_light, ga_light, gb_light, facts_light = mod.load_run(light)
    assert cfg_light["generator"] == cfg_full["generator"] and cfg_light["ngf"] == cfg_full["ngf"]
    assert facts_light["step"] == facts_full["step"] == 4
    assert facts_light["total"] == facts_full["total"] == 4
    assert facts_light["train_seconds"] > 0
    assert set(facts_light["last_losses"]) and all(isinstance(v, float) for v in facts_light["last_losses"].values())
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        for full, light_net in ((ga_full, ga_light), (gb_full, gb_light)):
            assert torch.allclose(full(x), light_net(x), atol=1e-6)


def test_pix2pix_bundling_from_the_bundled_model_twice_keeps_one_history(tmp_path):
    """--from-bundled adds the bundled model's record once; run again on the same run, the record is not added to
    itself (it had grown 1500 + 5960 + 5960 ... steps)."""
    import json

    mod = _script("make_bundled_pix2pix")
    bundled = tmp_path / "sketch2anime"
    bundled.mkdir()
    first = {"step": 1500, "planned_steps": 1500, "train_hours": 1.01, "hardware": "cpu"}
    (bundled / "training.json").write_text(json.dumps(first))
    this_run = {"step": 5960, "planned_steps": 20000, "train_hours": 1.41, "hardware": "cpu"}
    h = mod.history(bundled, True, [], this_run)
    assert [x["steps"] for x in h] == [1500]
    (bundled / "training.json").write_text(json.dumps(dict(this_run, history=h)))  # what the script wrote
    again = mod.history(bundled, True, [], this_run)
    assert again == h and mod.total_steps(dict(this_run, history=again)) == 7460
