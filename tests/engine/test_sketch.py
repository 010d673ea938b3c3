"""The automatic sketch maker: deterministic, three distinct styles, thresholds that matter, clear errors."""
from __future__ import annotations

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.imageio import load_image
from engine.sketch import STYLES, SketchStyle, make_sketch, style_from_meta


@pytest.fixture
def photo(samples):
    import cv2

    return cv2.resize(load_image(samples / "astronaut.png").rgb, (128, 128), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize("style", STYLES)
def test_deterministic_black_lines_on_white(photo, style):
    s = SketchStyle(style=style)
    a = make_sketch(photo, s)
    b = make_sketch(photo.copy(), SketchStyle.from_dict(s.to_dict()))
    assert a.shape == photo.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert np.array_equal(a[:, :, 0], a[:, :, 2])  # grey
    dark = (a[:, :, 0] < 128).mean()
    assert 0.01 < dark < 0.5  # mostly paper, some lines
    assert np.median(a) == 255


def test_styles_differ_and_thresholds_matter(photo):
    out = {s: make_sketch(photo, SketchStyle(style=s)) for s in STYLES}
    assert not np.array_equal(out["canny"], out["xdog"]) and not np.array_equal(out["xdog"], out["lineart"])
    lines = lambda img: int((img[:, :, 0] < 128).sum())  # noqa: E731
    assert lines(make_sketch(photo, SketchStyle(style="canny", low=20, high=60))) > lines(out["canny"])
    assert lines(make_sketch(photo, SketchStyle(style="lineart", min_area=200))) < lines(out["lineart"])
    assert lines(make_sketch(photo, SketchStyle(style="xdog", eps=0.6))) > lines(out["xdog"])
    assert lines(make_sketch(photo, SketchStyle(style="canny", thickness=3))) > 2 * lines(out["canny"])


def test_grey_16_bit_and_alpha_inputs(photo):
    g = photo[:, :, 1]
    assert make_sketch(g).shape == photo.shape
    assert np.array_equal(make_sketch(photo.astype(np.uint16) * 257), make_sketch(photo))
    rgba = np.dstack([photo, np.full(photo.shape[:2], 255, np.uint8)])
    assert np.array_equal(make_sketch(rgba), make_sketch(photo))


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="sketch style"):
        SketchStyle(style="charcoal")
    with pytest.raises(ConfigError, match="odd"):
        SketchStyle(block=8)
    with pytest.raises(ConfigError, match="low <= high"):
        SketchStyle(style="canny", low=200, high=100)


def test_style_from_model_meta():
    assert style_from_meta({"arch": "unet_128"}) is None
    s = style_from_meta({"sketch": {"style": "canny", "low": 10, "high": 20, "future_field": 1}})
    assert s.style == "canny" and (s.low, s.high) == (10, 20)
