"""Seeded fuzzing of the loaders: random byte mutations of a valid model file and of valid PNG and JPEG files.

Each mutant is loaded in a child process through the paths the CLI and the GUI use; every outcome must be a result
or one clear error naming the file: never "Unexpected error", never a traceback, never a hang past the bound."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
SEED, CASES, BUDGET_S, HANG_S = 20261206, 300, 60, 150


def _seeds(folder: Path) -> None:
    import cv2

    from engine.library import model_meta, save_model
    from engine.models import get_model

    torch.manual_seed(0)
    net = get_model("resnet_6blocks", ngf=4)
    save_model(folder / "seed.safetensors", net, model_meta(id="fuzz", name="fuzz", family="cyclegan",
                                                            task="translate", arch="resnet_6blocks",
                                                            arch_kwargs={"ngf": 4}))
    rng = np.random.default_rng(0)
    img = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    assert cv2.imwrite(str(folder / "seed.png"), img) and cv2.imwrite(str(folder / "seed.jpg"), img)


def test_fuzzed_model_files_and_images_never_crash_or_hang(tmp_path):
    _seeds(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "tests.hostile._fuzz_worker", str(SEED), str(CASES), str(BUDGET_S),
                        str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=HANG_S)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["cases"] >= 50, report  # a bound in time, but never a token run
    assert report["bad"] == [], json.dumps(report["bad"][:5], indent=1)
    assert report["refused"] > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("case")]
