"""Run folders: where a training run keeps everything it needs to survive a crash and be resumed.

    RUN/config.json            the full TrainConfig (family included), rewritten on resume
    RUN/checkpoints/latest.safetensors   nets, optimizers, schedulers, extra state, RNG, step (atomic)
    RUN/checkpoints/best.safetensors     the same, at the best score so far (family-defined)
    RUN/checkpoints/previous.safetensors the latest before the last checkpoint (a resume falls back to it)
    RUN/models/*.safetensors   exported generators (model files the library lists), rewritten at every checkpoint
    RUN/samples/step_NNNNNNN.jpg         sample grids
    RUN/metrics.jsonl          one JSON object per logged step, each with a "step" field
    RUN/train.log              human-readable log
    RUN/status.json            {"state", "step", "total", "family", "updated", "message", "pid", ...}

Every write goes through a temp file and a rename (``engine.fsutil``) except the two append-only logs; a failed write
raises :class:`~engine.errors.DiskError` with a message that says what was kept. ``list_runs`` reads status files so
the GUI can list unfinished runs after a restart.
"""
from __future__ import annotations

import errno
import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from ..errors import DiskError
from ..fsutil import atomic_write_text, is_inside, user_data_dir

RESUMABLE = ("running", "paused", "cancelled", "failed", "interrupted", "finished")


def disk_error(e: OSError, what: str, kept: str = "") -> DiskError:
    name = str(getattr(e, "filename", "") or "")
    where = f" ({name})" if name and not name.endswith(".part") else ""  # never name our own temp files
    if e.errno == errno.ENOSPC:
        reason = "the disk is full"
    elif e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "permission denied (the folder is not writable)"
    else:
        reason = e.strerror or str(e)
    msg = f"Could not write {what}{where}: {reason}."
    return DiskError(msg + (f" {kept}" if kept else ""))


def is_data_field(name: str) -> bool:
    """Config fields that name training data folders (every family names them ``data`` or ``data_*``)."""
    return name == "data" or name.startswith("data_")


def absolute_data(cfg) -> Dict[str, str]:
    """The config's data folders as absolute paths (stored in a new run's config.json, so that it resumes from any
    working directory)."""
    return {k: os.path.abspath(os.path.expanduser(v)) for k, v in vars(cfg).items()
            if is_data_field(k) and isinstance(v, str) and v}


def may_repoint(stored: str, given: str) -> bool:
    """A data folder given again on resume is accepted when it is the stored one (say, absolute where the run
    stored a relative path), or when the stored one cannot be found from here (the data moved, or the run was
    started from another working directory), as ``runstate unpack --a/--b`` allows."""
    new = Path(given).expanduser()
    if not new.is_dir():
        return False
    old = Path(str(stored)).expanduser()
    return not old.is_dir() or old.resolve() == new.resolve()


def check_outside_data(cfg, root: Path) -> None:
    """A run folder inside a training data folder would feed its own samples back as data: refuse it. Data
    folders are the config's ``data`` / ``data_*`` settings (every family names them so)."""
    from ..errors import ConfigError

    run = str(root)
    for name in sorted(vars(cfg)):
        value = getattr(cfg, name)
        if not is_data_field(name) or not isinstance(value, str) or not value:
            continue
        if is_inside(run, os.path.expanduser(value)):
            raise ConfigError(f"The run folder {root} is inside the training data folder {value} ({name}); its "
                              "samples would become training data. Choose a run folder outside it.")


def runs_root() -> Path:
    return user_data_dir() / "runs"


