"""Draw page latency: time from the end of a stroke (mouse release) to the updated result on screen.

    python benchmarks/bench_draw.py [--device cpu|cuda] [--models unet_256,vintagify,...] [--strokes 8] [--write]

Runs the real Draw page (offscreen Qt, the job system, the live-render scheduler) and draws strokes with synthesized
mouse events, in two ways: a *quick* stroke (all mouse events at once, nothing in flight at the release) and a *slow*
stroke (moves 15 ms apart, so renders run while drawing and one may still be in flight at the release: the realistic
case). Beside it, the engine-only time of one render (``LiveTranslator.render``: canvas -> tensor -> network -> RGB).

Models: ``unet_256`` = a pix2pix unet_256 (ngf 64, batch norm; 54.4 M parameters, random weights: speed does not
depend on them) at 256 px, ``unet_128`` likewise at 128 px, and any model id of the library (the bundled
``sketch2face``, ``sketch2anime``, ``vintagify`` ...) at its canvas size. Goal (issue 7): under 50 ms at 256 px on a
GPU, under 400 ms on the 2-core CPU.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from _common import append_results, isolated_home, machine  # noqa: E402


def make_random_model(home: Path, arch: str) -> str:
    import torch

    from engine.library import model_meta, save_model
    from engine.models import get_model

    torch.manual_seed(0)
    net = get_model(arch)
    size = 256 if arch == "unet_256" else 128
    meta = model_meta(id=f"bench-{arch}", name=f"bench {arch}", family="pix2pix", task="translate", arch=arch,
                      arch_kwargs={}, direction="AtoB", description="random weights for timing",
                      input_kind="sketch", image_size=size, norm_mode="eval")
    save_model(home / "models" / f"bench-{arch}" / "model.safetensors", net, meta)
    return f"bench-{arch}"


def wait(app, cond, timeout: float = 120.0) -> None:
    t = time.perf_counter()
    while not cond():
        app.processEvents()
        time.sleep(0.002)
        if time.perf_counter() - t > timeout:
            raise SystemExit("timed out waiting for the Draw page")


def draw_stroke(page, slow: bool, k: int) -> None:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    c = page.canvas
    n = c.canvas_size
    pts = [c.to_widget(QPointF(n * (0.15 + 0.7 * i / 19), n * (0.2 + 0.6 * ((i * 7 + k * 13) % 19) / 19))).toPoint()
           for i in range(20)]
    QTest.mousePress(c, Qt.LeftButton, Qt.NoModifier, pts[0])
    for p in pts[1:]:
        QTest.mouseMove(c, p, 15 if slow else 0)
    QTest.mouseRelease(c, Qt.LeftButton, Qt.NoModifier, pts[-1])


def measure(app, page, model_id: str, strokes: int) -> dict:
    from engine.draw import RenderRequest

    page.select_model(model_id)
    wait(app, lambda: page.renderer.settled and page.renderer.model_id == model_id)
    lat = {"quick": [], "slow": []}
    got = []
    page.renderer.strokeRendered.connect(got.append)
    for k in range(strokes):
        for mode in ("quick", "slow"):
            wait(app, lambda: not page.renderer.busy)
            got.clear()
            draw_stroke(page, mode == "slow", k)
            wait(app, lambda: bool(got))
            lat[mode].append(got[0] * 1000)
            if k % 3 == 2:
                page.canvas.clear()
    page.renderer.strokeRendered.disconnect(got.append)
    wait(app, lambda: not page.renderer.busy)
    req = RenderRequest(model_id, page.canvas.array(), 0, page.norm_combo.currentData())
    page.live.render(req)
    eng = []
    for _ in range(max(3, strokes)):
        t = time.perf_counter()
        page.live.render(req)
        eng.append((time.perf_counter() - t) * 1000)
    tr = page.live.translator(req)
    return {"model": model_id, "size": page.canvas.canvas_size, "arch": page.current_model().arch,
            "dtype": str(tr.dtype).replace("torch.", ""), "device": str(tr.device),
            "quick_stroke_ms": _stats(lat["quick"]), "slow_stroke_ms": _stats(lat["slow"]),
            "engine_render_ms": _stats(eng)}


def _stats(v):
    return {"median": round(statistics.median(v), 1), "min": round(min(v), 1), "max": round(max(v), 1), "n": len(v)}


def open_draw_page():
    """(app, main window, Draw page) of the real app, offscreen."""
    from app.main import make_app
    from app.main_window import MainWindow

    app = make_app([sys.argv[0]])
    win = MainWindow()
    win.resize(1400, 900)
    win.show()
    return app, win, win.show_page("draw")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None, help="cpu, cuda ... (default: the app's choice)")
    ap.add_argument("--models", default="unet_256,vintagify,sketch2face", help="comma-separated; see the docstring")
    ap.add_argument("--strokes", type=int, default=6)
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    ap.add_argument("--write", action="store_true", help="append the results to benchmarks/RESULTS.md")
    a = ap.parse_args()
    home = isolated_home("draw")
    if a.device:
        os.environ["GANSTUDIO_DEVICE"] = a.device
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    models = [make_random_model(home, m) if m in ("unet_256", "unet_128") else m for m in a.models.split(",")]
    app, win, page = open_draw_page()
    known = {m.id for m in page.picker.catalog.models()}
    out = {"machine": machine(), "results": []}
    for m in models:
        if m not in known:
            print(f"skipping {m}: not in the model library", file=sys.stderr)
            continue
        out["results"].append(measure(app, page, m, a.strokes))
        print(json.dumps(out["results"][-1]), flush=True)
    win.close()
    print(json.dumps(out))
    if a.write:
        write(a, out)


def write(a, out) -> None:
    cmd = "python benchmarks/bench_draw.py " + " ".join(
        f"--{k} {v}" for k, v in vars(a).items() if v not in (None, False, 0) and k != "write")
    rows = "\n".join(
        f"| {r['model']} ({r['arch']}) | {r['size']} | {r['device']} {r['dtype']} | {r['engine_render_ms']['median']} | "
        f"{r['quick_stroke_ms']['median']} ({r['quick_stroke_ms']['min']}–{r['quick_stroke_ms']['max']}) | "
        f"{r['slow_stroke_ms']['median']} ({r['slow_stroke_ms']['min']}–{r['slow_stroke_ms']['max']}) |"
        for r in out["results"])
    text = (f"Machine: {out['machine']}. Command: `{cmd.strip()}`.\n\n"
            "Time from the end of a stroke to the updated result on the Draw page (real page, offscreen Qt, "
            "synthesized mouse events; median (min–max) over the strokes). *quick*: nothing in flight at the "
            "release; *slow*: moves 15 ms apart, renders run while drawing.\n\n"
            "| model | px | device | engine render ms | quick stroke ms | slow stroke ms |\n|---|---|---|---|---|---|\n"
            f"{rows}\n")
    print("appended to", append_results("bench_draw (Draw page stroke-to-result latency)", text))


if __name__ == "__main__":
    main()
