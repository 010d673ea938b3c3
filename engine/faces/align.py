"""Aligned face crops and their inverse: rotate so the eyes are level, crop a square with a margin, paste back.

Coordinates are continuous pixels with pixel centres at ``i + 0.5`` (for both the photo and the crop). An
:class:`Alignment` holds the 2x3 similarity ``matrix`` that maps crop coordinates to photo coordinates::

    photo = A @ crop + t,  A = k * R(angle),  k = crop side in photo pixels / crop size

so the eye line (angle) becomes horizontal in the crop, and the crop's centre is the face box's centre. Warping
(both ways) samples bilinearly with ``grid_sample``. :func:`paste_back` writes a translated crop into the photo
through the inverse matrix and a feathered mask; pixels outside the crop's footprint are never touched.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .detect import Face


@dataclass
class Alignment:
    matrix: np.ndarray  # (2, 3) crop -> photo
    size: int  # crop side in pixels

    @property
    def angle(self) -> float:
        """Rotation of the face in the photo, degrees (positive: the right eye is lower than the left)."""
        return math.degrees(math.atan2(self.matrix[1, 0], self.matrix[0, 0]))

    def inverse(self) -> np.ndarray:
        """(2, 3) photo -> crop."""
        a = self.matrix[:, :2]
        ai = np.linalg.inv(a)
        return np.concatenate([ai, -ai @ self.matrix[:, 2:]], axis=1)

    def to_photo(self, pts: np.ndarray) -> np.ndarray:
        return apply(self.matrix, pts)

    def to_crop(self, pts: np.ndarray) -> np.ndarray:
        return apply(self.inverse(), pts)

    def footprint(self) -> np.ndarray:
        """(4, 2) the crop's corners in the photo."""
        s = self.size
        return self.to_photo(np.array([[0, 0], [s, 0], [s, s], [0, s]], dtype=np.float64))


def apply(matrix: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, dtype=np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def align_face(face: Face, size: int, margin: float) -> Alignment:
    """The crop of ``face``: side = face box side x (1 + 2 x margin), centred on the box, eyes level."""
    le, re = face.landmarks[0], face.landmarks[1]
    angle = math.atan2(re[1] - le[1], re[0] - le[0])
    side = face.side * (1.0 + 2.0 * margin)
    k = side / size
    c, s = math.cos(angle), math.sin(angle)
    a = k * np.array([[c, -s], [s, c]])
    centre = np.array([(face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2])
    t = centre - a @ np.array([size / 2, size / 2])
    return Alignment(np.concatenate([a, t[:, None]], axis=1), int(size))


def _grid(matrix: np.ndarray, out_hw: Tuple[int, int], src_hw: Tuple[int, int], origin=(0, 0)) -> torch.Tensor:
    """Sampling grid for ``grid_sample``: output pixel centres (offset by ``origin`` = (x0, y0)) mapped through
    ``matrix`` into the source, normalised to [-1, 1] (align_corners=False)."""
    h, w = out_hw
    ys, xs = np.meshgrid(np.arange(h) + 0.5 + origin[1], np.arange(w) + 0.5 + origin[0], indexing="ij")
    src = apply(matrix, np.stack([xs, ys], axis=-1).reshape(-1, 2)).reshape(h, w, 2)
    src[..., 0] = src[..., 0] / src_hw[1] * 2 - 1
    src[..., 1] = src[..., 1] / src_hw[0] * 2 - 1
    return torch.from_numpy(src).float()[None]


def _to_tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).float().permute(2, 0, 1)[None]


def warp_crop(photo: np.ndarray, alignment: Alignment) -> np.ndarray:
    """The aligned square crop (size x size x C, the photo's dtype); outside the photo it is mirrored."""
    s = alignment.size
    g = _grid(alignment.matrix, (s, s), photo.shape[:2])
    out = F.grid_sample(_to_tensor(photo), g, mode="bilinear", padding_mode="reflection", align_corners=False)
    return _round(out[0].permute(1, 2, 0).numpy(), photo.dtype)


def feather_mask(size: int, feather: float) -> np.ndarray:
    """size x size in [0, 1]: a disc, 1 in the middle, ramping to 0 over ``feather`` x size towards the inscribed
    circle; the crop's corners (background beside the face, turned by the alignment) stay the photo's. A square
    mask left a tilted square of translated background round every face."""
    ramp = max(1.0 / size, 2.0 * feather)
    d = (np.arange(size) + 0.5) / size * 2.0 - 1.0
    r = np.sqrt(d[None, :] ** 2 + d[:, None] ** 2)
    t = np.clip((1.0 - r) / ramp, 0, 1)
    return t * t * (3 - 2 * t)  # smoothstep: no visible kink where the ramp ends


def paste_back(photo: np.ndarray, crop: np.ndarray, alignment: Alignment, feather: float = 0.12) -> np.ndarray:
    """A copy of ``photo`` with ``crop`` (size x size x C, same dtype) warped back into the face's place."""
    h, w = photo.shape[:2]
    corners = alignment.footprint()
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    out = photo.copy()
    if x1 <= x0 or y1 <= y0:
        return out
    s = alignment.size
    g = _grid(alignment.inverse(), (y1 - y0, x1 - x0), (s, s), origin=(x0, y0))
    src = torch.cat([_to_tensor(crop), torch.from_numpy(feather_mask(s, feather)).float()[None, None]], dim=1)
    warped = F.grid_sample(src, g, mode="bilinear", padding_mode="zeros", align_corners=False)[0]
    warped = warped.permute(1, 2, 0).numpy()
    m = warped[..., -1:]
    region = photo[y0:y1, x0:x1].astype(np.float32)
    blended = region + m * (warped[..., :-1] - region)
    out[y0:y1, x0:x1] = np.where(m > 0, _round(blended, photo.dtype), photo[y0:y1, x0:x1])
    return out


def _round(a: np.ndarray, dtype) -> np.ndarray:
    top = 65535 if dtype == np.uint16 else 255
    return np.clip(np.rint(a), 0, top).astype(dtype)
