"""Several models at once into one folder (the Export page's ONNX and model-file choices)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple, Union

from ..config import Config, check_choice
from ..jobs import span
from ..library import ModelLibrary
from . import ExportError
from .onnx import OnnxExport, OnnxExportConfig, export_onnx_task
from .package import ModelExport, ModelExportConfig, export_model_task, file_stem


@dataclass
class ExportBatchConfig(Config):
    kind: str = "onnx"  # onnx | model
    models: Tuple[str, ...] = ()
    out_dir: str = ""
    direction: str = "AtoB"
    overwrite: bool = False  # replace files of the same names (the page asks first)

    def validate(self) -> None:
        check_choice("kind", self.kind, ("onnx", "model"))


@dataclass
class ExportBatch:
    results: List[Union[OnnxExport, ModelExport]]
    out_dir: Path

    @property
    def size(self) -> int:
        return sum(r.path.stat().st_size for r in self.results)

    def message(self) -> str:
        n = len(self.results)
        what = "ONNX file" if self.results and isinstance(self.results[0], OnnxExport) else "model file"
        return f"Wrote {n} {what}{'s' if n != 1 else ''} ({self.size / 1e6:.1f} MB) to {self.out_dir}."


def batch_names(cfg: ExportBatchConfig, library: ModelLibrary) -> List[Tuple[str, str]]:
    """(model reference, file name) per model of the batch: names made distinct (``-2``, ``-3``), so two models
    whose ids give the same name (two runs called alike) are never written to one file. A reference that does not
    resolve keeps "" (the task reports it)."""
    used: set = set()
    out: List[Tuple[str, str]] = []
    for ref in cfg.models:
        try:
            stem = file_stem(library.resolve(ref, direction=cfg.direction))
        except Exception:  # noqa: BLE001 - the task itself reports a model that cannot be resolved
            out.append((ref, ""))
            continue
        name, i = stem, 1
        while name.lower() in used:
            i += 1
            name = f"{stem}-{i}"
        used.add(name.lower())
        out.append((ref, name))
    return out


def existing_targets(cfg: ExportBatchConfig, library: Optional[ModelLibrary] = None) -> List[Path]:
    """The files a batch would write that exist already (the page asks before replacing them)."""
    library = library or ModelLibrary()
    out = Path(cfg.out_dir).expanduser()
    exts = (".onnx", ".md") if cfg.kind == "onnx" else (".safetensors", ".md")
    return [out / f"{name}{e}" for _, name in batch_names(cfg, library) if name for e in exts
            if (out / f"{name}{e}").exists()]


def export_batch_task(cfg: ExportBatchConfig, ctx, library: Optional[ModelLibrary] = None) -> ExportBatch:
    if not cfg.models:
        raise ExportError("Choose at least one model to export.")
    if not cfg.out_dir:
        raise ExportError("Choose a folder to export to.")
    library = library or ModelLibrary()
    out = Path(cfg.out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; choose a folder to export to.")
    results: List[Union[OnnxExport, ModelExport]] = []
    named = batch_names(cfg, library)
    n = len(named)
    for i, (ref, name) in enumerate(named):
        ctx.check_cancel()
        sub = span(ctx, i / n, (i + 1) / n)
        if cfg.kind == "onnx":
            name = name or file_stem(library.resolve(ref, direction=cfg.direction))  # (raises the clear message)
            one = OnnxExportConfig(model=ref, out=str(out / f"{name}.onnx"), direction=cfg.direction,
                                   overwrite=cfg.overwrite)
            results.append(export_onnx_task(one, sub, library))
        else:
            results.append(export_model_task(ModelExportConfig(model=ref, out_dir=str(out), direction=cfg.direction,
                                                               overwrite=cfg.overwrite, name=name), sub, library))
        ctx.log(results[-1].message())
    ctx.progress(1, 1, "Done")
    return ExportBatch(results, out)
