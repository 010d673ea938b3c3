"""The model library: every model the user can pick, from three places.

- ``bundled``: ``resources/models/<folder>/*.safetensors`` shipped with the app (read-only);
- ``user``: ``<user data>/models/`` where Import puts converted models;
- ``run``: ``<user data>/runs/<run>/models/*.safetensors``, written by the trainers at every checkpoint.

A model file is a checkpoint of kind ``model``: its metadata holds ``arch``/``arch_kwargs`` to rebuild the network and
a ``model`` block (id, name, family, task, direction, description). Only headers are read while listing.
``resolve()`` accepts an id, a display name, a path to a ``.safetensors`` file, a foreign ``.pth`` (imported on the
fly) or a run folder.
"""
from __future__ import annotations

import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch

from .checkpoint import (diff_state, load_checkpoint, load_into, mismatch_message, nonfinite_tensors, read_meta,
                         save_checkpoint)
from .errors import CheckpointError, GanStudioError, ModelNotFound
from .fsutil import slug, user_data_dir
from .modelcheck import check_model_meta, output_is_finite
from .models import get_model

DEFAULT_MODEL_ID = "vintagify"
#: the generator the Latent page shows first: the style-based one, whose mapping network, styles, noise and mixing the
#: page is built around (the DCGAN has only a z space)
DEFAULT_LATENT_MODEL_ID = "stylegan-faces64"


def training_progress(meta: Dict[str, Any]) -> Optional[Tuple[int, int]]:
    """(step, total) of a model file written by a training run (its ``training`` block), or None."""
    tr = meta.get("training")
    if not isinstance(tr, dict):
        return None
    try:
        step, total = int(tr.get("step", 0)), int(tr.get("total", 0))
    except (TypeError, ValueError):
        return None
    return (step, total) if total > 0 else None


def partial_text(meta: Dict[str, Any]) -> str:
    """"partial, step 114 of 2000" for a model from an unfinished run, "" otherwise."""
    p = training_progress(meta)
    return f"partial, step {p[0]} of {p[1]}" if p and p[0] < p[1] else ""


def pick_default(models: List["ModelInfo"], remembered: str = "", preferred: str = DEFAULT_MODEL_ID) -> int:
    """Index of the model a page shows first: the one the user picked last time, else ``preferred``, else the first
    finished model; a partial model (a cancelled or running training) only when the user picked it or nothing else
    exists. -1 for an empty list."""
    for want in (remembered, preferred):
        idx = next((i for i, m in enumerate(models) if want and m.id == want), -1)
        if idx >= 0 and (want == remembered or not models[idx].partial):
            return idx
    return next((i for i, m in enumerate(models) if not m.partial), 0 if models else -1)


