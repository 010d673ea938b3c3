"""Automatic sketches from photos, for pix2pix training pairs (sketch -> photo) and the Draw page's "make sketch from
photo". Three OpenCV edge styles, all deterministic (no randomness; the same pixels in give the same pixels out):

- ``canny``: Canny edges of the lightly blurred grey image (thin, crisp contours); thresholds ``low``/``high``.
- ``xdog``: eXtended Difference of Gaussians (Winnemöller et al. 2012), a soft pencil look with some shading;
  ``sigma``, ``k``, ``p`` (sharpening), ``eps`` (threshold) and ``phi`` (softness).
- ``lineart``: clean line art: edge-preserving smoothing, adaptive threshold, then small specks removed; strokes
  look like pen lines, which makes it the closest to what people draw by hand.

Every style returns black lines on white as an HxWx3 ``uint8`` image (what the canvas draws), at the input's size.
The thresholds are the settings of :class:`SketchStyle`; models trained on automatic sketches store it in their
metadata (``meta["sketch"]``) so the Draw page makes sketches the way the model saw them in training.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

import cv2
import numpy as np

from .config import Config, check, check_choice, option

STYLES = ("canny", "xdog", "lineart")
STYLE_TITLES = {"canny": "Canny edges", "xdog": "XDoG pencil", "lineart": "Clean line art"}


@dataclass
class SketchStyle(Config):
    style: str = option("lineart", "edge style of automatic sketches", flag="sketch-style", choices=STYLES)
    blur: float = 1.0  # Gaussian sigma before edge detection (canny), px
    low: int = 60  # canny: hysteresis low threshold (0..255 grey levels of gradient)
    high: int = 150  # canny: high threshold
    sigma: float = 0.8  # xdog: inner Gaussian sigma, px
    k: float = 1.6  # xdog: outer / inner sigma ratio
    p: float = 20.0  # xdog: sharpening strength
    eps: float = 0.3  # xdog: threshold on the sharpened image (0..1 grey)
    phi: float = 8.0  # xdog: softness of the transition (larger = harder lines)
    block: int = 9  # lineart: adaptive-threshold neighbourhood, px (odd)
    offset: int = 6  # lineart: how much darker than its neighbourhood a pixel must be to become a line
    min_area: int = 12  # lineart: connected line pieces smaller than this many pixels are removed
    thickness: int = 1  # line thickness in px (1 = as detected; 2..5 dilates the lines)

    def validate(self) -> None:
        check_choice("sketch style", self.style, STYLES)
        check(0 <= self.blur <= 10, "sketch blur must be between 0 and 10 px")
        check(0 <= self.low <= self.high <= 1000, "Canny thresholds must satisfy 0 <= low <= high <= 1000")
        check(0.1 <= self.sigma <= 10 and 1.0 < self.k <= 10, "XDoG needs 0.1 <= sigma <= 10 and 1 < k <= 10")
        check(0 <= self.p <= 200 and 0 < self.phi <= 1000, "XDoG needs 0 <= p <= 200 and 0 < phi <= 1000")
        check(-1 <= self.eps <= 2, "XDoG eps must be between -1 and 2")
        check(3 <= self.block <= 99 and self.block % 2 == 1, "line-art block must be an odd size from 3 to 99 px")
        check(-50 <= self.offset <= 100, "line-art offset must be between -50 and 100")
        check(0 <= self.min_area <= 10000, "line-art min_area must be between 0 and 10000 px")
        check(1 <= self.thickness <= 5, "line thickness must be between 1 and 5 px")

    @property
    def title(self) -> str:
        return STYLE_TITLES[self.style]

    def describe(self) -> str:
        if self.style == "canny":
            extra = f"blur {self.blur:g}, thresholds {self.low}/{self.high}"
        elif self.style == "xdog":
            extra = f"sigma {self.sigma:g}, k {self.k:g}, p {self.p:g}, eps {self.eps:g}, phi {self.phi:g}"
        else:
            extra = f"block {self.block}, offset {self.offset}, min area {self.min_area}"
        return f"{self.title} ({extra}, thickness {self.thickness})"


def style_from_meta(meta: Optional[Dict[str, Any]]) -> Optional[SketchStyle]:
    """The sketch style a model was trained with (``meta["sketch"]``), or None when it was not trained on sketches."""
    block = (meta or {}).get("sketch")
    if not isinstance(block, dict):
        return None
    return SketchStyle.from_dict(block, strict=False)


def _gray(rgb: np.ndarray) -> np.ndarray:
    if rgb.dtype == np.uint16:
        rgb = (rgb.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    if rgb.ndim == 2:
        return np.ascontiguousarray(rgb)
    if rgb.shape[2] == 4:
        rgb = rgb[:, :, :3]
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def _canny(gray: np.ndarray, s: SketchStyle) -> np.ndarray:
    g = cv2.GaussianBlur(gray, (0, 0), s.blur) if s.blur > 0 else gray
    edges = cv2.Canny(g, s.low, s.high, L2gradient=True)
    return 255 - edges  # black lines on white


def _xdog(gray: np.ndarray, s: SketchStyle) -> np.ndarray:
    g = gray.astype(np.float32) / 255.0
    g1 = cv2.GaussianBlur(g, (0, 0), s.sigma)
    g2 = cv2.GaussianBlur(g, (0, 0), s.sigma * s.k)
    d = (1.0 + s.p) * g1 - s.p * g2
    out = np.where(d >= s.eps, 1.0, 1.0 + np.tanh(s.phi * (d - s.eps)))
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _lineart(gray: np.ndarray, s: SketchStyle) -> np.ndarray:
    smooth = cv2.bilateralFilter(gray, 7, 40, 5)
    lines = cv2.adaptiveThreshold(smooth, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, s.block, s.offset)
    if s.min_area > 1:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        keep = np.zeros(n, np.uint8)
        keep[1:] = (stats[1:, cv2.CC_STAT_AREA] >= s.min_area).astype(np.uint8) * 255
        lines = keep[labels]
    return 255 - lines


def make_sketch(rgb: np.ndarray, style: Optional[SketchStyle] = None) -> np.ndarray:
    """Photo (HxWx3 or HxW, uint8/uint16) -> sketch (HxWx3 uint8, black lines on white), same size."""
    s = style or SketchStyle()
    if rgb.ndim not in (2, 3) or rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"make_sketch needs an HxW or HxWxC image, got shape {rgb.shape}")
    gray = _gray(rgb)
    fn = {"canny": _canny, "xdog": _xdog, "lineart": _lineart}[s.style]
    out = fn(gray, s)
    if s.thickness > 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (s.thickness, s.thickness))
        out = cv2.erode(out, kernel)  # thicker dark lines on white
    return np.ascontiguousarray(np.repeat(out[:, :, None], 3, axis=2))


def looks_like_line_drawing(rgb: np.ndarray) -> bool:
    """Dark lines on light paper, nearly without colour (what the sketch models were trained on), rather than a
    photo: most pixels light and almost every pixel grey. Judged on a small copy; uint8 or uint16 RGB."""
    a = np.asarray(rgb)
    if a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    step = max(1, max(a.shape[:2]) // 128)
    a = a[::step, ::step, :3].astype(np.int16)
    light = (a.min(axis=2) > 180).mean()
    grey = ((a.max(axis=2) - a.min(axis=2)) < 40).mean()
    return bool(light > 0.5 and grey > 0.9)
