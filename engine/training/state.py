"""Training state <-> one checkpoint file (``engine.checkpoint``: safetensors + JSON, atomic, never pickled).

Tensors: ``net.<name>.<param>`` for every network, and every tensor found inside the nested state (optimizer
moments, pool images, RNG states) under ``opt.*``, ``extra.*``, ``rng.*`` via :func:`engine.checkpoint.flatten`.
JSON metadata: kind ``training``, family, step, config, the nested structure, train seconds, best score.
"""
from __future__ import annotations

import random
from typing import Any, Dict, Tuple

import numpy as np
import torch

from ..checkpoint import Checkpoint, flatten, load_into, unflatten


def rng_state() -> Dict[str, Any]:
    st: Dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state(),
                          "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def set_rng_state(st: Dict[str, Any]) -> None:
    if "python" in st:
        v = st["python"]
        random.setstate((v[0], tuple(v[1]), v[2]))
    if "numpy" in st:
        v = list(st["numpy"])
        np.random.set_state((str(v[0]), np.asarray(v[1], dtype=np.uint32), int(v[2]), int(v[3]), float(v[4])))
    if "torch" in st:
        torch.set_rng_state(st["torch"].to(torch.uint8).cpu())
    if "cuda" in st and torch.cuda.is_available():
        states = [s.to(torch.uint8).cpu() for s in st["cuda"]]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)


def collect(trainer) -> Tuple[Dict[str, torch.Tensor], Dict[str, Any]]:
    tensors: Dict[str, torch.Tensor] = {}
    for name, net in trainer.nets.items():
        for k, v in net.state_dict().items():
            tensors[f"net.{name}.{k}"] = v
    nested = {
        "optimizers": {n: flatten(o.state_dict(), f"opt.{n}", tensors) for n, o in trainer.opts.items()},
        "schedulers": {n: s.state_dict() for n, s in trainer.scheds.items()},
        "extra": flatten(trainer.extra_state(), "extra", tensors),
        "rng": flatten(rng_state(), "rng", tensors),
    }
    if trainer.scaler is not None:
        nested["scaler"] = flatten(trainer.scaler.state_dict(), "scaler", tensors)
    return tensors, nested


def restore(trainer, ckpt: Checkpoint) -> None:
    meta, tensors = ckpt.meta, ckpt.tensors
    for name, net in trainer.nets.items():
        load_into(net, ckpt.state_dict(f"net.{name}"), what=f"network {name} saved in {ckpt.path}")
    for name, opt in trainer.opts.items():
        saved = (meta.get("optimizers") or {}).get(name)
        if saved is not None:
            try:
                opt.load_state_dict(unflatten(saved, tensors))
            except ValueError as e:  # e.g. parameter groups added since (a run from an older version)
                where = ckpt.path.name if ckpt.path else "the checkpoint"
                trainer.log(f"The optimiser state of {name} in {where} does not fit this version ({e}); the "
                            "networks are restored and Adam's moments start afresh.")
    for name, sched in trainer.scheds.items():
        saved = (meta.get("schedulers") or {}).get(name)
        if saved:
            sched.load_state_dict(saved)
    trainer.load_extra_state(unflatten(meta.get("extra") or {}, tensors))
    if trainer.scaler is not None and meta.get("scaler"):
        trainer.scaler.load_state_dict(unflatten(meta["scaler"], tensors))
    if meta.get("rng"):
        set_rng_state(unflatten(meta["rng"], tensors))
