"""The layer contracts in ``.importlinter`` hold: app -> engine never back, engine without Qt, no cycles between the
engine's packages, a standalone translator without torch or the engine. Runs import-linter (a test dependency)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(root: Path = ROOT) -> subprocess.CompletedProcess:
    """``lint-imports`` on the tree at ``root`` (its packages first on the path)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(root / "packaging" / "translator")]))
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run([sys.executable, "-c", code, "--no-cache"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def test_import_contracts_are_kept():
    out = lint_imports()
    report = out.stdout + out.stderr
    assert out.returncode == 0, report
    for name in ("engine never uses app", "engine never imports Qt", "no cycles between the engine's packages",
                 "imports neither torch nor the engine"):
        assert f"{name} KEPT" in report


def test_a_forbidden_import_is_caught(tmp_path):
    """The contracts are live: an engine module that imports the app breaks them (checked on a copy of the tree)."""
    import shutil

    copy = tmp_path / "tree"
    for part in ("app", "engine", "packaging/translator/gstranslator"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    (copy / "engine" / "_bad.py").write_text("from app import bridge  # noqa\n")
    out = lint_imports(copy)
    assert out.returncode != 0
    assert "engine never uses app BROKEN" in out.stdout and "engine._bad -> app.bridge" in out.stdout
