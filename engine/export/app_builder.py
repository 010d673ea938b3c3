"""Build the standalone translator: models -> ONNX (with parity) -> PyInstaller one-folder program in ``out_dir``.

The program is ``packaging/translator`` (onnxruntime + PySide6 + numpy; never torch or the engine), frozen by
PyInstaller from the separate build venv (:mod:`engine.export.buildenv`). ``out_dir/NAME`` is the executable;
``out_dir/_internal`` holds Python, Qt, onnxruntime, the models and their cards; ``out_dir/README.md`` says what the
machine needs. A folder from an earlier build of an app is replaced only when asked (``overwrite``: ``--overwrite`` or
the Export page's question), and then only at the end of a successful build; any other non-empty folder is refused. The same
task runs from the Export page (a job with progress and cancel) and from ``ganstudio export app``.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, TextIO, Tuple

import torch

from .. import __version__
from ..config import Config, check, check_choice
from ..fsutil import atomic_write_text, user_cache_dir
from ..jobs import span
from ..library import ModelInfo, ModelLibrary, resources_dir
from . import BuildError, ExportError
from .buildenv import ensure_build_venv, packaging_dir, run_logged
from .bundle import (SIZE_GOAL, BundleReport, inspect_bundle, make_archive, required_glibc, strip_python,
                     write_readme)
from .card import write_card_markdown
from .onnx import DEFAULT_OPSET, EXPORTERS, PARITY_TOLERANCE, OnnxExport, export_module
from .package import file_stem

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
MARKER = ".ganstudio-app.json"
# PyInstaller log lines -> fraction of the PyInstaller step
MILESTONES = (("Initializing module dependency graph", 0.03), ("Analyzing", 0.06), ("Processing module hooks", 0.2),
              ("Performing binary vs. data", 0.5), ("Looking for dynamic libraries", 0.55),
              ("Building PYZ", 0.62), ("Building PKG", 0.7), ("Building EXE", 0.74), ("Building COLLECT", 0.8),
              ("Build complete", 1.0))


@dataclass
class BuildAppConfig(Config):
    models: Tuple[str, ...] = ()  # ids, names, files or run folders; the first is the default
    name: str = ""  # the executable's name (letters, digits, '-', '_')
    out_dir: str = ""
    title: str = ""  # window title and menu name; default: name
    icon: str = ""  # .png or .svg; default: the GAN Studio icon
    direction: str = "AtoB"
    archive: bool = False  # also write OUT_DIR.tar.gz
    exporter: str = "auto"
    opset: int = DEFAULT_OPSET
    tolerance: float = PARITY_TOLERANCE
    overwrite: bool = False  # replace an earlier build of an app in out_dir

    def validate(self) -> None:
        check(not self.name or bool(NAME_RE.match(self.name)),
              f"The app name {self.name!r} must start with a letter and use only letters, digits, '-' and '_' "
              "(at most 64).")
        check_choice("exporter", self.exporter, EXPORTERS)
        check(not self.icon or Path(self.icon).suffix.lower() in (".png", ".svg"), "The icon must be a .png or .svg.")


@dataclass
class BuiltApp:
    out_dir: Path
    executable: Path
    report: BundleReport
    models: List[Dict[str, Any]] = field(default_factory=list)
    archive: Optional[Path] = None
    log: Optional[Path] = None
    seconds: float = 0.0

    @property
    def size(self) -> int:
        return self.report.size

    def message(self) -> str:
        msg = (f"Built {self.executable} ({self.report.size_mb:.0f} MB unpacked, {len(self.models)} model"
               f"{'s' if len(self.models) != 1 else ''}) in {self.seconds / 60:.1f} min.")
        if self.archive:
            msg += f" Archive: {self.archive} ({self.archive.stat().st_size / 1e6:.0f} MB)."
        return msg


def build_app_task(cfg: BuildAppConfig, ctx, library: Optional[ModelLibrary] = None) -> BuiltApp:
    t0 = time.perf_counter()
    if not cfg.name:
        raise ExportError("Give the app a name (--name NAME); it becomes the program's file name.")
    if not cfg.models:
        raise ExportError("Choose at least one model to put in the app.")
    if not cfg.out_dir:
        raise ExportError("Choose the folder to build the app in (--out DIR).")
    out = Path(cfg.out_dir).expanduser().absolute()
    check_out_dir(out, cfg.overwrite, archive=cfg.archive)
    icon = Path(cfg.icon).expanduser() if cfg.icon else default_icon()
    if not icon.is_file():
        raise ExportError(f"The icon {icon} does not exist.")
    library = library or ModelLibrary()
    ctx.progress(0, 1, "Finding the models")
    infos = [library.resolve(m, direction=cfg.direction) for m in dict.fromkeys(cfg.models)]
    logs = user_cache_dir() / "app-builds"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{cfg.name}.log"
    try:
        report, models = _build(cfg, infos, library, icon, out, logs, log_path, ctx)
    except BuildError as e:
        raise BuildError(f"{e} The whole build log is {log_path}.") from None
    archive = None
    if cfg.archive:
        archive = make_archive(out, ctx=span(ctx, 0.95, 1.0), replace=cfg.overwrite)
    ctx.progress(1, 1, f"Built {cfg.name}: {report.size_mb:.0f} MB")
    return BuiltApp(out, out / cfg.name, report, models, archive, log_path, time.perf_counter() - t0)


def _build(cfg: BuildAppConfig, infos: List[ModelInfo], library: ModelLibrary, icon: Path, out: Path, logs: Path,
           log_path: Path, ctx) -> Tuple[BundleReport, List[Dict[str, Any]]]:
    with tempfile.TemporaryDirectory(prefix=f"build-{cfg.name}-", dir=logs) as tmp, \
            open(log_path, "w", encoding="utf-8") as log:
        stage = Path(tmp)
        models = stage_models(infos, library, stage / "data" / "models", cfg, ctx)
        write_app_data(stage / "data", cfg, icon, models)
        py = ensure_build_venv(span(ctx, 0.2, 0.35), log=log)
        ctx.check_cancel()
        _copy_sources(stage / "src")
        dist = _run_pyinstaller(py, stage, cfg, ctx, log)
        ctx.progress(0.93, 1, "Checking the bundle")
        saved = strip_python(dist)
        if saved:
            ctx.log(f"Stripped the Python runtime: {saved / 1e6:.0f} MB smaller.")
        report = inspect_bundle(dist)
        if report.forbidden:
            raise ExportError("The bundle contains files it must not (torch, OpenCV or the engine): "
                              f"{', '.join(report.forbidden[:5])}. Nothing was written to {out}.")
        write_readme(dist, packaging_dir() / "translator" / "README.template.md", name=cfg.name,
                     title=cfg.title or cfg.name, models=models, report=report, runtime=_runtime_versions(py, log),
                     glibc=required_glibc(dist))
        atomic_write_text(dist / MARKER, json.dumps({"name": cfg.name, "models": [m["id"] for m in models],
                                                     "built_with": f"ganstudio {__version__}"}, indent=1))
        _replace_dir(dist, out)
    report = inspect_bundle(out)
    if report.size > SIZE_GOAL:
        ctx.log(f"The app is {report.size_mb:.0f} MB, over the {SIZE_GOAL // 10**6} MB goal.")
    return report, models


def earlier_build(out: Path) -> bool:
    """``out`` holds an earlier build of an app (which only ``overwrite`` replaces)."""
    return out.is_dir() and (out / MARKER).is_file()


def archive_path(out: Path) -> Path:
    return out.with_name(out.name + ".tar.gz")


def _side_folders(out: Path) -> Tuple[Path, Path]:
    """Where a build is staged next to ``out`` and where the earlier build waits until the new one is in place."""
    return out.with_name(f".{out.name}.new"), out.with_name(f".{out.name}.old")


def check_out_dir(out: Path, overwrite: bool = False, archive: bool = False) -> None:
    """The folder must be new, empty, or (with ``overwrite``) an earlier build of an app; the same for the archive
    next to it; and the staging folders next to it may only hold what an interrupted build of ours left."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; choose a folder for the app.")
    up = next((p for p in out.parents if p.exists() or p.is_symlink()), None)
    if up is not None and not up.is_dir():
        raise ExportError(f"{up} is a file, so the app's folder {out} cannot be made there; choose another folder.")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise ExportError(f"{out} is not empty and holds no earlier app build; choose an empty or new folder so "
                              "nothing of yours is replaced.")
        if not overwrite:
            raise ExportError(f"{out} holds an earlier build of an app; add --overwrite to replace it (it is replaced "
                              "only when the new build succeeds), or choose another folder.")
    root = Path(__file__).resolve().parents[2]
    if out == root or root.is_relative_to(out):
        raise ExportError(f"{out} contains GAN Studio itself; choose another folder.")
    for side in _side_folders(out):
        if (side.exists() or side.is_symlink()) and not (side.is_dir() and not side.is_symlink()
                                                         and earlier_build(side)):
            raise ExportError(f"{side} is in the way: a build stages its files there, and it holds something that "
                              "is not an interrupted build of an app. Move it away, or choose another folder.")
    tar = archive_path(out)
    if archive and (tar.exists() or tar.is_symlink()):
        if not tar.is_file() or tar.is_symlink():
            raise ExportError(f"{tar} (the archive's name) is taken by something that is not a file; choose "
                              "another folder.")
        if not overwrite:
            raise ExportError(f"{tar} already exists; add --overwrite to replace it, or choose another folder.")


