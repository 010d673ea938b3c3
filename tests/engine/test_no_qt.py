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
    assert qt_modules_after("import importlib\n"
                            f"for n in {names!r}:\n"
                            "    importlib.import_module(n)\n") == "[]"


def test_headless_cli_commands_import_no_qt():
    assert qt_modules_after("from app.cli import build_parser, main\n"
                            "build_parser()\n"
                            "main(['models'])\n") == "[]"


def test_eval_command_imports_no_training_stack():
    """``ganstudio eval`` builds only its own parser: the training families are not imported."""
    assert modules_after("from app.cli import build_parser\nbuild_parser('eval')\n", ("engine.training",)) == "[]"


def qt_modules_after(code: str) -> str:
    return modules_after(code, ("PySide6", "shiboken6", "PyQt"))


def modules_after(code: str, prefixes) -> str:
    """Run ``code`` in a fresh interpreter; the modules starting with ``prefixes`` it imported, as Python prints
    a sorted list."""
    code += f"import sys\nprint('MODULES:', sorted(m for m in sys.modules if m.startswith({tuple(prefixes)!r})))\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.split("MODULES: ", 1)[1].strip()
