"""Checkpoints: one ``.safetensors`` file of tensors plus JSON metadata. Never unpickles.

Metadata (stored under the safetensors header key ``ganstudio``)::

    {"format": "ganstudio.checkpoint", "format_version": 1, "created_with": "ganstudio 0.1.0",
     "kind": "model" | "training", "arch": ..., "arch_kwargs": {...}, "config": {...}, "step": N, "metrics": {...},
     "model": {name, family, task, description, ...}}

Saving writes a temp file, fsyncs it and renames it over the target, so a crash or a full disk leaves the previous
checkpoint intact. Loading says exactly what is wrong: missing file, not a safetensors file, a pickled ``.pth`` (use
an importer), a newer format, missing/unexpected keys and shape mismatches.

Nested training state (optimizer state dicts, RNG states, image pools) goes through :func:`flatten` /
:func:`unflatten`: tensors into the file, the rest into JSON.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch

from . import __version__
from .errors import CheckpointError
from .fsutil import atomic_path

FORMAT = "ganstudio.checkpoint"
FORMAT_VERSION = 1
META_KEY = "ganstudio"
#: metadata key of the SHA-256 of every tensor (name, dtype, shape, bytes), checked on load
CHECKSUM_KEY = "tensor_sha256"


@dataclass
class Checkpoint:
    tensors: Dict[str, torch.Tensor]
    meta: Dict[str, Any] = field(default_factory=dict)
    path: Optional[Path] = None

    def state_dict(self, prefix: str = "") -> Dict[str, torch.Tensor]:
        """Tensors under ``prefix.`` with the prefix stripped ('' returns all)."""
        if not prefix:
            return dict(self.tensors)
        p = prefix + "."
        return {k[len(p):]: v for k, v in self.tensors.items() if k.startswith(p)}

def save_checkpoint(path, tensors: Mapping[str, torch.Tensor], meta: Optional[Dict[str, Any]] = None, *,
                    dtype: Optional[torch.dtype] = None) -> Path:
    """Write ``tensors`` (+ meta) atomically. ``dtype`` casts floating tensors (e.g. fp16 for shipped models)."""
    from safetensors.torch import save_file

    path = Path(path)
    full = {"format": FORMAT, "format_version": FORMAT_VERSION, "created_with": f"ganstudio {__version__}",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    full.update(meta or {})
    out: Dict[str, torch.Tensor] = {}
    for k, v in tensors.items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"checkpoint entry {k!r} is not a tensor")
        t = v.detach()
        if dtype is not None and t.is_floating_point():
            t = t.to(dtype)
        out[k] = t.to("cpu").contiguous()
    _dedupe_storage(out)
    full[CHECKSUM_KEY] = tensor_digest(out)
    with atomic_path(path) as tmp:
        try:
            save_file(out, str(tmp), metadata={META_KEY: json.dumps(full, default=_json_default)})
        except Exception as e:  # noqa: BLE001 - safetensors reports I/O failures as its own error type
            if type(e).__name__ != "SafetensorError":
                raise
            raise _as_os_error(e, path) from None
    return path


def _as_os_error(e: BaseException, path: Path) -> OSError:
    """A safetensors I/O failure as the :class:`OSError` it wraps ("... (os error 28)"), so that callers say "the
    disk is full" and name the file instead of "SafetensorError"."""
    import errno
    import os
    import re

    m = re.search(r"os error (\d+)", str(e))
    code = int(m.group(1)) if m else errno.EIO
    return OSError(code, os.strerror(code), str(path))


def nonfinite_tensors(named: Iterable[Tuple[str, torch.Tensor]]) -> List[str]:
    """Names of floating tensors holding NaN or infinity."""
    return [k for k, v in named if v.is_floating_point() and v.numel() and not bool(torch.isfinite(v).all())]


def _dedupe_storage(d: Dict[str, torch.Tensor]) -> None:
    """safetensors refuses tensors sharing memory; clone the later ones."""
    seen = set()
    for k, v in d.items():
        key = (v.untyped_storage().data_ptr(), v.storage_offset()) if v.numel() else None
        if key in seen:
            d[k] = v.clone()
        elif key is not None:
            seen.add(key)


def _json_default(o: Any) -> Any:
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, (set, tuple)):
        return list(o)
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_meta(path) -> Dict[str, Any]:
    """The JSON metadata of a checkpoint without loading its tensors."""
    path = _existing(path)
    header = _read_header(path)
    return _parse_meta(path, header.get("__metadata__") or {})


