"""Export any generator of the model library to ONNX, with a parity check against torch.

Two model families (the ``task`` in the model file):

- ``translate``: ``image`` (N, 3, H, W) in [-1, 1] -> ``image`` of the same size. Batch is dynamic; H and W are
  dynamic too, as multiples of the network's size multiple (4 for ResNet generators, ``2**num_downs`` for U-Nets),
  so a program using the file must pad and crop like :class:`engine.inference.Translator` (the card says how).
- ``generate``: ``z`` (N, z_dim) -> image. A generate module exposes an integer ``z_dim`` and ``forward(z)``; when
  its ``forward`` also takes ``truncation_psi`` (or ``psi``), the ONNX graph gets a second input ``psi`` of shape
  [1] (StyleGAN: mapping + truncation + synthesis in one graph); when it takes ``noise_mode``, ``"const"`` is
  exported so the output is deterministic.

Exporter: ``torch.onnx.export(dynamo=True)`` (``torch.export`` + onnxscript). It is torch's default and maintained
path; it proves the dynamic dimensions symbolically (a shape that would be baked into the graph is an error at
export time, not a silent wrong answer later) and it lets us declare H = multiple x k exactly. The deprecated
TorchScript exporter is kept as a fallback for modules ``torch.export`` cannot trace (``exporter="auto"``) and on
request (``exporter="torchscript"``); the card records which one wrote the file.

Parity: the same seeded inputs (two batch sizes, two shapes) run through torch and onnxruntime; a maximum absolute
difference above ``tolerance`` (1e-3 on [-1, 1] outputs) raises :class:`ParityError` and nothing is written.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import logging
import math
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn

from ..config import Config, check, check_choice
from ..outputs import check_output, write_output
from ..inference import MIN_SIDE
from ..jobs import span
from ..library import ModelInfo, ModelLibrary
from ..models.networks import size_multiple
from . import ExportError
from .card import build_card, embed_card, write_card_markdown
from .parity import describe_error as _reason
from .parity import parity_check

DEFAULT_OPSET = 18
PARITY_TOLERANCE = 1e-3
EXPORTERS = ("auto", "dynamo", "torchscript")
EXPORTABLE_TASKS = ("translate", "generate")
PSI_NAMES = ("truncation_psi", "psi")
DEFAULT_PSI = 0.7
MAX_SIDE = 16384


@dataclass
class OnnxExportConfig(Config):
    model: str = ""  # id, name, .safetensors/.pth file or run folder
    out: str = ""  # FILE.onnx
    direction: str = "AtoB"  # for run folders
    opset: int = DEFAULT_OPSET
    exporter: str = "auto"  # auto | dynamo | torchscript
    tolerance: float = PARITY_TOLERANCE
    psi: float = DEFAULT_PSI  # default truncation written to the card of generate models with a psi input
    card: bool = True  # also write FILE.md (the card is always inside the .onnx file)
    overwrite: bool = False  # replace existing FILE.onnx / FILE.md (--overwrite, or confirmed in the GUI)

    def validate(self) -> None:
        check_choice("exporter", self.exporter, EXPORTERS)
        check(18 <= self.opset <= 23, "opset must be between 18 and 23")
        check(0 < self.tolerance <= 0.1, "tolerance must be in (0, 0.1]")
        check(0.0 <= self.psi <= 2.0, "psi must be between 0 and 2")


@dataclass
class GraphSpec:
    """What goes in and out of the exported graph; becomes the ``io`` block of the card."""

    task: str
    multiple: int = 1
    z_dim: int = 0
    psi_name: str = ""  # keyword of the module's forward that takes the truncation psi
    const_noise: bool = False
    default_psi: float = DEFAULT_PSI
    dynamic_hw: bool = True
    psi_input: bool = False
    out_hw: Optional[Tuple[int, int]] = None

    @property
    def min_units(self) -> int:
        return max(1, math.ceil(MIN_SIDE / self.multiple))

    @property
    def example_units(self) -> int:
        return max(2, self.min_units, math.ceil(64 / self.multiple))

    @property
    def output_name(self) -> str:
        return "output" if self.task == "translate" else "image"

    @property
    def input_names(self) -> List[str]:
        if self.task == "translate":
            return ["image"]
        return ["z", "psi"] if self.psi_input else ["z"]

    def io_card(self) -> Dict[str, Any]:
        if self.task == "translate":
            side = self.multiple * self.example_units
            return {"task": "translate", "inputs": {"image": ["batch", 3, "height", "width"]},
                    "outputs": {"output": ["batch", 3, "height", "width"]}, "layout": "NCHW", "dtype": "float32",
                    "range": [-1.0, 1.0], "size_multiple": self.multiple, "min_side": MIN_SIDE,
                    "dynamic_batch": True, "dynamic_hw": self.dynamic_hw,
                    "fixed_size": None if self.dynamic_hw else [side, side],
                    "padding": "pad bottom/right to a multiple of size_multiple (at least min_side) with reflection "
                               "(replication where the image is smaller than the pad), run, crop back"}
        inputs: Dict[str, Any] = {"z": ["batch", self.z_dim]}
        if self.psi_input:
            inputs["psi"] = [1]
        h, w = self.out_hw or (0, 0)
        return {"task": "generate", "inputs": inputs, "outputs": {"image": ["batch", 3, h, w]}, "layout": "NCHW",
                "dtype": "float32", "range": [-1.0, 1.0], "z_dim": self.z_dim, "z_distribution": "standard normal",
                "dynamic_batch": True, "psi_input": "psi" if self.psi_input else None,
                "psi": self.default_psi if self.psi_name else None, "noise": "const" if self.const_noise else None}


@dataclass
class OnnxExport:
    path: Path
    card: Dict[str, Any]
    card_path: Optional[Path] = None
    seconds: float = 0.0
    notes: List[str] = field(default_factory=list)

    @property
    def parity(self) -> Dict[str, Any]:
        return self.card.get("parity", {})

    def message(self) -> str:
        e, mb = self.card["export"], self.path.stat().st_size / 1e6
        return (f"Exported {self.card['model'].get('name', '')} to {self.path} ({mb:.1f} MB, "
                f"{e['exporter']}, opset {e['opset']}); parity max |diff| {self.parity['max_abs_diff']:.1e} "
                f"(tolerance {self.parity['tolerance']:g}) in {self.seconds:.1f} s.")


class _Translate(nn.Module):
    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)


class _Generate(nn.Module):
    """``z`` (+ ``psi``) -> image, with a baked psi when ``fixed_psi`` is set and constant noise where offered."""

    def __init__(self, net: nn.Module, spec: GraphSpec, fixed_psi: Optional[float] = None):
        super().__init__()
        self.net, self.spec, self.fixed_psi = net, spec, fixed_psi

    def forward(self, z: torch.Tensor, psi: Optional[torch.Tensor] = None) -> torch.Tensor:
        kw: Dict[str, Any] = {}
        if self.spec.psi_name:
            kw[self.spec.psi_name] = self.fixed_psi if psi is None else psi
        if self.spec.const_noise:
            kw["noise_mode"] = "const"
        return self.net(z, **kw)


# ------------------------------------------------------------------------------------------------------------
# the task

def export_onnx_task(cfg: OnnxExportConfig, ctx, library: Optional[ModelLibrary] = None) -> OnnxExport:
    """Resolve ``cfg.model``, export it to ``cfg.out`` with a parity check, write the card beside it."""
    if not cfg.out:
        raise ExportError("Choose where to write the ONNX file (--out FILE.onnx).")
    out = Path(cfg.out).expanduser()
    if out.suffix.lower() != ".onnx":
        raise ExportError(f"The output file {out} should end in .onnx.")
    library = library or ModelLibrary()
    ctx.progress(0, 1, "Loading model")
    info = library.resolve(cfg.model or None, direction=cfg.direction)
    policy = {"inputs": [p for p in (info.path, info.card) if p], "overwrite": cfg.overwrite}
    check_output(out, what="ONNX file", **policy)  # before any work
    if cfg.card:
        check_output(out.with_suffix(".md"), what="model card", **policy)
    module = library.load(info, torch.device("cpu")).module
    ctx.check_cancel()
    res = export_module(module, info, out, opset=cfg.opset, exporter=cfg.exporter, tolerance=cfg.tolerance,
                        psi=cfg.psi, ctx=span(ctx, 0.05, 0.95), **policy)
    if cfg.card:
        res.card_path = write_card_markdown(out.with_suffix(".md"), res.card, info.card, **policy)
    ctx.progress(1, 1, "Done")
    return res


def export_module(module: nn.Module, info: ModelInfo, out: Path, *, opset: int = DEFAULT_OPSET,
                  exporter: str = "auto", tolerance: float = PARITY_TOLERANCE, psi: float = DEFAULT_PSI,
                  ctx=None, inputs=(), overwrite: bool = True) -> OnnxExport:
    """Export ``module`` (the model ``info`` describes) to ``out``; raise before writing anything if it fails.
    ``out`` is written by the output policy (:mod:`engine.outputs`)."""
    t0 = time.perf_counter()
    ctx = ctx or _NullCtx()
    module = module.float().eval()
    spec = inspect_module(module, info, psi)
    notes: List[str] = []
    with tempfile.TemporaryDirectory(prefix="ganstudio-onnx-") as tmp:
        raw = Path(tmp) / "raw.onnx"
        variant, wrapper = _export_first(module, spec, raw, opset, exporter, notes, ctx)
        ctx.progress(0.6, 1, "Checking parity with onnxruntime")
        ctx.check_cancel()
        parity = parity_check(raw, wrapper, spec, tolerance, info.name)
        exp = {"exporter": variant, "opset": opset, **_versions(variant)}
        card = build_card(info, io=spec.io_card(), export=exp, parity=parity, notes=notes)
        ctx.progress(0.9, 1, "Writing the ONNX file")
        write_output(Path(out), lambda dest: embed_card(raw, dest, card), inputs=inputs, overwrite=overwrite,
                     what="ONNX file")
    return OnnxExport(Path(out), card, seconds=time.perf_counter() - t0, notes=notes)


class _NullCtx:
    def progress(self, *a, **k) -> None:
        pass

    def log(self, *a, **k) -> None:
        pass

    def check_cancel(self) -> None:
        pass


# ------------------------------------------------------------------------------------------------------------
# what the module is

def inspect_module(module: nn.Module, info: ModelInfo, psi: float = DEFAULT_PSI) -> GraphSpec:
    """Check the model can be exported and describe its graph; raise :class:`ExportError` with the reason."""
    task = info.task or "translate"
    if task not in EXPORTABLE_TASKS:
        raise ExportError(f"{info.name} is a {task!r} model; ONNX export supports image translation ('translate') "
                          "and latent generators ('generate').")
    if not any(True for _ in module.parameters()):
        raise ExportError(f"{info.name} has no weights; there is nothing to export.")
    if task == "translate":
        conv = next((m for m in module.modules() if isinstance(m, nn.Conv2d)), None)
        if conv is None or conv.in_channels != 3:
            got = "no convolution" if conv is None else f"{conv.in_channels} input channels"
            raise ExportError(f"{info.name} is not an RGB image-to-image network ({got}); only RGB translators "
                              "can be exported.")
        spec = GraphSpec("translate", multiple=size_multiple(module))
        side = spec.multiple * max(spec.min_units, math.ceil(32 / spec.multiple))
        try:
            with torch.no_grad():
                y = module(torch.zeros(1, 3, side, side))
        except Exception as e:  # noqa: BLE001 - reported as the reason it cannot be exported
            y = f"an error: {_reason(e)}"
        if not isinstance(y, torch.Tensor) or tuple(y.shape) != (1, 3, side, side):
            got = tuple(y.shape) if isinstance(y, torch.Tensor) else y
            raise ExportError(f"{info.name} is not a same-size RGB image translator (a {side}x{side} image gives "
                              f"{got}); only those can be exported as 'translate' models.")
        return spec
    z_dim = getattr(module, "z_dim", None)
    if not isinstance(z_dim, int) or isinstance(z_dim, bool) or z_dim <= 0:
        raise ExportError(f"{info.name} is a generate model but its network has no positive integer 'z_dim'; "
                          "a generate network must map z of shape (N, z_dim) to an image.")
    try:
        params = inspect.signature(module.forward).parameters
    except (TypeError, ValueError):
        params = {}
    psi_name = next((p for p in PSI_NAMES if p in params), "")
    spec = GraphSpec("generate", z_dim=z_dim, psi_name=psi_name, const_noise="noise_mode" in params,
                     default_psi=float(psi))
    with torch.no_grad():
        y = _Generate(module, spec, spec.default_psi)(torch.zeros(1, z_dim))
    if not isinstance(y, torch.Tensor) or y.dim() != 4 or y.shape[1] != 3:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ExportError(f"{info.name}: forward(z) must return an image batch (N, 3, H, W); it returned {shape}.")
    spec.out_hw = (int(y.shape[2]), int(y.shape[3]))
    return spec


# ------------------------------------------------------------------------------------------------------------
# exporting: try the variants in order, keep the first that exports

def _variants(spec: GraphSpec, exporter: str) -> List[Tuple[str, Dict[str, Any]]]:
    exporters = ["dynamo", "torchscript"] if exporter == "auto" else [exporter]
    if spec.task == "translate":
        shapes = [{"dynamic_hw": True}, {"dynamic_hw": False}]
    else:
        shapes = [{"psi_input": True}, {"psi_input": False}] if spec.psi_name else [{"psi_input": False}]
    return [(e, s) for e in exporters for s in shapes]


def _export_first(module: nn.Module, spec: GraphSpec, raw: Path, opset: int, exporter: str, notes: List[str],
                  ctx) -> Tuple[str, nn.Module]:
    failures: List[str] = []
    variants = _variants(spec, exporter)
    for i, (exp, opts) in enumerate(variants):
        ctx.check_cancel()
        for k, v in opts.items():
            setattr(spec, k, v)
        what = _variant_text(exp, spec)
        ctx.progress(0.05 + 0.5 * i / len(variants), 1, f"Exporting ({what})")
        wrapper = (_Translate(module) if spec.task == "translate" else
                   _Generate(module, spec, None if spec.psi_input else spec.default_psi)).eval()
        try:
            (_export_dynamo if exp == "dynamo" else _export_torchscript)(wrapper, spec, raw, opset)
        except Exception as e:  # noqa: BLE001 - every exporter failure is reported, then the next variant tried
            reason = _reason(e)
            failures.append(f"{what}: {reason}")
            ctx.log(f"ONNX export ({what}) failed: {reason}")
            continue
        finally:
            wrapper.eval()  # exporters restore the mode they found; a wrapper left in train mode flips batch norm
        if failures:
            notes.append(f"Exported with {what} after: " + "; ".join(failures))
            ctx.log(notes[-1])
        return exp, wrapper
    raise ExportError(f"{module.__class__.__name__} could not be exported to ONNX. " + " | ".join(failures))


def _variant_text(exp: str, spec: GraphSpec) -> str:
    if spec.task == "translate":
        return f"{exp}, {'dynamic' if spec.dynamic_hw else 'fixed'} size"
    return f"{exp}, {'psi input' if spec.psi_input else 'fixed psi' if spec.psi_name else 'z only'}"


def _example(spec: GraphSpec, batch: int = 2) -> Tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    if spec.task == "translate":
        side = spec.multiple * spec.example_units
        return (torch.rand(batch, 3, side, side, generator=g) * 2 - 1,)
    z = torch.randn(batch, spec.z_dim, generator=g)
    return (z, torch.tensor([spec.default_psi])) if spec.psi_input else (z,)


def _export_dynamo(wrapper: nn.Module, spec: GraphSpec, raw: Path, opset: int) -> None:
    from torch.export import Dim

    batch = Dim("batch", min=1, max=4096)
    if spec.task == "translate":
        dims: Dict[int, Any] = {0: batch}
        if spec.dynamic_hw:
            m, lo, hi = spec.multiple, spec.min_units, MAX_SIDE // spec.multiple
            if m > 1:
                dims[2], dims[3] = m * Dim("h_units", min=lo, max=hi), m * Dim("w_units", min=lo, max=hi)
            else:
                dims[2], dims[3] = Dim("height", min=MIN_SIDE, max=MAX_SIDE), Dim("width", min=MIN_SIDE, max=MAX_SIDE)
        dynamic: Dict[str, Any] = {"image": dims}
    else:
        dynamic = {"z": {0: batch}, "psi": None} if spec.psi_input else {"z": {0: batch}}
    with _quiet():
        torch.onnx.export(wrapper, _example(spec), str(raw), dynamo=True, dynamic_shapes=dynamic,
                          input_names=spec.input_names, output_names=[spec.output_name], opset_version=opset,
                          external_data=False, optimize=True, verbose=False)


def _export_torchscript(wrapper: nn.Module, spec: GraphSpec, raw: Path, opset: int) -> None:
    axes: Dict[str, Dict[int, str]] = {}
    if spec.task == "translate":
        axes = {"image": {0: "batch", 2: "height", 3: "width"}} if spec.dynamic_hw else {"image": {0: "batch"}}
    else:
        axes = {"z": {0: "batch"}}
    out_axes = dict(axes.get("image", {0: "batch"}))
    with _quiet(), torch.no_grad():
        torch.onnx.export(wrapper, _example(spec), str(raw), dynamo=False, input_names=spec.input_names,
                          output_names=[spec.output_name], dynamic_axes={**axes, spec.output_name: out_axes},
                          opset_version=opset)


@contextlib.contextmanager
def _quiet():
    """Silence the exporters' console chatter (progress lines, guard dumps); errors still propagate."""
    names = ("torch._dynamo", "torch._guards", "torch.export", "torch._export", "torch.onnx",
             "torch.fx.experimental.symbolic_shapes", "onnxscript")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


def _versions(variant: str) -> Dict[str, str]:
    import onnx

    out = {"torch": torch.__version__, "onnx": onnx.__version__}
    if variant == "dynamo":
        import onnxscript

        out["onnxscript"] = onnxscript.__version__
        out["exporter_detail"] = "torch.onnx.export(dynamo=True): torch.export + onnxscript"
    else:
        out["exporter_detail"] = "torch.onnx.export(dynamo=False): TorchScript tracing (deprecated exporter)"
    return out
