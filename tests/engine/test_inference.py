"""Inference on odd sizes, tiles, precision, out-of-memory fallback."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.errors import OutOfMemory
from engine.imageio import LoadedImage
from engine.inference import TranslateOptions, Translator, pad_to
from engine.models import get_model


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return get_model("resnet_6blocks", ngf=8).eval()


def img(h, w, seed=0, alpha=False, depth=8):
    rng = np.random.default_rng(seed)
    dt = np.uint16 if depth == 16 else np.uint8
    top = 65535 if depth == 16 else 255
    rgb = rng.integers(0, top, (h, w, 3), dtype=np.int64).astype(dt)
    a = rng.integers(0, top, (h, w), dtype=np.int64).astype(dt) if alpha else None
    return LoadedImage(rgb, a)


@pytest.mark.parametrize("h,w", [(37, 53), (1, 5), (3, 200), (64, 64), (101, 7)])
def test_any_size_comes_back_the_same_size(tiny, h, w):
    out = Translator(tiny, torch.device("cpu")).translate(img(h, w)).image
    assert out.rgb.shape == (h, w, 3) and out.rgb.dtype == np.uint8


def test_padding_does_not_change_the_valid_region_much(tiny):
    """Reflection padding to the multiple of 4 keeps the result close to translating a cropped multiple."""
    t = Translator(tiny, torch.device("cpu"))
    x = torch.rand(1, 3, 66, 66) * 2 - 1
    y_pad = t.forward(x)
    assert y_pad.shape == (1, 3, 66, 66)
    assert pad_to(x, 68, 68).shape[-2:] == (68, 68)


def test_unet_needs_big_multiple_and_still_works():
    torch.manual_seed(0)
    net = get_model("unet_128", ngf=4).eval()
    out = Translator(net, torch.device("cpu")).translate(img(50, 70)).image
    assert out.rgb.shape == (50, 70, 3)


def test_alpha_and_16_bit_are_kept(tiny):
    src = img(30, 40, alpha=True, depth=16)
    out = Translator(tiny, torch.device("cpu")).translate(src).image
    assert out.rgb.dtype == np.uint16 and out.alpha is not None
    assert np.array_equal(out.alpha, src.alpha)


def test_max_side_downscales_and_resizes_alpha(tiny):
    src = img(100, 200, alpha=True)
    out = Translator(tiny, torch.device("cpu"), TranslateOptions(max_side=50)).translate(src).image
    assert out.rgb.shape == (25, 50, 3) and out.alpha.shape == (25, 50)


def test_tiles_blend_close_to_whole_image():
    """With a norm-free net, tiling with overlap must match the whole-image result closely."""
    torch.manual_seed(0)
    net = get_model("resnet_6blocks", ngf=8, norm="none").eval()
    t_full = Translator(net, torch.device("cpu"))
    t_tile = Translator(net, torch.device("cpu"), TranslateOptions(tile=64, tile_overlap=24))
    src = img(150, 170)
    a = t_full.translate(src).image.rgb.astype(int)
    b = t_tile.translate(src).image.rgb.astype(int)
    assert np.abs(a - b).mean() < 1.5


def test_out_of_memory_falls_back_to_tiles_with_a_note(tiny, monkeypatch):
    t = Translator(tiny, torch.device("cpu"))
    real_forward = t.forward
    calls = []

    def fake_forward(x):
        ok = x.shape[-1] * x.shape[-2] <= 200 * 200
        calls.append((tuple(x.shape[-2:]), ok))
        if not ok:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_forward(x)

    monkeypatch.setattr(t, "forward", fake_forward)
    res = t.translate(img(300, 300))
    assert res.image.rgb.shape == (300, 300, 3)
    assert any("out of GPU memory" in n for n in res.notes)
    assert calls[0] == ((300, 300), False) and sum(ok for _, ok in calls) >= 4  # a statistics pass and tiles


def test_out_of_memory_everywhere_is_a_clear_error(tiny, monkeypatch):
    t = Translator(tiny, torch.device("cpu"))

    def always_oom(x):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory.")

    monkeypatch.setattr(t, "forward", always_oom)
    with pytest.raises(OutOfMemory, match="128 px tiles"):
        t.translate(img(300, 300))


def test_batch_oom_falls_back_to_single_images(tiny, monkeypatch):
    t = Translator(tiny, torch.device("cpu"), TranslateOptions(batch_size=4))
    real_forward = t.forward

    def fake_forward(x):
        if x.shape[0] > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 1 GiB")
        return real_forward(x)

    monkeypatch.setattr(t, "forward", fake_forward)
    outs = t.translate_many([img(32, 32, s) for s in range(3)])
    assert len(outs) == 3 and all("one image at a time" in o.notes[0] for o in outs)


def test_batched_equals_single(tiny):
    t = Translator(tiny, torch.device("cpu"), TranslateOptions(batch_size=3))
    imgs = [img(32, 48, s) for s in range(3)] + [img(20, 20, 9)]
    many = t.translate_many(imgs)
    for src, res in zip(imgs, many):
        one = t.translate(src).image.rgb.astype(int)
        assert np.abs(one - res.image.rgb.astype(int)).max() <= 1


def test_options_are_validated():
    from engine.errors import ConfigError

    with pytest.raises(ConfigError):
        TranslateOptions(precision="fp8")
    with pytest.raises(ConfigError):
        TranslateOptions(tile=32)
    with pytest.raises(ConfigError):
        TranslateOptions(max_side=3)


def test_tiles_of_instance_norm_net_match_whole_image(samples, monkeypatch):
    """Frozen global InstanceNorm statistics keep tiles consistent (per-tile statistics shift tones visibly).
    Uses the real bundled model: an untrained net is too chaotic for statistics from a downscaled pass."""
    from engine.imageio import load_image
    from engine.library import ModelLibrary

    lib = ModelLibrary()
    tiny = lib.load(lib.default()).module
    src = load_image(samples / "chelsea.png")
    src = LoadedImage(np.ascontiguousarray(src.rgb[40:200, 100:340]))
    opts = TranslateOptions(precision="fp32", tile=128, tile_overlap=16)
    full = Translator(tiny, torch.device("cpu"), TranslateOptions(precision="fp32")).translate(src).image.rgb
    tiled = Translator(tiny, torch.device("cpu"), opts)
    err = np.abs(full.astype(int) - tiled.translate(src).image.rgb.astype(int)).mean()
    assert all("forward" not in m.__dict__ for m in tiled.net.modules())  # layers restored after tiling
    naive = Translator(tiny, torch.device("cpu"), opts)
    import engine.inference as inference

    monkeypatch.setattr(inference, "frozen_instance_norm", _PerTileStatistics)
    err_naive = np.abs(full.astype(int) - naive.translate(src).image.rgb.astype(int)).mean()
    assert err < 2.0 and err < err_naive / 2, (err, err_naive)


class _PerTileStatistics:
    """Stands in for ``frozen_instance_norm``: every tile normalised by its own statistics."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


