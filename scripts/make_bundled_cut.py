"""Ship face2anime / anime2face from two one-sided CUT/FastCUT runs (photos -> anime, anime -> photos).

    python scripts/make_bundled_cut.py --a2b runs/face2anime-fastcut --b2a runs/anime2face-fastcut [--force]

Reads each run's exported model (``models/G.safetensors``: the EMA generator when the run kept one), measures FID and
KID on the face2genshin test split at the training size together with the floor (real target vs other real target
images, same N) and the ceiling (untranslated inputs vs real target), so each score reads as the share of the gap
closed, and compares face2anime with the model bundled now. It replaces the bundled pair only when the new
face2anime closes more of the gap (or with ``--force``), writing fp16 files, the card picture and MODEL_CARD.md to
resources/models/face2anime/. The picture never shows a photo of a real person from the data set.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bundle_util import gap_scores, grid, test_files, test_image, to_t, to_u8  # noqa: E402

from engine.checkpoint import load_checkpoint  # noqa: E402
from engine.imageio import encode_image, load_image, resize_to  # noqa: E402
from engine.library import ModelLibrary, build_model, model_meta, save_model  # noqa: E402
from engine.models.networks import count_params  # noqa: E402
from engine.training.runs import RunFolder  # noqa: E402

OUT = ROOT / "resources" / "models" / "face2anime"
FACE_MARGIN = 0.03  # face2genshin photos are tight face crops (see make_bundled_face2anime.py)
HARDWARE = "2-core shared CPU (AMD EPYC, no GPU), 1 torch thread per run, nice 19"


def load_run(run: Path):
    rf = RunFolder(run)
    ck = load_checkpoint(rf.models / "G.safetensors")
    net = build_model(ck.meta, ck.state_dict(), what=f"the generator of {run}").float().eval()
    cfg = json.loads(rf.config_path.read_text(encoding="utf-8"))
    st = rf.read_status()
    losses = [r for r in rf.read_metrics() if "lr" in r]
    facts = {"step": int((ck.meta.get("training") or {}).get("step") or st.get("checkpoint_step", 0)),
             "planned_steps": int(st.get("total", 0)), "train_hours": round(float(st.get("train_seconds", 0)) / 3600, 2),
             "last_losses": {k: round(float(v), 4) for k, v in (losses[-1] if losses else {}).items()
                             if k in ("G", "D", "NCE", "G_gan")}}
    return net, cfg, facts, ck.meta


@torch.no_grad()
def scores(G, source: Path, target: Path, size: int) -> dict:
    """FID/KID of G(source test) vs target test, with the floor and ceiling at the same N and the gap closed."""
    real = [test_image(p, size) for p in test_files(target)]
    inputs = [test_image(p, size) for p in test_files(source)]
    fake = [to_u8(G(to_t(x))) for x in inputs]
    return gap_scores(real, inputs, fake, target, size)


@torch.no_grad()
def picture(fA, fB, test_b: Path, size: int) -> np.ndarray:
    astro = load_image(ROOT / "resources" / "samples" / "astronaut.png").rgb[10:250, 130:370]
    rows = [(resize_to(astro, (size, size)), fA)] + [(test_image(p, size), fB) for p in test_files(test_b)[:3]]
    return grid([[img, to_u8(G(to_t(img)))] for img, G in rows])


def bundled_gap(data: Path, size: int) -> float:
    """The share of the gap the bundled face2anime closes now, measured the same way (-inf when there is none)."""
    lib = ModelLibrary(bundled=OUT.parent, user=OUT / "_none", runs=OUT / "_none")
    try:
        net = lib.load(lib.resolve("face2anime")).module.float().eval()
    except Exception:  # noqa: BLE001 - no bundled model yet
        return float("-inf")
    return scores(net, data / "testA", data / "testB", size)["model"]["gap_closed"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--a2b", required=True, help="run folder of the face -> anime run")
    ap.add_argument("--b2a", required=True, help="run folder of the anime -> face run")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--hardware", default=HARDWARE)
    ap.add_argument("--force", action="store_true", help="replace the bundled pair even if it scores better")
    a = ap.parse_args()
    data = Path(a.shared) / "datasets" / "face2genshin"
    (fA, cfgA, factsA, metaA), (fB, cfgB, factsB, metaB) = load_run(Path(a.a2b)), load_run(Path(a.b2a))
    size = int(cfgA["image_size"])
    test = {"face2anime": scores(fA, data / "testA", data / "testB", size),
            "anime2face": scores(fB, data / "testB", data / "testA", size)}
    new_gap, old_gap = test["face2anime"]["model"]["gap_closed"], bundled_gap(data, size)
    print(json.dumps({"new": test, "bundled_gap_closed": old_gap}, indent=1))
    if new_gap <= old_gap and not a.force:
        raise SystemExit(f"not replacing: the bundled face2anime closes {old_gap:.1%} of the gap, the new one "
                         f"{new_gap:.1%} (use --force to replace anyway)")
    info = {"image_size": size, "hardware": a.hardware, "test_scores": test,
            "face2anime": dict(factsA, mode=cfgA["mode"], recipe=(metaA.get("training") or {}).get("recipe")),
            "anime2face": dict(factsB, mode=cfgB["mode"], recipe=(metaB.get("training") or {}).get("recipe")),
            "generator": cfgA["generator"], "ngf": cfgA["ngf"], "ndf": cfgA["ndf"], "params": count_params(fA)}
    OUT.mkdir(parents=True, exist_ok=True)
    for old in ("G_A2B.safetensors", "G_B2A.safetensors"):
        (OUT / old).unlink(missing_ok=True)
    common = dict(family="cut", task="translate", arch=metaA["arch"], arch_kwargs=metaA["arch_kwargs"],
                  license="none (trained on unlicensed data; see MODEL_CARD.md)", trained_at=size)
    save_model(OUT / "G_A2B.safetensors", fA, model_meta(
        id="face2anime", name="Face photo → anime", direction="AtoB", input="face", face_margin=FACE_MARGIN,
        description=f"Face photo to anime portrait, FastCUT trained by GAN Studio at {size} px "
                    f"({factsA['step']} steps).", training=info["face2anime"], **common), fp16=True)
    save_model(OUT / "G_B2A.safetensors", fB, model_meta(
        id="anime2face", name="Anime → face photo", direction="BtoA",
        description=f"Anime portrait to face photo, FastCUT trained by GAN Studio at {size} px "
                    f"({factsB['step']} steps).", training=info["anime2face"], **common), fp16=True)
    lib = ModelLibrary(bundled=OUT.parent, user=OUT / "_none", runs=OUT / "_none")
    fA16 = lib.load(lib.resolve("face2anime")).module.float()
    fB16 = lib.load(lib.resolve("anime2face")).module.float()
    (OUT / "sample_before_after.jpg").write_bytes(encode_image(picture(fA16, fB16, data / "testB", size), None, ".jpg"))
    (OUT / "training.json").write_text(json.dumps(info, indent=1) + "\n")
    (OUT / "MODEL_CARD.md").write_text(card(info), encoding="utf-8")


def score_row(name: str, s: dict) -> str:
    m, lo, hi = s["model"], s["floor"], s["ceiling"]
    return (f"| `{name}` | {m['fid']} | {m.get('kid_x1000', 'n/a')} | {lo['fid']} | {hi['fid']} | "
            f"{m['gap_closed'] * 100:.0f}% | {m['n_fake']} vs {m['n_real']} |")


def card(i: dict) -> str:
    a, b = i["face2anime"], i["anime2face"]
    return f"""# Face photo ↔ anime portrait (`face2anime`, `anime2face`)

