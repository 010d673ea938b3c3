"""Compact resume states: a training run packed into one small file that can be committed and continued later on any
machine (``ganstudio runstate pack RUN FILE`` / ``ganstudio runstate unpack FILE RUN``).

The file is a safetensors checkpoint of the run's networks (generator, discriminator, EMA copy, PatchNCE head ...)
in fp16, with JSON metadata: kind ``resume_state``, ``resume_format`` ``ganstudio.resume`` and its version, the family, config, step and training
seconds. Optimiser moments, pools and RNG states are left out (they are several times the size of the weights);
Adam starts its moments afresh on unpacking, which costs a few steps of warm-up, not the run.

Unpacking writes a run folder whose ``checkpoints/latest.safetensors`` the trainer resumes as usual. Everything is
checked before anything is written: the format and its version, the family, every tensor (finite, float), and that
the target folder is new. So a state of another format is refused with a message and is never half-loaded.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, Optional

import torch

from ..checkpoint import load_checkpoint, save_checkpoint
from ..errors import CheckpointError, ConfigError, DataError
from ..fsutil import atomic_write_text, is_inside
from .runs import RunFolder

FORMAT = "ganstudio.resume"
VERSION = 1


def pack(run_dir, dest, *, fp16: bool = True) -> Path:
    """Pack the networks of ``run_dir``'s latest checkpoint into ``dest`` (fp16 by default)."""
    rf = RunFolder(run_dir)
    if not rf.latest.exists():
        raise DataError(f"{rf.root} has no checkpoint yet (checkpoints/latest.safetensors); nothing to pack.")
    if is_inside(Path(dest).expanduser(), rf.root):
        raise DataError(f"{dest} is inside the run folder {rf.root}: a resume state written there could replace the "
                        "run's own checkpoints or models. Pack it into a file outside the run folder.")
    ckpt = load_checkpoint(rf.latest)
    meta = ckpt.meta
    if meta.get("kind") != "training":
        raise CheckpointError(f"{rf.latest} is not a training checkpoint.")
    tensors = {k: (v.half() if fp16 and v.is_floating_point() else v)
               for k, v in ckpt.tensors.items() if k.startswith("net.")}
    _check_tensors(tensors, rf.latest)
    out = {"kind": "resume_state", "resume_format": FORMAT, "resume_version": VERSION, "family": meta.get("family"),
           "step": int(meta.get("step", 0)), "total": int(meta.get("total", 0)), "config": meta.get("config"),
           "train_seconds": float(meta.get("train_seconds", 0.0)), "last_losses": meta.get("last_losses") or {},
           "source_device": meta.get("device", "")}
    return save_checkpoint(Path(dest), tensors, out)


def read(path) -> Dict:
    """The checked metadata and tensors of a resume state; raises CheckpointError for any other format."""
    path = Path(path)
    ckpt = load_checkpoint(path)
    meta = ckpt.meta
    if meta.get("kind") != "resume_state" or meta.get("resume_format") != FORMAT:
        raise CheckpointError(f"{path} is not a GAN Studio resume state (it is a {meta.get('kind') or 'unknown'} "
                              "file); pack one from a run folder with 'ganstudio runstate pack RUN FILE'.")
    if meta.get("resume_version") != VERSION:
        raise CheckpointError(f"{path} is a resume state of format version {meta.get('resume_version')!r}; this "
                              f"version of GAN Studio reads version {VERSION} only. Nothing was unpacked.")
    from .core import discover_families

    family = str(meta.get("family") or "")
    if family not in discover_families():
        raise CheckpointError(f"{path} was packed from a {family!r} run, a training family this version does not "
                              "have. Nothing was unpacked.")
    if not isinstance(meta.get("config"), dict) or not ckpt.tensors:
        raise CheckpointError(f"{path} has no run configuration or no weights. Nothing was unpacked.")
    step, total = meta.get("step"), meta.get("total")
    if not (type(step) is int and type(total) is int and 0 <= step <= total and total >= 1):
        raise CheckpointError(f"{path} is damaged: its step {step!r} of {total!r} is not a step count. Nothing was "
                              "unpacked.")
    _check_tensors(ckpt.tensors, path)
    return {"meta": meta, "tensors": ckpt.tensors}


def unpack(path, run_dir, *, data_a: Optional[str] = None, data_b: Optional[str] = None,
           data: Optional[str] = None) -> RunFolder:
    """Make ``run_dir`` (new) a run folder that resumes at the packed step; ``data_a``/``data_b`` (two-folder
    families) or ``data`` (one-folder families: StyleGAN, pix2pix, ...) point the run at this machine's copies of its
    folders."""
    state = read(path)
    meta = state["meta"]
    rf = RunFolder(run_dir)
    if rf.root.exists() and (not rf.root.is_dir() or any(rf.root.iterdir())):
        raise DataError(f"{rf.root} already exists and is not empty (or not a folder); unpack into a new folder.")
    from .core import get_trainer
    from .runs import check_outside_data, is_data_field

    config = dict(meta["config"])
    for key, value in (("data_a", data_a), ("data_b", data_b), ("data", data)):
        if value:
            if key not in config:
                raise DataError(f"{path} was packed from a {meta['family']} run, which has no {key!r} folder; "
                                f"use {'--data' if 'data' in config else '--a and --b'} instead. Nothing was unpacked.")
            folder = Path(value).expanduser()
            if not folder.is_dir():
                raise DataError(f"The {key} folder {value} does not exist (or is not a folder). Nothing was unpacked.")
            config[key] = str(folder.resolve())
    for key, value in list(config.items()):  # an older pack may name its data relative to where it was trained
        if is_data_field(key) and isinstance(value, str) and value and not os.path.isabs(os.path.expanduser(value)):
            here = Path(value).expanduser()
            if not here.is_dir():
                flag = {"data_a": "--a", "data_b": "--b"}.get(key, "--data")
                raise DataError(f"{path} names its {key} folder by the relative path {value!r}, which is not a "
                                f"folder here; give this machine's copy with {flag}. Nothing was unpacked.")
            config[key] = str(here.resolve())  # fixed now: a later resume from another folder trains on the same
    config.update(out_dir=str(rf.root), resume_from="")
    try:  # validates before any write
        cfg = get_trainer(meta["family"]).config_cls.from_dict(config, strict=False)
    except ConfigError as e:
        raise DataError(f"{path} is damaged or was edited: its settings are not valid ({e}). Nothing was "
                        "unpacked.") from None
    check_outside_data(cfg, rf.root)  # its samples would become training data
    rf.prepare()
    atomic_write_text(rf.config_path, json.dumps(cfg.to_dict(), indent=2, sort_keys=True))
    tensors = {k: v.float() if v.is_floating_point() else v for k, v in state["tensors"].items()}
    save_checkpoint(rf.latest, tensors, {"kind": "training", "family": meta["family"], "step": meta["step"],
                                         "total": meta["total"], "config": cfg.to_dict(),
                                         "train_seconds": meta.get("train_seconds", 0.0), "best_score": None,
                                         "last_losses": meta.get("last_losses") or {}, "unpacked_from": str(path)})
    rf.write_status("cancelled", step=meta["step"], total=meta["total"], family=meta["family"],
                    name=cfg.name or rf.name, train_seconds=meta.get("train_seconds", 0.0),
                    checkpoint_step=meta["step"], message=f"Unpacked from {Path(path).name}; resume to continue.")
    return rf


def _check_tensors(tensors: Dict[str, torch.Tensor], path) -> None:
    for k, v in tensors.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise CheckpointError(f"{path} holds non-finite values in {k}; it cannot be used to resume.")
