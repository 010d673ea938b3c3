"""Run a GAN Studio ONNX model with onnxruntime and numpy only (no torch, no Qt).

The model card inside the file (``metadata_props["ganstudio"]``, written by ``engine/export/card.py``) says what the
graph expects. Translation repeats what ``engine/inference.py`` does, step for step, so results match the studio:
uint8 -> float32 / 255 * 2 - 1, pad bottom/right to the size multiple (at least 16 px; reflection, or replication
where the image is smaller than the pad), run, crop, clamp, (y + 1) / 2, round to uint8, in float32 (the studio's
fp32 precision). Images over 6 MP run in 1024 px tiles blended across a 64 px overlap, the studio's tile grid; unlike
the studio, which freezes instance-norm statistics from a whole-image pass while tiling, each tile is normalised on
its own (a plain ONNX graph cannot take outside statistics), so tones may shift slightly between tiles.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

MIN_SIDE = 16
AUTO_TILE_PIXELS = 6_000_000
TILE, TILE_OVERLAP = 1024, 64


class ModelError(Exception):
    """A model file that cannot be used; the message is for the user."""


@dataclass
class ModelEntry:
    id: str
    name: str
    file: Path
    task: str = "translate"
    description: str = ""
    psi: Optional[float] = None  # generate models with a truncation psi input: its default


def read_index(models_dir: Path) -> List[ModelEntry]:
    """The models embedded in the app (``models/index.json``), in the order the builder wrote them."""
    index = Path(models_dir) / "index.json"
    try:
        items = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelError(f"The model list {index} cannot be read ({e}).") from None
    out = [ModelEntry(i["id"], i.get("name") or i["id"], Path(models_dir) / i["file"], i.get("task", "translate"),
                      i.get("description", ""), i.get("psi")) for i in items]
    if not out:
        raise ModelError(f"{index} lists no models.")
    return out


class OnnxModel:
    def __init__(self, path, threads: int = 0):
        import onnxruntime as ort

        self.path = Path(path)
        so = ort.SessionOptions()
        so.log_severity_level = 3
        if threads:
            so.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(self.path), so, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001
            raise ModelError(f"{self.path.name} cannot be loaded by onnxruntime: {str(e).splitlines()[0]}") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        if "ganstudio" not in meta:
            raise ModelError(f"{self.path.name} has no GAN Studio model card; export it with GAN Studio.")
        self.card = json.loads(meta["ganstudio"])
        self.io = self.card["io"]
        self.task = self.io["task"]
        self.name = self.card["model"].get("name") or self.path.stem
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.output = self.session.get_outputs()[0].name

    # --- translate ---------------------------------------------------------------------------------------
    @property
    def multiple(self) -> int:
        return int(self.io.get("size_multiple") or 1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """NCHW float32 in [-1, 1], any H and W -> same size output."""
        h, w = x.shape[-2:]
        fixed = self.io.get("fixed_size")
        if fixed:
            if (h, w) != tuple(fixed):
                raise ModelError(f"{self.name} only takes {fixed[1]}x{fixed[0]} images.")
            return self._run(x)
        m = self.multiple
        th, tw = max(MIN_SIDE, math.ceil(h / m) * m), max(MIN_SIDE, math.ceil(w / m) * m)
        th, tw = math.ceil(th / m) * m, math.ceil(tw / m) * m
        return self._run(pad_to(x, th, tw))[..., :h, :w]

    def _run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run([self.output], {self.inputs[0]: np.ascontiguousarray(x, np.float32)})[0]

    def translate(self, rgb: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 RGB -> HxWx3 uint8 RGB of the same size."""
        if self.task != "translate":
            raise ModelError(f"{self.name} generates images from seeds; it does not translate photos.")
        x = (rgb.astype(np.float32) / np.float32(255.0)).transpose(2, 0, 1)[None] * np.float32(2) - np.float32(1)
        h, w = rgb.shape[:2]
        fixed = self.io.get("fixed_size")
        if fixed and (h, w) != tuple(fixed):
            y = resize_bilinear(self.forward(resize_bilinear(x, tuple(fixed))), (h, w))
        elif h * w > AUTO_TILE_PIXELS:
            y = self.forward_tiled(x, TILE, TILE_OVERLAP)
        else:
            y = self.forward(x)
        return to_uint8(y[0])

    def forward_tiled(self, x: np.ndarray, tile: int, overlap: int) -> np.ndarray:
        n, _, h, w = x.shape
        step = max(1, tile - overlap)
        out = np.zeros((n, 3, h, w), np.float32)
        weight = np.zeros((1, 1, h, w), np.float32)
        for y0 in _starts(h, tile, step):
            for x0 in _starts(w, tile, step):
                th, tw = min(tile, h - y0), min(tile, w - x0)
                y = self.forward(x[:, :, y0:y0 + th, x0:x0 + tw])
                r = _ramp(th, tw, overlap, y0 > 0, y0 + th < h, x0 > 0, x0 + tw < w)
                out[:, :, y0:y0 + th, x0:x0 + tw] += y * r
                weight[:, :, y0:y0 + th, x0:x0 + tw] += r
        return out / np.maximum(weight, 1e-6)

    # --- generate ----------------------------------------------------------------------------------------
    @property
    def has_psi(self) -> bool:
        return "psi" in self.inputs

    @property
    def default_psi(self) -> float:
        return float(self.io.get("psi") or 1.0)

    def generate(self, seeds: Sequence[int], psi: Optional[float] = None) -> List[np.ndarray]:
        """One HxWx3 uint8 image per seed; z = RandomState(seed).randn(z_dim), as NVlabs' StyleGAN scripts do."""
        if self.task != "generate":
            raise ModelError(f"{self.name} translates photos; it does not generate from seeds.")
        z = np.stack([np.random.RandomState(int(s) % 2**32).randn(int(self.io["z_dim"])) for s in seeds])
        feeds: Dict[str, np.ndarray] = {"z": z.astype(np.float32)}
        if self.has_psi:
            feeds["psi"] = np.array([self.default_psi if psi is None else psi], np.float32)
        y = self.session.run([self.output], feeds)[0]
        return [to_uint8(im) for im in y]


