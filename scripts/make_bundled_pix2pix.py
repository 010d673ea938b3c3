"""Ship the sketch-to-face-photo and sketch-to-anime pix2pix models trained with GAN Studio's own trainer.

    python scripts/make_bundled_pix2pix.py sketch2face  --run runs/sketch2face  [--shared ../shared]
    python scripts/make_bundled_pix2pix.py sketch2anime --run runs/sketch2anime [--shared ../shared]

Reads the run's exported generator (``models/G.safetensors``, which carries what the Draw page needs: input kind,
sketch style, size, batch-norm mode), writes it in fp16 to ``resources/models/<id>/model.safetensors``, then tests
the fp16 file on the face2genshin test split the run did not see (testA for faces, testB for anime): each test image
is turned into a sketch with the training style, translated, and compared with the real image: L1 and KID/FID
(engine.metrics; numbers only). Writes the model-card picture, ``training.json`` and ``MODEL_CARD.md``.

No photo of a real person from the data set is shipped: the picture's sketches come from
``resources/samples/astronaut.png`` (NASA, public domain) and from test-split game art (shown small).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bundle_util import (ROOT, gap_scores, grid, kid_text, shipped_finished, test_files, test_image, to_t,  # noqa: E402
                          to_u8)

from engine.checkpoint import load_checkpoint  # noqa: E402
from engine.imageio import encode_image, load_image, resize_to  # noqa: E402
from engine.library import ModelLibrary, build_model, save_model  # noqa: E402
from engine.models.networks import count_params  # noqa: E402
from engine.sketch import make_sketch, style_from_meta  # noqa: E402

HARDWARE = "2-core shared CPU (AMD EPYC, no GPU), 1 torch thread, nice 19, 128 px"
WHAT = {
    "sketch2face": dict(name="Sketch → face photo (CPU preview)", split="testA", data="trainA",
                        target="face photo", data_desc="400 face photos (trainA)"),
    "sketch2anime": dict(name="Sketch → anime portrait (CPU preview)", split="testB", data="trainB",
                         target="anime portrait", data_desc="400 Genshin Impact portraits (trainB)"),
}


@torch.no_grad()
def test_split(net, style, folder: Path, size: int) -> dict:
    """L1 and KID/FID of the results for the test split's sketches against the real test images, with the floor
    (the training split's images, same N) and the ceiling (the sketches themselves) and the share of the gap closed."""
    reals, sketches, fakes, l1 = [], [], [], []
    for p in test_files(folder):
        real = test_image(p, size)
        sketches.append(make_sketch(real, style))
        fake = to_u8(net(to_t(sketches[-1])))
        reals.append(real)
        fakes.append(fake)
        l1.append(float(np.abs(fake.astype(np.float32) - real.astype(np.float32)).mean() / 127.5))
    s = gap_scores(reals, sketches, fakes, folder, size)
    return dict(s["model"], floor_fid=s["floor"]["fid"], ceiling_fid=s["ceiling"]["fid"],
                split=folder.name, images=len(reals), l1=round(float(np.mean(l1)), 4))


@torch.no_grad()
def picture(net, style, art_folder: Path, size: int) -> np.ndarray:
    astro = resize_to(load_image(ROOT / "resources" / "samples" / "astronaut.png").rgb[10:250, 130:370], (size, size))
    rows = []
    for img in [astro] + [test_image(p, size) for p in test_files(art_folder)[:3]]:
        sk = make_sketch(img, style)
        rows.append([img, sk, to_u8(net(to_t(sk)))])
    return grid(rows)


def history(bundled: Path, from_bundled: bool, runs: list, this_run: dict) -> list:
    """The training before this run: the bundled model's record (``--from-bundled``), then each earlier run. When the
    bundled model is this run already (the script run again), its own history is kept, not added to itself."""
    out = []
    if from_bundled:
        old = json.loads((bundled / "training.json").read_text())
        if all(old.get(k) == this_run[k] for k in ("step", "train_hours", "planned_steps")):
            return old.get("history", [])
        out += old.get("history", []) + [{"what": f"bundled {bundled.name} ({old.get('hardware', '')})",
                                          "steps": old["step"], "hours": old["train_hours"]}]
    for r in runs:
        st = json.loads((r / "status.json").read_text())
        out.append({"what": f"run {r.name}", "steps": int(st.get("checkpoint_step") or st.get("step") or 0),
                    "hours": round(float(st.get("train_seconds", 0.0)) / 3600, 2)})
    return out


def total_steps(i: dict) -> int:
    """This run's steps and those of the fine-tuning chain before it."""
    return i["step"] + sum(x["steps"] for x in i.get("history") or [])


def _history_text(i: dict) -> str:
    h = i.get("history") or []
    if not h:
        return ""
    steps = total_steps(i)
    hours = sum(x["hours"] for x in h) + i["train_hours"]
    parts = "; ".join(f"{x['what']}: {x['steps']} steps, {x['hours']} h" for x in h)
    return (f" — fine-tuned from earlier training ({parts}); in all {steps} steps and {hours:.2f} h, each stage "
            "starting from the one before with a fresh discriminator")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("id", choices=sorted(WHAT))
    ap.add_argument("--run", required=True)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--hardware", default=HARDWARE, help="what the run was trained on, for the card")
    ap.add_argument("--after", nargs="*", default=[], metavar="RUN",
                    help="earlier runs of a fine-tuning chain, oldest first (RUN started from the last of them)")
    ap.add_argument("--from-bundled", action="store_true",
                    help="the chain started from the bundled model: its training record is carried over")
    a = ap.parse_args()
    w, run = WHAT[a.id], Path(a.run)
    src = load_checkpoint(run / "models" / "G.safetensors")
    meta, status = dict(src.meta), json.loads((run / "status.json").read_text())
    cfg = json.loads((run / "config.json").read_text())
    size = int(meta["image_size"])
    net = build_model(meta, src.state_dict(), what=f"generator of {run}")
    info = {"step": int(meta["training"]["step"]), "planned_steps": int(cfg["steps"]),
            "train_hours": round(float(status.get("train_seconds", 0.0)) / 3600, 2), "image_size": size,
            "generator": meta["arch"], "ngf": meta["arch_kwargs"]["ngf"], "ndf": cfg["ndf"],
            "params": count_params(net), "batch": cfg["batch_size"], "lr": cfg["lr"], "gan_loss": cfg["gan_loss"],
            "lambda_l1": cfg["lambda_l1"], "ema": cfg.get("ema_decay") or 0, "sketch_style": meta["sketch"]["style"],
            "lr_policy": cfg.get("lr_policy", "linear"), "hardware": a.hardware}
    out = ROOT / "resources" / "models" / a.id
    info["history"] = history(out, a.from_bundled, [Path(r) for r in a.after], info)
    out.mkdir(parents=True, exist_ok=True)
    meta["model"] = dict(meta["model"], id=a.id, name=w["name"],
                         description=f"Sketch to {w['target']}, pix2pix trained by GAN Studio on CPU at {size} px "
                                     f"({total_steps(info)} steps); a preview until a GPU re-training.")
    meta["training"] = shipped_finished({k: v for k, v in meta["training"].items()
                                         if k not in ("run", "data", "data_b")})
    meta["license"] = "none (trained on unlicensed data; see MODEL_CARD.md)"
    save_model(out / "model.safetensors", net, {k: v for k, v in meta.items() if not k.startswith("format")
                                                 and k not in ("created_with", "created_at")}, fp16=True)
    lib = ModelLibrary(bundled=out.parent, user=out / "_none", runs=out / "_none")
    shipped = lib.load(lib.resolve(a.id)).module.float().eval()
    style = style_from_meta(meta)
    data = Path(a.shared) / "datasets" / "face2genshin"
    info["test"] = test_split(shipped, style, data / w["split"], size)
    (out / "sample_sketch_result.jpg").write_bytes(encode_image(picture(shipped, style, data / "testB", size), None,
                                                                ".jpg"))
    (out / "training.json").write_text(json.dumps(info, indent=1) + "\n")
    (out / "MODEL_CARD.md").write_text(card(a.id, w, info), encoding="utf-8")
    print(json.dumps(info, indent=1))


def _steps_text(i: dict) -> str:
    if i["step"] >= i["planned_steps"]:
        return f"{i['step']} of {i['planned_steps']}"
    return f"{i['step']} (stopped there; the run was set up for {i['planned_steps']})"


def _lr_text(i: dict) -> str:
    """The learning-rate schedule in words (older training.json files have no ``lr_policy``: linear)."""
    policy = i.get("lr_policy", "linear")
    words = {"linear": "constant then linear decay", "constant": "constant learning rate"}
    return words.get(policy, f"{policy} schedule")


def card(mid: str, w: dict, i: dict) -> str:
    t = i["test"]
    fid = f"FID {t['fid']}" if "fid" in t else "FID not reported (too few images)"
    return f"""# {w['name'].replace(' (CPU preview)', '')} (`{mid}`) — CPU preview

Turns a line sketch into a {w['target']}: draw on the **Draw** page (the result follows your strokes) or translate
sketches on the Translate page. Trained with GAN Studio's own pix2pix trainer (`ganstudio train pix2pix
--paired-format sketch`): the sketches were made automatically from the training images with the
`{i['sketch_style']}` style of `engine.sketch` (the Draw page's *Sketch from photo* uses the same style). **This is a
preview trained on a CPU at {i['image_size']} px; re-train it at 256 px on a GPU session** (command below).

![sketch / result](sample_sketch_result.jpg)

*Each row: source image, its automatic sketch, the model's result. Row 1: `resources/samples/astronaut.png` (NASA,
public domain). Rows 2-4: three portraits from the face2genshin **test split** (Genshin Impact game art, unlicensed;
shown small as a model-card illustration). No photo of a real person from the data set is shipped.*

| field | value |
| --- | --- |
| task | paired image-to-image translation: sketch ({i['sketch_style']}) → {w['target']} |
| family | pix2pix (Isola et al. 2017): U-Net generator with skips and dropout, conditional 70x70 PatchGAN (6 channels, ndf {i['ndf']}), {i['gan_loss']} GAN loss + L1 × {i['lambda_l1']:g} |
| architecture | `{i['generator']}`, ngf {i['ngf']}, batch norm (eval mode at inference); {i['params']:,} parameters |
| file | `model.safetensors` (id `{mid}`), fp16 weights |
| training data | face2genshin subset (`../shared/datasets/face2genshin/{w['data']}`: {w['data_desc']}, 256x256), sketches made on the fly |
| data licence | **none.** The images were scraped from the web (photos of real people; game art © miHoYo/HoYoverse); the source repository grants no licence. The data is used for training and tests only and is never shipped. Models trained on it carry that uncertainty: use them for evaluation, not in a product. |
| steps | {_steps_text(i)} (batch {i['batch']}, Adam {i['lr']} β1 0.5, {_lr_text(i)}{f"; the saved generator is the EMA ({i['ema']}) of its weights" if i.get('ema') else ""}) |
| wall time | {i['train_hours']} h of training{_history_text(i)} |
| hardware | {i['hardware']} |
| test split ({t['split']}, {t['images']} images, sketches → results vs the real images, fp16 file) | L1 {t['l1']} in [-1, 1] units; KID × 1000 = {kid_text(t)}; {fid} ({t['extractor']}, N = {t['n_real']}; FID at this N is biased upwards, compare KID) |
| share of the FID gap closed | **{t['gap_closed']:.0%}**: the sketches themselves score FID {t['ceiling_fid']} against the real test images (the ceiling), the training split's real images {t['floor_fid']} (the floor, same N) |

## Re-train on a GPU (planned)

```
ganstudio train pix2pix --data ../shared/datasets/face2genshin/{w['data']} --paired-format sketch \\
    --out runs/{mid}-gpu --preset standard
python scripts/make_bundled_pix2pix.py {mid} --run runs/{mid}-gpu
```

## Limits

- Undertrained preview: blurry, with colour blotches; it follows the sketch's layout more than its details.
- Works best with sketches like the training ones: clean dark lines on white, a frontal face filling the canvas.
- {i['image_size']} px canvas: larger inputs are resized to it.
"""


if __name__ == "__main__":
    main()
