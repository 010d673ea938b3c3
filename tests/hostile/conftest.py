"""Hostile tests: each one reproduces an attack first, then asserts that nothing was lost, that no stray file was
left, and that exactly one message names the culprit.

``cli(*args)`` runs ``ganstudio`` in this process (fast; the CLI's own error handling included) and returns
``(exit code, stdout, stderr)``; ``tree(folder)`` is a ``{relative path: sha256}`` snapshot for "nothing lost"."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict, Iterable

import pytest


@pytest.fixture
def cli(capsys):
    from app.cli import main

    def _run(*args):
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def tree(folder: Path) -> Dict[str, str]:
    folder = Path(folder)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def strays(folder: Path) -> list:
    """Temp files of ours (hidden ``.NAME.<random>.EXT.part``) or anything else hidden that a writer left behind."""
    return [str(p) for p in Path(folder).rglob("*") if p.name.startswith(".")]


def one_error(err: str, *culprits: str) -> str:
    """Exactly one error line, naming every culprit; no traceback, never "Unexpected error"."""
    assert "Traceback" not in err and "Unexpected error" not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith("ganstudio: error")]
    assert len(lines) == 1, err
    for c in culprits:
        assert str(c) in lines[0], (c, lines[0])
    return lines[0]


def images(folder: Path, n: int = 3, w: int = 64, h: int = 64, names: Iterable[str] = ()) -> Path:
    from tests.conftest import make_image

    names = list(names) or [f"img{i}.png" for i in range(n)]
    for i, name in enumerate(names):
        make_image(Path(folder) / name, w=w, h=h, seed=i)
    return Path(folder)
