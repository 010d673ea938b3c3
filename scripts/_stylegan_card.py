"""MODEL_CARD.md of the bundled StyleGAN, written from the facts ``make_bundled_latent.py stylegan`` measures."""
from __future__ import annotations

from typing import Any, Dict

HARDWARE = "2-core shared CPU (AMD EPYC, no GPU), 1 torch thread, nice 19"


def _metrics_row(m: Any) -> str:
    if not isinstance(m, dict):
        return "not measured (run the script with --metrics)"
    fid = f", FID {m['fid']:.1f}" if "fid" in m else ""
    if "diversity_ratio" in m:
        fid += (f"; diversity (mean pairwise Inception feature distance) {m['diversity_fake']:.2f} against "
                f"{m['diversity_real']:.2f} for the real photos, a ratio of {m['diversity_ratio']:.2f}")
    kid = f"KID × 1000 = {1000 * m['kid']:.1f}" if "kid" in m else "KID n/a"
    return (f"{kid}{fid} — {int(m.get('n_fake', 0))} generated (ψ = 1, seeds 100000+) vs {int(m.get('n_real', 0))} "
            f"real testA photos at 64 px, TF Inception FID features; FID at this N is biased upwards")


def _lrs(c: Dict[str, Any]) -> str:
    if c.get("g_lr") and c["g_lr"] != c["lr"]:
        return f"{c['g_lr']} for G and {c['lr']} for D (two time-scale updates)"
    return f"{c['lr']}"


def _growing(c: Dict[str, Any]) -> str:
    if not c.get("progressive"):
        return ""
    return (f"; progressive growing (ProGAN) from {c['start_res']} px: each next resolution fades in over "
            f"{c['phase_steps']} steps, then holds for {c['phase_steps']}")


def card(f: Dict[str, Any]) -> str:
    c = f["config"]
    hours = (f.get("train_seconds") or 0) / 3600
    return f"""# StyleGAN faces 64 px (`stylegan-faces64`) — CPU preview

An unconditional StyleGAN-style generator trained by GAN Studio's own trainer (`ganstudio train stylegan`): z → 8-layer
mapping network → w → synthesis from a learned constant with modulated convolutions, per-layer noise and ToRGB skips.
It is the Latent page's model for style mixing, noise and w / w+ editing (the DCGAN beside it has only z).
**It was trained on a CPU for {hours:.1f} h at 64 px: small, soft faces. A GPU session would re-train it at a higher
resolution** (below).

![32 seeds](samples.png)

*Seeds 0–31 in GAN Studio's seed convention, ψ = 0.7, fp16 file, shown at 2× (nearest).*

| field | value |
| --- | --- |
| task | `generate` (latent to image): z, w and w+ |
| architecture | StyleGAN-style, {c['image_size']} px, z {c['z_dim']}, w {c['w_dim']}, channels min({c['channel_base']} / res, {c['channel_max']}); {f['params']:,} parameters (EMA generator) |
| training | non-saturating logistic loss ({c['gan_loss']}), lazy R1 every {c['r1_every']} steps, style mixing p = {c['mixing_prob']}, DiffAugment `{c['diffaug']}`, EMA {c['ema_kimg']} kimg, Adam lr {_lrs(c)}{_growing(c)} |
| steps | {f['step']} steps of batch {f['batch']} ({f['images_seen']:,} images seen, ≈ {f['images_seen'] / 1000:.0f} kimg; StyleGAN's own runs use thousands of kimg) |
| wall time | {hours:.2f} h of training |
| hardware | {f.get('hardware') or HARDWARE} |
| file | `model.safetensors` (fp16; max difference to the fp32 weights on 16 random z: {f['fp16_max_diff_uint8']:.2f} uint8 levels) |
| training data | face2genshin trainA (`../shared/datasets/face2genshin/trainA`: 400 web-scraped face photos, 256x256, resized to {c['image_size']}) |
| data licence | **none.** Photos of real people scraped from the web; the source repository grants no licence. Used for training and tests only, never shipped. The model carries that uncertainty: use it for evaluation, not in a product. |
| quality (test split) | {_metrics_row(f.get('metrics'))} |

## Re-train on a GPU (planned)

```
ganstudio train stylegan --data ../shared/datasets/face2genshin/trainA --out runs/faces256 --preset standard
python scripts/make_bundled_latent.py stylegan --run runs/faces256 --metrics
```
"""