def to_uint8(chw: np.ndarray) -> np.ndarray:
    arr = ((np.clip(chw, -1, 1) + np.float32(1)) * np.float32(0.5)).transpose(1, 2, 0)
    return np.ascontiguousarray(np.round(arr * 255).astype(np.uint8))


def pad_to(x: np.ndarray, th: int, tw: int) -> np.ndarray:
    h, w = x.shape[-2:]
    ph, pw = th - h, tw - w
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if ph < h and pw < w else "edge"
    return np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)), mode=mode)


def resize_bilinear(x: np.ndarray, size) -> np.ndarray:
    """NCHW bilinear resize to (H, W) (half-pixel centres), for models exported at a fixed size."""
    h, w = x.shape[-2:]
    th, tw = size
    ys = np.clip((np.arange(th) + 0.5) * h / th - 0.5, 0, h - 1)
    xs = np.clip((np.arange(tw) + 0.5) * w / tw - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None].astype(np.float32), (xs - x0)[None, :].astype(np.float32)
    top = x[..., y0, :][..., x0] * (1 - fx) + x[..., y0, :][..., x1] * fx
    bot = x[..., y1, :][..., x0] * (1 - fx) + x[..., y1, :][..., x1] * fx
    return (top * (1 - fy) + bot * fy).astype(np.float32)


def _starts(n: int, tile: int, step: int) -> List[int]:
    # Deliberate copy of engine.inference._starts: the standalone translator imports no engine (.importlinter).
    if n <= tile:
        return [0]
    starts = list(range(0, n - tile, step))
    starts.append(n - tile)
    return sorted(set(starts))


def _ramp(h: int, w: int, ov: int, top: bool, bottom: bool, left: bool, right: bool) -> np.ndarray:
    def axis(n: int, lo: bool, hi: bool) -> np.ndarray:
        r = np.ones(n, np.float32)
        k = min(ov, n // 2)
        if k > 0:
            ramp = (np.arange(k, dtype=np.float32) + 1) / (k + 1)
            if lo:
                r[:k] = ramp
            if hi:
                r[n - k:] = ramp[::-1]
        return r

    return (axis(h, top, bottom)[:, None] * axis(w, left, right)[None, :])[None, None]


def default_threads() -> int:
    return max(1, min(8, os.cpu_count() or 1))
