"""Package a distillation run as a bundled fast model beside its teacher: fp16 weights, a side-by-side grid on the
bundled samples, and the facts for its card.

    python scripts/make_bundled_fast.py --run RUN --id vintagify-fast --out resources/models/vintagify-fast \
        [--name "Vintage photo (fast)"] [--description TEXT] [--trained-as START_MODEL]

Writes OUT/model.safetensors (fp16, the run's latest student), OUT/sample_full_vs_fast.jpg (each row: input, full
model, fast model, at 100% size; the public-domain / CC0 samples only) and prints JSON with the fp16-vs-fp32 check
and the PSNR/SSIM of the grid's fast outputs against the full ones. The card text is written by hand from these
numbers and from ``benchmarks/bench_compress.py`` (held-out fidelity, speed).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from _bundle_util import ROOT, grid, portable_training, to_t, to_u8  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="")
    ap.add_argument("--description", default="")
    ap.add_argument("--trained-as", default="",
                    help="RUN only fitted the colour calibration of this model (its --init): keep that model's "
                         "training record and add the calibration to it")
    ap.add_argument("--size", type=int, default=0,
                    help="the grid's size (0 = the teacher's image_size, else 256; 128 for the face models)")
    a = ap.parse_args()

    import cv2

    from engine.checkpoint import load_checkpoint
    from engine.draw import fit_square
    from engine.imageio import load_image
    from engine.library import ModelLibrary, build_model, save_model
    from engine.metrics.fidelity import psnr, ssim
    from engine.sketch import make_sketch, style_from_meta
    from engine.training.distill import INHERITED

    lib = ModelLibrary()
    run_model = lib.resolve(a.run)
    ckpt = load_checkpoint(run_model.path)
    meta = dict(ckpt.meta)
    meta["model"] = dict(meta["model"], id=a.id, name=a.name or meta["model"]["name"],
                         description=a.description or meta["model"]["description"])
    meta["training"] = portable_training(meta.get("training") or {})
    if a.trained_as:
        calibration = {"run": meta["training"]["run"], "data": Path(meta["training"]["data"]).name}
        # no path of this machine in a shipped file, whichever run's record is kept
        meta["training"] = dict(portable_training(load_checkpoint(lib.resolve(a.trained_as).path).meta.get("training")
                                                  or {}), calibration=calibration)
    # bundled beside its teacher: found by id and architecture, not by this machine's path; the size the teacher's
    # look is tuned to comes with it
    meta["distilled_from"] = dict(meta["distilled_from"], file="")
    teacher_meta = lib.resolve(meta["distilled_from"]["id"]).meta
    meta.update({k: teacher_meta[k] for k in INHERITED if k in teacher_meta})
    student32 = build_model(meta, ckpt.tensors)
    out = Path(a.out)
    dest = save_model(out / "model.safetensors", student32, meta, fp16=True)
    student16 = lib.load(lib.resolve(str(dest))).module
    teacher_info = lib.resolve(meta["distilled_from"]["id"])
    teacher = lib.load(teacher_info).module
    size = a.size or int(teacher_info.meta.get("image_size") or 256)
    sketch = style_from_meta(teacher_info.meta) if teacher_info.meta.get("input_kind") == "sketch" else None

    rows, report = [], {"file": str(dest), "bytes": dest.stat().st_size, "samples": []}
    fp_diff = 0.0
    for p in sorted((ROOT / "resources" / "samples").iterdir()):
        if p.suffix.lower() not in (".png", ".jpg"):
            continue
        photo = fit_square(load_image(p).to_uint8().rgb, size)
        x_img = make_sketch(photo, sketch) if sketch is not None else photo
        with torch.inference_mode():
            x = to_t(x_img)
            t, s16, s32 = to_u8(teacher(x)), to_u8(student16(x)), to_u8(student32(x))
        fp_diff = max(fp_diff, float(abs(s16.astype(int) - s32.astype(int)).max()))
        rows.append([x_img, t, s16])
        report["samples"].append({"file": p.name, "psnr": round(psnr(t, s16), 2), "ssim": round(ssim(t, s16), 4)})
    report["fp16_vs_fp32_max_uint8_diff"] = fp_diff
    img = grid(rows)
    cv2.imwrite(str(out / "sample_full_vs_fast.jpg"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_JPEG_QUALITY, 95])
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
