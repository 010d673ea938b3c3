"""Convert the vintagify G_A2B generator (../shared/weights) into the bundled fp16 model + card + sample.

    python scripts/make_bundled_vintagify.py [--shared ../shared]

Writes resources/models/vintagify/{model.safetensors, MODEL_CARD.md, LICENSE, sample_before_after.jpg}.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.checkpoint import load_checkpoint  # noqa: E402
from engine.imageio import encode_image, load_image  # noqa: E402
from engine.inference import Translator  # noqa: E402
from engine.library import build_model, model_meta, save_model  # noqa: E402
from engine.models.networks import count_params  # noqa: E402
from _bundle_util import import_checked  # noqa: E402

SRC_SHA = "c502cd44ca720d004f89775f593fc403acc6b36d27d65390cbe2f476f771e560"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    a = ap.parse_args()
    src_dir = Path(a.shared) / "weights" / "cyclegan_vintagify_G_A2B"
    src = src_dir / "G_A2B_epoch33.pth"
    imp, net, sha, out = import_checked(src, SRC_SHA, "vintagify")
    meta = model_meta(id="vintagify", name="Vintage photo", family="cyclegan", task="translate", arch=imp.arch,
                      arch_kwargs=imp.arch_kwargs, direction="AtoB",
                      description="Gives a modern photo a warm, faded vintage look (CycleGAN, ResNet-9).",
                      license="MIT", source="beingbetter11643/vintagify@6c5c163 G_A2B_epoch33.pth",
                      source_sha256=sha, trained_at=512)
    save_model(out / "model.safetensors", net, meta, fp16=True)
    shutil.copy(src_dir / "LICENSE", out / "LICENSE")
    # parity of the fp16 file against the original fp32 weights, and a before/after sample
    ck = load_checkpoint(out / "model.safetensors")
    net16 = build_model(ck.meta, ck.tensors)
    img = load_image(ROOT / "resources" / "samples" / "astronaut.png")
    dev = torch.device("cpu")
    a32 = Translator(net, dev).translate(img).image.rgb.astype(np.int16)
    b16 = Translator(net16, dev).translate(img).image.rgb.astype(np.int16)
    diff = np.abs(a32 - b16)
    print(f"fp16 file vs fp32 original on astronaut.png: max {diff.max()} / mean {diff.mean():.3f} (uint8 levels)")
    pair = np.hstack([img.rgb, b16.astype(np.uint8)])
    small = pair[::2, ::2]
    (out / "sample_before_after.jpg").write_bytes(encode_image(np.ascontiguousarray(small), None, ".jpg"))
    size_mb = (out / "model.safetensors").stat().st_size / 1e6
    print(f"wrote {out} ({count_params(net):,} params, {size_mb:.1f} MB)")


if __name__ == "__main__":
    main()
