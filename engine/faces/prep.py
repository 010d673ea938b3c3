"""Face-crop data preparation: detect the faces of a folder of photos, crop each with a margin, rotate it so the eyes
are level, and write the crops to a separate prepared folder (never into or over the user's folder).

Used by ``ganstudio faces prep IN OUT`` and by the trainers' ``face_crop`` option (into a cache folder keyed by the
input files and the settings, so a second run reuses the crops). A manifest (``.ganstudio-faces.json``, hidden from
the image scanners) is written last: a folder with the manifest of the same key is complete and is reused; a
half-written one (cancelled) is redone.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch

from ..config import Config, check
from ..errors import DataError, ImageLoadError
from ..fsutil import atomic_write_text, remove_listed, unique_path, user_cache_dir
from ..imageio import load_image, save_image
from ..imagescan import scan_inputs
from .align import align_face, warp_crop
from .detect import FaceDetector

MANIFEST = ".ganstudio-faces.json"
FORMAT = "ganstudio.face_crops"
FORMAT_VERSION = 1
BATCH = 8


@dataclass
class FacePrepConfig(Config):
    input: str = ""  # a folder of photos (searched recursively)
    out_dir: str = ""  # the prepared folder ("" = a cache folder for this input and these settings)
    size: int = 256  # crop side in px
    margin: float = 0.2  # the face box side grows by this fraction on each side
    all_faces: bool = False  # one crop per face; default: only the most probable face of each photo
    min_prob: float = 0.9
    device: str = "cpu"

    def validate(self) -> None:
        check(bool(self.input), "choose a folder of photos to prepare")
        check(16 <= self.size <= 2048, "face crop size must be between 16 and 2048 px")
        check(0.0 <= self.margin <= 1.0, "face crop margin must be between 0 and 1 (a fraction of the face size)")
        check(0.0 <= self.min_prob < 1.0, "min face probability must be in [0, 1)")


@dataclass
class FacePrepResult:
    input: Path
    out_dir: Path
    images: int = 0  # readable photos
    found: int = 0  # photos with at least one face
    crops: int = 0  # files written
    no_face: List[Path] = field(default_factory=list)
    unreadable: List[Tuple[Path, str]] = field(default_factory=list)
    reused: bool = False

    @property
    def found_fraction(self) -> float:
        return self.found / self.images if self.images else 0.0

    def message(self) -> str:
        msg = (f"Faces found in {self.found} of {self.images} image{'s' if self.images != 1 else ''} of "
               f"{self.input}; {self.crops} crop{'s' if self.crops != 1 else ''} in {self.out_dir}")
        if self.unreadable:
            msg += f"; {len(self.unreadable)} unreadable file{'s' if len(self.unreadable) != 1 else ''} skipped"
        return msg + (" (reused from an earlier run)" if self.reused else "")

    def to_dict(self) -> Dict[str, Any]:
        return {"input": str(self.input), "out_dir": str(self.out_dir), "images": self.images, "found": self.found,
                "crops": self.crops, "no_face": [str(p) for p in self.no_face],
                "unreadable": [{"file": str(p), "reason": r} for p, r in self.unreadable]}


def _key(cfg: FacePrepConfig, files: List[Path]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({"size": cfg.size, "margin": cfg.margin, "all": cfg.all_faces, "p": cfg.min_prob,
                         "v": FORMAT_VERSION}, sort_keys=True).encode())
    for f in files:
        st = f.stat()
        h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:24]


def cache_folder(input_dir: Path, cfg: FacePrepConfig) -> Path:
    tag = hashlib.sha256(f"{input_dir.resolve()}|{cfg.size}|{cfg.margin}|{cfg.all_faces}".encode()).hexdigest()[:16]
    return user_cache_dir() / "face_crops" / f"{input_dir.name or 'folder'}-{tag}"


def _check_folders(cfg: FacePrepConfig) -> Tuple[Path, Path]:
    src = Path(cfg.input).expanduser()
    if not src.is_dir():
        raise DataError(f"{src} is not a folder of photos." if src.exists() else f"Folder {src} does not exist.")
    out = Path(cfg.out_dir).expanduser() if cfg.out_dir else cache_folder(src, cfg)
    rs, ro = src.resolve(), out.resolve()
    if ro == rs or rs in ro.parents:
        raise DataError(f"The prepared folder {out} is inside the photo folder {src}; choose a folder outside it "
                        "(face crops are never written among your photos).")
    if ro in rs.parents:
        raise DataError(f"The prepared folder {out} contains the photo folder {src}; choose a separate folder.")
    if out.is_dir() and not (out / MANIFEST).exists() and any(out.iterdir()):
        raise DataError(f"{out} already holds other files; choose an empty or new folder for the face crops (it "
                        "is never written over).")
    return src, out


def _reuse(out: Path, key: str, src: Path) -> Optional[FacePrepResult]:
    try:
        m = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if m.get("format") != FORMAT or m.get("key") != key:
        return None
    return FacePrepResult(src, out, m["images"], m["found"], m["crops"], [Path(p) for p in m["no_face"]],
                          [(Path(u["file"]), u["reason"]) for u in m["unreadable"]], reused=True)


def _clear(out: Path) -> None:
    """Remove exactly the crops an earlier face prep listed in its manifest (anything else in the folder stays; no
    entry of the manifest is trusted: see :func:`remove_listed`)."""
    remove_listed(out, out / MANIFEST)
    (out / MANIFEST).unlink()


def prepare_faces(cfg: FacePrepConfig, ctx, detector: Optional[FaceDetector] = None) -> FacePrepResult:
    """The job task: crops every face photo of ``cfg.input`` into ``cfg.out_dir``; see :class:`FacePrepResult`."""
    cfg.validate()
    src, out = _check_folders(cfg)
    scan = scan_inputs([src])
    if not scan.files:
        raise DataError(f"Folder {src} has no images to find faces in ({scan.summary()}).")
    key = _key(cfg, scan.files)
    reused = _reuse(out, key, src)
    if reused is not None:
        return reused
    if (out / MANIFEST).exists():
        _clear(out)
    out.mkdir(parents=True, exist_ok=True)
    if detector is None:
        from .detect import DetectOptions

        detector = FaceDetector(torch.device(cfg.device), DetectOptions(min_prob=cfg.min_prob))
    res = FacePrepResult(src, out, unreadable=list(scan.skipped))
    taken: set = set()
    written: List[str] = []
    files = scan.files
    for start in range(0, len(files), BATCH):
        ctx.check_cancel()
        batch = []
        for p in files[start:start + BATCH]:
            try:
                batch.append((p, load_image(p).to_uint8()))
            except ImageLoadError as e:
                res.unreadable.append((p, e.reason))
        found = detector.detect([im.rgb for _, im in batch]) if batch else []
        for (p, im), faces in zip(batch, found):
            res.images += 1
            if not faces:
                res.no_face.append(p)
                continue
            res.found += 1
            for j, face in enumerate(faces if cfg.all_faces else faces[:1]):
                rel = p.relative_to(src).with_suffix("")
                name = f"{rel}_face{j + 1}.png" if cfg.all_faces else f"{rel}.png"
                dest = unique_path(out / name, taken)
                taken.add(str(dest))
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest = save_image(dest, warp_crop(im.rgb, align_face(face, cfg.size, cfg.margin)))
                written.append(dest.relative_to(out).as_posix())
                res.crops += 1
        done = min(start + BATCH, len(files))
        ctx.progress(done, len(files), f"Finding faces: {done} / {len(files)} photos, {res.found} with a face")
    atomic_write_text(out / MANIFEST, json.dumps(dict(format=FORMAT, format_version=FORMAT_VERSION, key=key,
                                                      files=written, **res.to_dict()), indent=1))
    return res


def require_faces(res: FacePrepResult, what: str, min_fraction: float = 0.5) -> None:
    """DataError unless faces were found in at least ``min_fraction`` of the readable photos (before training)."""
    if res.images == 0 or res.found_fraction < min_fraction:
        raise DataError(f"Faces were found in only {res.found} of {res.images} readable images of {what} "
                        f"({res.input}); face crop needs a folder of face photos (at least "
                        f"{min_fraction:.0%} with a face). Turn face crop off or choose another folder."
                        + (f" {len(res.unreadable)} files could not be read." if res.unreadable else ""))


def prepared_for_training(folder: Path, what: str, size: int, margin: float, ctx) -> FacePrepResult:
    """The trainers' ``face_crop``: cached crops of ``folder`` at the training size, checked before any training."""
    res = prepare_faces(FacePrepConfig(input=str(folder), size=size, margin=margin), ctx)
    require_faces(res, what)
    return res


def mark_face_model(meta: Dict[str, Any], margin: float, size: int) -> Dict[str, Any]:
    """A model's metadata with ``input: face`` (and the crop margin and size) for a translate model whose input was
    face-cropped."""
    model = dict(meta.get("model") or {})
    if model.get("task", "translate") != "translate" or model.get("direction", "") not in ("", "AtoB"):
        return meta
    model.update(input="face", face_margin=float(margin), face_size=int(size))
    return dict(meta, model=model)
