"""Write the bundled generate-task models: the imported DCGAN face generator and the StyleGAN trained by GAN Studio.

    python scripts/make_bundled_latent.py dcgan [--shared ../shared]
    python scripts/make_bundled_latent.py stylegan --run RUN_DIR [--metrics]

``dcgan`` converts ``../shared/weights/dcgan_digiface1m_64/weights.tar`` (MIT) into
``resources/models/dcgan_faces/model.safetensors`` (fp16) with its LICENSE and a sample grid. ``stylegan`` copies the
EMA generator of a finished (or stopped) training run into ``resources/models/stylegan_faces64/`` (fp16) with a
sample grid and prints the facts for the model card (steps, training time, optional FID/KID through
``engine.metrics.compute_metrics`` when that module exists). It writes the StyleGAN's MODEL_CARD.md from what it measures.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.checkpoint import load_checkpoint  # noqa: E402
from engine.editing.latent import LatentModel  # noqa: E402
from engine.imageio import save_image  # noqa: E402
from engine.library import build_model, model_meta, save_model  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bundle_util import import_checked, portable_training, shipped_finished  # noqa: E402
from _stylegan_card import card  # noqa: E402

DCGAN_SHA = "0c3b90b138cfc4e8a73310b9fd5ce2a8f1f3a542a037de277412307fcd28771f"


def sample_grid(net: torch.nn.Module, psi: float, rows: int = 4, cols: int = 8, scale: int = 2) -> np.ndarray:
    """Seeds 0 .. rows*cols-1 through GAN Studio's seed convention, tiled, upscaled ``scale`` times (nearest)."""
    m = LatentModel(net.eval())
    codes = torch.stack([m.truncated(m.seed(s), psi) for s in range(rows * cols)])
    imgs = m.render_uint8(codes)
    h, w = imgs.shape[1:3]
    grid = imgs.reshape(rows, cols, h, w, 3).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, 3)
    return grid.repeat(scale, 0).repeat(scale, 1)


def fp16_parity(net: torch.nn.Module, path: Path) -> float:
    ck = load_checkpoint(path)
    net16 = build_model(ck.meta, ck.tensors)
    z = torch.randn(16, net.z_dim, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        a = ((net.eval()(z).clamp(-1, 1) + 1) * 127.5)
        b = ((net16(z).clamp(-1, 1) + 1) * 127.5)
    return float((a - b).abs().max())


def make_dcgan(shared: Path) -> None:
    src_dir = shared / "weights" / "dcgan_digiface1m_64"
    src = src_dir / "weights.tar"
    imp, net, sha, out = import_checked(src, DCGAN_SHA, "dcgan_faces")
    meta = model_meta(id="dcgan-faces", name="DCGAN faces (DigiFace-1M)", family="dcgan", task="generate",
                      arch=imp.arch, arch_kwargs=imp.arch_kwargs,
                      description="64 px synthetic faces from z (DCGAN); z-space only: seeds, interpolation in z, "
                                  "GANSpace/SeFa directions in z, projection into z.",
                      license="MIT", source="chien-liu/DCGAN-PyTorch@97bd810 gan_face_generate/weights.tar",
                      source_sha256=sha)
    save_model(out / "model.safetensors", net, meta, fp16=True)
    shutil.copy(src_dir / "LICENSE", out / "LICENSE")
    save_image(out / "samples.png", sample_grid(net, 1.0))
    print(json.dumps({"model": str(out / "model.safetensors"), "fp16_max_diff_uint8": fp16_parity(net, out /
                      "model.safetensors"), "params": sum(p.numel() for p in net.parameters())}, indent=2))


def make_stylegan(run: Path, with_metrics: bool, shared: Path, hardware: str = "") -> None:
    src = run / "models" / "G_ema.safetensors"
    ck = load_checkpoint(src)
    net = build_model(ck.meta, ck.tensors)
    status = json.loads((run / "status.json").read_text())
    cfg = json.loads((run / "config.json").read_text())
    step = int(ck.meta.get("training", {}).get("step", status.get("checkpoint_step", 0)))
    out = ROOT / "resources" / "models" / "stylegan_faces64"
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(ck.meta)
    meta["model"] = dict(meta["model"], id="stylegan-faces64", name="StyleGAN faces 64 px (CPU-trained)",
                         description=f"StyleGAN-style generator trained by GAN Studio on 400 face photos, {step} "
                                     "steps on a CPU; a low-resolution model that a GPU re-train would sharpen.")
    meta["training"] = shipped_finished(portable_training(meta.get("training", {}), run.name))
    meta["data_license"] = "none (face2genshin trainA has no licence; images not shipped)"
    save_model(out / "model.safetensors", net, meta, fp16=True)
    (out / "samples.png").unlink(missing_ok=True)  # save_image never overwrites: re-runs replace the picture
    save_image(out / "samples.png", sample_grid(net, 0.7))
    facts = {"model": str(out / "model.safetensors"), "hardware": hardware, "step": step, "train_seconds": status.get("train_seconds"),
             "batch": cfg.get("batch_size"), "images_seen": step * int(cfg.get("batch_size", 1)),
             "params": sum(p.numel() for p in net.parameters()), "fp16_max_diff_uint8":
             fp16_parity(net, out / "model.safetensors"), "config": {k: cfg[k] for k in (
                 "image_size", "z_dim", "w_dim", "channel_base", "channel_max", "gan_loss", "r1_every", "diffaug",
                 "mixing_prob", "ema_kimg", "lr", "progressive", "start_res", "phase_steps", "g_lr") if k in cfg}}
    if with_metrics:
        test = Path(cfg["data"]).parent / "testA"  # the split the run never saw
        if not test.is_dir():  # a run trained elsewhere (a GPU session): the same split in ../shared
            test = shared / "datasets" / "face2genshin" / "testA"
        facts["metrics"] = _metrics(net, test)
    (out / "MODEL_CARD.md").write_text(card(facts), encoding="utf-8")
    print(json.dumps(facts, indent=2))


def _metrics(net: torch.nn.Module, data: Path, n: int = 400):
    """FID/KID of n generated images (seeds 100000...) against up to n real images of ``data`` at 64 px."""
    try:
        from engine.metrics import compute_metrics  # type: ignore[attr-defined]
    except ImportError:
        return "pending: engine.metrics is not available on this branch"
    from engine.imageio import load_image, scan_inputs
    from engine.training.data import prepare_image

    real = np.stack([prepare_image(load_image(p).to_uint8().rgb, "resize", 64, 64)
                     for p in scan_inputs([data]).files[:n]])
    m = LatentModel(net.eval())
    seeds = range(100000, 100000 + n)
    fake = np.concatenate([m.render_uint8(torch.stack([m.seed(s).code for s in seeds[i:i + 50]]))
                           for i in range(0, n, 50)])
    res = compute_metrics(real, fake, ("fid", "kid", "diversity"), device="cpu", cache_real=False)
    return {k: (float(v) if isinstance(v, (int, float)) else v) for k, v in res.items() if k != "messages"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("dcgan", "stylegan"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--run", default="")
    ap.add_argument("--metrics", action="store_true")
    ap.add_argument("--hardware", default="", help="what the run was trained on, for the card (default: this CPU)")
    a = ap.parse_args()
    if a.what == "dcgan":
        make_dcgan(Path(a.shared))
    else:
        make_stylegan(Path(a.run), a.metrics, Path(a.shared), a.hardware)


if __name__ == "__main__":
    main()
