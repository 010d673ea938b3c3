"""A model as ``.safetensors`` plus its model card, for other GAN Studio users.

``DIR/<id>.safetensors`` is a GAN Studio model file (the same metadata the library reads, plus where it was exported
from) and ``DIR/<id>.md`` its card: the original card when the model has one, else one written from the metadata.
The library lists a folder of such files, and Import copies them into the user's models.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from .. import __version__
from ..checkpoint import load_checkpoint, save_checkpoint
from ..config import Config
from ..fsutil import slug
from ..outputs import check_output, write_output, write_output_text
from ..library import ModelInfo, ModelLibrary, build_model
from . import ExportError


@dataclass
class ModelExportConfig(Config):
    model: str = ""
    out_dir: str = ""
    direction: str = "AtoB"
    fp16: bool = False  # store floating weights as float16 (half the size)
    overwrite: bool = False  # replace an existing model file / card (--overwrite, or confirmed in the GUI)
    name: str = ""  # the file name without extension; "" = from the model's id


@dataclass
class ModelExport:
    path: Path
    card_path: Path
    size: int

    def message(self) -> str:
        return f"Wrote {self.path} ({self.size / 1e6:.1f} MB) and its model card {self.card_path.name}."


def file_stem(info) -> str:
    """The file name an exported model gets from its id (a run's ``@run`` and a file's ``file:`` left out)."""
    return slug(info.id.split("@")[0].replace("file:", ""), "model")


def export_model_task(cfg: ModelExportConfig, ctx, library: Optional[ModelLibrary] = None) -> ModelExport:
    if not cfg.out_dir:
        raise ExportError("Choose a folder to write the model to (--out DIR).")
    library = library or ModelLibrary()
    ctx.progress(0, 3, "Reading the model")
    info = library.resolve(cfg.model or None, direction=cfg.direction)
    out_dir = Path(cfg.out_dir).expanduser()
    name = slug(cfg.name, "model") if cfg.name else file_stem(info)
    dest, card = out_dir / f"{name}.safetensors", out_dir / f"{name}.md"
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file; choose a folder to write the model to.")
    policy = {"inputs": [p for p in (info.path, info.card) if p], "overwrite": cfg.overwrite}
    if dest.exists() and dest.resolve() == Path(info.path).resolve():
        raise ExportError(f"{dest} is the model file itself; choose another folder.")
    check_output(dest, what="model file", **policy)  # before any work
    check_output(card, what="model card", **policy)
    if "_imported_state" in info.meta:
        state, meta = info.meta["_imported_state"], {k: v for k, v in info.meta.items() if not k.startswith("_")}
    else:
        ckpt = load_checkpoint(info.path)
        state, meta = ckpt.tensors, dict(ckpt.meta)
    ctx.progress(1, 3, "Checking the weights")
    build_model(meta, state, what=f"model {info.name!r} ({info.path})")  # never ship a file that would not load
    ctx.check_cancel()
    meta["exported"] = {"from": str(info.path), "source": info.source, "by": f"ganstudio {__version__}",
                        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    ctx.progress(2, 3, f"Writing {dest.name}")
    write_output(dest, lambda tmp: save_checkpoint(tmp, state, meta, dtype=torch.float16 if cfg.fp16 else None),
                 what="model file", **policy)
    write_output_text(card, model_card_text(info), what="model card", **policy)
    ctx.progress(3, 3, "Done")
    return ModelExport(dest, card, dest.stat().st_size)


def model_card_text(info: ModelInfo) -> str:
    """The model's own card, or one written from its metadata."""
    if info.card is not None and info.card.is_file():
        return info.card.read_text(encoding="utf-8", errors="replace")
    meta = info.meta or {}
    rows = [("id", info.id), ("family", info.family), ("task", info.task), ("direction", info.direction),
            ("architecture", f"`{meta.get('arch', '')}` {meta.get('arch_kwargs') or {}}"),
            ("written by", meta.get("created_with", "")), ("created", meta.get("created_at", "")),
            ("training step", meta.get("step", "")), ("imported from", meta.get("imported_from", ""))]
    lines = [f"# {info.name}", "", info.description or "No description was recorded for this model.", "",
             "| field | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in rows if v not in (None, "")]
    if meta.get("config"):
        lines += ["", "Training configuration is stored in the file's metadata (`config`)."]
    lines += ["", "Licence and training data: not recorded. Ask whoever trained the model before you share it."]
    return "\n".join(lines) + "\n"
