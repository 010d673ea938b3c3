"""Export: ONNX files with parity checks, model copies with their cards, and the standalone translator app.

- :mod:`engine.export.onnx`: any ``translate`` or ``generate`` generator to ONNX (dynamic batch, dynamic H/W where
  the architecture allows), parity against torch through onnxruntime, the model card inside the file;
- :mod:`engine.export.package`: a model as ``.safetensors`` plus its model card, for other GAN Studio users;
- :mod:`engine.export.app_builder`: the torch-free translator program, built with PyInstaller from a separate
  build venv (:mod:`engine.export.buildenv`).
"""
from __future__ import annotations

from ..errors import GanStudioError


class ExportError(GanStudioError):
    """A model cannot be exported, or the exported program could not be built."""

    kind = "export"


class ParityError(ExportError):
    """The ONNX model does not reproduce the torch model's output within the tolerance."""


class BuildError(ExportError):
    """A build step (venv creation, pip, PyInstaller) failed; the message quotes its last output lines."""
