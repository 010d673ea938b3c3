"""The separate build venv for the standalone translator: onnxruntime, PySide6-Essentials, numpy and PyInstaller,
pinned in ``packaging/build-requirements.txt``, created on demand and reused while the pins stay the same.

It lives in ``user_cache_dir()/build-venv`` (``$GANSTUDIO_BUILD_VENV`` overrides). ``$GANSTUDIO_WHEELHOUSE`` points
pip at a folder of wheels for machines without internet (``pip download -r packaging/build-requirements.txt -d
DIR`` on a connected one). Torch is never installed there, so PyInstaller cannot pick it up.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, List, Optional, TextIO

from ..fsutil import atomic_write_text, user_cache_dir
from . import BuildError, ExportError

STAMP = ".ganstudio-build-env.json"
CHECK = ("import onnxruntime, numpy, PyInstaller; from PySide6 import QtCore, QtGui, QtWidgets\n"
         "import importlib.util as u; assert u.find_spec('torch') is None, 'torch is installed'\n"
         "print(onnxruntime.__version__, numpy.__version__, QtCore.qVersion(), PyInstaller.__version__)")


def packaging_dir() -> Path:
    env = os.environ.get("GANSTUDIO_PACKAGING")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "packaging"


def requirements_file() -> Path:
    p = packaging_dir() / "build-requirements.txt"
    if not p.is_file():
        raise ExportError(f"The build requirements are missing ({p}); the GAN Studio installation is incomplete.")
    return p


def build_venv_dir() -> Path:
    env = os.environ.get("GANSTUDIO_BUILD_VENV")
    return Path(env).expanduser() if env else user_cache_dir() / "build-venv"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _fingerprint(req: Path) -> str:
    h = hashlib.sha256(req.read_bytes())
    h.update(f"{sys.version_info[:3]}{sys.platform}".encode())
    return h.hexdigest()[:16]


def is_ready(venv: Optional[Path] = None) -> bool:
    venv = venv or build_venv_dir()
    try:
        stamp = json.loads((venv / STAMP).read_text())
    except (OSError, ValueError):
        return False
    return stamp.get("fingerprint") == _fingerprint(requirements_file()) and venv_python(venv).exists()


def ensure_build_venv(ctx, venv: Optional[Path] = None, log: Optional[TextIO] = None) -> Path:
    """Create (or reuse) the build venv and return its python. ``ctx`` gets progress 0..1; pip's output goes to
    ``log``."""
    venv = venv or build_venv_dir()
    req = requirements_file()
    if is_ready(venv):
        ctx.progress(1, 1, "Build environment ready")
        return venv_python(venv)
    if venv.exists():
        if not (venv / "pyvenv.cfg").exists() and any(venv.iterdir()):
            raise ExportError(f"{venv} exists and is not a Python venv; remove it or set GANSTUDIO_BUILD_VENV to "
                              "another folder.")
        shutil.rmtree(venv)
    ctx.progress(0.02, 1, "Creating the build environment")
    run_logged([base_python(), "-m", "venv", str(venv)], ctx, what="creating the build venv (is python3-venv "
               "installed?)", log=log)
    py = venv_python(venv)
    ctx.check_cancel()
    pip = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--progress-bar", "off"]
    house = os.environ.get("GANSTUDIO_WHEELHOUSE")
    if house:
        pip += ["--no-index", "--find-links", house]
    ctx.progress(0.1, 1, "Installing onnxruntime, PySide6, numpy and PyInstaller into the build environment")
    counter = _PipProgress(ctx, 0.1, 0.9, n=len(_pins(req)))
    run_logged(pip + ["-r", str(req)], ctx, what="installing the build requirements (no internet? see "
               "GANSTUDIO_WHEELHOUSE)", on_line=counter, log=log)
    ctx.progress(0.92, 1, "Checking the build environment")
    out = run_logged([str(py), "-c", CHECK], ctx, what="checking the build venv", log=log)
    atomic_write_text(venv / STAMP, json.dumps({"fingerprint": _fingerprint(req), "versions": out.strip(),
                                                "requirements": _pins(req)}, indent=1))
    ctx.progress(1, 1, "Build environment ready")
    return py


def base_python() -> str:
    """The interpreter the build venv is made from: this one, or ``python3`` when GAN Studio itself is frozen."""
    if not getattr(sys, "frozen", False):
        return sys.executable
    py = shutil.which("python3")
    if not py:
        raise ExportError("Building an app needs Python 3 (python3 with the venv module) on this machine.")
    return py


def _pins(req: Path) -> List[str]:
    return [ln.split("#")[0].strip() for ln in req.read_text().splitlines() if ln.split("#")[0].strip()]


class _PipProgress:
    def __init__(self, ctx, start: float, stop: float, n: int):
        self.ctx, self.start, self.stop, self.n, self.seen = ctx, start, stop, max(1, n), 0

    def __call__(self, line: str) -> None:
        if line.startswith(("Collecting ", "Processing ", "Using cached ", "Downloading ")):
            if line.startswith(("Collecting ", "Processing ")):
                self.seen += 1
            frac = min(1.0, self.seen / (self.n + 2))
            self.ctx.progress(self.start + (self.stop - self.start) * frac * 0.7, 1, line[:100])
        elif line.startswith("Installing collected packages"):
            self.ctx.progress(self.start + (self.stop - self.start) * 0.75, 1, "Installing packages")


def run_logged(cmd: List[str], ctx, *, what: str, on_line: Optional[Callable[[str], None]] = None,
               env: Optional[dict] = None, cwd: Optional[Path] = None, log: Optional[TextIO] = None) -> str:
    """Run ``cmd``; its output lines go to ``log`` (a build log file) and ``on_line``; cancel kills it (the whole
    process group); a failure raises :class:`ExportError` with the last lines."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                            env=env, cwd=str(cwd) if cwd else None, start_new_session=True)
    lines: List[str] = []
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.rstrip()
            lines.append(line)
            if log is not None:
                log.write(raw)
            if on_line:
                on_line(line)
            if getattr(ctx, "cancelled", False):
                _kill(proc)
                ctx.check_cancel()
        proc.wait()
    except BaseException:
        _kill(proc)
        raise
    if proc.returncode != 0:
        tail = " / ".join(ln for ln in lines[-6:] if ln.strip())[-600:]
        raise BuildError(f"Failed while {what} (exit code {proc.returncode}): {tail}")
    return "\n".join(lines)


def _kill(proc: subprocess.Popen) -> None:
    import signal

    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