def default_icon() -> Path:
    icons = resources_dir() / "icons"
    return next((p for p in (icons / "ganstudio.svg", icons / "ganstudio.png") if p.is_file()), icons / "ganstudio.svg")


def stage_models(infos: List[ModelInfo], library: ModelLibrary, dest: Path, cfg: BuildAppConfig,
                   ctx) -> List[Dict[str, Any]]:
    dest.mkdir(parents=True)
    out: List[Dict[str, Any]] = []
    step = 0.2 / len(infos)
    taken: set = set()
    for i, info in enumerate(infos):
        ctx.check_cancel()
        ctx.progress(i * step, 1, f"Exporting {info.name} to ONNX")
        base, k = file_stem(info), 1
        stem = base
        while stem in taken:
            k += 1
            stem = f"{base}-{k}"
        taken.add(stem)
        module = library.load(info, torch.device("cpu")).module
        res: OnnxExport = export_module(module, info, dest / f"{stem}.onnx", opset=cfg.opset, exporter=cfg.exporter,
                                        tolerance=cfg.tolerance, ctx=span(ctx, i * step, (i + 1) * step))
        write_card_markdown(dest / f"{stem}.md", res.card, info.card)
        ctx.log(res.message())
        io = res.card["io"]
        out.append({"id": stem, "name": info.name, "file": f"{stem}.onnx", "task": io["task"],
                    "description": info.description, "psi": io.get("psi") if io.get("psi_input") else None,
                    "card": f"{stem}.md", "parity": f"{res.parity['max_abs_diff']:.1e}"})
    atomic_write_text(dest / "index.json", json.dumps(out, indent=1))
    return out


