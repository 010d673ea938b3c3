"""The one output policy every writer follows (translate, eval reports, exports, model cards, GUI saves):

- never write over an input;
- never replace an existing file unless the user asked (``overwrite``: ``--overwrite`` or a GUI confirmation);
- write atomically (a temp file renamed into place; without ``overwrite`` the name is claimed so that a file created
  meanwhile is never replaced).

:func:`check_output` runs before any work starts, so a refused output costs nothing; :func:`write_output` checks
again and writes. Output names made from user text (``--suffix``) go through :func:`check_name`, and
:func:`check_inside` refuses anything that would land outside the chosen output folder.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Optional

from .errors import ConfigError, GanStudioError
from .fsutil import atomic_path

#: longest output file name we create (most file systems allow 255 bytes)
MAX_NAME_BYTES = 240


class OutputExists(GanStudioError):
    """The output file exists and the user did not ask to replace it."""

    kind = "exists"

    def __init__(self, path, what: str = "output file"):
        self.path = str(path)
        super().__init__(f"The {what} {path} already exists; nothing was written. Choose another name, or pass "
                         "--overwrite to replace it.")


class OutputIsInput(ConfigError):
    """The output would be written over (or into) one of the inputs."""

    kind = "config"


def _real(p) -> str:
    return os.path.realpath(os.path.expanduser(str(p)))


def is_input(dest, inputs: Iterable) -> Optional[str]:
    """The input that ``dest`` would overwrite: the same file, or a file inside an input folder. None if none."""
    d = _real(dest)
    for src in inputs:
        if not str(src):
            continue
        s = _real(src)
        if d == s or (os.path.isdir(s) and d.startswith(s.rstrip(os.sep) + os.sep)):
            return str(src)
    return None


def check_output(dest, *, inputs: Iterable = (), overwrite: bool = False, what: str = "output file") -> Path:
    """Refuse (before any work) an empty path, a folder, an input, or an existing file without ``overwrite``."""
    if dest is None or not str(dest).strip():
        raise ConfigError(f"The {what} name is empty; give a file name.")
    dest = Path(os.path.expanduser(str(dest)))
    culprit = is_input(dest, inputs)
    if culprit is not None:
        where = "is" if _real(dest) == _real(culprit) else "is inside"
        raise OutputIsInput(f"The {what} {dest} {where} the input {culprit}; it would be overwritten. Choose "
                            "another name.")
    if dest.is_dir():
        raise ConfigError(f"The {what} {dest} is a folder; give a file name.")
    if (dest.exists() or dest.is_symlink()) and not overwrite:
        raise OutputExists(dest, what)
    check_name(dest.name, what)
    return dest


def write_output(dest, writer: Callable[[Path], None], *, inputs: Iterable = (), overwrite: bool = False,
                 what: str = "output file") -> Path:
    """Check ``dest`` by the policy, then ``writer(tmp)`` and move the result into place atomically."""
    dest = check_output(dest, inputs=inputs, overwrite=overwrite, what=what)
    try:
        with atomic_path(dest, replace=overwrite) as tmp:
            writer(tmp)
    except FileExistsError:
        raise OutputExists(dest, what) from None
    return dest


def write_output_text(dest, text: str, **kw) -> Path:
    return write_output(dest, lambda tmp: tmp.write_text(text, encoding="utf-8"), **kw)


def check_name(name: str, what: str = "output name") -> str:
    """An output file name (or a part of one, like ``--suffix``) without separators, ``..``, control characters, and
    at most :data:`MAX_NAME_BYTES` bytes."""
    bad = [c for c in ("/", "\\", "\0") if c in name]
    if bad or name in (".", "..") or ".." in name.split(os.sep):
        raise ConfigError(f"The {what} {name!r} must not contain path separators; it is a name, not a path.")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ConfigError(f"The {what} {name!r} contains control characters.")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise ConfigError(f"The {what} is too long ({len(name.encode('utf-8', 'surrogateescape'))} bytes; at most "
                          f"{MAX_NAME_BYTES}).")
    return name


def check_inside(path, root, what: str = "output") -> Path:
    """Refuse ``path`` if it would land outside the folder ``root``."""
    p, r = _real(path), _real(root)
    if not (p == r or p.startswith(r.rstrip(os.sep) + os.sep)):
        raise ConfigError(f"The {what} {path} would be written outside the output folder {root}; refused.")
    return Path(path)
