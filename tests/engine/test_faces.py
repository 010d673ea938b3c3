"""Face crops: detection on the bundled astronaut, alignment maths, paste-back, face-mode translation and fallback."""
from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
import torch

from engine.errors import ConfigError
from engine.faces import Face, FaceDetector, align_face, paste_back, warp_crop
from engine.faces.detect import DetectOptions
from engine.imageio import LoadedImage, load_image
from engine.inference import Translator

pytestmark = pytest.mark.skipif(importlib.util.find_spec("facenet_pytorch") is None,
                                reason="facenet-pytorch (the MTCNN weights) is not installed")


@pytest.fixture(scope="module")
def detector():
    return FaceDetector(torch.device("cpu"))


@pytest.fixture(scope="module")
def astronaut():
    from tests.conftest import ROOT

    return load_image(ROOT / "resources" / "samples" / "astronaut.png")


def test_finds_the_astronauts_face_with_landmarks(detector, astronaut):
    faces = detector.detect_one(astronaut.rgb)
    assert len(faces) == 1
    f = faces[0]
    assert f.prob > 0.99
    x1, y1, x2, y2 = f.box
    assert 150 < x1 < x2 < 300 and 30 < y1 < y2 < 200 and 70 < x2 - x1 < 140  # the face, not the suit or helmet
    le, re, nose, ml, mr = f.landmarks
    assert (f.landmarks[:, 0] > x1).all() and (f.landmarks[:, 0] < x2).all()
    assert le[0] < nose[0] < re[0] and ml[0] < mr[0]  # image-left eye first
    assert max(le[1], re[1]) < nose[1] < min(ml[1], mr[1])  # eyes above the nose above the mouth


def test_batched_and_downscaled_detection_agree(detector, astronaut):
    import cv2

    big = cv2.resize(astronaut.rgb, (1536, 1536), interpolation=cv2.INTER_CUBIC)
    small = DetectOptions(max_side=512)
    det_small = FaceDetector(torch.device("cpu"), small)
    one = detector.detect_one(astronaut.rgb)[0]
    batch = det_small.detect([astronaut.rgb, big, np.full((64, 80, 3), 127, np.uint8)])
    assert len(batch[0]) == 1 and len(batch[1]) == 1 and batch[2] == []
    np.testing.assert_allclose(batch[0][0].box, one.box, atol=0.5)
    np.testing.assert_allclose(batch[1][0].box / 3, one.box, atol=4)  # found at 512 px, reported in 1536 px pixels
    np.testing.assert_allclose(batch[1][0].landmarks / 3, one.landmarks, atol=4)


def test_detector_options_are_checked():
    with pytest.raises(ConfigError, match="smallest face"):
        DetectOptions(min_face=4).validate()


