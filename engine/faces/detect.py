"""Face detection: boxes, five landmarks and a probability per face, for a batch of photos.

The cascade follows MTCNN (Zhang et al. 2016) as facenet-pytorch runs it: an image pyramid through P-Net, non-maximum
suppression, then every candidate of every image of the batch goes through R-Net in one batch (24x24 crops) and
O-Net in one batch (48x48 crops, landmarks). Crops are taken with ``torchvision.ops.roi_align`` (zero outside the
image, as MTCNN's padding). Big photos are downscaled to ``max_side`` before detection and the results scaled back,
so a 12-megapixel photo costs about what a 1024 px one does.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .. import devices
from ..config import Config, check
from .mtcnn import load_nets

LANDMARKS = ("left eye", "right eye", "nose", "mouth left", "mouth right")  # as seen in the image (x grows right)


@dataclass
class Face:
    box: np.ndarray  # (4,) x1, y1, x2, y2 in image pixels
    landmarks: np.ndarray  # (5, 2) x, y in image pixels, in LANDMARKS order
    prob: float

    @property
    def side(self) -> float:
        return float(max(self.box[2] - self.box[0], self.box[3] - self.box[1]))


@dataclass
class DetectOptions(Config):
    max_side: int = 1024  # photos larger than this are downscaled for detection (results are in full-size pixels)
    min_face: int = 20  # smallest face searched for, in pixels of the (downscaled) detection image
    min_face_fraction: float = 0.03  # ... and at least this fraction of the image's short side (fewer pyramid levels)
    thresholds: Tuple[float, float, float] = (0.6, 0.7, 0.7)  # P-, R-, O-Net probability thresholds
    factor: float = 0.709  # pyramid scale step
    min_prob: float = 0.9  # faces below this final probability are dropped
    retry_pad: float = 0.3  # an image with no face is searched again with this fraction of its side added around
    #                         it (edge pixels repeated): finds faces cropped so tightly that they overflow the frame

    def validate(self) -> None:
        check(self.max_side == 0 or self.max_side >= 64, "detection max side must be 0 (full size) or >= 64 px")
        check(self.min_face >= 12, "the smallest face searched for must be at least 12 px")
        check(0 <= self.min_face_fraction <= 0.5, "the smallest face fraction must be between 0 and 0.5")
        check(len(self.thresholds) == 3 and all(0 < t < 1 for t in self.thresholds),
              "detector thresholds must be three numbers between 0 and 1")
        check(0.3 <= self.factor <= 0.95, "pyramid factor must be between 0.3 and 0.95")
        check(0 <= self.min_prob < 1, "min face probability must be in [0, 1)")
        check(0 <= self.retry_pad <= 1, "retry padding must be a fraction between 0 and 1")


class FaceDetector:
    """The MTCNN face detector: load once, call :meth:`detect` many times."""

    def __init__(self, device: Optional[torch.device] = None, options: Optional[DetectOptions] = None):
        self.options = options or DetectOptions()
        self.options.validate()
        self.device = device or devices.pick_device()
        self.pnet, self.rnet, self.onet = load_nets(self.device)

    def detect(self, images: Sequence[np.ndarray]) -> List[List[Face]]:
        """``images``: HxWx3 uint8 (or uint16) RGB arrays of any sizes. Returns the faces of each image, most
        probable first."""
        faces = self._detect(images, 0.0)
        again = [i for i, f in enumerate(faces) if not f]
        if again and self.options.retry_pad > 0:
            for i, f in zip(again, self._detect([images[i] for i in again], self.options.retry_pad)):
                faces[i] = f
        return faces

    @torch.inference_mode()
    def _detect(self, images: Sequence[np.ndarray], pad: float) -> List[List[Face]]:
        tensors, scales, shifts = [], [], []
        for img in images:
            t, s = self._prepare(img)
            p = int(round(pad * max(t.shape[-2:])))
            if p:
                t = F.pad(t, (p, p, p, p), mode="replicate")
            tensors.append(t)
            scales.append(s)
            shifts.append(p)
        o = self.options
        cands = [self._stage1(t) for t in tensors]
        boxes, owners = _gather(cands)
        if len(boxes):
            boxes, owners = self._refine(tensors, boxes, owners)
        faces: List[List[Face]] = [[] for _ in images]
        if len(boxes):
            boxes, points, probs, owners = self._output(tensors, boxes, owners)
            for b, p, pr, i in zip(boxes.cpu().numpy(), points.cpu().numpy(), probs.cpu().numpy(),
                                   owners.cpu().numpy()):
                if pr >= o.min_prob:
                    s, sh = scales[int(i)], shifts[int(i)]
                    faces[int(i)].append(Face((b.astype(np.float64) - sh) / s, (p.astype(np.float64) - sh) / s,
                                              float(pr)))
        for f in faces:
            f.sort(key=lambda face: -face.prob)
        return faces

    def detect_one(self, image: np.ndarray) -> List[Face]:
        return self.detect([image])[0]

    # --- stages ------------------------------------------------------------------------------------------
    def _prepare(self, img: np.ndarray) -> Tuple[torch.Tensor, float]:
        if img.dtype == np.uint16:
            img = (img >> 8).astype(np.uint8)
        t = torch.from_numpy(np.ascontiguousarray(img[..., :3])).to(self.device).permute(2, 0, 1)[None].float()
        h, w = t.shape[-2:]
        s = 1.0
        if self.options.max_side and max(h, w) > self.options.max_side:
            s = self.options.max_side / max(h, w)
            t = F.interpolate(t, size=(max(1, round(h * s)), max(1, round(w * s))), mode="area")
        return t, s

    def _stage1(self, img: torch.Tensor) -> torch.Tensor:
        """P-Net over the pyramid: (K, 5) calibrated square boxes x1, y1, x2, y2, score."""
        o = self.options
        h, w = img.shape[-2:]
        m = 12.0 / max(o.min_face, o.min_face_fraction * min(h, w))
        scale, side, found = m, min(h, w) * m, []
        while side >= 12:
            hs, ws = int(h * scale + 1), int(w * scale + 1)
            x = (F.interpolate(img, size=(hs, ws), mode="area") - 127.5) * 0.0078125
            reg, prob = self.pnet(x)
            mask = prob[0] >= o.thresholds[0]
            if mask.any():
                yx = mask.nonzero().float()
                xy = yx.flip(1)
                q1, q2 = torch.floor((2 * xy + 1) / scale), torch.floor((2 * xy + 12) / scale)
                score = prob[0][mask]
                b = torch.cat([q1, q2, score[:, None], reg[0][:, mask].T], dim=1)
                found.append(b[_ops().nms(b[:, :4], b[:, 4], 0.5)])
            scale *= o.factor
            side *= o.factor
        if not found:
            return torch.zeros(0, 5, device=img.device)
        b = torch.cat(found)
        b = b[_ops().nms(b[:, :4], b[:, 4], 0.7)]
        wh = (b[:, 2:4] - b[:, 0:2]).repeat(1, 2)
        boxes = b[:, :4] + b[:, 5:9] * wh
        return torch.cat([_square(boxes), b[:, 4:5]], dim=1)

    def _refine(self, imgs: List[torch.Tensor], boxes: torch.Tensor, owners: torch.Tensor):
        reg, prob = self.rnet(_crops(imgs, boxes, owners, 24))
        keep = prob > self.options.thresholds[1]
        boxes, owners, reg, prob = boxes[keep], owners[keep], reg[keep], prob[keep]
        pick = _ops().batched_nms(boxes, prob, owners, 0.7)
        boxes = _square(_calibrate(boxes[pick], reg[pick]))
        return boxes, owners[pick]

    def _output(self, imgs: List[torch.Tensor], boxes: torch.Tensor, owners: torch.Tensor):
        reg, pts, prob = self.onet(_crops(imgs, boxes, owners, 48))
        keep = prob > self.options.thresholds[2]
        boxes, owners, reg, pts, prob = boxes[keep], owners[keep], reg[keep], pts[keep], prob[keep]
        wh = boxes[:, 2:4] - boxes[:, 0:2] + 1
        points = torch.stack([wh[:, None, 0] * pts[:, :5] + boxes[:, None, 0] - 1,
                              wh[:, None, 1] * pts[:, 5:] + boxes[:, None, 1] - 1], dim=2)
        boxes = _calibrate(boxes, reg)
        pick = _nms_min(boxes, prob, owners, 0.7)
        return boxes[pick], points[pick], prob[pick], owners[pick]


def _gather(cands: List[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    owners = torch.cat([torch.full((len(c),), i, dtype=torch.long, device=c.device) for i, c in enumerate(cands)])
    return torch.cat([c[:, :4] for c in cands]), owners


def _square(boxes: torch.Tensor) -> torch.Tensor:
    """Grow each box to a square around its centre (MTCNN's ``rerec``)."""
    wh = boxes[:, 2:4] - boxes[:, 0:2]
    side = wh.max(dim=1).values[:, None]
    x1y1 = boxes[:, 0:2] + wh * 0.5 - side * 0.5
    return torch.cat([x1y1, x1y1 + side], dim=1)


def _calibrate(boxes: torch.Tensor, reg: torch.Tensor) -> torch.Tensor:
    wh = (boxes[:, 2:4] - boxes[:, 0:2] + 1).repeat(1, 2)
    return boxes + reg * wh


def _crops(imgs: List[torch.Tensor], boxes: torch.Tensor, owners: torch.Tensor, size: int) -> torch.Tensor:
    """Every box resampled to ``size`` x ``size`` from its own image, normalised for the nets, in box order."""
    out = torch.empty(len(boxes), 3, size, size, device=boxes.device)
    for i, img in enumerate(imgs):
        sel = (owners == i).nonzero()[:, 0]
        if len(sel):
            rois = torch.cat([torch.zeros(len(sel), 1, device=boxes.device), boxes[sel] - 1], dim=1)
            out[sel] = _ops().roi_align(img, rois, output_size=size, spatial_scale=1.0, sampling_ratio=2, aligned=False)
    return (out - 127.5) * 0.0078125


def _nms_min(boxes: torch.Tensor, scores: torch.Tensor, owners: torch.Tensor, threshold: float) -> torch.Tensor:
    """NMS where overlap is intersection over the smaller box (drops a box nested in a better one), per image."""
    b, s, o = boxes.cpu().numpy(), scores.cpu().numpy(), owners.cpu().numpy()
    area = (b[:, 2] - b[:, 0] + 1) * (b[:, 3] - b[:, 1] + 1)
    order = list(np.argsort(-s))
    keep: List[int] = []
    while order:
        i = order.pop(0)
        keep.append(i)
        rest = np.array(order, dtype=np.int64)
        if not len(rest):
            break
        iw = np.maximum(0, np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0]) + 1)
        ih = np.maximum(0, np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1]) + 1)
        over = iw * ih / np.minimum(area[i], area[rest])
        order = [int(j) for j, ov in zip(rest, over) if ov <= threshold or o[j] != o[i]]
    return torch.as_tensor(keep, dtype=torch.long, device=boxes.device)


def _ops():
    """torchvision.ops, imported on first use: it pulls in most of torchvision (about 2 s at every ``ganstudio
    translate`` start, face mode or not)."""
    import torchvision.ops

    return torchvision.ops
