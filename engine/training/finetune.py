"""Fine-tuning start points: the model(s) ``--init`` names (a model id/name/file or a run folder), the partner of the
other direction, and the check that a start model matches the run's generator."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Tuple

from ..errors import CheckpointError, ConfigError
from ..library import ModelInfo, ModelLibrary
from .config import translate_generators


def _partner(lib: ModelLibrary, info: ModelInfo) -> Optional[ModelInfo]:
    """The model of the other direction next to ``info`` (same folder: a run's models/ or a bundled folder)."""
    want = {"AtoB": "BtoA", "BtoA": "AtoB"}.get(info.direction)
    if not want:
        return None
    for m in lib.list(task="translate"):
        if m.path.parent == info.path.parent and m.direction == want and m.path != info.path:
            return m
    return None


def resolve_init(ref: str, lib: Optional[ModelLibrary] = None) -> Tuple[ModelInfo, Optional[ModelInfo]]:
    """(A->B start, B->A start or None) for ``--init`` (model id/name/file or a run folder)."""
    lib = lib or ModelLibrary()
    if Path(ref).expanduser().is_dir():
        a2b = lib.resolve(ref, direction="AtoB")
        try:
            b2a = lib.resolve(ref, direction="BtoA")
        except Exception:  # noqa: BLE001 - a run folder with one direction only
            b2a = None
        b2a = b2a if b2a is not None and b2a.path != a2b.path else None
    else:
        a2b = lib.resolve(ref)
        b2a = _partner(lib, a2b)
        if a2b.direction == "BtoA" and b2a is not None:
            a2b, b2a = b2a, a2b
    for m in (a2b, b2a):
        if m is not None and m.task != "translate":
            raise CheckpointError(f"The model {m.name!r} is a {m.task or 'non-translation'} model, not an "
                                  "image-to-image generator; CycleGAN can only start from a translation model.")
    return a2b, b2a


def arch_of(info: ModelInfo) -> Dict[str, object]:
    kw = dict(info.meta.get("arch_kwargs") or {})
    return {"generator": info.arch, "ngf": int(kw.get("ngf", 64)), "norm": str(kw.get("norm", "instance")),
            "use_dropout": bool(kw.get("use_dropout", False)), "input_nc": int(kw.get("input_nc", 3)),
            "output_nc": int(kw.get("output_nc", 3))}


def check_init_arch(info: ModelInfo, cfg) -> None:
    got = arch_of(info)
    want = {"generator": cfg.generator, "ngf": cfg.ngf, "norm": cfg.norm, "use_dropout": cfg.use_dropout,
            "input_nc": 3, "output_nc": 3}
    diff = [k for k in want if got[k] != want[k]]
    if diff:
        raise CheckpointError(
            f"The init model {info.name!r} does not match this run's generator: "
            + ", ".join(f"{k} is {got[k]!r} in the model but {want[k]!r} here" for k in diff)
            + ". Use the model's architecture (leave the generator settings at their defaults, or set "
            + " ".join(f"--{k.replace('_', '-')} {got[k]}" for k in diff if k in ("generator", "ngf", "norm"))
            + "), or pick another model.")
    if got["generator"] not in translate_generators():
        raise ConfigError(f"The init model {info.name!r} uses {got['generator']}, which CycleGAN cannot train.")