def load_checkpoint(path, device: str = "cpu", *, verify: bool = True) -> Checkpoint:
    """Tensors + metadata. With ``verify`` the tensors must match the checksum written with them (files written
    before checksums existed have none and are accepted)."""
    from safetensors.torch import load_file

    path = _existing(path)
    header = _read_header(path)
    meta = _parse_meta(path, header.get("__metadata__") or {})
    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as e:
        raise CheckpointError(f"{path}: the file is damaged and cannot be read ({_short(e)}).") from None
    expected = meta.get(CHECKSUM_KEY) if verify else None
    if expected is not None and tensor_digest(tensors) != expected:
        raise CheckpointError(f"{path} is damaged: its weights do not match the checksum written with them (the "
                              "file was changed or corrupted after it was saved).")
    if str(device) != "cpu":
        tensors = {k: v.to(device) for k, v in tensors.items()}
    return Checkpoint(tensors, meta, path)


def tensor_digest(tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes (in name order)."""
    import hashlib

    h = hashlib.sha256()
    for k in sorted(tensors):
        t = tensors[k].detach().to("cpu").contiguous().reshape(-1)
        h.update(f"{k}|{t.dtype}|{tuple(tensors[k].shape)}|".encode("utf-8", "surrogateescape"))
        if t.numel():
            h.update(t.view(torch.uint8).numpy().data)
    return h.hexdigest()


def _existing(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"Model file not found: {path}")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a model file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty (0 bytes); the model file is damaged.")
    return path


def _read_header(path: Path) -> Dict[str, Any]:
    with open(path, "rb") as fh:
        head = fh.read(8)
        size = path.stat().st_size
        n = int.from_bytes(head, "little") if len(head) == 8 else 0
        plausible = 1 < n <= min(size - 8, 100 * 2**20)
        # a zip (torch >= 1.6) or a legacy pickle (protocol opcode 0x80); a safetensors header length whose low
        # byte happens to be 0x80 is plausible as a length, a pickle's first 8 bytes are not
        if head[:2] == b"PK" or (head[:1] == b"\x80" and not plausible):
            raise CheckpointError(f"{path} is a PyTorch pickle (.pth), not a GAN Studio model. "
                                  "Use Import (or `ganstudio import`) to convert it safely.")
        if len(head) < 8:
            raise CheckpointError(f"{path} is not a safetensors file (too short).")
        if not plausible:
            raise CheckpointError(f"{path} is not a safetensors model file (bad header).")
        raw = fh.read(n)
    try:
        header = _loads_bounded(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CheckpointError(f"{path} is not a safetensors model file (unreadable header).") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path} is not a safetensors model file (bad header).")
    end = 0
    for k, v in header.items():
        if k != "__metadata__" and isinstance(v, dict):
            offs = v.get("data_offsets")
            if not (isinstance(offs, list) and len(offs) == 2 and all(isinstance(o, int) and o >= 0 for o in offs)):
                raise CheckpointError(f"{path} is not a safetensors model file (bad offsets for {str(k)[:80]!r}).")
            end = max(end, offs[1])
    if 8 + n + end > size:
        raise CheckpointError(f"{path} is truncated ({size} bytes, {8 + n + end} expected); "
                              "the file was not completely written or copied.")
    return header


def _parse_meta(path: Path, md: Dict[str, str]) -> Dict[str, Any]:
    if not isinstance(md, dict):
        raise CheckpointError(f"{path} is not a safetensors model file (bad metadata).")
    raw = md.get(META_KEY)
    if raw is None:
        return {"format": "foreign", "format_version": 0, "foreign_metadata": dict(md)}
    if not isinstance(raw, str) or len(raw) > MAX_META_CHARS:
        raise CheckpointError(f"{path}: the GAN Studio metadata is damaged (not text, or over "
                              f"{MAX_META_CHARS // 2**20} MB).")
    try:
        meta = _loads_bounded(raw)
    except (ValueError, RecursionError) as e:
        raise CheckpointError(f"{path}: the GAN Studio metadata is damaged ({_short(e)}).") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: the GAN Studio metadata is damaged (not a JSON object).")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {str(meta.get('format'))[:80]!r}.")
    ver = meta.get("format_version", 0)
    if not isinstance(ver, int) or isinstance(ver, bool):
        raise CheckpointError(f"{path}: the GAN Studio metadata is damaged (format_version {str(ver)[:40]!r} is "
                              "not a number).")
    if ver > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer GAN Studio ({meta.get('created_with', '?')}, format "
                              f"{ver}); this version reads format {FORMAT_VERSION}. Please update GAN Studio.")
    return meta


#: bounds on what a file's JSON may make us parse
MAX_META_CHARS = 16 * 2**20
MAX_JSON_DEPTH = 64


def _loads_bounded(raw) -> Any:
    """``json.loads`` that refuses nesting deeper than :data:`MAX_JSON_DEPTH` (deep nesting is an attack on the
    recursion limit, never a real checkpoint). Raises ValueError or RecursionError."""
    obj = json.loads(raw)
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if d > MAX_JSON_DEPTH:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)
    return obj


def _short(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]


# ------------------------------------------------------------------------------------------------------------
# loading weights into modules with a precise report

def diff_state(expected: Mapping[str, torch.Tensor], given: Mapping[str, torch.Tensor]) -> Tuple[List[str], List[str],
                                                                                                List[str]]:
    missing = sorted(set(expected) - set(given))
    unexpected = sorted(set(given) - set(expected))
    shapes = [f"{k}: model {tuple(expected[k].shape)} vs file {tuple(given[k].shape)}"
              for k in sorted(set(expected) & set(given)) if tuple(expected[k].shape) != tuple(given[k].shape)]
    return missing, unexpected, shapes


def load_into(module: torch.nn.Module, state: Mapping[str, torch.Tensor], *, what: str = "model") -> None:
    """``load_state_dict(strict=True)`` with a message that lists exactly what differs."""
    expected = module.state_dict()
    missing, unexpected, shapes = diff_state(expected, state)
    if missing or unexpected or shapes:
        raise CheckpointError(mismatch_message(what, missing, unexpected, shapes))
    cast = {k: v.to(expected[k].dtype) if v.is_floating_point() else v for k, v in state.items()}
    module.load_state_dict(cast, strict=True)


def mismatch_message(what: str, missing: List[str], unexpected: List[str], shapes: List[str], limit: int = 6) -> str:
    parts = [f"The weights do not match the {what}."]

    def show(title: str, items: List[str]) -> None:
        if items:
            more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
            parts.append(f"{title} ({len(items)}): {', '.join(items[:limit])}{more}")

    show("Missing", missing)
    show("Unexpected", unexpected)
    show("Shape mismatch", shapes)
    return " ".join(parts)


# ------------------------------------------------------------------------------------------------------------
# nested state (optimizers, RNG, pools) <-> tensors + JSON

def flatten(obj: Any, prefix: str, tensors: Dict[str, torch.Tensor]) -> Any:
    """Replace every tensor inside ``obj`` (dicts, lists, tuples) by a reference, storing it in ``tensors``."""
    if isinstance(obj, torch.Tensor):
        tensors[prefix] = obj.detach().to("cpu")
        return {"__tensor__": prefix}
    if isinstance(obj, dict):
        keys = list(obj.keys())
        return {"__dict__": [[_key(k), flatten(obj[k], f"{prefix}.{i}", tensors)] for i, k in enumerate(keys)]}
    if isinstance(obj, (list, tuple)):
        items = [flatten(x, f"{prefix}.{i}", tensors) for i, x in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if isinstance(obj, (int, float, str, bool)) or obj is None:
        return obj
    if hasattr(obj, "tolist"):  # numpy arrays / scalars
        return {"__array__": obj.tolist(), "dtype": str(getattr(obj, "dtype", ""))}
    raise TypeError(f"cannot store {type(obj).__name__} at {prefix}")


def _key(k: Any) -> Any:
    if isinstance(k, (int, str)):
        return k
    raise TypeError(f"unsupported dict key type {type(k).__name__}")


def unflatten(obj: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__dict__" in obj:
            return {k: unflatten(v, tensors) for k, v in obj["__dict__"]}
        if "__tuple__" in obj:
            return tuple(unflatten(v, tensors) for v in obj["__tuple__"])
        if "__array__" in obj:
            import numpy as np

            return np.array(obj["__array__"], dtype=obj.get("dtype") or None)
        return {k: unflatten(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unflatten(v, tensors) for v in obj]
    return obj
