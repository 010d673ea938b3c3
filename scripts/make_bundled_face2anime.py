"""Ship the face-photo <-> anime-portrait CycleGAN trained with GAN Studio's own trainer.

    python scripts/make_bundled_face2anime.py --run runs/face2anime [--shared ../shared]

Reads the run's latest checkpoint, writes both generators in fp16 to resources/models/face2anime/
(``G_A2B.safetensors`` id ``face2anime``, ``G_B2A.safetensors`` id ``anime2face``), measures the cycle-reconstruction
error on the whole face2genshin test split (numbers only), renders the model-card picture and writes MODEL_CARD.md.

The picture never contains a photo of a real person from the data set: the face -> anime row starts from
``resources/samples/astronaut.png`` (NASA, public domain); the anime -> face rows start from three testB portraits
(game art, unlicensed data, shown small as model-card illustration) and the card says so.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bundle_util import grid, kid_fid, kid_text, test_files, test_image, to_t, to_u8  # noqa: E402

from engine.checkpoint import load_checkpoint, load_into  # noqa: E402
from engine.imageio import encode_image, load_image, resize_to  # noqa: E402
from engine.library import build_model, model_meta, save_model  # noqa: E402
from engine.models.networks import count_params  # noqa: E402
from engine.models import get_model  # noqa: E402
from engine.training.runs import RunFolder  # noqa: E402

OUT = ROOT / "resources" / "models" / "face2anime"
#: face2genshin's photos are tight face crops: the image side is about 1.06x the MTCNN face box side (median over
#: testA), i.e. a margin of 0.03 of the box on each side; face mode crops photos the same way
FACE_MARGIN = 0.03
HARDWARE = "2-core shared CPU (AMD EPYC, no GPU), 1 torch thread, nice 19, 128 px"


def build(cfg, ckpt, name):
    net = get_model(cfg["generator"], ngf=cfg["ngf"], norm=cfg["norm"], use_dropout=cfg["use_dropout"])
    load_into(net, ckpt.state_dict(f"net.{name}"), what=f"{name} of the run")
    return net.eval()


def load_run(run: Path):
    """(config, G_A2B, G_B2A, facts) of a CycleGAN run folder: from its latest checkpoint when there is one, else from
    the generators it exported to ``models/`` with ``config.json``, ``status.json`` and ``metrics.jsonl`` (what
    ``scripts/gpu_session.sh`` brings back from a GPU session, without the large optimiser checkpoint)."""
    latest = run / "checkpoints" / "latest.safetensors"
    if latest.is_file():
        ckpt = load_checkpoint(latest)
        meta = ckpt.meta
        cfg = meta["config"]
        facts = {"step": int(meta["step"]), "total": int(meta["total"]),
                 "train_seconds": float(meta["train_seconds"]), "last_losses": dict(meta.get("last_losses") or {})}
        return cfg, build(cfg, ckpt, "G_A"), build(cfg, ckpt, "G_B"), facts
    rf = RunFolder(run)
    cfg = json.loads(rf.config_path.read_text(encoding="utf-8"))
    status = rf.read_status()
    nets, metas = [], []
    for name in ("G_A2B", "G_B2A"):
        ck = load_checkpoint(rf.models / f"{name}.safetensors")
        nets.append(build_model(ck.meta, ck.state_dict(), what=f"{name} of the run").float())
        metas.append(ck.meta)
    loss_records = [r for r in rf.read_metrics() if "lr" in r]  # not evaluation records, not a line cut by a crash
    skip = {"step", "time", "lr", "steps_per_s", "img_per_s", "gpu_mem_gib"}
    losses = {k: float(v) for k, v in (loss_records[-1] if loss_records else {}).items()
              if k not in skip and isinstance(v, (int, float))}
    step = int((metas[0].get("training") or {}).get("step") or status.get("checkpoint_step") or status.get("step", 0))
    facts = {"step": step, "total": int(status.get("total", step)),
             "train_seconds": float(status.get("train_seconds", 0.0)), "last_losses": losses}
    return cfg, nets[0], nets[1], facts


@torch.no_grad()
def cycle_error(G, F, folder: Path, size: int) -> dict:
    errs = []
    for p in test_files(folder):
        x = to_t(test_image(p, size))
        errs.append(float((F(G(x)) - x).abs().mean()))
    return {"images": len(errs), "cycle_l1": round(float(np.mean(errs)), 4)}


@torch.no_grad()
def picture(G_A, G_B, test_b: Path, size: int) -> np.ndarray:
    astro = load_image(ROOT / "resources" / "samples" / "astronaut.png").rgb[10:250, 130:370]
    rows = [(resize_to(astro, (size, size)), G_A, G_B)] + [(test_image(p, size), G_B, G_A)
                                                           for p in test_files(test_b)[:3]]
    tiles = []
    for img, fwd, back in rows:
        y = fwd(to_t(img))
        tiles.append([img, to_u8(y), to_u8(back(y))])
    return grid(tiles)


@torch.no_grad()
def test_kid(G, source: Path, target: Path, size: int) -> dict:
    """KID/FID of G(source test split) against the real target test split, both at the training size."""
    fakes = [to_u8(G(to_t(test_image(p, size)))) for p in test_files(source)]
    return kid_fid([test_image(p, size) for p in test_files(target)], fakes)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default=str(ROOT / "runs" / "face2anime"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--hardware", default=HARDWARE, help="what the run was trained on, for the card")
    a = ap.parse_args()
    run = Path(a.run)
    cfg, G_A, G_B, facts = load_run(run)
    data = Path(a.shared) / "datasets" / "face2genshin"
    size = int(cfg["image_size"])
    info = {"step": facts["step"], "planned_steps": facts["total"],
            "train_hours": round(facts["train_seconds"] / 3600, 2), "image_size": size,
            "generator": cfg["generator"], "ngf": cfg["ngf"], "ndf": cfg["ndf"], "params": count_params(G_A),
            "batch": cfg["batch_size"], "lr": cfg["lr"], "hardware": a.hardware,
            "last_losses": {k: round(v, 4) for k, v in facts["last_losses"].items()}}
    OUT.mkdir(parents=True, exist_ok=True)
    common = dict(family="cyclegan", task="translate", arch=cfg["generator"],
                  arch_kwargs={"ngf": cfg["ngf"], "norm": cfg["norm"], "use_dropout": cfg["use_dropout"]},
                  license="none (trained on unlicensed data; see MODEL_CARD.md)", trained_at=size,
                  training=info)
    save_model(OUT / "G_A2B.safetensors", G_A, model_meta(
        id="face2anime", name="Face photo → anime (CPU preview)", direction="AtoB", input="face",
        face_margin=FACE_MARGIN,
        description=f"Face photo to anime portrait, CycleGAN trained by GAN Studio on CPU at {size} px "
                    f"({info['step']} steps); a preview until a GPU re-training.", **common), fp16=True)
    save_model(OUT / "G_B2A.safetensors", G_B, model_meta(
        id="anime2face", name="Anime → face photo (CPU preview)", direction="BtoA",
        description=f"Anime portrait to face photo, the reverse generator of face2anime ({info['step']} steps).",
        **common), fp16=True)
    # evaluate the fp16 files as shipped (cast back to fp32 on CPU)
    from engine.library import ModelLibrary

    lib = ModelLibrary(bundled=OUT.parent, user=OUT / "_none", runs=OUT / "_none")
    fA = lib.load(lib.resolve("face2anime")).module.float()
    fB = lib.load(lib.resolve("anime2face")).module.float()
    info["test_cycle"] = {"A_to_B_to_A": cycle_error(fA, fB, data / "testA", size),
                          "B_to_A_to_B": cycle_error(fB, fA, data / "testB", size)}
    info["test_kid"] = {"face2anime": test_kid(fA, data / "testA", data / "testB", size),
                        "anime2face": test_kid(fB, data / "testB", data / "testA", size)}
    (OUT / "sample_before_after.jpg").write_bytes(encode_image(picture(fA, fB, data / "testB", size), None, ".jpg"))
    (OUT / "training.json").write_text(json.dumps(info, indent=1) + "\n")
    (OUT / "MODEL_CARD.md").write_text(card(info, cfg), encoding="utf-8")
    print(json.dumps(info, indent=1))


def kid_row(t: dict) -> str:
    def one(name, r):
        fid = f", FID {r['fid']}" if "fid" in r else ""
        return (f"`{name}`: KID × 1000 = {kid_text(r)}{fid} "
                f"(N = {r['n_fake']} translated vs {r['n_real']} real)")
    return "; ".join(one(k, v) for k, v in t.items()) + " — TF Inception FID features; FID at this N is biased upwards"


def card(i: dict, cfg: dict) -> str:
    tc = i["test_cycle"]
    return f"""# Face photo ↔ anime portrait (`face2anime`, `anime2face`) — CPU preview

