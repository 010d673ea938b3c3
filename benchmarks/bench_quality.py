"""Quality per CPU-minute: FID and KID on the face2genshin test split (photos -> anime) after equal training minutes.

Recipes (all at ``--size`` px, batch 1, constant learning rate so that every mark is a point on one run):
  reference      the junyanz CycleGAN recipe, run by ``../shared/bench/reference_cyclegan.py``'s own networks and
                 step (ResNet-9, PatchGAN, LSGAN, pool 50, identity 0.5), on the same data
  cyclegan       our CycleGAN trainer with the same recipe
  cut, fastcut   our CUT / FastCUT trainer (paper defaults per mode)
  X+da           the same with DiffAugment (color,translation,cutout) on D's inputs and an EMA generator (0.999)
  fastcut32+da   FastCUT+da with a compact generator (ngf 32) and discriminator (ndf 48): the bundled runs' recipe
  cut32+da       CUT+da at the same compact widths (is it CUT's mode or its width that learns more per step?)

"Minutes" are minutes on a quiet machine: each recipe's speed is measured first in this process, side by side with
the reference script's own step, as images per CPU-second (independent of other load); quiet img/s = that times the
torch threads, and a mark of M minutes is ``M * 60 * quiet img/s`` steps. Training
itself may then run under other load (``nice``) without changing what a mark means. Each mark is evaluated by
translating the test photos (testA) and comparing them with the test anime portraits (testB) at the same N:
  floor    real anime (trainB, first N) vs testB: the best a model could score at this N
  ceiling  untranslated photos (testA) vs testB: what doing nothing scores
  gap closed = (ceiling - FID) / (ceiling - floor)

Runs live in ``--work`` (default ``.cache/bench_quality``) and resume: run the script again with larger marks to
extend every recipe. Every finished mark is also saved in ``--store`` (default ``benchmarks/quality_marks.json``,
committed), with its machine, date and command, so that the whole comparison (about 16 CPU-hours on two cores) can be
built up over several sessions, one or two recipes at a time, on whichever machine each session has; a mark measured
again replaces the stored one. Prints JSON; ``--record`` appends the table of every stored mark at ``--size`` to
RESULTS.md and writes ``quality_chart.svg`` (``--minutes ''`` records the store without training anything).

    python benchmarks/bench_quality.py --minutes 20,40,60 --record
    python benchmarks/bench_quality.py --recipes reference --minutes 20,40,60 --threads 2 --record
    python benchmarks/bench_quality.py --minutes '' --record
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, append_results, load_reference, machine  # noqa: E402

from engine.errors import Cancelled  # noqa: E402
from engine.jobs import ProgressReported, StopOnSignals, run_inline  # noqa: E402
from engine.training import core  # noqa: E402
from engine.training.data import ImageFolder  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "face2genshin"
RECIPES = ["reference", "cyclegan", "cyclegan+da", "cut", "cut+da", "fastcut", "fastcut+da", "fastcut32+da",
           "cut32+da"]
DA = dict(diffaug="color,translation,cutout", ema_decay=0.999)


def load_split(name: str, size: int, n: int = 0) -> np.ndarray:
    """uint8 N x size x size x 3, resized with the training pipeline's filter."""
    f = ImageFolder.open(DATA / name, name, preprocess="resize", load_size=size, crop_size=size, cache_mb=256)
    count = len(f) if not n else min(n, len(f))
    return np.stack([f.image(i) for i in range(count)])


def recipe_config(recipe: str, size: int, out: Path, steps: int):
    base, _, extra = recipe.partition("+")
    common = dict(data_a=str(DATA / "trainA"), data_b=str(DATA / "trainB"), out_dir=str(out), device="cpu",
                  steps=steps, image_size=size, lr_policy="constant", log_every=10, sample_every=0,
                  checkpoint_every=0, name=recipe, **(DA if extra == "da" else {}))
    if base == "cyclegan":
        return core.build_config("cyclegan", "", generator="resnet_9blocks", **common)
    if base in ("fastcut32", "cut32"):  # the compact widths of the bundled runs: a quarter of the generator's FLOPs
        return core.build_config("cut", "", mode=base[:-2], generator="resnet_9blocks", ngf=32, ndf=48, **common)
    return core.build_config("cut", "", mode=base, generator="resnet_9blocks", **common)