Turns a face photo into an anime-style portrait (`face2anime`) and back (`anime2face`). Two one-sided models trained
with GAN Studio's FastCUT trainer (`ganstudio train cut --mode fastcut`, Park et al. 2020) with DiffAugment and an EMA
generator, on a CPU at {i['image_size']} px. In face mode (the default for `face2anime`) the faces of any photo are
found, translated at the model's size and blended back.

![before / after](sample_before_after.jpg)

*Row 1: `resources/samples/astronaut.png` (NASA, public domain) → anime. Rows 2-4: three portraits from the
face2genshin **test split** (Genshin Impact game art, unlicensed; shown small as a model-card illustration) → photo.
No photo of a real person from the data set is shipped.*

| field | value |
| --- | --- |
| family | FastCUT: one anti-aliased `{i['generator']}` generator (ngf {i['ngf']}, {i['params']:,} parameters), a 70x70 PatchGAN (ndf {i['ndf']}), LSGAN, PatchNCE (λ 10, 5 layers, 256 patches), flip equivariance |
| recipe | {a['recipe']} |
| training data | face2genshin subset (`../shared/datasets/face2genshin`: trainA 400 face photos, trainB 400 Genshin Impact portraits) |
| data licence | **none.** Photos of real people scraped from the web and game art © miHoYo/HoYoverse; no licence is granted. Used for training and tests only, never shipped. Use these models for evaluation, not in a product. |
| face2anime | {a['step']} steps of {a['planned_steps']}, {a['train_hours']} h |
| anime2face | {b['step']} steps of {b['planned_steps']}, {b['train_hours']} h |
| hardware | {i['hardware']} |

Test split at {i['image_size']} px (TF-Inception FID features; FID is biased upwards at this N, KID beside it):

| model | FID | KID×1000 | floor (real vs real) | ceiling (untranslated) | gap closed | N |
| --- | --- | --- | --- | --- | --- | --- |
{score_row('face2anime', i['test_scores']['face2anime'])}
{score_row('anime2face', i['test_scores']['anime2face'])}

## Continue the runs

The compact resume states are in `scripts/training_state/` (fp16 weights, see its README):

```
ganstudio runstate unpack scripts/training_state/face2anime-fastcut.safetensors runs/face2anime-fastcut \\
    --a ../shared/datasets/face2genshin/trainA --b ../shared/datasets/face2genshin/trainB
nice -n 19 ganstudio train cut --resume runs/face2anime-fastcut
python scripts/make_bundled_cut.py --a2b runs/face2anime-fastcut --b2a runs/anime2face-fastcut
```

## Limits

- Trained on tightly cropped, frontal faces at {i['image_size']} px; use face mode for other photos.
- One-sided models: `anime2face` is its own run, not the inverse of `face2anime`.
"""


if __name__ == "__main__":
    main()
