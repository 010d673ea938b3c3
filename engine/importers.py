"""Importers for foreign checkpoint formats. The only place that reads ``.pth`` files, always with
``torch.load(weights_only=True)``: tensors and plain containers only, never arbitrary pickled objects.

Each importer returns an :class:`ImportedModel`: the architecture name and kwargs to build it with, and a state dict
with the project's key names. :func:`import_file` tries them in turn and says why none fits.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Optional

import torch

from .checkpoint import diff_state, mismatch_message
from .errors import CheckpointError
from .models import get_model
from .models.imported import ImportedModel
from .registry import IMPORTERS, register_importer


def safe_torch_load(path) -> Any:
    """``torch.load`` restricted to tensors and plain containers, with user-facing errors."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"Model file not found: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty (0 bytes).")
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(_load_failure(path, e)) from None


#: what torch's weights-only unpickler says (wording and case vary between versions) when a file holds objects
_OBJECT_MARKERS = ("unsupported global", "unsupported class")


def _load_failure(path: Path, e: BaseException) -> str:
    """One whole sentence for a file ``torch.load(weights_only=True)`` refused (torch's own text is long and
    multi-line; at most its first line, when short, is kept)."""
    text = str(e).strip()
    low = text.lower()
    if any(m in low for m in _OBJECT_MARKERS):
        return (f"{path} contains Python objects, not just weights; GAN Studio refuses to load it because "
                "unpickling can run arbitrary code.")
    first = text.splitlines()[0].strip().rstrip(".") if text else type(e).__name__
    detail = f" ({first})" if len(first) <= 120 else ""
    return f"{path} is not a readable PyTorch weight file{detail}; it may be damaged or in another format."


def _state_dict_of(obj: Any, path: Path) -> Dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in ("state_dict", "netG_state_dict", "model", "G", "generator", "g_ema", "params"):
            inner = obj.get(key)
            if isinstance(inner, dict) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
                return dict(inner)
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors:
            return tensors
    raise CheckpointError(f"{path} holds no weights GAN Studio recognises (expected a state dict of tensors).")


def clean_keys(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Strip DataParallel's ``module.`` and drop InstanceNorm running stats (as junyanz does on load)."""
    out = {}
    for k, v in state.items():
        k = k[7:] if k.startswith("module.") else k
        out[k] = v
    return out


# ------------------------------------------------------------------------------------------------------------
# junyanz ResNet / U-Net generators (and vintagify, which renames conv_block -> block and uses affine IN)

def _norm_of(state: Dict[str, torch.Tensor], prefix: str) -> str:
    """Norm type of the layer at ``prefix`` from which keys exist."""
    has_w = f"{prefix}.weight" in state
    has_rm = f"{prefix}.running_mean" in state
    if has_w and has_rm:
        return "batch"
    if has_w:
        return "instance_affine"
    return "instance"


def _drop_instance_stats(state: Dict[str, torch.Tensor], norm: str) -> Dict[str, torch.Tensor]:
    if norm == "batch":
        return state
    return {k: v for k, v in state.items()
            if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}


@register_importer("junyanz_resnet")
def import_resnet(state: Dict[str, torch.Tensor]) -> Optional[ImportedModel]:
    state = {re.sub(r"\.block\.", ".conv_block.", k): v for k, v in state.items()}
    if "model.1.weight" not in state or not any(".conv_block." in k for k in state):
        return None
    blocks = sorted({int(m.group(1)) for k in state for m in [re.match(r"model\.(\d+)\.conv_block\.", k)] if m})
    n_blocks = len(blocks)
    first = state["model.1.weight"]
    ngf, input_nc = first.shape[0], first.shape[1]
    norm = _norm_of(state, "model.2")
    b0 = blocks[0]
    use_dropout = f"model.{b0}.conv_block.6.weight" in state and f"model.{b0}.conv_block.5.weight" not in state
    last_idx = max(int(k.split(".")[1]) for k in state if re.match(r"model\.\d+\.weight", k))
    output_nc = state[f"model.{last_idx}.weight"].shape[0]
    state = _drop_instance_stats(state, norm)
    kwargs = dict(input_nc=int(input_nc), output_nc=int(output_nc), ngf=int(ngf), norm=norm, use_dropout=use_dropout)
    if n_blocks in (6, 9):
        arch = f"resnet_{n_blocks}blocks"
    else:
        raise CheckpointError(f"ResNet generator with {n_blocks} blocks is not supported (6 or 9).")
    return ImportedModel(arch, kwargs, state, source_format="junyanz-resnet")


@register_importer("junyanz_unet")
def import_unet(state: Dict[str, torch.Tensor]) -> Optional[ImportedModel]:
    if "model.model.0.weight" not in state:
        return None
    # outermost: model.model.0 ; each nesting adds ".model.3" (downrelu, downconv, downnorm, submodule)
    num_downs = 0
    prefix = "model.model"
    while any(k.startswith(prefix + ".") for k in state):
        num_downs += 1
        prefix += ".1" if num_downs == 1 else ".3"
        prefix += ".model"
    first = state["model.model.0.weight"]
    ngf, input_nc = int(first.shape[0]), int(first.shape[1])
    out_w = [k for k in state if re.fullmatch(r"model\.model\.\d+\.weight", k) and state[k].dim() == 4]
    output_nc = int(state[max(out_w, key=lambda k: int(k.split(".")[2]))].shape[1])
    norm = _norm_of(state, "model.model.1.model.2")
    state = _drop_instance_stats(state, norm)
    if norm == "batch":  # checkpoints from torch < 0.4.1 have no num_batches_tracked (junyanz patches it the same way)
        for k in [k for k in state if k.endswith(".running_mean")]:
            state.setdefault(k[: -len("running_mean")] + "num_batches_tracked", torch.tensor(0, dtype=torch.long))
    if num_downs not in (7, 8):
        raise CheckpointError(f"U-Net with {num_downs} levels is not supported (unet_128 has 7, unet_256 has 8).")
    arch = "unet_256" if num_downs == 8 else "unet_128"
    kwargs = dict(input_nc=input_nc, output_nc=output_nc, ngf=ngf, norm=norm, use_dropout=True)
    return ImportedModel(arch, kwargs, state, family="pix2pix", source_format="junyanz-unet")


def import_state(state: Dict[str, torch.Tensor], origin: str = "the file") -> ImportedModel:
    state = clean_keys(state)  # importers register where their networks are defined (engine.models.dcgan)
    for name in IMPORTERS:
        got = IMPORTERS.get(name)(state)
        if got is None:
            continue
        net = get_model(got.arch, **got.arch_kwargs)
        missing, unexpected, shapes = diff_state(net.state_dict(), got.state)
        if missing or unexpected or shapes:
            raise CheckpointError(f"{origin} looks like a {got.arch} generator, but: "
                                  + mismatch_message("network", missing, unexpected, shapes))
        return got
    sample = ", ".join(list(state)[:4])
    raise CheckpointError(f"{origin} is not a generator GAN Studio can import (keys start {sample} ...). "
                          "Supported: junyanz CycleGAN/pix2pix generators (ResNet, U-Net), the vintagify "
                          "generator, DCGAN generators.")


def import_file(path) -> ImportedModel:
    path = Path(path)
    obj = safe_torch_load(path)
    return import_state(_state_dict_of(obj, path), origin=str(path))
