"""Parity between a torch module and its ONNX export: the same seeded inputs through both, compared on [-1, 1].

Translators get two batch sizes and, where H and W are dynamic, two shapes (one not square); generators get two
batch sizes and, where the graph takes a truncation psi, two psi values. A maximum absolute difference above the
tolerance raises :class:`ParityError` (the caller then writes nothing).
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List

import numpy as np
import torch
from torch import nn

from . import ExportError, ParityError

if TYPE_CHECKING:
    from .onnx import GraphSpec


def describe_error(e: BaseException) -> str:
    """The useful first lines of an exporter or runtime error (the summary of torch.export's long reports)."""
    text = str(e)
    m = re.search(r"## Exception summary\s+(.+?)(?:\n\n|$)", text, re.S)
    if m:
        text = m.group(1)
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " ".join(lines[:3])[:400] or type(e).__name__


def parity_cases(spec: "GraphSpec") -> List[Dict[str, np.ndarray]]:
    """Seeded inputs in [-1, 1] (images) or N(0, 1) (z): two batch sizes and, where dynamic, two shapes."""
    rng = np.random.default_rng(1234)
    if spec.task == "translate":
        m = spec.multiple
        a = max(spec.min_units, math.ceil(48 / m))
        if spec.dynamic_hw:
            shapes = [(2, 3, m * a, m * (a + 1)), (1, 3, m * a, m * a)]
        else:
            side = m * spec.example_units
            shapes = [(2, 3, side, side), (1, 3, side, side)]
        return [{"image": rng.uniform(-1, 1, s).astype(np.float32)} for s in shapes]
    cases = []
    for n, psi in ((2, spec.default_psi), (1, 1.0)):
        feeds = {"z": rng.standard_normal((n, spec.z_dim)).astype(np.float32)}
        if spec.psi_input:
            feeds["psi"] = np.array([psi], np.float32)
        cases.append(feeds)
    return cases


def parity_check(path: Path, wrapper: nn.Module, spec: "GraphSpec", tolerance: float, name: str) -> Dict[str, Any]:
    import onnxruntime as ort

    try:
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001
        raise ExportError(f"onnxruntime cannot load the exported {name}: {describe_error(e)}") from None
    results = []
    for feeds in parity_cases(spec):
        with torch.no_grad():
            ref = wrapper(*[torch.from_numpy(v) for v in feeds.values()]).float().numpy()
        got = sess.run(None, feeds)[0]
        shape = list(next(iter(feeds.values())).shape)
        if spec.task == "translate" and ref.shape[-2:] != tuple(shape[-2:]):
            raise ExportError(f"{name} changes the image size ({shape[-2:]} -> {list(ref.shape[-2:])}); "
                              "only same-size translators can be exported.")
        if got.shape != ref.shape:
            raise ParityError(f"The ONNX export of {name} gives outputs of shape {list(got.shape)} where torch gives "
                              f"{list(ref.shape)} for input {shape}; nothing was written.")
        diff = float(np.abs(got.astype(np.float64) - ref).max()) if np.isfinite(got).all() else float("inf")
        results.append({"input_shape": shape, "max_abs_diff": diff,
                        "mean_abs_diff": float(np.abs(got - ref).mean())})
        if diff > tolerance:
            raise ParityError(f"The ONNX export of {name} does not match the torch model: maximum absolute "
                              f"difference {diff:.3g} on [-1, 1] outputs for input {shape} (tolerance {tolerance:g}). "
                              "Nothing was written. Is the network random at inference (noise, dropout in train "
                              "mode)?")
    return {"max_abs_diff": max(r["max_abs_diff"] for r in results), "tolerance": tolerance,
            "runtime": f"onnxruntime {ort.__version__} (CPU)", "cases": results}
