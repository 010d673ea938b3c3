"""Translation speed: folder throughput and single-image latency at 256/512/1024, ours vs the reference.

    python benchmarks/bench_translate.py [--device cpu|cuda] [--sizes 256,512,1024] [--folder-n 16] [--write]

Reference: ``reference_cyclegan.time_infer`` (ResNet-9, fp32 eager, contiguous) in this same process. Ours: the
product path, ``engine.inference.Translator`` (channels_last; bf16 on GPUs and on CPUs with native bf16; fp32
otherwise) including pre/post-processing; folder throughput runs the real ``translate_task`` (decode, translate,
encode, atomic save) on a folder of generated images. Measurements alternate between reference and ours.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _common import append_results, load_reference, machine, timeit  # noqa: E402

from engine import devices  # noqa: E402
from engine.imageio import LoadedImage, save_image  # noqa: E402
from engine.inference import TranslateOptions, Translator  # noqa: E402
from engine.jobs import run_inline  # noqa: E402
from engine.library import ModelLibrary  # noqa: E402
from engine.translate import TranslateConfig, translate_task  # noqa: E402


def sync_fn(dev):
    return (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else None


def latency(ref, net, dev, size: int, iters: int, precision: str) -> dict:
    sync = sync_fn(dev)
    g = ref.resnet_g().to(dev).eval()
    x = torch.rand(1, 3, size, size, device=dev)
    tr = Translator(net, dev, TranslateOptions(precision=precision))
    img = LoadedImage((np.random.default_rng(0).random((size, size, 3)) * 255).astype(np.uint8))
    xin = tr.prepare(img)[0]
    with torch.inference_mode():
        ref_s = ours_s = ours_e2e = 0.0
        for _ in range(2):  # alternate to share any background load fairly
            ref_s += timeit(lambda: g(x), iters, sync) / 2
            ours_s += timeit(lambda: tr.forward(xin), iters, sync) / 2
            ours_e2e += timeit(lambda: tr.translate(img), iters, sync) / 2
    return {"size": size, "ref_ms": round(ref_s * 1e3, 2), "ours_ms": round(ours_s * 1e3, 2),
            "ours_end_to_end_ms": round(ours_e2e * 1e3, 2), "speedup": round(ref_s / ours_s, 2),
            "dtype": devices.dtype_name(tr.dtype if tr.dtype != torch.float32 else None)}


def throughput(ref, net, dev, size: int, n: int, batch: int, precision: str, model: str = "") -> dict:
    sync = sync_fn(dev)
    g = ref.resnet_g().to(dev).eval()
    xb = torch.rand(batch, 3, size, size, device=dev)
    with torch.inference_mode():
        ref_s = timeit(lambda: g(xb), max(1, n // batch), sync) / batch
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "in"
        rng = np.random.default_rng(0)
        for i in range(n):
            save_image(src / f"{i:03d}.png", (rng.random((size, size, 3)) * 255).astype(np.uint8))
        cfg = TranslateConfig(model=model, inputs=(str(src),), out_dir=str(Path(d) / "out"), device=dev.type,
                              options=TranslateOptions(batch_size=batch, precision=precision))
        run_inline(translate_task, cfg.replace(inputs=(str(src / "000.png"),), out_dir=str(Path(d) / "warm")))
        t = time.perf_counter()
        res = run_inline(translate_task, cfg)
        ours_s = (time.perf_counter() - t) / len(res.translated)
    return {"size": size, "n": n, "batch": batch, "ref_img_per_s": round(1 / ref_s, 3),
            "ours_folder_img_per_s": round(1 / ours_s, 3), "ratio": round(ref_s / ours_s, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None)
    ap.add_argument("--sizes", default="256,512,1024")
    ap.add_argument("--iters", type=int, default=None)
    ap.add_argument("--folder-n", type=int, default=None)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--model", default="", help="our model (id or name; default: the default model, vintagify); "
                                                 "the reference stays the ResNet-9 of reference_cyclegan.py")
    ap.add_argument("--write", action="store_true", help="append the results to benchmarks/RESULTS.md")
    a = ap.parse_args()
    dev = devices.pick_device(a.device)
    devices.setup_fast_math(dev)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False  # the reference runs without TF32
        torch.backends.cudnn.allow_tf32 = False
    cuda = dev.type == "cuda"
    iters = a.iters or (50 if cuda else 2)
    ref = load_reference()
    lib = ModelLibrary()
    model = lib.resolve(a.model) if a.model else lib.default()
    net = lib.load(model, torch.device("cpu")).module
    sizes = [int(s) for s in a.sizes.split(",")]
    out = {"machine": machine(), "device": dev.type, "latency": [], "folder": []}
    for s in sizes:
        out["latency"].append(latency(ref, net, dev, s, iters if s <= 512 or cuda else 1, a.precision))
        print(json.dumps(out["latency"][-1]), flush=True)
    n = a.folder_n or (256 if cuda else 8)
    batch = a.batch or (16 if cuda else 2)
    out["folder"].append(throughput(ref, net, dev, 256, n, batch, a.precision, model.id))
    print(json.dumps(out["folder"][-1]), flush=True)
    print(json.dumps(out))
    if a.write:
        cmd = "python benchmarks/bench_translate.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(a).items() if v not in (None, False) and k != "write")
        rows = "\n".join(f"| {r['size']} | {r['ref_ms']} | {r['ours_ms']} ({r['dtype']}) | {r['ours_end_to_end_ms']} | "
                         f"{r['speedup']}x |" for r in out["latency"])
        f = out["folder"][0]
        text = (f"Machine: {out['machine']}. Command: `{cmd.strip()}`.\n\n"
                f"Single-image latency (ours: bundled model `{model.id}`; reference = reference_cyclegan.py's ResNet-9, "
                "fp32 eager):\n\n"
                "| size | reference ms | ours ms (net) | ours ms (with pre/post) | speedup |\n|---|---|---|---|---|\n"
                f"{rows}\n\nFolder translation at {f['size']}: ours {f['ours_folder_img_per_s']} img/s end to end "
                f"(decode + translate + encode + atomic save, {f['n']} PNGs, batch {f['batch']}) vs reference "
                f"{f['ref_img_per_s']} img/s (pure network, fp32 eager, batch {f['batch']}): **{f['ratio']}x**.\n")
        print("appended to", append_results(f"bench_translate on {dev.type}", text))


if __name__ == "__main__":
    main()