Turns a face photo into an anime-style portrait (`face2anime`, A→B) and back (`anime2face`, B→A). Trained with GAN
Studio's own CycleGAN trainer (`ganstudio train cyclegan`). **This is a preview trained on a CPU at {i['image_size']} px;
it must be re-trained at 256 px on a GPU session** (the command is below). The MIT-licensed `vintagify` model stays
the first-launch default.

![before / after](sample_before_after.jpg)

*Each row: input, translation, translation back. Row 1: `resources/samples/astronaut.png` (NASA, public domain)
→ anime → photo. Rows 2-4: three portraits from the face2genshin **test split** (Genshin Impact game art, unlicensed;
shown small as a model-card illustration) → photo → anime. No photo of a real person from the data set is shipped.*

| field | value |
| --- | --- |
| task | unpaired image-to-image translation, both directions (A = face photo, B = anime portrait) |
| family | CycleGAN (Zhu et al. 2017): generators G_A2B + G_B2A, two 70x70 PatchGANs (ndf {i['ndf']}), LSGAN, cycle 10, identity 0.5, pool 50 |
| architecture | `{i['generator']}`, ngf {i['ngf']}, instance norm; {i['params']:,} parameters per generator |
| files | `G_A2B.safetensors` (id `face2anime`), `G_B2A.safetensors` (id `anime2face`); fp16 weights |
| input | `face2anime`: **face** (metadata `input: face`, `face_margin: {FACE_MARGIN}`): in a photo, each face is found, cropped like the training photos (eyes level, box side x {1 + 2 * FACE_MARGIN:.2f}), translated at the training size and blended back; whole-image mode stays available (Translate page checkbox, `ganstudio translate --no-faces`). `anime2face`: whole image |
| training data | face2genshin subset (`../shared/datasets/face2genshin`, trainA 400 face photos, trainB 400 Genshin Impact portraits, 256x256) |
| data licence | **none.** The images were scraped from the web (photos of real people, some apparently public figures; game art © miHoYo/HoYoverse); the source repository grants no licence. The data is used for training and tests only and is never shipped. Models trained on it carry that uncertainty: use them for evaluation, not in a product. |
| steps | {i['step']} of a planned {i['planned_steps']} (batch {i['batch']}, Adam {i['lr']} β1 0.5, constant then linear decay) |
| wall time | {i['train_hours']} h of training |
| hardware | {i['hardware']} |
| resolution | {i['image_size']} px (load {cfg['image_size'] * 286 // 256}, random crop {i['image_size']}, flips) |
| why this size | `resnet_6blocks` is junyanz's generator for 128 px (the 9-block ResNet targets 256 px), and a width of {i['ngf']} instead of 64 (a quarter of the FLOPs) bought about three times the epochs on a CPU shared with other work; more epochs matter more than width this early in CycleGAN training. |
| test split (numbers only) | cycle reconstruction L1 in [-1, 1] units, fp16 files: A→B→A {tc['A_to_B_to_A']['cycle_l1']} on {tc['A_to_B_to_A']['images']} testA images, B→A→B {tc['B_to_A_to_B']['cycle_l1']} on {tc['B_to_A_to_B']['images']} testB images |
| KID / FID (test split, fp16 files) | {kid_row(i['test_kid'])} |
| last training losses | {', '.join(f'{k} {v}' for k, v in i['last_losses'].items())} |

## Re-train on a GPU (planned)

```
ganstudio train cyclegan --a ../shared/datasets/face2genshin/trainA --b ../shared/datasets/face2genshin/trainB \\
    --out runs/face2anime-gpu --preset standard --name face2anime
python scripts/make_bundled_face2anime.py --run runs/face2anime-gpu
```

## Limits

- Undertrained preview: expect blurry outputs, colour casts and faces that only roughly follow the anime style.
- Trained on tightly cropped, frontal 256 px faces; other framings, several faces or full bodies translate poorly.
- Trained at {i['image_size']} px: larger inputs are translated at full resolution, but the learned features are that
  small, so downscale (Translate → max side {i['image_size'] * 2}) for the intended look.
"""


if __name__ == "__main__":
    main()
