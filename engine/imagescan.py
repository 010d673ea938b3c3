"""Expand dropped files, folders and glob patterns into a sorted, de-duplicated list of image files, with a count of
what was skipped and why (decoding problems are found later, when a file is loaded)."""
from __future__ import annotations

import glob as _glob
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Sequence, Tuple

from .fsutil import is_inside

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".bmp", ".dib", ".tif", ".tiff", ".gif", ".ppm",
              ".pgm", ".pbm", ".pnm"}

@dataclass
class ScanResult:
    files: List[Path] = field(default_factory=list)
    skipped: List[Tuple[Path, str]] = field(default_factory=list)

    def summary(self) -> str:
        n = len(self.files)
        msg = f"{n} image{'s' if n != 1 else ''}"
        if self.skipped:
            reasons = Counter(r for _, r in self.skipped)
            parts = ", ".join(f"{c} {r}" for r, c in reasons.most_common())
            msg += f"; skipped {len(self.skipped)} ({parts})"
        return msg


def is_image_name(p: Path) -> bool:
    return p.suffix.lower() in IMAGE_EXTS


def scan_inputs(inputs: Sequence, *, recursive: bool = True, exclude: Sequence = ()) -> ScanResult:
    """Expand files, folders and globs into a sorted, de-duplicated list of image files.

    Skipped entries (non-image extensions, empty files, missing paths, hidden files) are reported with a reason;
    decoding errors are found later, when a file is loaded. ``exclude``: folders whose contents a folder or pattern
    does not pick up (an output folder inside an input folder: what a run wrote is not the next run's input)."""
    res = ScanResult()
    seen = set()
    fences = [os.path.expanduser(str(e)) for e in exclude if str(e)]

    def fenced(f: Path, root: Path) -> bool:
        """``f`` lies in an excluded folder that is below ``root`` (a folder given as an input is read whole)."""
        return any(is_inside(f, e) and not is_inside(root, e) for e in fences)

    def add(p: Path) -> None:
        key = os.path.realpath(p)
        if key in seen:
            return
        seen.add(key)
        if not is_image_name(p):
            res.skipped.append((p, "not an image file type"))
        elif _size(p) == 0:
            res.skipped.append((p, "empty file"))
        else:
            res.files.append(p)

    for item in inputs:
        s = str(item)
        p = Path(s)
        if p.is_dir():
            walker = p.rglob("*") if recursive else p.glob("*")
            for f in sorted(walker):
                if any(part.startswith(".") for part in f.relative_to(p).parts) or fenced(f, p):
                    continue
                odd = not_a_file(f)
                if odd:
                    res.skipped.append((f, odd))
                elif f.is_file():
                    add(f)
        elif p.is_file():
            add(p)
        elif os.path.lexists(s) and not_a_file(p):
            res.skipped.append((p, not_a_file(p)))
        elif any(ch in s for ch in "*?["):
            matches = sorted(_glob.glob(s, recursive=True))
            if not matches:
                res.skipped.append((p, "pattern matched nothing"))
            for m in matches:
                mp = Path(m)
                if fenced(mp, Path(_glob_root(s))):
                    continue
                if mp.is_file():
                    add(mp)
                elif mp.is_dir():
                    sub = scan_inputs([mp], recursive=recursive, exclude=exclude)
                    for f in sub.files:
                        add(f)
                    res.skipped.extend(sub.skipped)
        else:
            res.skipped.append((p, "not found"))
    return res


def _glob_root(pattern: str) -> str:
    """The folder a pattern starts from: its leading part without wildcards."""
    head = []
    for part in Path(pattern).parts:
        if any(ch in part for ch in "*?["):
            break
        head.append(part)
    return str(Path(*head)) if head else "."


def not_a_file(p: Path) -> str:
    """Why ``p`` cannot be read as an image although it is listed in a folder ("" for files and folders): symbolic
    link loops, dangling links, named pipes, sockets and devices (reading a pipe would block forever)."""
    import errno
    import stat

    try:
        mode = os.stat(p).st_mode
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symbolic link loop"
        if os.path.islink(p):
            return "broken symbolic link (its target does not exist)"
        return f"cannot be read ({e.strerror or e})"
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO), not a file"
    if stat.S_ISSOCK(mode):
        return "socket, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device, not a file"
    return ""


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0
