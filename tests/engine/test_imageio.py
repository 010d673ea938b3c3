"""imageio: every format, every bad input, safe saving, folder scans."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.errors import ImageLoadError
from engine.imageio import load_image, output_name, save_image, scan_inputs
from tests.conftest import make_image


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".bmp", ".tif"])
def test_common_formats_load_as_rgb(tmp_path, ext):
    p = make_image(tmp_path / f"a{ext}", w=40, h=30)
    img = load_image(p)
    assert img.rgb.shape == (30, 40, 3) and img.rgb.dtype == np.uint8
    assert img.alpha is None
    # orientation and channel order: the red channel grows left to right in make_image
    assert img.rgb[15, 35, 0] > img.rgb[15, 4, 0]


def test_gif_loads_through_pillow(tmp_path):
    p = tmp_path / "a.gif"
    Image.fromarray(np.full((20, 30, 3), 200, np.uint8)).save(p)
    img = load_image(p)
    assert img.rgb.shape == (20, 30, 3)


def test_grayscale_becomes_three_channels(tmp_path):
    img = load_image(make_image(tmp_path / "g.png", channels=1))
    assert img.rgb.shape[2] == 3 and img.source_mode == "gray"
    assert np.array_equal(img.rgb[:, :, 0], img.rgb[:, :, 2])


def test_rgba_keeps_alpha_and_saves_it_back(tmp_path):
    src = make_image(tmp_path / "rgba.png", channels=4)
    img = load_image(src)
    assert img.alpha is not None and img.source_mode == "rgba"
    out = save_image(tmp_path / "out.png", img.rgb, img.alpha)
    back = load_image(out)
    assert np.array_equal(back.alpha, img.alpha) and np.array_equal(back.rgb, img.rgb)


def test_16bit_png_keeps_depth(tmp_path):
    img = load_image(make_image(tmp_path / "deep.png", dtype=np.uint16))
    assert img.rgb.dtype == np.uint16 and img.bit_depth == 16
    assert img.rgb.max() > 255
    f = img.float_rgb()
    assert f.dtype == np.float32 and 0 <= f.min() and f.max() <= 1
    out = save_image(tmp_path / "deep_out.png", img.rgb)
    assert load_image(out).rgb.dtype == np.uint16


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = 255  # left half white
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 CW on display
    p = tmp_path / "rot.jpg"
    im.save(p, exif=exif, quality=95)
    img = load_image(p)
    assert img.rgb.shape[:2] == (40, 20)
    assert img.rgb[5, 10].mean() > 200 and img.rgb[35, 10].mean() < 50  # white on top after rotation


def _assert_bad(path, fragment):
    with pytest.raises(ImageLoadError) as ei:
        load_image(path)
    assert str(path) in str(ei.value)
    assert fragment in str(ei.value)


def test_bad_inputs_raise_one_error_type_naming_file_and_reason(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    _assert_bad(empty, "empty")
    text = tmp_path / "notes.jpg"
    text.write_text("hello, not a picture")
    _assert_bad(text, "not an image")
    good = make_image(tmp_path / "good.jpg", w=200, h=200).read_bytes()
    trunc = tmp_path / "trunc.jpg"
    trunc.write_bytes(good[: len(good) // 2])
    _assert_bad(trunc, "truncated")
    png = make_image(tmp_path / "good.png", w=200, h=200).read_bytes()
    (tmp_path / "trunc.png").write_bytes(png[: len(png) - 40])
    _assert_bad(tmp_path / "trunc.png", "truncated")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(png[:40] + bytes(200) + png[-20:])
    _assert_bad(corrupt, str(corrupt.name))
    _assert_bad(tmp_path / "missing.png", "not found")
    _assert_bad(tmp_path, "folder")


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    # a 20000 x 20000 PNG that compresses to a few hundred KB
    p = tmp_path / "bomb.png"
    Image.new("L", (20000, 20000)).save(p, optimize=True)
    assert p.stat().st_size < 2_000_000
    _assert_bad(p, "megapixels")


def test_a_png_bomb_is_never_decoded_to_look_for_exif(tmp_path, monkeypatch):
    """Pillow's PNG getexif() decodes the whole image when no EXIF chunk precedes the pixels; after some other
    images had been opened in the same process, a 100k x 100k bomb took 10 GB before our limit refused it."""
    from PIL import PngImagePlugin

    p = tmp_path / "bomb.png"
    Image.new("L", (20000, 20000)).save(p, optimize=True)

    decoded = []

    def no_decoding(self, *a, **k):
        decoded.append(self.size)
        raise MemoryError("stands for decoding 400 megapixels")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    _assert_bad(p, "megapixels")
    assert decoded == []  # the pixels were never decoded while probing the header


def test_zero_size_dimensions(tmp_path):
    # a BMP header claiming 0 x 0
    import struct

    import cv2

    hdr = b"BM" + struct.pack("<IHHI", 58, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 0, 0, 1, 24, 0, 4, 0, 0, 0, 0)
    p = tmp_path / "zero.bmp"
    p.write_bytes(hdr + b"\0\0\0\0")
    with pytest.raises(ImageLoadError):
        load_image(p)


def test_mislabelled_png_with_jpg_name_loads(tmp_path):
    p = make_image(tmp_path / "x.png")
    q = tmp_path / "actually_png.jpg"
    q.write_bytes(p.read_bytes())
    assert load_image(q).rgb.shape == (48, 64, 3)


def test_save_never_overwrites_input_and_suffixes_collisions(tmp_path):
    src = make_image(tmp_path / "photo.png")
    before = src.read_bytes()
    img = load_image(src)
    out1 = save_image(src, img.rgb[::-1].copy(), protect=[src], overwrite=True)
    assert out1 != src and src.read_bytes() == before
    out2 = save_image(tmp_path / "photo.png", img.rgb)
    assert out2.name == "photo_2.png" or out2.name.startswith("photo_")
    assert len({out1, out2, src}) == 3


def test_save_is_atomic_when_encoding_fails(tmp_path, monkeypatch):
    import engine.fsutil as fsutil

    target = tmp_path / "res.png"
    target.write_bytes(b"previous")

    def boom(self, data):  # disk full while writing the temp file
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", boom)
    with pytest.raises(OSError):
        fsutil.atomic_write_bytes(target, b"new data")
    monkeypatch.undo()
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["res.png"]  # no temp file left behind


def test_output_name_forces_png_for_alpha():
    assert output_name(Path("a/b.jpg"), "_x") == "b_x.jpg"
    assert output_name(Path("a/b.jpg"), "_x", has_alpha=True) == "b_x.png"
    assert output_name(Path("a/b.gif"), "") == "b.png"


def test_scan_recurses_counts_and_reports_skips(tmp_path):
    make_image(tmp_path / "d" / "a.png")
    make_image(tmp_path / "d" / "sub" / "b.jpg")
    (tmp_path / "d" / "readme.txt").write_text("x")
    (tmp_path / "d" / "empty.png").write_bytes(b"")
    make_image(tmp_path / "d" / ".hidden" / "c.png")
    res = scan_inputs([tmp_path / "d", tmp_path / "nope.png", str(tmp_path / "d" / "*.zzz")])
    assert [p.name for p in res.files] == ["a.png", "b.jpg"]
    reasons = {p.name: r for p, r in res.skipped}
    assert reasons["readme.txt"] == "not an image file type"
    assert reasons["empty.png"] == "empty file"
    assert reasons["nope.png"] == "not found"
    assert "skipped 4" in res.summary() and res.summary().startswith("2 images")


def test_scan_glob_and_dedup(tmp_path):
    a = make_image(tmp_path / "a.png")
    res = scan_inputs([str(tmp_path / "*.png"), a])
    assert res.files == [a]


def test_a_float32_tiff_opens_and_a_broken_tiff_says_so_without_python_internals(tmp_path):
    """PIL cannot open float TIFFs (OpenCV can): they were refused as 'corrupt' with a '<_io.BytesIO ...>' in the
    message. The pixel limit still applies to them, from the TIFF header."""
    import struct

    import cv2

    a = np.random.default_rng(0).random((40, 50, 3)).astype(np.float32)
    cv2.imwrite(str(tmp_path / "f.tif"), a)
    im = load_image(tmp_path / "f.tif")
    assert im.rgb.shape == (40, 50, 3) and im.rgb.dtype == np.uint16
    assert abs(int(im.rgb[0, 0, 0]) - round(float(a[0, 0, 2]) * 65535)) <= 1  # BGR on disk, RGB here
    (tmp_path / "bad.tif").write_bytes(b"II*\x00" + b"\x00" * 20)
    with pytest.raises(ImageLoadError) as e:
        load_image(tmp_path / "bad.tif")
    assert "corrupt or unsupported TIFF" in str(e.value) and "BytesIO" not in str(e.value)
    header = (b"II*\x00" + struct.pack("<IH", 8, 2) + struct.pack("<HHII", 256, 4, 1, 100000)
              + struct.pack("<HHII", 257, 4, 1, 100000) + b"\x00" * 4)
    (tmp_path / "bomb.tif").write_bytes(header)
    with pytest.raises(ImageLoadError, match="megapixels"):
        load_image(tmp_path / "bomb.tif")


def test_a_transparent_line_drawing_opens_on_white_for_the_canvas_and_projection(tmp_path):
    """A sketch from a drawing app: black lines on a transparent background whose hidden colour is black. Loaded into
    the Draw canvas (or projected on the Latent page) it was a black square."""
    from engine.draw import load_canvas_task

    rgba = np.zeros((64, 64, 4), np.uint8)  # transparent black everywhere...
    rgba[30:34, :, 3] = 255  # ...but an opaque black line
    rgba[:, 10:12, 3] = 128  # and a half-transparent one
    Image.fromarray(rgba, "RGBA").save(tmp_path / "lines.png")
    img = load_image(tmp_path / "lines.png")
    white = img.on_white()
    assert white.dtype == np.uint8 and white.shape == (64, 64, 3)
    assert (white[0, 0] == 255).all() and (white[31, 40] == 0).all() and abs(int(white[0, 10, 0]) - 127) <= 1
    canvas = load_canvas_task((str(tmp_path / "lines.png"), 64), None)
    assert canvas.mean() > 200  # mostly white paper, not a black square
    assert np.array_equal(load_image(tmp_path / "lines.png").to_uint8().rgb, rgba[..., :3])  # the image itself is kept


def test_os_errors_name_the_file_that_stands_where_a_folder_is_needed_and_a_too_long_name(tmp_path):
    import errno

    from engine.errors import describe_exception

    (tmp_path / "keep.json").write_text("{}")
    with pytest.raises(OSError) as e:
        save_image(tmp_path / "keep.json" / "x.png", np.zeros((4, 4, 3), np.uint8))
    msg = describe_exception(e.value).message
    assert f"{tmp_path / 'keep.json'} is a file, where a folder is needed" in msg
    with pytest.raises(OSError) as e:
        save_image(tmp_path / ("a" * 300 + ".png"), np.zeros((4, 4, 3), np.uint8))
    assert e.value.errno == errno.ENAMETOOLONG and "too long" in describe_exception(e.value).message
    assert not list(tmp_path.glob(".*")) and sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]
