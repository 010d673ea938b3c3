"""The standalone translator that GAN Studio exports: onnxruntime + PySide6 + numpy, no torch, no engine import.

``bundle_dir()`` holds ``app.json`` (name, title, what built it), ``models/`` (``index.json`` + ``*.onnx``) and the
icon. In a PyInstaller build it is ``sys._MEIPASS`` (the ``_internal`` folder); from source, ``$GSTRANSLATOR_BUNDLE``.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, Optional

__version__ = "1.0"


def frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def bundle_dir() -> Path:
    env = os.environ.get("GSTRANSLATOR_BUNDLE")
    if env:
        return Path(env)
    if frozen():
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    return Path(__file__).resolve().parent


def app_root() -> Path:
    """The folder that holds the executable (what ``--install`` copies)."""
    return Path(sys.executable).resolve().parent if frozen() else bundle_dir()


def app_info() -> Dict[str, Any]:
    try:
        info = json.loads((bundle_dir() / "app.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    info.setdefault("name", "gstranslator")
    info.setdefault("title", info["name"])
    return info


def icon_path() -> Optional[Path]:
    for name in ("icon.svg", "icon.png"):
        p = bundle_dir() / name
        if p.exists():
            return p
    return None
