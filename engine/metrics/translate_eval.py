"""A model on a test folder: translate the inputs (e.g. testA) with a library model and write PNGs to compare with
the real target folder (e.g. testB). PNG is lossless, so the metrics equal what the model produced in memory."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, List, Tuple

from ..errors import DataError
from ..fsutil import atomic_write_text, remove_listed, slug, user_cache_dir

MARKER = ".ganstudio-eval-outputs"


def generated_dir(model_id: str, inputs) -> Path:
    tag = hashlib.sha256("\0".join(map(str, inputs)).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return user_cache_dir() / "metrics" / "generated" / f"{slug(model_id, 'model', lower=False)}-{tag}"


def _prepare_out(out: Path, owned: bool) -> None:
    """Empty the cache folder we own; in a folder the user chose, remove only the images an earlier evaluation
    listed as its own (:func:`remove_listed`), and refuse when anything else is there."""
    if owned:
        if out.exists():
            shutil.rmtree(out)
    elif out.is_dir():
        remove_listed(out, out / MARKER)
        others = sorted(p.name for p in out.iterdir() if p.name != MARKER)
        if others:
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            raise DataError(f"{out} holds files that GAN Studio's evaluation did not write ({shown}). Choose an "
                            "empty or new folder for the translated images: nothing in it is replaced.")
    out.mkdir(parents=True, exist_ok=True)


def _mark(out: Path, files: List[str]) -> None:
    atomic_write_text(out / MARKER, json.dumps({"about": "images written by GAN Studio's evaluation; the next "
                                                "evaluation into this folder replaces exactly these",
                                                "files": files}, indent=1))


def translate_for_eval(cfg: Any, ctx: Any, library: Any = None) -> Tuple[Path, str, List[Tuple[str, str]]]:
    """Translate ``cfg.inputs`` with ``cfg.model`` through the translate task (the same loading, batching and saving
    as ``ganstudio translate``), as PNGs into a folder of their own; returns (folder, model name, skipped inputs)."""
    from ..library import ModelLibrary
    from ..translate import TranslateConfig, translate_task

    library = library or ModelLibrary()
    info = library.resolve(cfg.model, direction=cfg.direction)
    if info.task != "translate":
        raise DataError(f"{info.name} is a {info.task} model; 'a model on a test folder' needs an image-to-image "
                        "(translate) model.")
    out = Path(cfg.out_dir) if cfg.out_dir else generated_dir(info.id, cfg.inputs)
    _prepare_out(out, owned=not cfg.out_dir)
    job = TranslateConfig(model=str(info.path), inputs=tuple(cfg.inputs), out_dir=str(out), ext=".png",
                          direction=cfg.direction, device=cfg.device, faces="off")
    try:
        summary = translate_task(job, ctx, library)
    finally:  # the folder held nothing else (see _prepare_out): what is in it now is ours, also after a cancel
        _mark(out, sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != MARKER))
    if not summary.translated:
        raise DataError(f"No images to translate in {', '.join(map(str, cfg.inputs))}.")
    return out, info.name, [(str(p), r) for p, r in summary.skipped]
