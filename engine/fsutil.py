"""Atomic file writing, collision-free names and user folders. Never leave a half-written file."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()


@contextlib.contextmanager
def atomic_path(dest: Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temp path in ``dest``'s folder; on success fsync and rename it onto ``dest``; on failure remove it."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=(suffix or dest.suffix) + ".part", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_path, _FILE_MODE)
        os.replace(tmp_path, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(dest: Path, data: bytes) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(dest: Path, text: str) -> None:
    atomic_write_bytes(dest, text.encode("utf-8"))


def atomic_write_with(dest: Path, writer: Callable[[Path], None]) -> None:
    with atomic_path(dest) as tmp:
        writer(tmp)


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
    """``path`` if free, else ``stem_1.ext``, ``stem_2.ext`` ... (also avoiding names in ``taken``)."""
    path = Path(path)
    taken = taken or set()
    if not path.exists() and str(path) not in taken:
        return path
    i = 1
    while True:
        cand = path.with_name(f"{path.stem}_{i}{path.suffix}")
        if not cand.exists() and str(cand) not in taken:
            return cand
        i += 1


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
