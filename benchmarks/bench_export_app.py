"""Exported standalone app, full model against its fast version: size on disk and time per image.

Builds one app per model with ``ganstudio export app`` (the real PyInstaller build, from the build venv), then runs
each app's headless mode (``NAME --translate FOLDER --out DIR``) on the same held-out photos at 256x256. The time per
image is the difference between a run over N photos and a run over one photo, divided by N-1, so the app's start-up
(unpacking Qt and onnxruntime, loading the model) is not counted; start-up is reported on its own. CPU time is that
of the child process (user + system), which on this shared 2-core machine is the fairer figure.

    python benchmarks/bench_export_app.py [--models vintagify,vintagify-fast] [--n 40] [--write]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, append_results, machine


def build(model: str, out: Path, log) -> Path:
    from engine.export.app_builder import BuildAppConfig, build_app_task
    from engine.jobs import run_inline

    name = "bench-" + "".join(c if c.isalnum() else "-" for c in model)[:40]
    cfg = BuildAppConfig(models=(model,), name=name, out_dir=str(out / name), overwrite=True)
    t = time.perf_counter()
    res = run_inline(build_app_task, cfg)
    log(f"built {model}: {res.report.size_mb:.0f} MB in {(time.perf_counter() - t) / 60:.1f} min")
    return res.executable


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def photos(folder: Path, n: int) -> None:
    """N held-out face photos (face2genshin testA), centre-cropped to 256x256, as JPEG."""
    import cv2

    src = sorted((ROOT.parent / "shared" / "datasets" / "face2genshin" / "testA").glob("*"))[:n]
    folder.mkdir(parents=True)
    for i, p in enumerate(src):
        im = cv2.imread(str(p))
        h, w = im.shape[:2]
        s = 256 / min(h, w)
        im = cv2.resize(im, (max(256, round(w * s)), max(256, round(h * s))), interpolation=cv2.INTER_AREA)
        y, x = (im.shape[0] - 256) // 2, (im.shape[1] - 256) // 2
        cv2.imwrite(str(folder / f"{i:03d}.jpg"), im[y:y + 256, x:x + 256], [cv2.IMWRITE_JPEG_QUALITY, 95])


def timed_run(exe: Path, src: Path, out: Path) -> tuple:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run([str(exe), "--translate", str(src), "--out", str(out)], capture_output=True, text=True,
                       env=env, timeout=1800)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"{exe} failed ({r.returncode}): {r.stderr[-2000:]}")
    shutil.rmtree(out)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="vintagify,vintagify-fast", help="comma-separated; the first is the baseline")
    ap.add_argument("--n", type=int, default=40, help="held-out photos per timed run")
    ap.add_argument("--rounds", type=int, default=2, help="timed rounds per app (interleaved; the best is kept)")
    ap.add_argument("--build-dir", default=str(ROOT / ".cache" / "bench_export_app"))
    ap.add_argument("--reuse", action="store_true", help="reuse apps built by an earlier run of this benchmark")
    ap.add_argument("--write", action="store_true", help="append the results to benchmarks/RESULTS.md")
    a = ap.parse_args()
    models = [m for m in a.models.split(",") if m]
    out = Path(a.build_dir)
    out.mkdir(parents=True, exist_ok=True)
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    exes = {}
    for m in models:
        name = "bench-" + "".join(c if c.isalnum() else "-" for c in m)[:40]
        exe = out / name / name
        exes[m] = exe if a.reuse and exe.exists() else build(m, out, log)
    rows = {m: {"size_mb": round(dir_size(e.parent) / 1e6, 1), "per_image": [], "cpu_per_image": [], "startup": []}
            for m, e in exes.items()}
    with tempfile.TemporaryDirectory() as d:
        many, one = Path(d) / "many", Path(d) / "one"
        photos(many, a.n)
        one.mkdir()
        shutil.copy(many / "000.jpg", one / "000.jpg")
        for _ in range(a.rounds):
            for m, exe in exes.items():
                w1, c1 = timed_run(exe, one, Path(d) / "o1")
                wn, cn = timed_run(exe, many, Path(d) / "on")
                rows[m]["per_image"].append((wn - w1) / (a.n - 1))
                rows[m]["cpu_per_image"].append((cn - c1) / (a.n - 1))
                rows[m]["startup"].append(w1)
                log(f"{m}: {wn:.1f} s for {a.n}, {w1:.1f} s for 1")
    base = models[0]
    result = {}
    for m, r in rows.items():
        result[m] = {"size_mb": r["size_mb"], "ms_per_image": round(1000 * min(r["per_image"]), 1),
                     "cpu_ms_per_image": round(1000 * min(r["cpu_per_image"]), 1),
                     "startup_s": round(min(r["startup"]), 2)}
    for m in models:
        result[m]["speedup_wall"] = round(result[base]["ms_per_image"] / result[m]["ms_per_image"], 2)
        result[m]["speedup_cpu"] = round(result[base]["cpu_ms_per_image"] / result[m]["cpu_ms_per_image"], 2)
    print(json.dumps(result, indent=2))
    if a.write:
        lines = [f"Machine: {machine()}. Command: `python benchmarks/bench_export_app.py --models {a.models} "
                 f"--n {a.n}`. Apps built by `ganstudio export app` (PyInstaller, onnxruntime, no torch); time per "
                 f"image from `APP --translate` over {a.n} held-out 256x256 photos minus a one-photo run, best of "
                 f"{a.rounds}.", "",
                 "| app with | size on disk | ms per image (wall) | CPU ms per image | start-up (s) | faster than "
                 f"`{base}` (wall / CPU) |", "| --- | --- | --- | --- | --- | --- |"]
        for m, r in result.items():
            lines.append(f"| `{m}` | {r['size_mb']} MB | {r['ms_per_image']} | {r['cpu_ms_per_image']} | "
                         f"{r['startup_s']} | {r['speedup_wall']}x / {r['speedup_cpu']}x |")
        print(append_results("Exported app: full model vs fast version (bench_export_app)", "\n".join(lines)))


if __name__ == "__main__":
    main()
