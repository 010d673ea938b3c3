"""Fidelity of one image to another (a fast model's output to its teacher's): PSNR and SSIM on uint8 RGB.

- PSNR: 10 log10(255^2 / MSE) over all pixels and channels (inf for identical images).
- SSIM: Wang et al. 2004 with the usual constants (Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03, L 255), computed
  per RGB channel on float64 and averaged; the same definition as ``skimage.metrics.structural_similarity(...,
  gaussian_weights=True, sigma=1.5, use_sample_covariance=False, channel_axis=2)``.
"""
from __future__ import annotations

import math

import cv2
import numpy as np


def _check(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"images differ in size: {a.shape} vs {b.shape}")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    _check(a, b)
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    _check(a, b)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    x = a.astype(np.float64).reshape(a.shape[0], a.shape[1], -1)
    y = b.astype(np.float64).reshape(x.shape)

    def blur(v: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(v, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    vals = []
    for c in range(x.shape[2]):
        xc, yc = x[:, :, c], y[:, :, c]
        mx, my = blur(xc), blur(yc)
        sxx, syy, sxy = blur(xc * xc) - mx * mx, blur(yc * yc) - my * my, blur(xc * yc) - mx * my
        m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        vals.append(float(m[5:-5, 5:-5].mean()) if min(m.shape) > 10 else float(m.mean()))
    return float(np.mean(vals))
