"""After a standalone build: what is inside (size, no torch), the exported README, a ``.tar.gz`` for sharing."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .. import __version__
from ..fsutil import atomic_path, atomic_write_text
from . import ExportError

SIZE_GOAL = 300 * 10**6
FORBIDDEN = ("torch", "torchvision", "libtorch", "libc10", "cv2", "engine")


@dataclass
class BundleReport:
    size: int
    files: int
    largest: List[Tuple[str, int]] = field(default_factory=list)
    forbidden: List[str] = field(default_factory=list)

    @property
    def size_mb(self) -> float:
        return self.size / 10**6


def inspect_bundle(root: Path) -> BundleReport:
    """Total unpacked size, the biggest top-level parts, and any torch/OpenCV/engine file that slipped in."""
    root = Path(root)
    total, count = 0, 0
    parts: Dict[str, int] = {}
    bad: List[str] = []
    internal = root / "_internal"
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        for d in list(dirnames):
            if _forbidden(d):
                bad.append(str(rel_dir / d))
        for f in filenames:
            p = Path(dirpath) / f
            if p.is_symlink():
                continue
            n = p.stat().st_size
            total += n
            count += 1
            rel = p.relative_to(internal if internal in p.parents else root)
            key = rel.parts[0] if len(rel.parts) > 1 else rel.name
            parts[key] = parts.get(key, 0) + n
            if _forbidden(f):
                bad.append(str(p.relative_to(root)))
    largest = sorted(parts.items(), key=lambda kv: -kv[1])[:8]
    return BundleReport(total, count, largest, sorted(set(bad)))


def _forbidden(name: str) -> bool:
    low = name.lower()
    stem = low.split(".")[0].split("-")[0]
    return stem in FORBIDDEN or low.startswith(("libtorch", "libc10", "torch-", "torch_"))


def required_glibc(root: Path) -> str:
    """The newest ``GLIBC_x.y`` symbol version any bundled binary asks for: the oldest Linux it can run on."""
    best = (2, 17)
    pat = re.compile(rb"GLIBC_(\d+)\.(\d+)")
    for p in Path(root).rglob("*"):
        if p.is_file() and not p.is_symlink() and (".so" in p.name or os.access(p, os.X_OK)):
            with open(p, "rb") as fh:
                if fh.read(4) != b"\x7fELF":
                    continue
                for m in pat.finditer(fh.read()):
                    best = max(best, (int(m.group(1)), int(m.group(2))))
    return f"{best[0]}.{best[1]}"


SAFE_TO_STRIP = ("libpython", "lib-dynload/")


def strip_python(root: Path) -> int:
    """Strip debug symbols from the Python runtime only (about 20 MB). Never the wheels' libraries: numpy's
    auditwheel-patched OpenBLAS breaks when stripped. Returns the bytes saved (0 without binutils' ``strip``)."""
    tool = shutil.which("strip")
    if not tool:
        return 0
    saved = 0
    for p in Path(root).rglob("*.so*"):
        rel = str(p.relative_to(root))
        if p.is_symlink() or not p.is_file() or not any(k in rel for k in SAFE_TO_STRIP):
            continue
        before = p.stat().st_size
        if subprocess.run([tool, "--strip-unneeded", str(p)], capture_output=True).returncode == 0:
            saved += before - p.stat().st_size
    return saved


def write_readme(out: Path, template: Path, *, name: str, title: str, models: List[Dict], report: BundleReport,
                 runtime: str, glibc: str) -> Path:
    """The README that travels with the program (what it needs, how to run, install and share it)."""
    rows = "\n".join(f"| `{m['id']}` | {m['name']} | {m['task']} | {m.get('parity', '')} |" for m in models)
    text = template.read_text(encoding="utf-8").format(
        name=name, title=title, models=rows, size_mb=f"{report.size_mb:.0f}", runtime=runtime, glibc=glibc,
        built=time.strftime("%Y-%m-%d"), studio=f"GAN Studio {__version__}")
    dest = Path(out) / "README.md"
    atomic_write_text(dest, text)
    return dest


def make_archive(folder: Path, dest: Optional[Path] = None, ctx=None, replace: bool = False) -> Path:
    """``folder`` as ``folder.tar.gz`` (one top-level directory named like the folder), written atomically; an
    existing ``dest`` is replaced only with ``replace`` (else :class:`ExportError`, also when it appears meanwhile)."""
    folder = Path(folder)
    dest = Path(dest) if dest else folder.with_name(folder.name + ".tar.gz")
    if dest.resolve().is_relative_to(folder.resolve()):
        raise ExportError(f"The archive {dest} cannot be written inside the folder it packs.")
    if not replace and (dest.exists() or dest.is_symlink()):
        raise ExportError(f"{dest} already exists; it is replaced only when asked (--overwrite).")
    entries = sorted(folder.rglob("*"))
    total = sum(p.lstat().st_size for p in entries if not p.is_dir()) or 1
    done = 0
    with atomic_path(dest, replace=replace) as tmp:
        with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
            tar.add(folder, arcname=folder.name, recursive=False)
            for p in entries:
                tar.add(p, arcname=str(Path(folder.name) / p.relative_to(folder)), recursive=False)
                if p.is_dir():
                    continue
                done += p.lstat().st_size
                if ctx is not None:
                    ctx.progress(done, total, f"Packing {dest.name}")
                    ctx.check_cancel()
    return dest
