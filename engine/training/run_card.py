"""The model card of a model exported by a training run, generated from the run itself.

Every checkpoint writes ``RUN/models/NAME.md`` beside ``NAME.safetensors`` (the library shows it as the model's card):
what the model does, whether it is finished or partial ("partial, step 114 of 2000"), the data it learned from, the
recipe, the last losses and where the run lives, so a cancelled run is never mistaken for a finished model.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Optional

from ..fsutil import atomic_write_text
from ..library import partial_text, training_progress


def card_markdown(meta: Dict[str, Any], *, train_seconds: float = 0.0, losses: Optional[Dict[str, float]] = None,
                  config: Optional[Dict[str, Any]] = None) -> str:
    m = meta.get("model") or {}
    tr = meta.get("training") or {}
    cfg = config or {}
    step, total = training_progress(meta) or (0, 0)
    partial = partial_text(meta)
    lines = [f"# {m.get('name') or m.get('id', 'model')}", ""]
    if partial:
        lines += [f"**Status: {partial}.** The run stopped before its planned length, so this model is an early "
                  "version: expect weaker, less consistent results than a finished run. Resume the run on the Train "
                  "page to finish it.", ""]
    else:
        lines += [f"**Status: finished, {total} steps.**", ""]
    lines += [m.get("description", ""), "", "## Training", "",
              f"- Family: {m.get('family', '?')}, direction {m.get('direction') or '–'}",
              f"- Steps: {step} of {total}" + (f" ({train_seconds / 60:.1f} min of training)" if train_seconds else ""),
              f"- Image size: {tr.get('image_size', cfg.get('image_size', '?'))} px, batch "
              f"{cfg.get('batch_size', '?')}, learning rate {cfg.get('lr', '?')}",
              f"- Architecture: {meta.get('arch', '?')} {meta.get('arch_kwargs') or ''}".rstrip()]
    for key in ("data_a", "data_b"):
        if tr.get(key):
            lines.append(f"- Folder {key[-1].upper()}: {tr[key]}")
    if losses:
        lines.append("- Last losses: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(losses.items())
                                                   if isinstance(v, (int, float))))
    if tr.get("run"):
        lines.append(f"- Run folder: {tr['run']}")
    lines += [f"- Written: {time.strftime('%Y-%m-%d %H:%M')}", "", "## Licence and use", "",
              "Trained by you on your own folders: the model inherits the terms of those images. Check them before "
              "sharing the model or its outputs.", ""]
    return "\n".join(lines)


def write_run_card(model_path, meta: Dict[str, Any], **kw: Any) -> Path:
    """Write the card beside ``model_path`` (same name, ``.md``); atomic, like the model file."""
    dest = Path(model_path).with_suffix(".md")
    atomic_write_text(dest, card_markdown(meta, **kw))
    return dest
