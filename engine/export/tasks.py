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
from .package import ModelExport, ModelExportConfig, export_model_task, slug


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


def existing_targets(cfg: ExportBatchConfig, library: Optional[ModelLibrary] = None) -> List[Path]:
    """The files a batch would write that exist already (the page asks before replacing them)."""
    library = library or ModelLibrary()
    out = Path(cfg.out_dir).expanduser()
    found: List[Path] = []
    for ref in cfg.models:
        try:
            info = library.resolve(ref, direction=cfg.direction)
        except Exception:  # noqa: BLE001 - the task itself reports a model that cannot be resolved
            continue
        name = slug(info.id.split("@")[0].replace("file:", ""))
        exts = (".onnx", ".md") if cfg.kind == "onnx" else (".safetensors", ".md")
        found += [out / f"{name}{e}" for e in exts if (out / f"{name}{e}").exists()]
    return found


def export_batch_task(cfg: ExportBatchConfig, ctx, library: Optional[ModelLibrary] = None) -> ExportBatch:
    if not cfg.models:
        raise ExportError("Choose at least one model to export.")
    if not cfg.out_dir:
        raise ExportError("Choose a folder to export to.")
    library = library or ModelLibrary()
    out = Path(cfg.out_dir).expanduser()
    results: List[Union[OnnxExport, ModelExport]] = []
    n = len(cfg.models)
    for i, ref in enumerate(cfg.models):
        ctx.check_cancel()
        sub = span(ctx, i / n, (i + 1) / n)
        if cfg.kind == "onnx":
            info = library.resolve(ref, direction=cfg.direction)
            name = slug(info.id.split("@")[0].replace("file:", ""))
            one = OnnxExportConfig(model=ref, out=str(out / f"{name}.onnx"), direction=cfg.direction,
                                   overwrite=cfg.overwrite)
            results.append(export_onnx_task(one, sub, library))
        else:
            results.append(export_model_task(ModelExportConfig(model=ref, out_dir=str(out), direction=cfg.direction,
                                                               overwrite=cfg.overwrite), sub, library))
        ctx.log(results[-1].message())
    ctx.progress(1, 1, "Done")
    return ExportBatch(results, out)