class RunFolder:
    #: what a run that failed before its first checkpoint may leave in its folder; a new run may start over them.
    #: Any other file (a model, a sample, a photo) means the folder is not a run's, and training refuses it.
    START_LEFTOVERS = frozenset({"status.json", "train.log", "metrics.jsonl"})

    def __init__(self, root):
        self.root = Path(root).expanduser()
        self.config_path = self.root / "config.json"
        self.ckpt_dir = self.root / "checkpoints"
        self.latest = self.ckpt_dir / "latest.safetensors"
        self.best = self.ckpt_dir / "best.safetensors"
        self.previous = self.ckpt_dir / "previous.safetensors"  # the latest before the last checkpoint
        self.models = self.root / "models"
        self.samples = self.root / "samples"
        self.metrics = self.root / "metrics.jsonl"
        self.log_path = self.root / "train.log"
        self.status_path = self.root / "status.json"

    @property
    def name(self) -> str:
        return self.root.name

    def holds_run(self) -> bool:
        return self.config_path.exists() or self.latest.exists()

    def prepare(self) -> bool:
        """Create the folder and prove it is writable. Returns True if this call created it."""
        created = not self.root.exists()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".write-test-{os.getpid()}"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as e:
            raise disk_error(e, f"to the output folder {self.root}", "Choose another output folder.") from None
        return created

    # --- status ------------------------------------------------------------------------------------------
    def write_status(self, state: str, **fields: Any) -> None:
        old = self.read_status()
        data = dict(old, **fields, state=state, updated=time.strftime("%Y-%m-%dT%H:%M:%S"),
                    pid=os.getpid(), host=socket.gethostname())
        try:
            atomic_write_text(self.status_path, json.dumps(data, indent=1, default=str) + "\n")
        except OSError as e:
            raise disk_error(e, f"the run status to {self.status_path}") from None

    def read_status(self) -> Dict[str, Any]:
        try:
            data = json.loads(self.status_path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    # --- logs --------------------------------------------------------------------------------------------
    def _append(self, path: Path, line: str) -> None:
        try:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
        except OSError as e:
            raise disk_error(e, f"to {path}") from None

    def log(self, message: str) -> None:
        self._append(self.log_path, f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}")

    def append_metrics(self, record: Dict[str, Any]) -> None:
        self._append(self.metrics, json.dumps(record, default=float))

    def read_metrics(self) -> List[Dict[str, Any]]:
        out = []
        try:
            lines = self.metrics.read_text(encoding="utf-8").splitlines()
        except OSError:
            return out
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue  # a line cut by a crash
            if isinstance(rec, dict) and "step" in rec:
                out.append(rec)
        return out

    def truncate_metrics(self, step: int) -> None:
        """Drop records after ``step`` (steps lost by a crash are trained again and logged again)."""
        if not self.metrics.exists():
            return
        keep = [r for r in self.read_metrics() if int(r["step"]) <= step]
        try:
            atomic_write_text(self.metrics, "".join(json.dumps(r) + "\n" for r in keep))
        except OSError as e:
            raise disk_error(e, f"to {self.metrics}") from None

    # --- samples -----------------------------------------------------------------------------------------
    def save_sample(self, step: int, rgb: np.ndarray) -> Path:
        from ..imageio import save_image

        try:
            return save_image(self.samples / f"step_{step:07d}.jpg", rgb, overwrite=True)
        except OSError as e:
            raise disk_error(e, f"the sample grid to {self.samples}") from None

    def latest_sample(self) -> Optional[Path]:
        files = sorted(self.samples.glob("step_*.jpg")) if self.samples.is_dir() else []
        return files[-1] if files else None


@dataclass
class RunInfo:
    name: str
    path: Path
    family: str
    state: str
    step: int
    total: int
    updated: str
    message: str = ""
    has_checkpoint: bool = False

    @property
    def resumable(self) -> bool:
        """It has a checkpoint to continue from (a finished run can be extended with a larger step count)."""
        return self.has_checkpoint and self.state in RESUMABLE

    @property
    def unfinished(self) -> bool:
        return self.has_checkpoint and self.state != "finished"


def _alive(pid: int, host: str) -> bool:
    """Is the process that wrote a status still running? (On another host we cannot tell: assume it is.)"""
    if host and host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError):
        return False
    return True


def run_info(path) -> Optional[RunInfo]:
    rf = RunFolder(path)
    if not rf.config_path.exists():
        return None
    st = rf.read_status()
    state = st.get("state", "interrupted" if rf.latest.exists() else "failed")
    if state in ("running", "starting", "paused") and not _alive(st.get("pid", -1), st.get("host", "")):
        state = "interrupted"
    family = st.get("family", "")
    if not family:
        try:
            family = json.loads(rf.config_path.read_text(encoding="utf-8")).get("family", "")
        except (OSError, ValueError):
            family = ""
    return RunInfo(rf.name, rf.root, family, state, int(st.get("step", 0)), int(st.get("total", 0)),
                   str(st.get("updated", "")), str(st.get("message", "")), rf.latest.exists())


def list_runs(root=None) -> List[RunInfo]:
    """Every run folder under ``root`` (default: the user's runs folder), newest first."""
    root = Path(root) if root else runs_root()
    if not root.is_dir():
        return []
    infos = [i for p in root.iterdir() if p.is_dir() for i in [run_info(p)] if i]
    return sorted(infos, key=lambda i: i.updated, reverse=True)


@dataclass
class TrainResult:
    run_dir: Path
    family: str
    state: str  # finished | cancelled
    step: int
    total: int
    models: List[Path] = field(default_factory=list)
    seconds: float = 0.0
    last_losses: Dict[str, float] = field(default_factory=dict)

    def message(self) -> str:
        return f"{self.family} run {self.state} at step {self.step} of {self.total} in {self.run_dir}"
