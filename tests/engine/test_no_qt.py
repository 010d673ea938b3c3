"""The engine (and the CLI's headless commands) never import Qt."""
from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[2]


def test_importing_every_engine_module_pulls_in_no_pyside6():
    names = [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
    assert len(names) > 10
    code = ("import importlib, sys\n"
            f"names = {names!r}\n"
            "for n in names:\n"
            "    importlib.import_module(n)\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'PyQt')))\n"
            "print('QT:', bad)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "QT: []" in out.stdout


def test_headless_cli_commands_import_no_qt():
    code = ("import sys\n"
            "from app.cli import build_parser\n"
            "build_parser()\n"
            "from app.cli import main\n"
            "main(['models'])\n"
            "print('QT:', sorted(m for m in sys.modules if m.startswith('PySide6')))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "QT: []" in out.stdout