def test_missing_package_is_a_clear_error(monkeypatch):
    from engine.faces import mtcnn

    monkeypatch.setattr(mtcnn.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(mtcnn.DetectorUnavailable, match=r"pip install --no-deps facenet-pytorch==2\.6\.0"):
        FaceDetector(torch.device("cpu"))


def test_wrong_weight_file_is_refused(tmp_path):
    from engine.faces import mtcnn

    (tmp_path / "pnet.pt").write_bytes(b"not the weights")
    with pytest.raises(mtcnn.DetectorUnavailable, match="not the expected MTCNN pnet"):
        mtcnn.load_state("pnet", tmp_path)


# --- alignment maths ---------------------------------------------------------------------------------------

def _tilted_face(angle_deg=20.0, centre=(120.0, 90.0), eye_dist=40.0):
    a = math.radians(angle_deg)
    d = np.array([math.cos(a), math.sin(a)]) * eye_dist / 2
    c = np.array(centre)
    le, re = c - d + [0, -10], c + d + [0, -10]
    pts = np.array([le, re, c, c + [-12, 20], c + [12, 20]])
    return Face(np.array([c[0] - 40, c[1] - 40, c[0] + 40, c[1] + 40]), pts, 0.99)


def test_alignment_levels_the_eyes_and_inverts():
    face = _tilted_face(20.0)
    al = align_face(face, 128, margin=0.25)
    assert al.angle == pytest.approx(20.0, abs=1e-6)
    eyes = al.to_crop(face.landmarks[:2])
    assert eyes[0, 1] == pytest.approx(eyes[1, 1], abs=1e-6)  # level
    assert eyes[0, 0] < eyes[1, 0]
    # the crop side is the box side grown by the margin on both sides; its centre is the box centre
    corners = al.footprint()
    assert np.linalg.norm(corners[1] - corners[0]) == pytest.approx(80 * 1.5)
    np.testing.assert_allclose(corners.mean(axis=0), [120, 90], atol=1e-9)
    pts = np.random.default_rng(0).uniform(0, 200, (10, 2))
    np.testing.assert_allclose(al.to_crop(al.to_photo(pts)), pts, atol=1e-9)


def test_warp_crop_samples_where_the_matrix_says():
    photo = np.zeros((200, 240, 3), np.uint8)
    photo[:, :, 0] = np.arange(240)[None, :]  # red = x
    photo[:, :, 1] = np.arange(200)[:, None]  # green = y
    al = align_face(_tilted_face(0.0), 80, margin=0.0)  # no rotation, 80 px box -> 80 px crop: a plain crop
    crop = warp_crop(photo, al)
    assert crop.shape == (80, 80, 3)
    np.testing.assert_array_equal(crop, photo[50:130, 80:160])


def test_paste_back_keeps_size_and_far_pixels():
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (180, 260, 3), dtype=np.uint8)
    face = _tilted_face(-15.0)
    al = align_face(face, 64, margin=0.2)
    out = paste_back(photo, np.full((64, 64, 3), 255, np.uint8), al)
    assert out.shape == photo.shape and out.dtype == photo.dtype
    corners = al.footprint()
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
    outside = np.ones(photo.shape[:2], bool)
    outside[max(y0, 0):y1, max(x0, 0):x1] = False
    np.testing.assert_array_equal(out[outside], photo[outside])  # untouched, bit for bit
    cx, cy = 120, 90
    assert (out[cy - 5:cy + 5, cx - 5:cx + 5] == 255).all()  # the middle of the crop is the crop
    # the feathered edge: near the crop's border the photo still shows through
    edge = al.to_photo(np.array([[2.0, 32.0]]))[0].round().astype(int)
    assert (out[edge[1], edge[0]] < 255).any()
    # the crop's corners are background beside the face: the photo, not a tilted square of translated background
    for corner in al.to_photo(np.array([[4.0, 4.0], [60.0, 4.0], [4.0, 60.0], [60.0, 60.0]])).round().astype(int):
        np.testing.assert_array_equal(out[corner[1], corner[0]], photo[corner[1], corner[0]])


def test_paste_back_of_its_own_crop_is_nearly_lossless(astronaut, detector):
    face = detector.detect_one(astronaut.rgb)[0]
    al = align_face(face, 256, margin=0.1)
    out = paste_back(astronaut.rgb, warp_crop(astronaut.rgb, al), al)
    diff = np.abs(out.astype(int) - astronaut.rgb.astype(int))
    assert diff.mean() < 1.0 and out.shape == astronaut.rgb.shape


# --- face mode ---------------------------------------------------------------------------------------------

class Invert(torch.nn.Module):
    def forward(self, x):
        return -x


def _face_translator(detector, size=64, margin=0.1):
    from engine.faces.translator import FaceTranslator

    return FaceTranslator(Translator(Invert(), torch.device("cpu")), detector, size, margin)


def test_face_mode_changes_the_face_only(detector, astronaut):
    res = _face_translator(detector).translate(astronaut)
    assert res.notes == []
    out, src = res.image.rgb, astronaut.rgb
    assert out.shape == src.shape
    np.testing.assert_array_equal(out[400:, :], src[400:, :])  # the suit and helmet far below the face
    np.testing.assert_array_equal(out[:, :100], src[:, :100])  # the flag
    f = detector.detect_one(src)[0]
    cx, cy = ((f.box[:2] + f.box[2:]) / 2).astype(int)
    patch = out[cy - 10:cy + 10, cx - 10:cx + 10].astype(int)
    assert np.abs(patch - (255 - src[cy - 10:cy + 10, cx - 10:cx + 10].astype(int))).mean() < 25  # inverted


def test_no_face_falls_back_to_the_whole_image(detector, image_factory):
    img = load_image(image_factory("gradient.png", w=96, h=64))
    res = _face_translator(detector).translate(img)
    assert res.notes[0] == "No face found in gradient.png: translated the whole image instead."
    whole = Translator(Invert(), torch.device("cpu")).translate(img).image.rgb
    np.testing.assert_array_equal(res.image.rgb, whole)