@pytest.mark.parametrize("depth,alpha", [(8, False), (16, True)])
def test_streamed_tiles_match_tiles_of_the_whole_tensor(tiny, depth, alpha):
    """Large images are translated a band of tiles at a time from their integer pixels; the result is the one of
    blending the same tiles over a float copy of the whole image (at most one level of rounding apart)."""
    src = img(150, 230, seed=3, alpha=alpha, depth=depth)
    t = Translator(tiny, torch.device("cpu"), TranslateOptions(precision="fp32", tile=64, tile_overlap=16))
    streamed = t.translate(src).image
    x, size = t.prepare(src)
    whole = t.finish(t.forward_tiled(x, 64, 16)[0], src, size)
    assert streamed.rgb.dtype == whole.rgb.dtype and streamed.rgb.shape == (150, 230, 3)
    top = 65535 if depth == 16 else 255
    assert np.abs(streamed.rgb.astype(int) - whole.rgb.astype(int)).max() <= top // 255
    assert (streamed.alpha is None) == (not alpha) and (not alpha or np.array_equal(streamed.alpha, src.alpha))


def test_large_and_small_images_in_one_batch_keep_their_order(tiny):
    t = Translator(tiny, torch.device("cpu"), TranslateOptions(tile=64, tile_overlap=16, batch_size=4))
    imgs = [img(32, 32, 1), img(130, 90, 2), img(32, 32, 3), img(40, 200, 4)]
    outs = t.translate_many(imgs)
    assert [o.image.rgb.shape[:2] for o in outs] == [(32, 32), (130, 90), (32, 32), (40, 200)]
    for src, res in zip(imgs, outs):
        assert np.abs(t.translate(src).image.rgb.astype(int) - res.image.rgb.astype(int)).max() <= 1


def test_max_side_of_a_large_image_is_applied_to_its_integer_pixels(tiny, monkeypatch):
    t = Translator(tiny, torch.device("cpu"), TranslateOptions(max_side=64))
    monkeypatch.setattr(t, "auto_tile_pixels", 100 * 100)  # stands for a 100-megapixel photo
    src = img(300, 200, 5, alpha=True)
    monkeypatch.setattr(LoadedImage, "float_rgb", lambda self: (_ for _ in ()).throw(AssertionError("float copy"))
                        if self.rgb.shape[0] > 64 else self.rgb.astype(np.float32) / 255)
    out = t.translate(src).image
    assert out.rgb.shape == (64, 43, 3) and out.alpha.shape == (64, 43)
