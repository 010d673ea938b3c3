"""Mode collapse of the StyleGAN trainer on a small face folder, and how recipes change it.

    python benchmarks/bench_stylegan_collapse.py --steps 1500 base 'ttur={"g_lr": 0.0005}' 'mbstd8={"mbstd_group": 8}'
    python benchmarks/bench_stylegan_collapse.py --model resources/models/stylegan_faces64/model.safetensors

Variants: each ``NAME={"field": value, ...}`` trains the ``cpu`` preset with those config overrides for ``--steps``
steps at ``--res`` px (the progressive stage held there, so an A/B is cheap) and reports the pixel-space diversity of
256 samples (mean pairwise L2 distance over the same for 256 training photos at that size; a collapsed generator is
well below 1) and the discriminator's mean logits on real and fake at the end (both near 0: D at chance, the
generator free to sit on one layout). ``--model`` measures a finished generate model at its own size: FID/KID and the
Inception diversity ratio of 400 seeds against the test split, and the pixel-space diversity ratio.
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _common import ROOT, append_results, isolated_home, machine

DATA = ROOT.parent / "shared" / "datasets" / "face2genshin"


def photos(folder: Path, size: int, n: int = 256) -> torch.Tensor:
    from engine.imageio import load_image, scan_inputs
    from engine.training.data import prepare_image

    files = scan_inputs([folder]).files[:n]
    x = np.stack([prepare_image(load_image(p).to_uint8().rgb, "resize", size, size) for p in files])
    return torch.from_numpy(x).permute(0, 3, 1, 2).float() / 127.5 - 1


def pixel_diversity(x: torch.Tensor) -> float:
    """Mean pairwise L2 distance between the images of a batch (N, 3, H, W)."""
    f = x.flatten(1).double()
    n = len(f)
    return float(torch.cdist(f, f).sum() / (n * (n - 1)))


def variant(name: str, overrides: dict, steps: int, res: int, data: Path, real_div: float) -> dict:
    from engine.checkpoint import load_checkpoint
    from engine.jobs import run_inline
    from engine.library import build_model
    from engine.training.core import build_config, train_task
    from engine.training.runs import RunFolder

    out = Path(tempfile.mkdtemp(prefix=f"sg-{name}-"))
    try:
        cfg = build_config("stylegan", "cpu", data=str(data), out_dir=str(out / "run"), steps=steps, progressive=True,
                           start_res=res, phase_steps=10 ** 9, sample_every=0, checkpoint_every=steps, log_every=100,
                           **overrides)
        t0 = time.perf_counter()
        run_inline(train_task, cfg)
        seconds = time.perf_counter() - t0
        ck = load_checkpoint(out / "run" / "models" / "G_ema.safetensors")
        G = build_model(ck.meta, ck.tensors).float().eval()
        G.set_stage(res)
        with torch.no_grad():
            z = torch.randn(256, G.z_dim, generator=torch.Generator().manual_seed(5))
            x = G.synthesis(G.mapping(z), noise_mode="const").clamp(-1, 1)
        last = [r for r in RunFolder(out / "run").read_metrics() if "D" in r][-1]
        return {"variant": name, "overrides": overrides, "pixel_diversity_ratio": round(pixel_diversity(x) / real_div, 3),
                "D_real": round(float(last.get("D_real", 0)), 2), "D_fake": round(float(last.get("D_fake", 0)), 2),
                "minutes": round(seconds / 60, 1)}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def model_scores(path: Path, data: Path) -> dict:
    from engine.checkpoint import load_checkpoint
    from engine.editing.latent import LatentModel
    from engine.library import build_model
    from engine.metrics import compute_metrics

    ck = load_checkpoint(path)
    net = build_model(ck.meta, ck.tensors).float().eval()
    m = LatentModel(net)
    seeds = range(100000, 100400)
    fake = np.concatenate([m.render_uint8(torch.stack([m.seed(s).code for s in seeds[i:i + 50]]))
                           for i in range(0, 400, 50)])
    size = fake.shape[1]
    test = ((photos(data / "testA", size, 400) + 1) * 127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    res = compute_metrics(test, fake, ("fid", "kid", "diversity"), device="cpu", cache_real=False)
    fake_t = torch.from_numpy(fake[:256]).permute(0, 3, 1, 2).float() / 127.5 - 1
    return {"model": str(path), "fid": round(float(res["fid"]), 1), "kid_x1000": round(1000 * float(res["kid"]), 1),
            "inception_diversity_ratio": round(float(res["diversity_ratio"]), 3),
            "pixel_diversity_ratio": round(pixel_diversity(fake_t) / pixel_diversity(photos(data / "trainA", size)),
                                           3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variants", nargs="*", help='NAME or NAME={"field": value}')
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--res", type=int, default=32, choices=(8, 16, 32, 64))
    ap.add_argument("--model", action="append", default=[], help="a generate model file to measure")
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write", action="store_true", help="append the table to benchmarks/RESULTS.md")
    a = ap.parse_args()
    isolated_home("stylegan")
    torch.set_num_threads(a.threads)
    data = Path(a.data)
    rows = []
    if a.variants:
        real_div = pixel_diversity(photos(data / "trainA", a.res))
        for spec in a.variants:
            name, _, js = spec.partition("=")
            rows.append(variant(name, json.loads(js or "{}"), a.steps, a.res, data / "trainA", real_div))
            print(json.dumps(rows[-1]), flush=True)
    for path in a.model:
        rows.append(model_scores(Path(path), data))
        print(json.dumps(rows[-1]), flush=True)
    if a.write and rows:
        lines = [f"Machine: {machine()}. Steps {a.steps} at {a.res} px per variant.", ""]
        lines += [f"- `{json.dumps(r)}`" for r in rows]
        append_results("StyleGAN mode collapse (bench_stylegan_collapse.py)", "\n".join(lines))


if __name__ == "__main__":
    main()
