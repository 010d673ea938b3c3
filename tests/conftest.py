"""Shared test set-up: offscreen Qt, an isolated user data folder and settings file, small real test images."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists
os.environ.setdefault("GANSTUDIO_DEVICE", "cpu")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GANSTUDIO_SHARED", ROOT.parent / "shared"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own GANSTUDIO_HOME (user models, runs, caches) and settings file."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("GANSTUDIO_HOME", str(home))
    monkeypatch.setenv("GANSTUDIO_SETTINGS", str(home / "settings.ini"))
    if "app.settings" in sys.modules:
        sys.modules["app.settings"].reset_settings(str(home / "settings.ini"))
    yield home


@pytest.fixture
def one_thread():
    """One torch thread for the duration of a test (tiny networks train faster so on this 2-core machine, and the Lab
    runs its networks single-threaded: engine/lab/_threads.py). Use with ``pytest.mark.usefixtures``."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"../shared not found at {SHARED}")
    return SHARED


@pytest.fixture
def samples() -> Path:
    return ROOT / "resources" / "samples"


def make_image(path: Path, w: int = 64, h: int = 48, seed: int = 0, channels: int = 3, dtype=np.uint8) -> Path:
    """Write a small smooth test picture (gradients + noise) with OpenCV."""
    import cv2

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx / max(1, w - 1), yy / max(1, h - 1), (xx + yy) / max(1, w + h - 2)], axis=2)
    img = np.clip(base + rng.normal(0, 0.05, base.shape), 0, 1)
    if channels == 1:
        img = img[:, :, :1]
    elif channels == 4:
        img = np.concatenate([img, np.clip(base[:, :, :1] + 0.2, 0, 1)], axis=2)
    scale = 65535 if dtype == np.uint16 else 255
    arr = (img * scale).round().astype(dtype)
    if arr.shape[2] >= 3:
        arr = arr[:, :, [2, 1, 0] + ([3] if arr.shape[2] == 4 else [])]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok = cv2.imwrite(str(path), arr if channels != 1 else arr[:, :, 0])
    assert ok, path
    return path


@pytest.fixture
def image_factory(tmp_path):
    def _make(name: str = "img.png", **kw) -> Path:
        return make_image(tmp_path / name, **kw)

    return _make
