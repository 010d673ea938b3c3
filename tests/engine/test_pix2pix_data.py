"""Paired data in its three forms, on pairs the tests make (a photo and its colour-inverted or blurred copy):
identical jitter for both images of a pair, matching by file name, and a clear error for every bad input."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.errors import DataError
from engine.imageio import load_image, save_image
from engine.sketch import SketchStyle, make_sketch
from engine.training._pix2pix_data import Geometry, detect_palette, open_paired
from engine.training.data import FolderStream
from tests.conftest import make_image

GEO = Geometry("resize_and_crop", 72, 64)


def photo(seed: int, w: int = 64, h: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([np.sin(xx / (5 + seed)), np.cos(yy / 7.0), np.sin((xx + yy) / 9.0)], 2) * 0.4 + 0.5
    return (np.clip(base + rng.normal(0, 0.03, base.shape), 0, 1) * 255).astype(np.uint8)


def make_ab(folder, n=3, w=64, h=64):
    for i in range(n):
        a = photo(i, w, h)
        save_image(folder / f"{i:02d}.png", np.concatenate([a, 255 - a], 1), overwrite=True)
    return folder


def make_two_folders(root, stems=("x1", "x2", "x3"), blur=True):
    a, b = root / "A", root / "B"
    for i, s in enumerate(stems):
        img = photo(i)
        save_image(a / f"{s}.png", img, overwrite=True)
        save_image(b / f"{s}.jpg" if i == 0 else b / f"{s}.png", cv2.GaussianBlur(img, (0, 0), 2) if blur else img,
                   overwrite=True)
    return a, b


def test_ab_pairs_share_crop_and_flip(tmp_path):
    pd = open_paired("ab", str(make_ab(tmp_path / "ab")), geometry=GEO)
    assert len(pd) == 3 and pd.summary().startswith("side-by-side AB images")
    a, b = pd.pair(0)
    assert a.shape == b.shape == (72, 72, 3)
    assert np.abs(a.astype(int) + b.astype(int) - 255).max() <= 1  # right half = inverted left half
    stream = FolderStream(pd.sides(), 64, seed=3, paired=True)
    flips = set()
    for pos in range(12):
        ex = stream.example(pos)
        x, y = ex["A"].numpy().astype(int), ex["B"].numpy().astype(int)
        assert x.shape == (3, 64, 64)
        assert np.abs(x + y - 255).max() <= 1  # the same crop and flip on both halves
        unflipped = any(np.abs(x.transpose(1, 2, 0) - pd.pair(k)[0][dy:dy + 64, dx:dx + 64]).max() <= 1
                        for k in range(3) for dy in range(9) for dx in range(9))
        flips.add(unflipped)
    assert flips == {True, False}  # some examples are flipped, some are not
    swapped = open_paired("ab", str(tmp_path / "ab"), geometry=GEO, swap=True)
    assert np.array_equal(swapped.pair(1)[0], pd.pair(1)[1])


def test_ab_rejects_pictures_that_are_not_side_by_side(tmp_path):
    d = make_ab(tmp_path / "ab", n=2)
    make_image(d / "portrait.png", w=40, h=80)
    pd = open_paired("ab", str(d), geometry=GEO)
    assert len(pd) == 2 and any("narrower than tall" in r for _, r in pd.skipped)
    only = tmp_path / "photos"
    for i in range(3):
        make_image(only / f"p{i}.png", w=48, h=64, seed=i)
    with pytest.raises(DataError, match="has only 0 usable pairs; .*narrower than tall"):
        open_paired("ab", str(only), geometry=GEO)


def test_two_folders_matched_by_name_with_unmatched_reported(tmp_path):
    a, b = make_two_folders(tmp_path / "data")
    make_image(a / "only_in_a.png", seed=5)
    make_image(b / "only_in_b.png", seed=6)
    pd = open_paired("folders", str(tmp_path / "data"), geometry=GEO)  # A/ and B/ found inside
    assert len(pd) == 3 and [p.name for p, _ in pd.items] == ["x1.png", "x2.png", "x3.png"]
    assert [p.name for p in pd.unmatched["A"]] == ["only_in_a.png"]
    assert [p.name for p in pd.unmatched["B"]] == ["only_in_b.png"]
    assert "1 file(s) in A have no partner" in pd.summary()
    x, y = pd.pair(1)
    want = GEO.prepare(cv2.GaussianBlur(photo(1), (0, 0), 2))
    assert np.abs(y.astype(int) - want.astype(int)).max() <= 1 and not np.array_equal(x, y)
    same = open_paired("folders", str(a), str(b), geometry=GEO)  # explicit second folder
    assert len(same) == 3


def test_two_folders_mismatched_names_and_sizes(tmp_path):
    a, b = make_two_folders(tmp_path / "n", stems=("a1", "a2"))
    for f in b.iterdir():
        f.rename(b / ("z" + f.name))
    with pytest.raises(DataError, match=r"0 file\(s\) with matching names.*Only in A: a1.png, a2.png"):
        open_paired("folders", str(a), str(b), geometry=GEO)
    a, b = make_two_folders(tmp_path / "s", stems=("p1", "p2", "p3"))
    save_image(b / "p2.png", photo(1, 64, 32), overwrite=True)  # different shape: skipped, reported
    save_image(b / "p3.png", photo(2, 128, 128), overwrite=True)  # same shape, larger: fine
    pd = open_paired("folders", str(a), str(b), geometry=GEO)
    assert [p.name for p, _ in pd.items] == ["p1.png", "p3.png"]
    assert any("p2.png is 64x64 but its partner p2.png is 64x32" in r for _, r in pd.skipped)
    for f in (b / "p1.jpg", b / "p3.png"):
        save_image(f, photo(0, 32, 64), overwrite=True)
    with pytest.raises(DataError, match="same shape"):
        open_paired("folders", str(a), str(b), geometry=GEO)
    with pytest.raises(DataError, match="no A and B subfolders"):
        open_paired("folders", str(a), geometry=GEO)
    with pytest.raises(DataError, match="same folder"):
        open_paired("folders", str(a), str(a), geometry=GEO)


def test_folder_of_non_images_and_single_image_folders(tmp_path):
    junk = tmp_path / "junk"
    junk.mkdir()
    for n in ("notes.txt", "data.csv", "model.pth"):
        (junk / n).write_text("not a picture")
    for form in ("ab", "sketch"):
        with pytest.raises(DataError, match=r"contains no images \(3 file\(s\) skipped: 3 not an image file type"):
            open_paired(form, str(junk), geometry=GEO)
    one = tmp_path / "one"
    make_image(one / "only.png", w=64, h=64)
    with pytest.raises(DataError, match="has only 1 usable pair; training needs at least 2"):
        open_paired("sketch", str(one), geometry=GEO)
    a, b = tmp_path / "A1", tmp_path / "B1"
    make_image(a / "s.png")
    make_image(b / "s.png")
    with pytest.raises(DataError, match="1 file\\(s\\) with matching names"):
        open_paired("folders", str(a), str(b), geometry=GEO)
    with pytest.raises(DataError, match="does not exist"):
        open_paired("sketch", str(tmp_path / "missing"), geometry=GEO)


def test_sketch_pairs_are_made_from_the_photo_and_corrupt_files_are_skipped(tmp_path):
    d = tmp_path / "photos"
    for i in range(3):
        save_image(d / f"{i}.png", photo(i, 80, 80), overwrite=True)
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    style = SketchStyle(style="xdog", eps=0.5)
    pd = open_paired("sketch", str(d), geometry=GEO, sketch=style)
    assert len(pd) == 3 and [p.name for p, _ in pd.skipped] == ["broken.jpg"]
    for i in range(3):
        sk, ph = pd.pair(i)
        assert np.array_equal(ph, GEO.prepare(load_image(d / f"{i}.png").rgb))
        assert np.array_equal(sk, make_sketch(ph, style))  # deterministic, made at load size from the photo


def test_palette_detection():
    labels = np.zeros((64, 64, 3), np.uint8)
    labels[:, :20] = (10, 20, 160)
    labels[:, 20:40] = (200, 30, 30)
    labels[20:40, 40:] = (30, 200, 60)
    pal = detect_palette([labels, labels[::-1]])
    assert pal[0] == [10, 20, 160] and sorted(map(tuple, pal)) == sorted({(10, 20, 160), (200, 30, 30),
                                                                          (30, 200, 60), (0, 0, 0)})
    assert detect_palette([photo(0), photo(1)]) is None
