"""CycleGAN training speed and loss-curve agreement against the reference recipe, in one process.

    python benchmarks/bench_train.py --device cuda --size 256            # the H100 run the issue asks for
    python benchmarks/bench_train.py --device cpu --size 128 --iters 2 --curve-steps 30 --curve-size 64

Speed: the reference (``../shared/bench/reference_cyclegan.py``: eager fp32 without TF32, batch 1, random tensors)
is timed with its own ``time_train``; GAN Studio's trainer is timed on the same kind of input (random uint8 batches
already on the device, so both measure the training step) at batch 1 and at ``--batch`` (default 8), with its
speed habits (bf16 autocast, channels_last, cudnn.benchmark, fused Adam, batched G/D calls; ``--compile`` adds
torch.compile), and once more end to end from the face2genshin folders through the data loader.

Curves: both trainers start from the *same* weights (ours, copied into the reference's layers), see the same images
in the same order (batch 1, ``--curve-size`` px) with the same seed for the image pools, and log G and D losses per
step; a second reference run on other images with another pool seed gives the noise floor. Agreement is judged on
window means (5 windows): "within noise" means mean |ours - ref| <= 1.5 x mean |ref - ref'|. Prints one JSON object and appends a section to
benchmarks/RESULTS.md (``--no-write`` to skip).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("GANSTUDIO_SHARED", ROOT.parent / "shared"))


def load_reference():
    path = SHARED / "bench" / "reference_cyclegan.py"
    spec = importlib.util.spec_from_file_location("reference_cyclegan", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def sync(dev: str) -> None:
    if dev.startswith("cuda"):
        torch.cuda.synchronize()


def make_trainer(a, size: int, batch: int, *, amp: bool = True, compile_: bool = False, lr_policy="linear"):
    from engine.jobs import Job, JobContext
    from engine.training.core import build_config, get_trainer

    out = tempfile.mkdtemp(prefix="bench-train-")
    cfg = build_config("cyclegan", "", data_a=str(a.data_a), data_b=str(a.data_b), out_dir=out, image_size=size,
                       batch_size=batch, device=a.device, amp=amp, compile=compile_, lr_policy=lr_policy,
                       seed=a.seed, cache_mb=2048)
    ctx = JobContext(Job(0, "bench", "", "inline", None, None), lambda *x: None)
    tr = get_trainer("cyclegan")(cfg, ctx)
    tr.setup_device()
    tr.run_folder.prepare()
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    tr.make_data()
    tr.total = 100000
    tr.build()
    return tr


def time_ours(tr, iters: int, warm: int, real_data: bool):
    dev = tr.device
    if real_data:
        it = tr.batches()
        get = lambda i: next(it)  # noqa: E731
    else:
        n, s = tr.cfg.batch_size, tr.cfg.image_size
        data = [{k: torch.randint(0, 256, (n, 3, s, s), dtype=torch.uint8, device=dev) for k in "AB"}
                for _ in range(8)]
        get = lambda i: data[i % 8]  # noqa: E731
    for i in range(warm):
        tr.train_step(get(i))
    sync(str(dev))
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    for i in range(iters):
        tr.train_step(get(i))
    sync(str(dev))
    dt = (time.perf_counter() - t) / iters
    mem = torch.cuda.max_memory_allocated() / 2**30 if dev.type == "cuda" else 0.0
    return {"batch": tr.cfg.batch_size, "ms_per_step": round(dt * 1000, 1),
            "img_per_s": round(tr.cfg.batch_size / dt, 3), "peak_gib": round(mem, 2),
            "precision": str(tr.amp_dtype).replace("torch.", "") if tr.amp_dtype else "fp32",
            "compile": tr.cfg.compile, "data": "folders via loader" if real_data else "random on device"}


def time_reference(ref, a, size: int, iters: int, warm: int):
    if a.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    dt, ips, mem = ref.time_train(1, size, iters=iters, warm=warm, dev=a.device)
    return {"batch": 1, "ms_per_step": round(dt * 1000, 1), "img_per_s": round(ips, 3), "peak_gib": round(mem, 2),
            "precision": "fp32 (no TF32)"}


# ------------------------------------------------------------------------------------------------------------
# loss curves

def copy_weights(ours: torch.nn.Module, theirs: torch.nn.Module) -> None:
    po, pt = list(ours.parameters()), list(theirs.parameters())
    assert len(po) == len(pt) and all(p.shape == q.shape for p, q in zip(po, pt)), "layer layouts differ"
    with torch.no_grad():
        for p, q in zip(po, pt):
            q.copy_(p)


def curves(a, ref):
    from engine.training.data import to_model_input

    tr = make_trainer(a, a.curve_size, 1, amp=not a.curve_fp32, lr_policy="constant")
    dev = tr.device
    init = {k: {n: v.detach().clone() for n, v in net.state_dict().items()} for k, net in tr.nets.items()}

    def reference_run(offset: int, seed: int):
        G_A, G_B, D_A, D_B, oG, oD = ref.make(a.device, False)
        for k, t in (("G_A", G_A), ("G_B", G_B), ("D_A", D_A), ("D_B", D_B)):
            copy_weights(tr.nets[k], t)
        step = ref.step_fn(G_A, G_B, D_A, D_B, oG, oD, ref.Pool(), ref.Pool(), False)
        if a.device.startswith("cuda"):  # the reference recipe: fp32 without TF32
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        random.seed(seed)
        out = {"G": [], "D": []}
        for k in range(a.curve_steps):
            b = tr.stream.batch(offset + k, 1)
            lG, lD = step(*(to_model_input(b[x].to(dev)) for x in "AB"))
            out["G"].append(lG.item())
            out["D"].append(lD.item())
        return out

    ours = {"G": [], "D": []}
    random.seed(a.seed)
    for k in range(a.curve_steps):
        losses = tr.train_step({x: v.to(dev) for x, v in tr.stream.batch(k, 1).items()})
        ours["G"].append(losses["G"].item())
        ours["D"].append(losses["D"].item())
    for k, net in tr.nets.items():  # the reference runs start from the same initial weights
        net.load_state_dict(init[k])
    theirs = reference_run(0, a.seed)
    floor = reference_run(100_000, a.seed + 1)  # same recipe, other images and pool draws: the noise floor
    return {"steps": a.curve_steps, "size": a.curve_size, "precision_ours": "fp32" if a.curve_fp32 else
            (str(tr.amp_dtype).replace("torch.", "") if tr.amp_dtype else "fp32"),
            "agreement": {k: agreement(ours[k], theirs[k], floor[k]) for k in ("G", "D")},
            "ours": {k: [round(x, 4) for x in v] for k, v in ours.items()},
            "reference": {k: [round(x, 4) for x in v] for k, v in theirs.items()},
            "reference_other_seed": {k: [round(x, 4) for x in v] for k, v in floor.items()}}


def agreement(x, y, z, windows: int = 5):
    """Window means of ours (x) vs the reference (y); the noise floor is the reference vs itself on other data (z).
    Within noise: the mean |ours - ref| window difference is at most 1.5x the mean |ref - ref'| difference."""
    x, y, z = np.asarray(x), np.asarray(y), np.asarray(z)
    windows = max(1, min(windows, len(x) // 2))
    mx, my, mz = ([float(w.mean()) for w in np.array_split(v, windows)] for v in (x, y, z))
    d_ours = float(np.mean([abs(p - q) for p, q in zip(mx, my)]))
    d_floor = float(np.mean([abs(p - q) for p, q in zip(mz, my)]))
    return {"window_means_ours": [round(v, 4) for v in mx], "window_means_ref": [round(v, 4) for v in my],
            "window_means_ref_other_seed": [round(v, 4) for v in mz], "mean_abs_diff_ours_ref": round(d_ours, 4),
            "mean_abs_diff_ref_ref": round(d_floor, 4), "within_noise": bool(d_ours <= 1.5 * d_floor + 1e-6),
            "first_step_abs_diff": round(float(abs(x[0] - y[0])), 6)}


# ------------------------------------------------------------------------------------------------------------

def machine(dev: str):
    info = {"python": platform.python_version(), "torch": torch.__version__, "cpu": _cpu(),
            "cpu_count": os.cpu_count(), "threads": torch.get_num_threads()}
    if hasattr(os, "getloadavg"):
        info["load_avg_1min"] = round(os.getloadavg()[0], 2)
    if dev.startswith("cuda"):
        info["gpu"] = torch.cuda.get_device_name()
    return info


def _cpu() -> str:
    from engine.devices import _cpu_name

    return _cpu_name()


def write_results(res, cmd: str) -> None:
    path = ROOT / "benchmarks" / "RESULTS.md"
    sp, c = res["speed"], res.get("curves")
    lines = [f"\n## bench_train ({res['device']}, {res['size']} px) — {time.strftime('%Y-%m-%d %H:%M')}\n",
             f"- machine: {json.dumps(res['machine'])}", f"- command: `{cmd}`", "",
             "| trainer | batch | precision | data | ms/step | img/s | x reference | peak GiB |",
             "|---|---|---|---|---|---|---|---|"]
    ref = sp["reference"]
    lines.append(f"| reference | 1 | {ref['precision']} | random on device | {ref['ms_per_step']} | "
                 f"{ref['img_per_s']} (again after ours: {ref.get('img_per_s_again')}) | 1.00 | {ref['peak_gib']} |")
    for r in sp["ours"]:
        lines.append(f"| GAN Studio | {r['batch']} | {r['precision']}{' + compile' if r['compile'] else ''} | "
                     f"{r['data']} | {r['ms_per_step']} | {r['img_per_s']} | {r['x_reference']:.2f} | "
                     f"{r['peak_gib']} |")
    if c:
        lines += ["", f"Loss curves: {c['steps']} steps at {c['size']} px, batch 1, same init / data / pool seed; "
                      f"ours in {c['precision_ours']}, reference fp32."]
        for k, ag in c["agreement"].items():
            lines.append(f"- {k}: window means ours {ag['window_means_ours']}, reference {ag['window_means_ref']}, "
                         f"reference on other data/seed {ag['window_means_ref_other_seed']}; mean |ours - ref| "
                         f"{ag['mean_abs_diff_ours_ref']} vs noise floor |ref - ref'| {ag['mean_abs_diff_ref_ref']}: "
                         f"within noise {ag['within_noise']}; first step |diff| {ag['first_step_abs_diff']}")
    if not path.exists():
        lines.insert(0, "# Benchmark results\n\nEach benchmark appends a section: machine, command, numbers.")
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def main() -> int:
    f2g = SHARED / "datasets" / "face2genshin"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8, help="our larger batch (besides batch 1)")
    ap.add_argument("--iters", type=int, default=None, help="timed steps (default 40 cuda, 3 cpu)")
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--compile", action="store_true", help="also time ours with torch.compile")
    ap.add_argument("--curve-steps", type=int, default=None, help="0 = skip (default 400 cuda, 30 cpu)")
    ap.add_argument("--curve-size", type=int, default=None, help="default: --size")
    ap.add_argument("--curve-fp32", action="store_true", help="our curve run in fp32 instead of bf16")
    ap.add_argument("--data-a", default=str(f2g / "trainA"))
    ap.add_argument("--data-b", default=str(f2g / "trainB"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    cuda = a.device.startswith("cuda")
    iters, warm = a.iters or (40 if cuda else 3), a.warmup if a.warmup is not None else (10 if cuda else 1)
    a.curve_steps = (400 if cuda else 30) if a.curve_steps is None else a.curve_steps
    a.curve_size = a.curve_size or a.size
    ref = load_reference()
    speed = {"reference": time_reference(ref, a, a.size, iters, warm), "ours": []}
    configs = [(1, False, False), (a.batch, False, False), (a.batch, False, True)]
    if a.compile:
        configs.append((a.batch, True, False))
    for batch, comp, real in configs:
        tr = make_trainer(a, a.size, batch, compile_=comp)
        r = time_ours(tr, iters, warm + (10 if comp else 0), real)
        r["x_reference"] = round(r["img_per_s"] / speed["reference"]["img_per_s"], 3)
        speed["ours"].append(r)
        del tr
        if cuda:
            torch.cuda.empty_cache()
    again = time_reference(ref, a, a.size, iters, warm)  # timed again after ours: drift on a shared machine
    speed["reference"]["img_per_s_again"] = again["img_per_s"]
    res = {"bench": "train", "device": a.device, "size": a.size, "iters": iters, "machine": machine(a.device),
           "speed": speed}
    if a.curve_steps:
        res["curves"] = curves(a, ref)
    print(json.dumps(res))
    if not a.no_write:
        write_results(res, "python " + " ".join([Path(sys.argv[0]).as_posix()] + sys.argv[1:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