def write_app_data(data: Path, cfg: BuildAppConfig, icon: Path, models: List[Dict[str, Any]]) -> None:
    info = {"name": cfg.name, "title": cfg.title or cfg.name, "version": time.strftime("%Y.%m.%d"),
            "built_with": f"GAN Studio {__version__}", "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "model_names": [m["name"] for m in models]}
    atomic_write_text(data / "app.json", json.dumps(info, indent=1))
    shutil.copyfile(icon, data / f"icon{icon.suffix.lower()}")


def _copy_sources(src: Path) -> None:
    """The translator package, plus the studio's before/after widget (pure PySide6) copied in beside it."""
    tr = packaging_dir() / "translator"
    shutil.copytree(tr / "gstranslator", src / "gstranslator", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copyfile(tr / "gstranslator_main.py", src / "gstranslator_main.py")
    widget = Path(__file__).resolve().parents[2] / "app" / "widgets" / "compare_view.py"
    shutil.copyfile(widget, src / "gstranslator" / "compare_view.py")


def _run_pyinstaller(py: Path, stage: Path, cfg: BuildAppConfig, ctx, log: TextIO) -> Path:
    tr = packaging_dir() / "translator"
    build = {"name": cfg.name, "src": str(stage / "src"), "data": str(stage / "data"), "hooks": str(tr / "hooks")}
    (stage / "build.json").write_text(json.dumps(build))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(GSTRANSLATOR_BUILD=str(stage / "build.json"), PYTHONNOUSERSITE="1",
               PYINSTALLER_CONFIG_DIR=str(user_cache_dir() / "pyinstaller"))
    sub = span(ctx, 0.35, 0.92)
    state = {"frac": 0.0, "hooks": 0}

    def on_line(line: str) -> None:
        for key, frac in MILESTONES:
            if key in line and frac > state["frac"]:
                state["frac"] = frac
                sub.progress(frac, 1, f"PyInstaller: {key.lower()}")
                return
        if "Processing standard module hook" in line or "Loading module hook" in line:
            state["hooks"] += 1
            frac = min(0.48, 0.2 + state["hooks"] / 400)
            if frac > state["frac"]:
                state["frac"] = frac
                sub.progress(frac, 1, "PyInstaller: analysing imports")

    ctx.progress(0.35, 1, "PyInstaller: starting")
    cmd = [str(py), "-m", "PyInstaller", str(tr / "translator.spec"), "--distpath", str(stage / "dist"),
           "--workpath", str(stage / "work"), "--noconfirm", "--log-level", "INFO"]
    run_logged(cmd, ctx, what="building the app with PyInstaller", on_line=on_line, env=env, cwd=stage, log=log)
    dist = stage / "dist" / cfg.name
    if not (dist / cfg.name).is_file():
        raise ExportError(f"PyInstaller finished but {dist / cfg.name} is missing; see the build log.")
    return dist


def _runtime_versions(py: Path, log: TextIO) -> str:
    try:
        stamp = json.loads((py.parent.parent / ".ganstudio-build-env.json").read_text())
        ort, np_, qt, pyi = stamp["versions"].split()[:4]
        return f"onnxruntime {ort}, numpy {np_}, Qt {qt} (PySide6) and PyInstaller {pyi}"
    except (OSError, ValueError, KeyError):
        return "onnxruntime, numpy, PySide6 and PyInstaller"


def _replace_dir(new: Path, out: Path) -> None:
    """Move the built folder to ``out``; an earlier build there is swapped out and removed only at the end. The
    side folders are removed only when they hold a build of ours (:func:`check_out_dir` refused anything else)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging, old = _side_folders(out)
    for p in (staging, old):
        if p.exists() or p.is_symlink():
            if p.is_symlink() or not earlier_build(p):
                raise ExportError(f"{p} is in the way and is not an interrupted build of an app; nothing was "
                                  f"written to {out}.")
            shutil.rmtree(p)
    shutil.move(str(new), str(staging))
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    if old.exists():
        shutil.rmtree(old)