def test_sixteen_bit_and_alpha_survive_face_mode(detector, astronaut):
    rgb16 = astronaut.rgb.astype(np.uint16) * 257
    alpha = np.full(rgb16.shape[:2], 65535, np.uint16)
    res = _face_translator(detector).translate(LoadedImage(rgb16, alpha, None, "rgba", "PNG"))
    assert res.image.rgb.dtype == np.uint16 and res.image.alpha is alpha
    np.testing.assert_array_equal(res.image.rgb[450:], rgb16[450:])


def test_face_mode_follows_the_model_meta():
    from engine.faces.translator import crop_margin, crop_size, use_faces

    face = {"model": {"input": "face", "face_margin": 0.03}, "trained_at": 128}
    plain = {"model": {}}
    assert use_faces("auto", face) and not use_faces("auto", plain)
    assert use_faces("on", plain) and not use_faces("off", face)
    assert crop_size(face) == 128 and crop_margin(face) == 0.03
    assert crop_size({"model": {"input": "face", "face_size": 96}, "trained_at": 128}) == 96  # trainer's face_crop
    assert crop_size(plain) == 256 and crop_margin(plain) == 0.2  # defaults
    with pytest.raises(ConfigError):
        use_faces("sometimes", face)


def test_a_model_made_from_a_face_model_stays_a_face_model():
    from engine.faces.translator import crop_margin, crop_size, face_fields, use_faces
    from engine.library import model_meta

    teacher = {"model": {"input": "face", "face_margin": 0.03}, "trained_at": 128}
    kw = dict(id="s", name="s", family="cyclegan", task="translate", arch="mobile", arch_kwargs={})
    student = model_meta(**face_fields(teacher), **kw)  # what a fast version (distill) writes
    assert use_faces("auto", student) and crop_size(student) == 128 and crop_margin(student) == 0.03
    assert face_fields({"model": {}}) == {} and not use_faces("auto", model_meta(**kw))


def test_bundled_face2anime_is_a_face_model_and_anime2face_is_not():
    from engine.faces.translator import crop_size
    from engine.library import ModelLibrary

    lib = ModelLibrary()
    assert lib.resolve("face2anime").input == "face"
    fast = lib.resolve("face2anime-fast")  # its fast version crops faces at the teacher's size too
    assert fast.input == "face" and crop_size(fast.meta) == 128 and fast.meta["distilled_from"]["id"] == "face2anime"
    assert lib.resolve("anime2face").input == "image"
    assert lib.resolve("vintagify").input == "image"


def test_translate_task_in_face_mode_and_fallback(tmp_path, samples, image_factory):
    from engine.jobs import run_inline
    from engine.translate import TranslateConfig, translate_task

    plain = image_factory("plain.png", w=64, h=64)
    cfg = TranslateConfig(model="face2anime", inputs=(str(samples / "astronaut.png"), str(plain)),
                          out_dir=str(tmp_path / "out"))
    summary = run_inline(translate_task, cfg)
    by_name = {i.source.name: i for i in summary.translated}
    assert by_name["astronaut.png"].notes == []
    assert by_name["plain.png"].notes == ["No face found in plain.png: translated the whole image instead."]
    src = load_image(samples / "astronaut.png").rgb
    out = load_image(by_name["astronaut.png"].output).rgb
    assert out.shape == src.shape
    np.testing.assert_array_equal(out[380:], src[380:])  # whole-image mode would repaint everything
    assert np.abs(out[90:150, 190:260].astype(int) - src[90:150, 190:260].astype(int)).mean() > 5
    whole = run_inline(translate_task, cfg.replace(faces="off", out_dir=str(tmp_path / "whole"),
                                                   options=cfg.options.replace(max_side=128),
                                                   inputs=(str(samples / "astronaut.png"),)))
    out_whole = load_image(whole.translated[0].output).rgb  # at max side 128, to keep the test short
    import cv2

    small = cv2.resize(src, out_whole.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(out_whole[95:].astype(int) - small[95:].astype(int)).mean() > 5  # the suit is repainted too


def test_face_mode_honours_the_output_size(detector, astronaut):
    from engine.faces.translator import FaceTranslator
    from engine.inference import TranslateOptions

    tr = Translator(Invert(), torch.device("cpu"), TranslateOptions(max_side=256))
    res = FaceTranslator(tr, detector, 64, 0.1).translate(astronaut)
    assert res.image.rgb.shape == (256, 256, 3) and res.notes == []  # the face is still found at half size
    whole = tr.translate(astronaut).image.rgb
    assert whole.shape == res.image.rgb.shape
