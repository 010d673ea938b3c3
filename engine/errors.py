"""One family of exceptions whose message is written for the user.

Every error the engine raises on purpose is a :class:`GanStudioError`; its ``str`` is a complete, user-facing
sentence (no traceback needed). :func:`describe_exception` turns any exception, foreign ones included, into that
form so the GUI, the CLI and the job system report errors the same way.
"""
from __future__ import annotations

import errno
import os
import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Optional


class GanStudioError(Exception):
    """Base class: ``str(err)`` is the message shown to the user."""

    kind = "error"


class ConfigError(GanStudioError, ValueError):
    kind = "config"


class ImageLoadError(GanStudioError):
    """An input file could not be used as an image. Names the file and the reason."""

    kind = "image"

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class DataError(GanStudioError):
    """A data set (folder, pairs) cannot be used for the requested work."""

    kind = "data"


class CheckpointError(GanStudioError):
    """A model or checkpoint file is missing, corrupt or does not match."""

    kind = "checkpoint"


class ModelNotFound(GanStudioError):
    kind = "model"


class Cancelled(GanStudioError):
    """Raised inside a task by ``ctx.check_cancel()`` when the user cancelled."""

    kind = "cancelled"

    def __init__(self, message: str = "Cancelled by the user."):
        super().__init__(message)


class OutOfMemory(GanStudioError):
    kind = "oom"


class DiskError(GanStudioError):
    kind = "disk"


@dataclass
class ErrorInfo:
    """An error as data: what the GUI and the CLI show, plus the detail for a log."""

    message: str
    kind: str = "error"
    detail: str = ""

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.message


def is_oom(exc: BaseException) -> bool:
    """True for CUDA/MPS out-of-memory errors of any torch version."""
    name = type(exc).__name__
    if name in ("OutOfMemoryError", "OutOfMemory"):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("out of memory" in text.lower() and "CUDA" in text or "MPS backend out of memory" in text)


def describe_exception(exc: BaseException) -> ErrorInfo:
    """Turn any exception into a user-facing :class:`ErrorInfo`."""
    detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if isinstance(exc, GanStudioError):
        return ErrorInfo(str(exc), exc.kind, detail)
    if is_oom(exc):
        return ErrorInfo("Out of GPU memory. Try a smaller batch size or image size, or close other GPU programs.",
                         "oom", detail)
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return ErrorInfo(f"The disk is full{_where(exc)}. Free some space and try again; nothing was overwritten.",
                             "disk", detail)
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return ErrorInfo(f"No permission to write{_where(exc)}. Choose another folder.", "disk", detail)
        if exc.errno == errno.ENOENT:
            return ErrorInfo(f"File or folder not found{_where(exc)}.", "io", detail)
        if exc.errno == errno.ENAMETOOLONG:
            return ErrorInfo("The file name is too long for this file system. Choose a shorter name.", "io", detail)
        blocker = _file_in_path(exc) if exc.errno in (errno.EEXIST, errno.ENOTDIR) else None
        if blocker:
            return ErrorInfo(f"{blocker} is a file, where a folder is needed. Choose another folder.", "io", detail)
        return ErrorInfo(f"File system error{_where(exc)}: {exc.strerror or exc}", "io", detail)
    if isinstance(exc, MemoryError):
        return ErrorInfo("Out of memory. Try smaller images or a smaller batch.", "oom", detail)
    return ErrorInfo(f"Unexpected error: {type(exc).__name__}: {exc}", "bug", detail)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` with control characters (newlines, ANSI escapes, ...) shown as ``\\n``, ``\\x1b``: a file name
    can never forge a line or recolour the terminal."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group(), f"\\x{ord(m.group()):02x}"), str(text))


def _file_in_path(exc: OSError) -> Optional[str]:
    """The file that stands where ``exc.filename`` needs a folder (mkdir onto a file, a path through a file)."""
    name = getattr(exc, "filename", None)
    if not isinstance(name, (str, os.PathLike)):
        return None
    for p in (Path(name), *Path(name).parents):
        try:
            if p.is_file():
                return str(p)
        except OSError:
            return None
    return None


def _where(exc: OSError) -> str:
    return f" ({exc.filename})" if getattr(exc, "filename", None) else ""
