"""Face mode for translation: detect the faces in a photo, translate each aligned crop at the model's size and
blend it back (feathered, through the inverse of the alignment). A photo without a face is translated whole, with a
note saying so.

A model is a face model when its metadata says ``meta["model"]["input"] == "face"`` (``model_meta(...,
input="face")`` writes it; the bundled face2anime does). ``meta["model"]["face_margin"]`` is the crop margin its
training data had (the face box side is grown by this fraction on each side); ``trained_at`` or
``training.image_size`` is the crop size (``face_size`` where the trainer's ``face_crop`` wrote it).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from ..config import check_choice
from ..imageio import LoadedImage, resize_to
from ..inference import Translated, Translator
from .align import align_face, paste_back, warp_crop
from .detect import Face, FaceDetector

FACE_INPUT = "face"
FACE_MODES = ("auto", "on", "off")  # auto: face mode for face models only
DEFAULT_MARGIN = 0.2
DEFAULT_SIZE = 256


def model_input(meta: Dict[str, Any]) -> str:
    """What a model expects: ``"face"`` (an aligned face crop) or ``"image"`` (anything)."""
    return str((meta.get("model") or {}).get("input") or "image")


def is_face_model(meta: Dict[str, Any]) -> bool:
    return model_input(meta) == FACE_INPUT


def use_faces(mode: str, meta: Dict[str, Any]) -> bool:
    check_choice("faces", mode, FACE_MODES)
    return mode == "on" or (mode == "auto" and is_face_model(meta))


def crop_size(meta: Dict[str, Any]) -> int:
    size = (meta.get("model") or {}).get("face_size") or meta.get("trained_at") or (meta.get("training") or {}).get("image_size") or DEFAULT_SIZE
    return int(size)


def crop_margin(meta: Dict[str, Any]) -> float:
    return float((meta.get("model") or {}).get("face_margin", DEFAULT_MARGIN))


def face_fields(meta: Dict[str, Any]) -> Dict[str, Any]:
    """``model_meta`` keywords that carry a face model's input over to a model made from it (a fast version)."""
    if not is_face_model(meta):
        return {}
    return {"input": FACE_INPUT, "face_margin": crop_margin(meta), "face_size": crop_size(meta)}


def no_face_note(img: LoadedImage) -> str:
    name = img.path.name if img.path else "this image"
    return f"No face found in {name}: translated the whole image instead."


class FaceTranslator:
    """Same interface as :class:`~engine.inference.Translator` (``translate``, ``translate_many``)."""

    def __init__(self, translator: Translator, detector: FaceDetector, size: int, margin: float,
                 feather: float = 0.12):
        self.translator, self.detector = translator, detector
        self.size, self.margin, self.feather = int(size), float(margin), float(feather)

    @classmethod
    def for_model(cls, translator: Translator, meta: Dict[str, Any],
                  detector: Optional[FaceDetector] = None) -> "FaceTranslator":
        detector = detector or FaceDetector(torch.device("cpu"))
        return cls(translator, detector, crop_size(meta), crop_margin(meta))

    def translate(self, img: LoadedImage) -> Translated:
        return self.translate_many([img])[0]

    def translate_many(self, imgs: Sequence[LoadedImage]) -> List[Translated]:
        imgs = [self.sized(im) for im in imgs]
        found = self.detector.detect([im.rgb for im in imgs])
        out: List[Translated] = []
        for img, faces in zip(imgs, found):
            if faces:
                out.append(Translated(self.translate_faces(img, faces)))
            else:
                whole = self.translator.translate(img)
                out.append(Translated(whole.image, [no_face_note(img)] + whole.notes))
        return out

    def sized(self, img: LoadedImage) -> LoadedImage:
        """The photo at the size whole-image mode would give (the options' ``max_side`` / ``fit_side``)."""
        o = self.translator.options
        h, w = img.rgb.shape[:2]
        if not o.max_side or not (max(h, w) > o.max_side or (o.fit_side and max(h, w) < o.max_side)):
            return img
        s = o.max_side / max(h, w)
        size = (max(1, round(w * s)), max(1, round(h * s)))
        alpha = None if img.alpha is None else resize_to(img.alpha, size)
        return LoadedImage(resize_to(img.rgb, size), alpha, img.path, img.source_mode, img.fmt)

    def translate_faces(self, img: LoadedImage, faces: Sequence[Face]) -> LoadedImage:
        top = 65535.0 if img.rgb.dtype == np.uint16 else 255.0
        rgb = img.rgb
        for face in faces:
            al = align_face(face, self.size, self.margin)
            crop = warp_crop(img.rgb, al)  # always from the original photo, so overlapping faces stay clean
            x = torch.from_numpy(crop.astype(np.float32) / top * 2 - 1).permute(2, 0, 1)[None]
            y = self.translator.forward(x)[0].clamp(-1, 1)
            res = ((y.permute(1, 2, 0).cpu().numpy() + 1) / 2 * top).round().astype(img.rgb.dtype)
            rgb = paste_back(rgb, res, al, self.feather)
        return LoadedImage(rgb, img.alpha, img.path, img.source_mode, img.fmt)
