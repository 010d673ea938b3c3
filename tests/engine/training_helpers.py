"""Shared helpers for the training tests: small real folders (a few face2genshin images copied to a temp folder, or
synthetic pictures when ../shared is missing) and a tiny CycleGAN config."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from tests.conftest import SHARED, make_image

F2G = SHARED / "datasets" / "face2genshin"


def make_folders(root: Path, n: int = 5) -> tuple:
    a, b = root / "A", root / "B"
    for d, src in ((a, "trainA"), (b, "trainB")):
        d.mkdir(parents=True, exist_ok=True)
        files = sorted((F2G / src).iterdir())[:n] if (F2G / src).is_dir() else []
        if files:
            for f in files:
                shutil.copy(f, d / f.name)
        else:
            for i in range(n):
                make_image(d / f"img{i}.png", w=80, h=72, seed=i + (100 if src == "trainB" else 0))
    return a, b


def tiny_config(a, b, out, **kw):
    from engine.training.core import build_config

    values = dict(data_a=str(a), data_b=str(b), out_dir=str(out), device="cpu", steps=4, log_every=1,
                  sample_every=2, checkpoint_every=2, pool_size=2)
    values.update(kw)
    return build_config("cyclegan", "tiny", **values)


def subprocess_env() -> dict:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    env["GANSTUDIO_DEVICE"] = "cpu"
    return env


def weights(path) -> dict:
    from engine.checkpoint import load_checkpoint

    return {k: v.clone() for k, v in load_checkpoint(path).tensors.items() if k.startswith("net.")}


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def cancelled_tiny_run(a, b, out, *, stop_at: int = 3, steps: int = 8, on_event=None, **kw):
    """A tiny CycleGAN run on folders ``a``/``b`` cancelled (as by the user) when step ``stop_at`` of ``steps`` is
    done; ``on_event(event)`` sees every job event first. Returns nothing (the run folder is ``out``)."""
    import pytest

    from engine.errors import Cancelled
    from engine.jobs import ProgressReported, run_inline
    from engine.training import core

    cfg = core.build_config("cyclegan", "tiny", data_a=str(a), data_b=str(b), out_dir=str(out), steps=steps,
                            device="cpu", **kw)

    def stop(event):
        if on_event:
            on_event(event)
        p = event.progress if isinstance(event, ProgressReported) else None
        if p is not None and p.total == steps and p.done >= stop_at and "step" in p.message:
            raise Cancelled()

    with pytest.raises(Cancelled):
        run_inline(core.train_task, cfg, on_event=stop)
