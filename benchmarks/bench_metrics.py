"""Feature extraction speed of engine.metrics against a plain pytorch-fid-style loop, same images, same run.

The baseline is what pytorch-fid's ``calculate_activation_statistics`` does, minus its DataLoader: open each file
with PIL, convert to RGB, resize to 299 with the same filter (PIL bicubic), stack a batch as fp32 NCHW, run the
unfused network under ``torch.no_grad``, one batch at a time, no overlap of decoding and compute. Ours:
``engine.metrics.FeatureExtractor`` (threaded decode overlapped with the network, batch norm folded, channels_last,
inference_mode; on CUDA pinned memory and a side stream). Both use the same converted TF Inception weights and the
same normalisation, so their FIDs must agree to 4 significant digits.

    python benchmarks/bench_metrics.py [--real DIR] [--fake DIR] [--n 64] [--batch 16] [--device auto]
        [--no-append]

Prints JSON and appends a section to benchmarks/RESULTS.md (machine, command, numbers).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from _common import ROOT, append_results, machine  # noqa: E402

from engine import devices  # noqa: E402
from engine.imageio import scan_inputs  # noqa: E402
from engine.metrics import formulas, image_set  # noqa: E402
from engine.metrics.features import FeatureExtractor  # noqa: E402
from engine.metrics.inception import FIDInceptionV3  # noqa: E402
from engine.metrics.weights import fid_state_dict  # noqa: E402

def _shared() -> Path:
    env = os.environ.get("GANSTUDIO_SHARED")
    for cand in ([Path(env)] if env else []) + [ROOT.parent / "shared", ROOT.parent.parent / "shared"]:
        if cand.is_dir():
            return cand
    return ROOT.parent / "shared"


DATA = _shared() / "datasets" / "face2genshin"


def plain_loop_features(files, net: FIDInceptionV3, device: torch.device, batch: int) -> np.ndarray:
    """pytorch-fid style: PIL, fp32, one batch at a time."""
    from PIL import Image

    out = []
    for i in range(0, len(files), batch):
        imgs = []
        for f in files[i:i + batch]:
            im = Image.open(f).convert("RGB").resize((299, 299), Image.Resampling.BICUBIC)
            imgs.append(torch.from_numpy(np.asarray(im, dtype=np.float32)).permute(2, 0, 1))
        x = torch.stack(imgs).to(device)
        with torch.no_grad():
            out.append(net(x).cpu().numpy())
    return np.concatenate(out)


def timed(fn):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t = time.perf_counter()
    r = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return r, time.perf_counter() - t


def run(args) -> dict:
    device = devices.pick_device(None if args.device == "auto" else args.device)
    real = scan_inputs([args.real]).files[:args.n]
    fake = scan_inputs([args.fake]).files[:args.n]
    n = len(real) + len(fake)
    plain = FIDInceptionV3()
    plain.load_state_dict(fid_state_dict())
    plain = plain.eval().to(device)
    ours = FeatureExtractor(device, batch_size=args.batch)
    warm = np.zeros((2, 299, 299, 3), np.uint8)
    ours.forward(warm)
    with torch.no_grad():
        plain(torch.zeros(2, 3, 299, 299, device=device))
    (pr, pf), t_plain = timed(lambda: (plain_loop_features(real, plain, device, args.batch),
                                       plain_loop_features(fake, plain, device, args.batch)))
    (orr, off), t_ours = timed(lambda: (ours.extract(image_set(real)).features, ours.extract(image_set(fake)).features))
    fid_plain = formulas.fid_from_features(pr, pf)
    fid_ours = formulas.fid_from_features(orr, off)
    return {
        "device": devices.describe(device).status_text(), "torch_threads": torch.get_num_threads(),
        "images": n, "batch": args.batch,
        "plain_img_per_s": round(n / t_plain, 2), "ours_img_per_s": round(n / t_ours, 2),
        "speedup": round(t_plain / t_ours, 2),
        "fid_plain": float(f"{fid_plain:.6g}"), "fid_ours": float(f"{fid_ours:.6g}"),
        "fid_equal_4_significant": f"{fid_plain:.4g}" == f"{fid_ours:.4g}",
        "max_feature_abs_diff": float(max(np.abs(pr - orr).max(), np.abs(pf - off).max())),
    }


def write_results(res: dict, command: str) -> None:
    text = "\n".join([
        f"- machine: {machine()}",
        f"- command: `{command}`",
        f"- {res['images']} images (256x256 face2genshin testB + testA), batch {res['batch']}, {res['device']}: "
        f"plain pytorch-fid-style loop {res['plain_img_per_s']} img/s, engine.metrics {res['ours_img_per_s']} img/s, "
        f"speed-up x{res['speedup']}",
        f"- FID testB vs testA: plain {res['fid_plain']}, ours {res['fid_ours']}; equal to 4 significant digits: "
        f"{res['fid_equal_4_significant']} (largest feature difference {res['max_feature_abs_diff']:.2e})"])
    append_results("bench_metrics: Inception feature extraction, ours vs a plain pytorch-fid-style loop", text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", default=str(DATA / "testB"))
    ap.add_argument("--fake", default=str(DATA / "testA"))
    ap.add_argument("--n", type=int, default=64, help="images per set")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--no-append", action="store_true", help="do not append to benchmarks/RESULTS.md")
    args = ap.parse_args()
    res = run(args)
    print(json.dumps(res, indent=2))
    if not args.no_append:
        write_results(res, "python " + " ".join(["benchmarks/bench_metrics.py"] + sys.argv[1:]))


if __name__ == "__main__":
    main()
