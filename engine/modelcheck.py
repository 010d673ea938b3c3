"""Checks on models before they are trusted or written: the metadata schema of a model file (a malformed file is one
problem naming its path, never a crash later) and a probe run that proves a model's output is finite."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import torch

from .errors import CheckpointError

_MODEL_TEXT = ("id", "name", "family", "task", "direction", "description")


def check_model_meta(path: Path, meta: Dict[str, Any]) -> None:
    """The schema of a model file's metadata: a bad file is one problem naming its path, never a crash later."""
    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"{path}: the model metadata is malformed ({what}).")

    m = meta.get("model", {})
    if not isinstance(m, dict):
        raise bad(f"'model' must be an object, not {type(m).__name__}")
    for k in _MODEL_TEXT:
        if m.get(k) is not None and not isinstance(m[k], str):
            raise bad(f"model.{k} must be text")
    if not isinstance(meta.get("arch", ""), str):
        raise bad("'arch' must be text")
    kwargs = meta.get("arch_kwargs", {})
    if kwargs is not None and not isinstance(kwargs, dict):
        raise bad("'arch_kwargs' must be an object")
    for k, v in (kwargs or {}).items():
        if not isinstance(v, (int, float, str, bool, list, type(None))):
            raise bad(f"arch_kwargs.{k} must be a number, text, true/false or a list")


def output_is_finite(module: torch.nn.Module, meta: Dict[str, Any]) -> bool:
    """Run the model once on a small input (translate: a 3-channel image; generate: one z). True if the output is
    finite, or if the model takes other inputs (then there is nothing to probe)."""
    from .models.networks import size_multiple

    task = (meta.get("model") or {}).get("task", "")
    try:
        p = next(module.parameters())
    except StopIteration:
        return True
    gen = torch.Generator().manual_seed(0)
    if task == "translate":
        side = max(32, size_multiple(module) * 2)
        x = torch.rand(1, 3, side, side, generator=gen) * 2 - 1
    elif task == "generate" and isinstance(getattr(module, "z_dim", None), int):
        x = torch.randn(1, module.z_dim, generator=gen)
    else:
        return True
    was = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(x.to(p.device, p.dtype))
    except Exception:  # noqa: BLE001 - a model with another calling convention is not probed
        return True
    finally:
        module.train(was)
    return not isinstance(out, torch.Tensor) or bool(torch.isfinite(out).all())
