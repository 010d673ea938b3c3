"""A model on a test folder: translate the inputs (e.g. testA) with a library model and write PNGs to compare with
the real target folder (e.g. testB). PNG is lossless, so the metrics equal what the model produced in memory."""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any, List, Tuple

from ..errors import DataError
from ..fsutil import user_cache_dir

MARKER = ".ganstudio-eval-outputs"


def generated_dir(model_id: str, inputs) -> Path:
    tag = hashlib.sha256("\0".join(map(str, inputs)).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", model_id).strip("-") or "model"
    return user_cache_dir() / "metrics" / "generated" / f"{slug}-{tag}"


def _prepare_out(out: Path, owned: bool) -> None:
    """Empty a folder we made before; refuse to write into a user folder that already holds images."""
    if out.exists() and (out / MARKER).exists():
        shutil.rmtree(out)
    elif out.exists() and any(out.iterdir()):
        if owned:
            shutil.rmtree(out)
        else:
            raise DataError(f"{out} is not empty. Choose an empty or new folder for the translated images, so "
                            "they are not mixed with other files.")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("images written by GAN Studio's evaluation; the folder is replaced on the next run\n")


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
    summary = translate_task(job, ctx, library)
    if not summary.translated:
        raise DataError(f"No images to translate in {', '.join(map(str, cfg.inputs))}.")
    return out, info.name, [(str(p), r) for p, r in summary.skipped]