class OurRecipe:
    def __init__(self, recipe: str, size: int, work: Path):
        self.recipe, self.size, self.dir = recipe, size, work / recipe.replace("+", "_")

    def step(self) -> int:
        from engine.training.runs import RunFolder

        return int(RunFolder(self.dir).read_status().get("step", 0)) if self.dir.exists() else 0

    def train_to(self, steps: int) -> None:
        if self.step() >= steps:
            return
        cfg = (core.resume_config(self.dir, steps=steps) if (self.dir / "checkpoints" / "latest.safetensors").exists()
               else recipe_config(self.recipe, self.size, self.dir, steps))
        with StopOnSignals() as stop:  # SIGTERM: checkpoint, then Cancelled; the evaluation after it is not guarded
            run_inline(core.train_task, cfg, on_start=stop.bind)

    def speed(self, steps: int) -> Dict[str, float]:
        """Speed over ``steps`` steps after a warm-up step, in a throw-away run (see :func:`_speed`)."""
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            cfg = recipe_config(self.recipe, self.size, Path(tmp) / "r", steps + 1).replace(log_every=steps + 1)
            marks: List[tuple] = []

            def on(event):
                if isinstance(event, ProgressReported) and "step" in event.progress.message:
                    marks.append((time.perf_counter(), time.process_time()))

            run_inline(core.train_task, cfg, on_event=on)
        return _speed(marks[0], marks[-1], len(marks) - 1)

    @torch.no_grad()
    def translate(self, photos: np.ndarray) -> np.ndarray:
        from engine.library import ModelLibrary

        lib = ModelLibrary()
        net = lib.load(lib.resolve(str(self.dir), direction="AtoB")).module
        return _run(net, photos)