def resources_dir() -> Path:
    env = os.environ.get("GANSTUDIO_RESOURCES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "resources"


@dataclass
class ModelInfo:
    id: str
    name: str
    family: str
    task: str
    path: Path
    source: str  # bundled | user | run | file
    direction: str = ""
    description: str = ""
    card: Optional[Path] = None
    meta: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def partial(self) -> str:
        """"partial, step 114 of 2000" for a model from a run that has not reached its length, else ""."""
        return partial_text(self.meta)

    @property
    def label(self) -> str:
        tag = {"bundled": "bundled", "user": "imported", "run": "trained", "file": "file"}.get(self.source, self.source)
        return f"{self.name} ({self.partial or tag})"

    @property
    def arch(self) -> str:
        return self.meta.get("arch", "")

    @property
    def input(self) -> str:
        """``"face"`` for models trained on aligned face crops (translated in face mode), else ``"image"``."""
        return str((self.meta.get("model") or {}).get("input") or "image")


@dataclass
class LoadedModel:
    info: ModelInfo
    module: torch.nn.Module
    meta: Dict[str, Any]


def model_meta(*, id: str, name: str, family: str, task: str, arch: str, arch_kwargs: Dict[str, Any],
               direction: str = "", description: str = "", input: str = "", face_margin: Optional[float] = None,
               face_size: Optional[int] = None, **extra: Any) -> Dict[str, Any]:
    """The metadata block of a model file (use with :func:`save_model`). ``input="face"`` marks a model trained on
    aligned face crops (``face_margin``: the crop margin it was trained with); such models are translated in face
    mode (:mod:`engine.faces.translator`)."""
    model = dict(id=id, name=name, family=family, task=task, direction=direction, description=description)
    if input:
        model["input"] = input
    if face_margin is not None:
        model["face_margin"] = float(face_margin)
    if face_size is not None:
        model["face_size"] = int(face_size)
    return {"kind": "model", "arch": arch, "arch_kwargs": arch_kwargs, "model": model, **extra}


def save_model(path, module: torch.nn.Module, meta: Dict[str, Any], *, fp16: bool = False,
               probe: bool = True) -> Path:
    """Write a model file; a model whose weights or output hold NaN or infinity is never saved (``probe=False``:
    the caller has just checked the output)."""
    dtype = torch.float16 if fp16 else None
    state = module.state_dict()
    bad = nonfinite_tensors((k, v.to(dtype) if dtype and v.is_floating_point() else v) for k, v in state.items())
    if bad or (probe and not output_is_finite(module, meta)):
        what = f"weights hold NaN or infinity ({', '.join(bad[:3])})" if bad else "output holds NaN or infinity"
        raise CheckpointError(f"The model for {path} was not saved: its {what}.")
    return save_checkpoint(path, state, meta, dtype=dtype)


#: no model file may make us build a network larger than this (the largest real ones have ~30 M parameters)
MAX_PARAMETERS = 500_000_000


def build_model(meta: Dict[str, Any], state: Dict[str, torch.Tensor], *, what: str = "") -> torch.nn.Module:
    """Rebuild the network a model file describes. The architecture is first built on the meta device (no memory):
    its size is bounded and its tensor shapes must match the file before any real memory is allocated."""
    arch = meta.get("arch")
    what = what or f"{arch} network"
    if not arch or not isinstance(arch, str):
        raise CheckpointError(f"The {what} does not say which architecture it holds (no 'arch').")
    kwargs = meta.get("arch_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise CheckpointError(f"The 'arch_kwargs' of the {what} must be an object.")
    try:
        with torch.device("meta"):
            shell = get_model(arch, **kwargs)
    except GanStudioError:
        raise
    except Exception as e:  # noqa: BLE001 - bad settings in a file are the file's problem
        raise CheckpointError(f"The architecture settings of the {what} cannot be used ({type(e).__name__}: "
                              f"{str(e)[:200]}).") from None
    n = sum(t.numel() for t in shell.state_dict().values())
    if n > MAX_PARAMETERS:
        raise CheckpointError(f"The {what} asks for a network of {n / 1e6:.0f} M parameters (at most "
                              f"{MAX_PARAMETERS / 1e6:.0f} M); it was not built.")
    missing, unexpected, shapes = diff_state(shell.state_dict(), state)
    if missing or unexpected or shapes:
        raise CheckpointError(mismatch_message(what, missing, unexpected, shapes))
    net = get_model(arch, **kwargs)
    load_into(net, state, what=what)
    return net.eval()


def _info_from_meta(path: Path, meta: Dict[str, Any], source: str) -> Optional[ModelInfo]:
    if meta.get("kind") != "model":
        return None
    check_model_meta(path, meta)
    m = meta.get("model") or {}
    mid = m.get("id") or path.stem
    card = None
    for cand in (path.with_suffix(".md"), path.parent / "MODEL_CARD.md"):
        if cand.exists():
            card = cand
            break
    return ModelInfo(id=mid, name=m.get("name") or mid, family=m.get("family", ""), task=m.get("task", "translate"),
                     path=path, source=source, direction=m.get("direction", ""),
                     description=m.get("description", ""), card=card, meta=meta)


class ModelLibrary:
    def __init__(self, bundled: Optional[Path] = None, user: Optional[Path] = None, runs: Optional[Path] = None):
        self.bundled_dir = Path(bundled) if bundled else resources_dir() / "models"
        self.user_dir = Path(user) if user else user_data_dir() / "models"
        self.runs_dir = Path(runs) if runs else user_data_dir() / "runs"
        self.problems: List[Tuple[Path, str]] = []
        self._lock = threading.Lock()
        self._cache: Dict[Tuple[str, int, str], torch.nn.Module] = {}

    # --- listing -----------------------------------------------------------------------------------------
    def list(self, task: Optional[str] = None, family: Optional[str] = None) -> List[ModelInfo]:
        self.problems = []
        out: List[ModelInfo] = []
        seen: Dict[str, int] = {}
        for source, files in (("bundled", self._files(self.bundled_dir)), ("user", self._files(self.user_dir)),
                              ("run", self._run_files())):
            for f in files:
                try:
                    info = _info_from_meta(f, read_meta(f), source)
                except GanStudioError as e:
                    self.problems.append((f, str(e)))
                    continue
                except (OSError, ValueError, TypeError, RecursionError) as e:  # one bad file never hides the others
                    self.problems.append((f, f"{f}: cannot be read ({type(e).__name__}: {str(e)[:200]})."))
                    continue
                if info is None:
                    continue
                if info.id in seen:
                    seen[info.id] += 1
                    info.id = f"{info.id}@{source}{seen[info.id] - 1 if seen[info.id] > 2 else ''}"
                else:
                    seen[info.id] = 1
                out.append(info)
        return [i for i in out if (task is None or i.task == task) and (family is None or i.family == family)]

    @staticmethod
    def _files(root: Path) -> List[Path]:
        if not root.is_dir():
            return []
        return sorted(p for p in root.rglob("*.safetensors") if not p.name.startswith("."))

    def _run_files(self) -> List[Path]:
        if not self.runs_dir.is_dir():
            return []
        return sorted(p for p in self.runs_dir.glob("*/models/*.safetensors") if not p.name.startswith("."))

    def default(self) -> ModelInfo:
        models = self.list(task="translate")
        idx = pick_default(models)
        if idx >= 0:
            return models[idx]
        raise ModelNotFound(f"No models found. The bundled models should be in {self.bundled_dir}.")

    # --- resolving ---------------------------------------------------------------------------------------
    def resolve(self, ref: Optional[str] = None, *, direction: str = "AtoB", task: Optional[str] = None) -> ModelInfo:
        """Find a model by id, name, file path, foreign ``.pth`` (imported on the fly) or run folder. ``task``: what
        the caller does with it, so that a name not found lists only models that could do that."""
        if not ref:
            return self.default()
        p = Path(ref).expanduser()
        if p.is_dir():
            return self._from_run_dir(p, direction)
        if p.is_file() or p.suffix in (".safetensors", ".pth", ".pt", ".ckpt"):
            if not p.exists():
                raise ModelNotFound(f"Model file not found: {p}")
            if p.suffix == ".safetensors":
                meta = read_meta(p)
                info = _info_from_meta(p, meta, "file")
                if info is None:
                    raise CheckpointError(f"{p} is a GAN Studio {meta.get('kind', 'foreign')} checkpoint, not a model "
                                          "file. Use a run folder or a file from its models/ folder.")
                return info
            return self._import_transient(p)
        models = self.list()
        for m in models:
            if m.id == ref:
                return m
        low = ref.lower()
        hits = [m for m in models if m.name.lower() == low or m.id.lower().startswith(low)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise ModelNotFound(f"{ref!r} matches several models: {', '.join(m.id for m in hits)}")
        known = ", ".join(m.id for m in models if task is None or m.task == task) or "none"
        raise ModelNotFound(f"No model called {ref!r}. Known models: {known}.")

    def _from_run_dir(self, run: Path, direction: str) -> ModelInfo:
        files = sorted((run / "models").glob("*.safetensors")) if (run / "models").is_dir() else []
        if not files:
            raise ModelNotFound(f"{run} holds no trained model yet (no models/*.safetensors). Is it a run folder, "
                                "and has it written its first checkpoint?")
        infos = [i for f in files for i in [_info_from_meta(f, read_meta(f), "run")] if i]
        for i in infos:
            if i.direction == direction:
                return i
        if len(infos) == 1 or not direction:
            return infos[0]
        raise ModelNotFound(f"{run} has no {direction} model; it has {', '.join(i.direction for i in infos)}.")

    def _import_transient(self, p: Path) -> ModelInfo:
        from .importers import import_file

        imp = import_file(p)
        meta = model_meta(id=f"file:{p.name}", name=p.stem, family=imp.family, task=imp.task, arch=imp.arch,
                          arch_kwargs=imp.arch_kwargs, description=f"imported from {p}")
        info = ModelInfo(id=meta["model"]["id"], name=p.stem, family=imp.family, task=imp.task, path=p, source="file",
                         meta=meta)
        info.meta["_imported_state"] = imp.state
        return info

    # --- importing ---------------------------------------------------------------------------------------
    def import_model(self, path, name: Optional[str] = None, *, fp16: bool = False) -> ModelInfo:
        """Convert a foreign ``.pth`` (or copy a ``.safetensors`` model) into the user model folder."""
        from .importers import import_file

        path = Path(path)
        if path.suffix == ".safetensors":
            ckpt = load_checkpoint(path)
            if ckpt.meta.get("kind") != "model":
                raise CheckpointError(f"{path} is not a GAN Studio model file.")
            build_model(ckpt.meta, ckpt.tensors, what="model in the file")
            meta, state = dict(ckpt.meta), ckpt.tensors
            display = name or meta["model"].get("name") or path.stem
        else:
            imp = import_file(path)
            imp.build()
            display = name or path.stem
            meta = model_meta(id="", name=display, family=imp.family, task=imp.task, arch=imp.arch,
                              arch_kwargs=imp.arch_kwargs, description=f"Imported from {path.name} "
                                                                       f"({imp.source_format}).",
                              imported_from=str(path))
            state = imp.state
        base = slug(display, "model")
        taken = {m.id for m in self.list()}
        self.user_dir.mkdir(parents=True, exist_ok=True)
        mid, i = base, 1
        while True:  # a folder that exists is taken, whatever it holds (an unreadable model is still the user's)
            if mid not in taken:
                try:
                    (self.user_dir / mid).mkdir()  # claimed atomically: a concurrent import picks another name
                    break
                except FileExistsError:
                    pass
            i += 1
            mid = f"{base}-{i}"
        meta["model"] = dict(meta.get("model") or {}, id=mid, name=display)
        dest = self.user_dir / mid / "model.safetensors"
        try:
            save_checkpoint(dest, state, meta, dtype=torch.float16 if fp16 else None)
        except BaseException:
            shutil.rmtree(self.user_dir / mid, ignore_errors=True)  # only the folder claimed above
            raise
        return _info_from_meta(dest, read_meta(dest), "user")

    # --- loading -----------------------------------------------------------------------------------------
    def load(self, info: ModelInfo, device: Optional[torch.device] = None) -> LoadedModel:
        device = device or torch.device("cpu")
        key = (str(info.path), int(info.path.stat().st_mtime_ns) if info.path.exists() else 0, str(device))
        with self._lock:
            net = self._cache.get(key)
        if net is None:
            if "_imported_state" in info.meta:
                state, meta = info.meta["_imported_state"], info.meta
            else:
                ckpt = load_checkpoint(info.path)
                state, meta = ckpt.tensors, ckpt.meta
            net = build_model(meta, state, what=f"model {info.name!r} ({info.path})").to(device)
            with self._lock:
                self._cache = {k: v for k, v in self._cache.items() if k[2] == str(device)}
                if len(self._cache) >= 3:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = net
        return LoadedModel(info, net, info.meta)

    def clear_cache(self) -> None:
        """Forget the loaded networks (a model file was replaced, or memory is wanted back)."""
        with self._lock:
            self._cache.clear()
