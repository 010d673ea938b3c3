"""The engine side of the Draw page (no Qt): what a model expects as a drawing, and live translation of the canvas.

:func:`draw_spec` reads a model's metadata: the canvas resolution (the size it was trained at), what its input is
(``sketch``: black lines on white; ``label``: a palette of class colours; ``image``: any picture, e.g. a CycleGAN
model used as a one-way translator), the sketch style used in training, and the batch-norm mode for inference.

:class:`LiveTranslator` keeps one :class:`~engine.inference.Translator` per (model, device, options) so a request
costs one forward pass and no model loading; :func:`render_task` is the job the page submits with
``replace=True`` (the job system drops stale requests). :func:`load_canvas_task` and :func:`sketch_from_photo_task`
read files for the canvas (square centre crop at the canvas size) in the io lane.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Tuple

import cv2
import numpy as np
import torch

from . import devices
from .imageio import LoadedImage, load_image
from .inference import TranslateOptions, Translator
from .library import ModelInfo, ModelLibrary
from .sketch import SketchStyle, make_sketch, style_from_meta

DEFAULT_SIZE = 256
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


@dataclass
class DrawSpec:
    size: int = DEFAULT_SIZE
    input_kind: str = "image"  # sketch | label | image
    palette: List[Tuple[int, int, int]] = field(default_factory=list)
    sketch: Optional[SketchStyle] = None
    norm_mode: str = "eval"
    background: Tuple[int, int, int] = WHITE
    pen: Tuple[int, int, int] = BLACK


def draw_spec(info: ModelInfo) -> DrawSpec:
    meta = info.meta or {}
    training = meta.get("training") or {}
    size = int(meta.get("image_size") or training.get("image_size") or DEFAULT_SIZE)
    size = max(64, min(1024, size))
    palette = [tuple(int(v) for v in c[:3]) for c in (meta.get("palette") or []) if len(c) >= 3]
    kind = meta.get("input_kind") or ("label" if palette else "image")
    sketch = style_from_meta(meta)
    if kind == "sketch" and sketch is None:
        sketch = SketchStyle()
    spec = DrawSpec(size=size, input_kind=kind, palette=palette, sketch=sketch,
                    norm_mode=meta.get("norm_mode") or "eval")
    if kind == "label" and palette:
        spec.background = palette[0]
        spec.pen = palette[1] if len(palette) > 1 else palette[0]
    return spec


def fit_square(rgb: np.ndarray, size: int) -> np.ndarray:
    """Centre crop to a square, then resize to ``size`` (area filter down, cubic up)."""
    h, w = rgb.shape[:2]
    s = min(h, w)
    y, x = (h - s) // 2, (w - s) // 2
    sq = rgb[y:y + s, x:x + s]
    if s == size:
        return np.ascontiguousarray(sq)
    interp = cv2.INTER_AREA if s > size else cv2.INTER_CUBIC
    return cv2.resize(np.ascontiguousarray(sq), (size, size), interpolation=interp)


@dataclass
class RenderRequest:
    model: str  # model id (or path)
    canvas: np.ndarray  # HxWx3 uint8
    stamp: int = 0
    norm_mode: str = "eval"
    device: Optional[str] = None
    precision: str = "auto"


@dataclass
class RenderResult:
    rgb: np.ndarray
    stamp: int
    model: str
    seconds: float
    notes: List[str] = field(default_factory=list)


class LiveTranslator:
    """One cached Translator for the current model and options; thread-safe (a lock around the forward)."""

    def __init__(self, library: Optional[ModelLibrary] = None):
        self.library = library or ModelLibrary()
        self._lock = threading.Lock()
        self._key: Optional[Tuple[Any, ...]] = None
        self._translator: Optional[Translator] = None

    def translator(self, req: RenderRequest) -> Translator:
        info = self.library.resolve(req.model)
        device = devices.pick_device(req.device)
        key = (str(info.path), info.id, str(device), req.norm_mode, req.precision)
        if key != self._key or self._translator is None:
            module = self.library.load(info, device).module
            opts = TranslateOptions(norm_mode=req.norm_mode, precision=req.precision, batch_size=1)
            self._translator = Translator(module, device, opts)
            self._key = key
        return self._translator

    def render(self, req: RenderRequest) -> RenderResult:
        t0 = time.perf_counter()
        with self._lock:
            tr = self.translator(req)
            res = tr.translate(LoadedImage(np.ascontiguousarray(req.canvas[:, :, :3])))
        return RenderResult(res.image.to_uint8().rgb, req.stamp, req.model, time.perf_counter() - t0, res.notes)

def render_task(cfg: Tuple[LiveTranslator, RenderRequest], ctx) -> RenderResult:
    live, req = cfg
    ctx.check_cancel()
    with torch.inference_mode():
        return live.render(req)


def load_canvas_task(cfg: Tuple[str, int], ctx) -> np.ndarray:
    """A file as canvas content: square centre crop at the canvas size, RGB uint8 (ImageLoadError when unusable)."""
    path, size = cfg
    return fit_square(load_image(Path(path)).on_white(), size)


def sketch_from_photo_task(cfg: Tuple[Any, int, Optional[SketchStyle]], ctx) -> np.ndarray:
    """A photo (path or RGB array) -> a sketch at the canvas size, in the model's training style."""
    src, size, style = cfg
    rgb = load_image(Path(src)).on_white() if isinstance(src, (str, Path)) else np.asarray(src)
    return make_sketch(fit_square(rgb, size), style or SketchStyle())


def recolor_to_palette(rgb: np.ndarray, palette: List[Tuple[int, int, int]]) -> np.ndarray:
    """Snap every pixel to the nearest palette colour (label maps loaded from files or drawn with antialiasing)."""
    if not palette:
        return rgb
    pal = np.asarray(palette, np.int32)
    flat = rgb.reshape(-1, 3).astype(np.int32)
    d = ((flat[:, None, :] - pal[None, :, :]) ** 2).sum(-1)
    return pal[d.argmin(1)].astype(np.uint8).reshape(rgb.shape)


def describe_spec(spec: DrawSpec) -> str:
    if spec.input_kind == "sketch":
        style = f" ({spec.sketch.title} style)" if spec.sketch else ""  # its settings: the button's tooltip
        how = f"draw black lines on white, or make a sketch from a photo{style}"
    elif spec.input_kind == "label":
        how = f"paint with the {len(spec.palette)} class colours of its training labels"
    else:
        how = "draw or load any picture; the model translates it one way"
    return f"{spec.size}x{spec.size} canvas; {how}."


def model_order(m: ModelInfo):
    """Sort key of the models the Draw page offers: pix2pix first, then the rest (CycleGAN ...); bundled first."""
    return (m.family != "pix2pix", m.source != "bundled", m.name.lower())

