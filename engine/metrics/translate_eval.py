"""A model on a test folder: translate the inputs (e.g. testA) with a library model and write PNGs to compare with
the real target folder (e.g. testB). PNG is lossless, so the metrics equal what the model produced in memory."""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any, List, Tuple

from .. import devices
from ..errors import DataError, ImageLoadError
from ..fsutil import user_cache_dir
from ..imageio import load_image, save_image, scan_inputs
from ..inference import TranslateOptions, Translator

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
    """Translate ``cfg.inputs`` with ``cfg.model``; returns (output folder, model name, skipped inputs)."""
    from ..library import ModelLibrary

    library = library or ModelLibrary()
    info = library.resolve(cfg.model, direction=cfg.direction)
    if info.task != "translate":
        raise DataError(f"{info.name} is a {info.task} model; 'a model on a test folder' needs an image-to-image "
                        "(translate) model.")
    scan = scan_inputs(list(cfg.inputs))
    if not scan.files:
        raise DataError(f"No images to translate in {', '.join(map(str, cfg.inputs))}.")
    device = devices.pick_device(None if cfg.device == "auto" else cfg.device)
    translator = Translator(library.load(info, device).module, device, TranslateOptions())
    out = Path(cfg.out_dir) if cfg.out_dir else generated_dir(info.id, cfg.inputs)
    _prepare_out(out, owned=not cfg.out_dir)
    n = len(scan.files)
    skipped = [(str(p), r) for p, r in scan.skipped]
    bs = 1 if device.type == "cpu" else 8
    for start in range(0, n, bs):
        if ctx is not None:
            ctx.check_cancel()
            ctx.progress(start, n, f"Translating with {info.name}: {start} / {n}")
        batch = []
        for p in scan.files[start:start + bs]:
            try:
                batch.append((p, load_image(p).to_uint8()))
            except ImageLoadError as e:
                skipped.append((str(p), e.reason))
        for (p, _), res in zip(batch, translator.translate_many([im for _, im in batch])):
            save_image(out / f"{p.stem}.png", res.image.rgb, None)
    if ctx is not None:
        ctx.progress(n, n, f"Translated {n} images with {info.name}")
    return out, info.name, skipped
