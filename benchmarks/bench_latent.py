"""Latent page render latency: the time from a slider move to the finished picture.

    python benchmarks/bench_latent.py [--device cpu|cuda] [--size 128] [--preset cpu|standard|bundled]
                                      [--moves 40] [--write]

What is timed is the product path: ``LatentSession.render(ViewState)`` with 10 SeFa direction sliders (truncation,
edits, synthesis with stored noise, conversion to uint8), once called directly and once submitted through the
``JobManager`` the GUI uses (submit + wait, one at a time). A "drag" of 40 rapid moves submitted with
``replace=True`` shows how many stale renders are dropped and how long the last one takes to appear.
Presets: ``cpu`` (w 128, channels min(4096 / r, 128): a CPU-sized model, 32 channels at 128 px), ``standard``
(w 512, channels min(32768 / r, 512): StyleGAN2 config-f widths), ``bundled`` (the bundled CPU-trained 64 px model).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

from _common import append_results, machine  # noqa: E402

from engine import devices  # noqa: E402
from engine.editing.session import LatentSession, ViewState  # noqa: E402
from engine.jobs import JobManager  # noqa: E402
from engine.library import ModelLibrary  # noqa: E402
from engine.models import get_model  # noqa: E402

PRESETS = {"cpu": dict(z_dim=128, w_dim=128, channel_base=4096, channel_max=128),
           "standard": dict(z_dim=512, w_dim=512, channel_base=16384 * 2, channel_max=512)}


def build(preset: str, size: int, dev: torch.device) -> LatentSession:
    if preset == "bundled":
        lib = ModelLibrary()
        return LatentSession.open(lib, "stylegan-faces64", dev)
    torch.manual_seed(0)
    G = get_model("stylegan_g", resolution=size, **PRESETS[preset]).to(dev).eval()
    return LatentSession(G, dev, model_id=f"random-{preset}")


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def direct(session: LatentSession, moves: int, sync) -> list:
    lat = session.seed(1)
    out = []
    for i in range(moves + 3):
        st = ViewState(lat, psi=0.7, alphas=[(i % 7) * 0.4 - 1.2] + [0.0] * 9)
        t = time.perf_counter()
        session.render(st)
        sync()
        if i >= 3:  # warm-up
            out.append(time.perf_counter() - t)
    return out


def through_jobs(session: LatentSession, moves: int) -> tuple:
    jm = JobManager()
    lat = session.seed(2)
    times = []
    try:
        for i in range(moves):
            st = ViewState(lat, psi=0.7, alphas=[0.0, (i % 5) * 0.5 - 1.0] + [0.0] * 8)
            t = time.perf_counter()
            job = jm.submit(lambda s, ctx: session.render(s), st, kind="latent-render", replace=True)
            job.wait()
            times.append(time.perf_counter() - t)
        t = time.perf_counter()  # a fast drag: every move supersedes the previous one
        jobs = [jm.submit(lambda s, ctx: session.render(s), ViewState(lat, alphas=[i * 0.05] + [0.0] * 9),
                          kind="latent-render", replace=True) for i in range(moves)]
        jobs[-1].wait()
        drag = time.perf_counter() - t
        jm.wait_all(30)
        ran = sum(1 for j in jobs if j.state.value == "finished")
    finally:
        jm.shutdown()
    return times, drag, ran


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="auto")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--preset", default="cpu", choices=("cpu", "standard", "bundled"))
    ap.add_argument("--moves", type=int, default=40)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--write", action="store_true", help="append the result to benchmarks/RESULTS.md")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = devices.pick_device(a.device)
    devices.setup_fast_math(dev)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    session = build(a.preset, a.size, dev)
    session.compute_directions("sefa", k=10)
    d = direct(session, a.moves, sync)
    j, drag, ran = through_jobs(session, a.moves)
    ms = lambda x: round(1000 * x, 1)  # noqa: E731
    res = {"device": devices.describe(dev).status_text(), "preset": a.preset, "size": session.model.resolution,
           "params": sum(p.numel() for p in session.model.net.parameters()), "moves": a.moves,
           "render_ms_median": ms(statistics.median(d)), "render_ms_p90": ms(percentile(d, 0.9)),
           "via_jobs_ms_median": ms(statistics.median(j)), "via_jobs_ms_p90": ms(percentile(j, 0.9)),
           "drag_last_picture_ms": ms(drag), "drag_renders_run": ran, "drag_renders_dropped": a.moves - ran}
    print(json.dumps(res, indent=2))
    if a.write:
        goal = "20 ms at 256 on a GPU" if dev.type == "cuda" else "300 ms at 128 on the 2-core CPU"
        text = (f"- machine: {machine()}\n- command: `python {' '.join(sys.argv)}`\n- goal: under {goal}\n"
                f"- result:\n\n```json\n{json.dumps(res, indent=2)}\n```\n")
        append_results(f"Latent render latency, {a.preset} {session.model.resolution} px, {dev.type}", text)


if __name__ == "__main__":
    main()
