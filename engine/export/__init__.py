"""Export: ONNX files with parity checks, model copies with their cards, and the standalone translator app.

- :mod:`engine.export.onnx`: any ``translate`` or ``generate`` generator to ONNX (dynamic batch, dynamic H/W where
  the architecture allows), parity against torch through onnxruntime, the model card inside the file;
- :mod:`engine.export.package`: a model as ``.safetensors`` plus its model card, for other GAN Studio users;
- :mod:`engine.export.app_builder`: the torch-free translator program, built with PyInstaller from a separate
  build venv (:mod:`engine.export.buildenv`).
"""
from __future__ import annotations

from typing import Any

from ..errors import GanStudioError


class ExportError(GanStudioError):
    """A model cannot be exported, or the exported program could not be built."""

    kind = "export"


class ParityError(ExportError):
    """The ONNX model does not reproduce the torch model's output within the tolerance."""

    kind = "export"


class BuildError(ExportError):
    """A build step (venv creation, pip, PyInstaller) failed; the message quotes its last output lines."""

    kind = "export"


class Span:
    """Progress of a sub-step mapped onto ``start..stop`` (0..1) of ``ctx``; unlike ``JobContext.sub`` it nests
    (a span of a span maps into its parent's range). Everything else (log, check_cancel, cancelled) is ``ctx``'s."""

    def __init__(self, ctx: Any, start: float, stop: float):
        self._ctx, self._start, self._stop = ctx, start, stop

    def progress(self, done: float, total: float = 0, message: str = "") -> None:
        frac = min(1.0, done / total) if total else 0.0
        self._ctx.progress(self._start + (self._stop - self._start) * frac, 1.0, message)

    def sub(self, start: float, stop: float) -> "Span":
        return Span(self, start, stop)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


def span(ctx: Any, start: float, stop: float) -> Span:
    return Span(ctx, start, stop)
