"""Shared helpers of the scripts that package bundled models: a checked import of downloaded weights, tensors <->
images, test-split images at the training size, and KID/FID of generated images against the real test split
(engine.metrics, numbers only)."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.imageio import load_image  # noqa: E402
from engine.importers import import_file  # noqa: E402
from engine.training.data import crop_flip, prepare_image  # noqa: E402

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def portable_training(training: Dict, run: str = "") -> Dict:
    """A run's training record as it ships: no path of this machine (tests check every bundled file). Data folders
    become dataset/split (``face2genshin/trainA``) and the run is named by its folder name."""
    out = dict(training)
    for key in ("data", "data_a", "data_b"):
        if out.get(key):
            out[key] = "/".join(Path(out[key]).parts[-2:])
    if run or out.get("run"):
        out["run"] = run or Path(out["run"]).name
    return out


def shipped_finished(training: Dict) -> Dict:
    """A run's record for a snapshot shipped as finished, not as a partial model (a run stopped early on purpose):
    its plan is kept apart as ``planned_steps``, so the app does not list it as 'partial, step N of total'."""
    out = dict(training)
    if "total" in out:
        out["planned_steps"] = out.pop("total")
    return out


def import_checked(src: Path, sha256: str, bundle: str):
    """The downloaded checkpoint ``src`` through engine.importers, after checking its SHA-256 (any other file stops
    the script), and the folder of the bundled model ``bundle`` (made): ``(imported, its network, digest, folder)``."""
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    assert sha == sha256, f"unexpected checksum {sha}"
    imp = import_file(src)
    out = ROOT / "resources" / "models" / bundle
    out.mkdir(parents=True, exist_ok=True)
    return imp, imp.build(), sha, out


def to_t(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb.transpose(2, 0, 1).copy()).float()[None] / 127.5 - 1


def to_u8(t: torch.Tensor) -> np.ndarray:
    return ((t[0].float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()


def test_files(folder: Path) -> List[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def test_image(path: Path, size: int) -> np.ndarray:
    """A test image as the trainer sees it at ``size`` (resize, centre, no flip)."""
    rgb = load_image(path).to_uint8().rgb
    return crop_flip([prepare_image(rgb, "resize", size, size)], size, None)[0]


def grid(rows: List[List[np.ndarray]], gap: int = 4) -> np.ndarray:
    """Rows of equally sized RGB tiles separated by white gaps."""
    out = []
    for tiles in rows:
        line = []
        for t in tiles:
            line += [t, np.full((t.shape[0], gap, 3), 255, np.uint8)]
        out += [np.concatenate(line[:-1], 1), np.full((gap, sum(x.shape[1] for x in line[:-1]), 3), 255, np.uint8)]
    return np.concatenate(out[:-1], 0)


def kid_fid(real: List[np.ndarray], fake: List[np.ndarray]) -> Dict[str, float]:
    """KID (x1000, mean and std over subsets) and FID of generated images against real ones of the same size."""
    from engine.metrics import compute_metrics

    res = compute_metrics(np.stack(real), np.stack(fake), ("fid", "kid"), device="cpu", cache_real=False)
    out = {"n_real": int(res["n_real"]), "n_fake": int(res["n_fake"]), "extractor": res.get("extractor", "")}
    if "kid" in res:
        out["kid_x1000"] = round(1000 * float(res["kid"]), 2)
        std = float(res.get("kid_std", 0.0))
        if round(1000 * std, 2) > 0:  # 0 means one subset (all images): no spread to report
            out["kid_std_x1000"] = round(1000 * std, 2)
    if "fid" in res:
        out["fid"] = round(float(res["fid"]), 2)
    return out


def gap_scores(real: List[np.ndarray], inputs: List[np.ndarray], fake: List[np.ndarray], test_folder: Path,
               size: int) -> Dict[str, Dict[str, float]]:
    """KID/FID of the model's results against the real test images of ``test_folder`` (testA or testB), with the
    floor (the same domain's training split, trainA or trainB, same N) and the ceiling (the untranslated inputs), and
    the share of the ceiling-to-floor FID gap the model closes (``model["gap_closed"]``)."""
    train = test_folder.parent / ("train" + test_folder.name[-1])
    floor = kid_fid(real, [test_image(p, size) for p in test_files(train)[:len(real)]])
    ceiling = kid_fid(real, inputs)
    model = kid_fid(real, fake)
    model["gap_closed"] = round((ceiling["fid"] - model["fid"]) / max(1e-9, ceiling["fid"] - floor["fid"]), 3)
    return {"model": model, "floor": floor, "ceiling": ceiling}


def kid_text(r: Dict) -> str:
    """'248.1 ± 1.2' (subsets) or '248.1 (one subset of all images)'."""
    if "kid_x1000" not in r:
        return "n/a"
    if "kid_std_x1000" in r:
        return f"{r['kid_x1000']} ± {r['kid_std_x1000']}"
    return f"{r['kid_x1000']} (one subset of all images)"