class ReferenceRecipe:
    """The reference script's networks and training step on real data (its own timing loop uses random tensors)."""

    def __init__(self, size: int, work: Path):
        self.ref = load_reference()
        self.size, self.dir = size, work / "reference"
        self.state_path = self.dir / "state.pt"

    def step(self) -> int:
        if not self.state_path.exists():
            return 0
        return int(torch.load(self.state_path, map_location="cpu", weights_only=True)["step"])

    def _build(self):
        torch.manual_seed(0)
        nets = self.ref.make("cpu", False)
        if self.state_path.exists():
            st = torch.load(self.state_path, map_location="cpu", weights_only=True)
            for net, sd in zip(nets, st["nets"]):
                net.load_state_dict(sd)
        return nets

    def train_to(self, steps: int) -> None:
        done = self.step()
        if done >= steps:
            return
        nets = self._build()
        step = self.ref.step_fn(*nets, self.ref.Pool(), self.ref.Pool(), False)
        A, B = (_tensors(load_split(s, self.size * 286 // 256)) for s in ("trainA", "trainB"))
        rng = random.Random(done)
        with StopOnSignals() as stop:
            for at in range(done, steps):
                if stop.asked:  # SIGTERM / Ctrl+C: keep the steps done so far, then stop like our recipes do
                    steps = at
                    break
                step(_jitter(A[rng.randrange(len(A))], self.size, rng),
                     _jitter(B[rng.randrange(len(B))], self.size, rng))
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        torch.save({"step": steps, "nets": [n.state_dict() for n in nets]}, tmp)
        tmp.replace(self.state_path)
        if stop.asked:
            raise Cancelled("stopped")

    def speed(self, steps: int) -> Dict[str, float]:
        """The reference's own step on random tensors, as its ``time_train`` runs it, timed by wall and CPU clock."""
        torch.manual_seed(0)
        step = self.ref.step_fn(*self.ref.make("cpu", False), self.ref.Pool(), self.ref.Pool(), False)
        data = [torch.rand(1, 3, self.size, self.size) * 2 - 1 for _ in range(4)]
        step(data[0], data[1])
        start = (time.perf_counter(), time.process_time())
        for i in range(steps):
            step(data[i % 4], data[(i + 1) % 4])
        return _speed(start, (time.perf_counter(), time.process_time()), steps)

    @torch.no_grad()
    def translate(self, photos: np.ndarray) -> np.ndarray:
        return _run(self._build()[0].eval(), photos)


def _speed(start: tuple, end: tuple, steps: int) -> Dict[str, float]:
    """img/s by the wall clock (depends on the machine's load) and images per CPU-second of this process (does not;
    the ratios between recipes are taken from it), batch 1."""
    wall, cpu = end[0] - start[0], end[1] - start[1]
    return {"img_s": steps / wall if wall > 0 else float("nan"), "img_per_cpu_s": steps / cpu if cpu > 0 else float("nan"),
            "threads": torch.get_num_threads()}


def _tensors(imgs: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(imgs).permute(0, 3, 1, 2).float().div(127.5).sub(1)


def _jitter(img: torch.Tensor, size: int, rng: random.Random) -> torch.Tensor:
    y, x = rng.randrange(img.shape[1] - size + 1), rng.randrange(img.shape[2] - size + 1)
    crop = img[:, y:y + size, x:x + size]
    return (crop.flip(2) if rng.random() < 0.5 else crop).unsqueeze(0).contiguous()


def _run(net: torch.nn.Module, photos: np.ndarray) -> np.ndarray:
    out = []
    for i in range(0, len(photos), 8):
        y = net(_tensors(photos[i:i + 8]))
        out.append(((y.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy())
    return np.concatenate(out)


def quiet(speed: Dict[str, float]) -> float:
    """The img/s of a quiet machine: images per CPU-second times the threads (torch keeps them all busy in the
    convolutions); on a loaded machine the wall-clock figure is lower, but the step counts of the marks are not."""
    return speed["img_per_cpu_s"] * speed["threads"]


def fid_kid(real: np.ndarray, fake: np.ndarray, extractor) -> Dict[str, float]:
    from engine.metrics import compute_metrics

    res = compute_metrics(real, fake, ("fid", "kid"), extractor=extractor)
    return {"fid": float(res["fid"]), "kid": float(res["kid"]), "kid_std": float(res.get("kid_std", 0.0))}


STORE = ROOT / "benchmarks" / "quality_marks.json"


def load_store(path: Path) -> List[dict]:
    """The stored marks (a missing file is an empty store; a damaged one stops the benchmark rather than being
    overwritten, since it holds CPU-hours of results)."""
    if not path.exists():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["marks"]
        assert isinstance(rows, list), "'marks' is not a list"
        for i, r in enumerate(rows):
            assert isinstance(r, dict), f"mark {i} is not an object"
            assert isinstance(r.get("recipe"), str), f"mark {i} has no recipe name"
            bad = [k for k in MARK_NUMBERS if not _number(r.get(k))]
            assert not bad, f"mark {i} ({r['recipe']}) lacks numbers for {', '.join(bad)}"
        return rows
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise SystemExit(f"{path} is not a quality-marks store ({exc}); move it away or repair it") from exc


#: the fields of a stored mark that the table, the chart and the upsert read as numbers
MARK_NUMBERS = ("minutes", "size", "steps", "img_per_s", "vs_reference", "fid", "kid", "kid_std", "gap_closed",
                "floor_fid", "ceiling_fid", "n_real", "n_fake")


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def save_mark(path: Path, row: dict) -> List[dict]:
    """Add ``row`` to the store, replacing a mark of the same recipe, minutes and size; written atomically."""
    key = lambda r: (r["recipe"], float(r["minutes"]), int(r["size"]))  # noqa: E731
    rows = [r for r in load_store(path) if key(r) != key(row)] + [row]
    rows.sort(key=lambda r: (int(r["size"]), RECIPES.index(r["recipe"]) if r["recipe"] in RECIPES else 99,
                             float(r["minutes"])))
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"marks": rows}, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return rows


def make(recipe: str, size: int, work: Path):
    return ReferenceRecipe(size, work) if recipe == "reference" else OurRecipe(recipe, size, work)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipes", default=",".join(RECIPES))
    ap.add_argument("--minutes", default="20,40,60", help="marks in quiet-machine training minutes")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--speed-steps", type=int, default=4, help="steps timed per recipe for its img/s")
    ap.add_argument("--work", default=str(ROOT / ".cache" / "bench_quality"))
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    ap.add_argument("--train-threads", type=int, default=0,
                    help="torch threads while training and evaluating, after the speeds are taken with --threads "
                         "(0 = the same): two 1-thread runs share two cores better than two 2-thread runs, and "
                         "the marks keep meaning --threads minutes of a quiet machine")
    ap.add_argument("--store", default=str(STORE), help="JSON file that keeps every finished mark")
    ap.add_argument("--record", action="store_true",
                    help="append the table of every stored mark to RESULTS.md and write quality_chart.svg")
    args = ap.parse_args(argv)
    for flag, n in (("--threads", args.threads), ("--train-threads", args.train_threads)):
        if not 0 <= n <= 1024:
            ap.error(f"{flag} must be 0 (the default) or a number of threads; got {n}")
    if args.threads:
        torch.set_num_threads(args.threads)
    recipes = [r for r in args.recipes.split(",") if r]
    bad = [r for r in recipes if r not in RECIPES]
    if bad:
        raise SystemExit(f"unknown recipe(s) {bad}; choose from {RECIPES}")
    marks = sorted(float(m) for m in args.minutes.split(",") if m.strip())
    store = Path(args.store)
    load_store(store)  # a damaged store stops here, before hours of training
    if not marks:
        if not args.record:
            raise SystemExit("nothing to do: give --minutes, or --record to write the stored marks to RESULTS.md")
        return record_store(store, args.size, shlex.join(sys.argv))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    speeds_path = work / f"speeds_{args.size}_{torch.get_num_threads()}t.json"
    speeds = json.loads(speeds_path.read_text()) if speeds_path.exists() else {}
    for r in ["reference"] + recipes:  # the reference is always timed, for the ratios
        if r not in speeds:
            speeds[r] = make(r, args.size, work).speed(args.speed_steps)
            speeds_path.write_text(json.dumps(speeds, indent=1))
    if args.train_threads:
        torch.set_num_threads(args.train_threads)
    from engine.metrics import FeatureExtractor

    extractor = FeatureExtractor("cpu")
    photos, anime = load_split("testA", args.size), load_split("testB", args.size)
    floor = fid_kid(anime, load_split("trainB", args.size, len(anime)), extractor)
    ceiling = fid_kid(anime, photos, extractor)
    rows = []
    for r in recipes:
        rec = make(r, args.size, work)
        for m in marks:
            steps = max(1, round(m * 60 * quiet(speeds[r])))
            t = time.perf_counter()
            try:
                rec.train_to(steps)
            except Cancelled:
                raise SystemExit(f"stopped: {r} keeps its last checkpoint; run the same command again to go on")
            score = fid_kid(anime, rec.translate(photos), extractor)
            gap = (ceiling["fid"] - score["fid"]) / max(1e-9, ceiling["fid"] - floor["fid"])
            rows.append(dict(recipe=r, minutes=m, size=args.size, steps=steps, img_per_s=round(quiet(speeds[r]), 4),
                             vs_reference=round(speeds[r]["img_per_cpu_s"] / speeds["reference"]["img_per_cpu_s"], 2),
                             gap_closed=round(gap, 3), floor_fid=round(floor["fid"], 2),
                             ceiling_fid=round(ceiling["fid"], 2), n_real=len(anime), n_fake=len(photos),
                             wall_s=round(time.perf_counter() - t, 1), machine=machine(),
                             date=time.strftime("%Y-%m-%d %H:%M"), command=shlex.join(sys.argv),
                             **{k: round(v, 4) for k, v in score.items()}))
            print(json.dumps(rows[-1]), flush=True)  # first: a store that cannot be written loses no result
            save_mark(store, rows[-1])
    result = dict(size=args.size, n_real=len(anime), n_fake=len(photos), floor=floor, ceiling=ceiling,
                  speeds=speeds, rows=rows, machine=machine())
    if args.record:
        record_store(store, args.size, shlex.join(sys.argv))
    print(json.dumps(result, indent=1))
    return result


def machine_name(row: dict) -> str:
    """The machine a mark was measured on, without the load average that ``machine()`` appends (one VM, one name)."""
    return re.sub(r",\s*load avg [^,]*$", "", row.get("machine", "?"))


def closer_than_reference(row: dict, ref: Dict[tuple, dict]) -> str:
    """How much closer to the floor ``row``'s FID is than the reference recipe's at the same minutes (the issue's
    60-minute goal: at least 30%), as text; "" for the reference itself or when it has no mark at those minutes."""
    r = ref.get((float(row["minutes"]), int(row["size"])))
    if row["recipe"] == "reference" or r is None:
        return ""
    floor = row["floor_fid"]
    return f"{(1 - (row['fid'] - floor) / max(1e-9, r['fid'] - floor)) * 100:.1f}%"


def table(rows: List[dict]) -> List[str]:
    """Markdown table of stored marks; machines are numbered in a legend below it (they differ between sessions)."""
    machines = list(dict.fromkeys(machine_name(r) for r in rows))
    ref = {(float(r["minutes"]), int(r["size"])): r for r in rows if r["recipe"] == "reference"}
    lines = ["| recipe | minutes | steps | img/s | vs reference | FID | KID×1000 | gap closed | closer than reference "
             "| machine |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['recipe']} | {float(r['minutes']):g} | {r['steps']} | {r['img_per_s']:.3f} | "
                     f"{r['vs_reference']:.2f}x | {r['fid']:.1f} | {r['kid'] * 1000:.1f} ± {r['kid_std'] * 1000:.1f} | "
                     f"{r['gap_closed'] * 100:.0f}% | {closer_than_reference(r, ref)} | "
                     f"{machines.index(machine_name(r)) + 1} |")
    lines.append("")
    lines += [f"Machine {i + 1}: {m}." for i, m in enumerate(machines)]
    return lines


def record_store(store: Path, size: int, command: str) -> dict:
    """Append the table of every stored mark at ``size`` to RESULTS.md and draw the chart."""
    rows = [r for r in load_store(store) if int(r["size"]) == size]
    if not rows:
        raise SystemExit(f"no stored marks at {size} px in {store}")
    last = rows[-1]
    recipes = sorted({r["recipe"] for r in rows}, key=lambda r: RECIPES.index(r) if r in RECIPES else 99)
    missing = [f"{r} {m:g}" for r in RECIPES for m in (20.0, 40.0, 60.0)
               if not any(x["recipe"] == r and float(x["minutes"]) == m for x in rows)]
    lines = [f"Command: `{command}` (the table of `{store.name}`: every mark stored so far, each with the command and "
             "machine that measured it).",
             f"Test split at {size} px: {last['n_fake']} photos translated, compared with {last['n_real']} anime "
             f"portraits. Floor (real vs real, same N) FID {last['floor_fid']:.1f}; ceiling (untranslated photos) FID "
             f"{last['ceiling_fid']:.1f}. Minutes are quiet-machine minutes (steps = minutes x 60 x img/s measured in "
             "the same process, beside the reference's own step).", ""] + table(rows)
    if missing:
        lines += ["", f"Not measured yet ({len(missing)} of {3 * len(RECIPES)} marks): " + ", ".join(missing) + "."]
    res = dict(size=size, rows=rows, floor={"fid": last["floor_fid"]}, ceiling={"fid": last["ceiling_fid"]})
    chart = ROOT / "benchmarks" / "quality_chart.svg"
    chart.write_text(svg_chart(res), encoding="utf-8")
    lines += ["", "![FID against training minutes](quality_chart.svg)"]
    append_results("Quality per CPU-minute: face2genshin photos → anime (bench_quality.py)", "\n".join(lines))
    return dict(size=size, rows=rows, recipes=recipes, missing=missing)


def svg_chart(res: dict, w: int = 640, h: int = 360) -> str:
    """FID against minutes, one line per recipe, floor and ceiling dashed (plain SVG, no plotting library)."""
    rows, pad = res["rows"], 48
    xs = [r["minutes"] for r in rows] or [1]
    lo, hi = res["floor"]["fid"], max([res["ceiling"]["fid"]] + [r["fid"] for r in rows])
    X = lambda m: pad + (w - 2 * pad) * m / max(xs)  # noqa: E731
    Y = lambda f: h - pad - (h - 2 * pad) * (f - lo * 0.9) / max(1e-9, hi * 1.05 - lo * 0.9)  # noqa: E731
    colours = ["#444", "#1f77b4", "#6baed6", "#d62728", "#ff9896", "#2ca02c", "#98df8a", "#9467bd", "#e6550d"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
           f'font-size="11"><rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{pad}" y="20" font-size="13">FID (lower is better) vs training minutes, {res["size"]} px</text>']
    top = hi * 1.05
    for tick in range(int(lo * 0.9 // 50 + 1) * 50, int(top) + 1, 50):  # FID gridlines and labels every 50
        out.append(f'<line x1="{pad}" x2="{w - pad}" y1="{Y(tick):.1f}" y2="{Y(tick):.1f}" stroke="#eee"/>'
                   f'<text x="{pad - 6}" y="{Y(tick) + 4:.1f}" text-anchor="end" fill="#666">{tick}</text>')
    for name, val in (("floor", lo), ("ceiling", res["ceiling"]["fid"])):
        out.append(f'<line x1="{pad}" x2="{w - pad}" y1="{Y(val):.1f}" y2="{Y(val):.1f}" stroke="#999" '
                   f'stroke-dasharray="4,3"/><text x="{w - pad + 2}" y="{Y(val) + 4:.1f}">{name}</text>')
    for i, recipe in enumerate(dict.fromkeys(r["recipe"] for r in rows)):
        pts = [(X(r["minutes"]), Y(r["fid"])) for r in sorted(rows, key=lambda r: float(r["minutes"]))
               if r["recipe"] == recipe]
        c = colours[RECIPES.index(recipe) % len(colours)]
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{c}"/>' for x, y in pts]  # a one-mark recipe shows too
        out.append(f'<text x="{pad + 8}" y="{40 + 14 * i}" fill="{c}">{recipe}</text>')
    for m in sorted(set(xs)):
        out.append(f'<text x="{X(m) - 6:.1f}" y="{h - pad + 16}">{m:g}</text>')
    out.append(f'<text x="{w / 2 - 30}" y="{h - 10}">minutes</text></svg>')
    return "\n".join(out)


if __name__ == "__main__":
    main()
