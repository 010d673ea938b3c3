"""The Lab job: train one configuration, or two side by side, with live snapshots.

Two configurations run in ONE job that steps both in lockstep, rather than as two jobs on two workers: both sides are
always at the same step when the views update (the comparison the Lab is for), they get the same share of the CPU
whatever else runs, a snapshot holds both (the two columns refresh together), and the job takes one worker of the
``io`` lane, leaving the other free for thumbnails and scans and the ``gpu`` lane free for real training.

The tiny MLPs run fastest single-threaded (see :mod:`._threads`).
"""
from __future__ import annotations

import time
from typing import Any, Dict, List

import torch

from ._threads import single_thread
from .config import LabConfig, LabRun
from .data import make_data
from .trainer import LabTrainer
from .views import digit_grid, generate_class, snapshot

RECORD_EVERY = 5  # record losses (one .item() sync) every N steps
SNAPSHOT_SHARE = 5.0  # wait at least 5x as long as the last snapshot took before the next one


def build_trainers(run: LabRun) -> List[LabTrainer]:
    cache: Dict[str, Any] = {}
    out = []
    for cfg in run.configs():
        if cfg.data not in cache:
            cache[cfg.data] = make_data(cfg.data)
        out.append(LabTrainer(cfg, cache[cfg.data]))
    return out


def _snapshot(trainers: List[LabTrainer], run: LabRun, final: bool) -> Dict[str, Any]:
    with torch.enable_grad():
        sides = [snapshot(t, run.eval_samples, with_generator=t.n_classes > 0) for t in trainers]
    return {"step": min(t.step_count for t in trainers), "total": run.steps, "sides": sides, "final": final}


def lab_task(run: LabRun, ctx) -> Dict[str, Any]:
    """Train the Lab configuration(s) for ``run.steps`` G steps; ``ctx.partial`` gets a snapshot every
    ``run.snapshot_every_s`` seconds. Returns the final snapshot (also sent as the last partial)."""
    if isinstance(run, dict):
        run = LabRun.from_dict(run)
    with single_thread():
        ctx.progress(0, run.steps, "building the models")
        trainers = build_trainers(run)
        for t in trainers:
            if t.is_image:
                t.classifier()  # trained once and cached; do it before the clock starts
        interval = run.snapshot_every_s
        last = time.monotonic()
        if interval:
            ctx.partial(_snapshot(trainers, run, final=False))
        for step in range(1, run.steps + 1):
            for t in trainers:
                t.step(record=step % RECORD_EVERY == 0 or step == 1)
            if all(t.diverged for t in trainers):
                break
            if interval and time.monotonic() - last >= interval:
                t0 = time.monotonic()
                ctx.partial(_snapshot(trainers, run, final=False))
                ctx.progress(step, run.steps, _progress_text(trainers))
                last = time.monotonic()
                # the views never take more than ~1/6 of the time, however slow the machine
                interval = max(run.snapshot_every_s, SNAPSHOT_SHARE * (last - t0))
            ctx.check_cancel()
        final = _snapshot(trainers, run, final=True)
        ctx.partial(final)
        ctx.progress(run.steps, run.steps, _progress_text(trainers))
        return final


def _progress_text(trainers: List[LabTrainer]) -> str:
    rate = sum(t.steps_per_s for t in trainers) / max(1, len(trainers))
    return f"step {trainers[0].step_count:,} ({rate:,.0f} steps/s per side)"


def train_lab(cfg: LabConfig, steps: int, eval_samples: int = 2000) -> LabTrainer:
    """Train one configuration without snapshots (the benchmark and tests). Returns the trainer."""
    with single_thread():
        t = LabTrainer(cfg)
        for step in range(1, steps + 1):
            t.step(record=step % RECORD_EVERY == 0)
            if t.diverged:
                break
        return t


def sample_digits_task(req: Dict[str, Any], ctx) -> Dict[str, Any]:
    """The class picker: ``{"generator": <snapshot generator>, "label": k, "n": 48, "seed": s}`` -> a digit grid and
    the share the digits classifier recognises as ``label``."""
    from .data import load_digits_data
    from .metrics import classifier

    label, n, seed = int(req["label"]), int(req.get("n", 48)), int(req.get("seed", 0))
    with single_thread(), torch.no_grad():
        x = generate_class(req["generator"], label, n, seed)
        pred = classifier(load_digits_data())(x).argmax(1)
    return {"label": label, "grid": digit_grid(x, 8), "recognised": float((pred == label).float().mean())}
