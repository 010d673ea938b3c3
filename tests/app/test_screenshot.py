"""The real window under Xvfb (xcb platform, not offscreen), saved to a PNG; and the no-display message."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env.update(GANSTUDIO_HOME=str(tmp_path / "home"), GANSTUDIO_SETTINGS=str(tmp_path / "s.ini"),
               PYTHONPATH=str(ROOT), **extra)
    return env


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run not installed (make test installs it)")
def test_main_window_screenshot_under_xvfb(tmp_path):
    shot = tmp_path / "main.png"
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1400x900x24", sys.executable, "-m", "app.main", "--screenshot",
           str(shot), "--delay", "12000", str(ROOT / "resources" / "samples" / "chelsea.png")]
    r = subprocess.run(cmd, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    from engine.imageio import load_image

    img = load_image(shot).rgb
    assert img.shape[0] >= 600 and img.shape[1] >= 900
    assert img.std() > 20  # a real picture, not a blank frame
    # the translated cat is on screen: the right half of the view differs from a uniform background
    assert len(np.unique(img.reshape(-1, 3)[::97], axis=0)) > 200


def test_no_display_gives_clear_advice(tmp_path):
    r = subprocess.run([sys.executable, "-m", "app", "gui"], cwd=ROOT, env=_env(tmp_path), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2
    assert "no display" in r.stderr and "xvfb-run" in r.stderr and "Traceback" not in r.stderr
