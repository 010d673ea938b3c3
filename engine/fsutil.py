"""Atomic file writing, collision-free names and user folders. Never leave a half-written file."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Iterator


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()


#: every temp file we write ends with this (``.NAME.<random>.EXT.part``); stale ones are ours to clean
PART_SUFFIX = ".part"


@contextlib.contextmanager
def atomic_path(dest: Path, suffix: str = "", *, replace: bool = True) -> Iterator[Path]:
    """Yield a temp path in ``dest``'s folder; on success fsync and rename it onto ``dest``; on failure remove it.

    ``replace=False`` never replaces an existing ``dest``: the finished file is hard-linked into place, which fails
    with :class:`FileExistsError` if the name was taken in the meantime (by another process, too)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name[:100]}.", suffix=(suffix or dest.suffix)[:20] + PART_SUFFIX,
                               dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_path, _FILE_MODE)
        if replace:
            os.replace(tmp_path, dest)
        else:
            _link_new(tmp_path, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def _link_new(tmp: Path, dest: Path) -> None:
    """Put the finished ``tmp`` at ``dest`` only if ``dest`` does not exist (atomically: a claim two writers can
    never both win). File systems without hard links fall back to a create-exclusive placeholder."""
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise
    except OSError:
        fd = os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)  # FileExistsError if taken
        os.close(fd)
        os.replace(tmp, dest)
        return
    os.unlink(tmp)


def atomic_write_bytes(dest: Path, data: bytes) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(dest: Path, text: str) -> None:
    atomic_write_bytes(dest, text.encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unique_path(path: Path, taken: set | None = None) -> Path:
    """``path`` if free, else ``stem_1.ext``, ``stem_2.ext`` ... (also avoiding names in ``taken``).

    Only a guess for names shown before writing: use :func:`write_unique` to claim a name."""
    for cand in _candidates(Path(path)):
        if not cand.exists() and str(cand) not in (taken or set()):
            return cand
    raise AssertionError("unreachable")


def _candidates(path: Path) -> Iterator[Path]:
    yield path
    i = 1
    while True:
        yield path.with_name(f"{path.stem}_{i}{path.suffix}")
        i += 1


def write_unique(path: Path, data: bytes, taken: set | None = None) -> Path:
    """Write ``data`` atomically under ``path`` or the first free ``stem_N.ext``, claiming the name atomically (two
    processes writing into one folder never get the same name). ``taken`` (real paths) are never used."""
    path = Path(path)
    taken = taken or set()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:100]}.", suffix=path.suffix[:20] + PART_SUFFIX,
                               dir=path.parent)
    tmp_path = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_path, _FILE_MODE)
        for cand in _candidates(path):
            if str(cand) in taken or os.path.realpath(cand) in taken or cand.exists():
                continue
            try:
                _link_new(tmp_path, cand)
            except FileExistsError:
                continue
            _fsync_dir(path.parent)
            return cand
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise
    raise AssertionError("unreachable")


def clean_stale_parts(folder: Path, min_age_s: float = 0.0) -> int:
    """Remove temp files of our own naming (``.NAME.<random>.EXT.part``) left in ``folder`` by an interrupted write.
    Returns how many were removed."""
    import time

    n = 0
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return 0
    now = time.time()
    for p in entries:
        if not (p.name.startswith(".") and p.name.endswith(PART_SUFFIX) and p.name.count(".") >= 3):
            continue
        try:
            if p.is_file() and not p.is_symlink() and now - p.stat().st_mtime >= min_age_s:
                p.unlink()
                n += 1
        except OSError:
            pass
    return n


def slug(text: str, default: str = "item", *, lower: bool = True) -> str:
    """``text`` as a name part for files and ids: runs of anything but ASCII letters, digits, ``_`` and ``-`` become
    one ``-`` (so no separator or ``..`` survives); ``default`` when nothing is left."""
    s = re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-")
    return (s.lower() if lower else s) or default


def is_inside(path, folder) -> bool:
    """Is ``path`` the folder ``folder`` or below it (links resolved)?"""
    p, f = os.path.realpath(path), os.path.realpath(folder)
    return p == f or p.startswith(f.rstrip(os.sep) + os.sep)


def remove_listed(root: Path, manifest: Path, suffixes: tuple = (".png",)) -> int:
    """Remove the files that ``manifest`` (JSON with a ``files`` list) says we wrote in ``root``, and the folders
    below ``root`` that this empties; returns how many files went. A manifest is a file in a folder a user may have
    been handed, so no entry is trusted: only a relative path with one of ``suffixes`` that lies inside ``root`` with
    no link on the way (the file itself included) is removed; everything else is skipped, and an unreadable
    manifest removes nothing."""
    try:
        listed = json.loads(Path(manifest).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        listed = []
    base, gone = root.resolve(), 0
    for rel in listed if isinstance(listed, list) else []:
        if not isinstance(rel, str) or not rel.lower().endswith(suffixes):
            continue
        parts = Path(rel).parts
        if not parts or Path(rel).is_absolute() or ".." in parts:
            continue
        p = root.joinpath(*parts)
        if p.is_symlink() or not p.is_file() or p.resolve() != base.joinpath(*parts):
            continue
        p.unlink()
        gone += 1
        for parent in p.parents:
            if parent == root or root not in parent.parents or any(parent.iterdir()):
                break
            parent.rmdir()
    return gone


def user_data_dir() -> Path:
    """Where user models, runs and caches live (``$GANSTUDIO_HOME`` overrides, for tests)."""
    env = os.environ.get("GANSTUDIO_HOME")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "ganstudio"


def user_cache_dir() -> Path:
    env = os.environ.get("GANSTUDIO_HOME")
    if env:
        return Path(env) / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ganstudio"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
