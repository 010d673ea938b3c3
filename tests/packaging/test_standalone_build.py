"""One real build per test session: the standalone translator for two tiny models, built with PyInstaller from the
separate build venv, then run, compared with the engine, installed into a temporary HOME and uninstalled."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile

import numpy as np
import pytest
import torch

from engine.imageio import load_image
from engine.inference import TranslateOptions, Translator
from engine.jobs import ProgressReported
from tests.conftest import make_image
from tests.export_models import load_net
from tests.packaging.conftest import build_venv_for_tests

pytestmark = pytest.mark.slow
NAME = "tinyvintage"
# what may come from the machine: glibc, and libGL/libEGL with what they pull in (X11's libxcb; Wayland's client
# libraries where a Wayland session has them). Everything else must be inside the bundle.
SYSTEM_OK = re.compile(r"^(libc|libm|libpthread|libdl|librt|ld-linux-x86-64|libGL|libEGL|libGLX|libGLdispatch|"
                       r"libOpenGL|libxcb|libwayland-(client|cursor|egl))\.so")


@pytest.fixture(scope="session")
def built(tmp_path_factory, tiny_library):
    from engine.export.app_builder import BuildAppConfig, build_app_task
    from engine.jobs import run_inline

    root = tmp_path_factory.mktemp("build")
    events = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANSTUDIO_HOME", str(root / "home"))
        mp.setenv("GANSTUDIO_BUILD_VENV", str(build_venv_for_tests()))
        cfg = BuildAppConfig(models=("tiny-resnet", "tiny-style"), name=NAME, out_dir=str(root / "app"),
                             title="Tiny Vintage", archive=True)
        res = run_inline(lambda c, ctx: build_app_task(c, ctx, tiny_library), cfg,
                         on_event=lambda e: events.append(e.progress) if isinstance(e, ProgressReported) else None)
    return res, events


def run_app(exe, *args, env=None, **kw):
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, env=env, timeout=300, **kw)


def test_bundle_has_no_torch_and_stays_small(built):
    res, events = built
    assert res.executable == res.out_dir / NAME and os.access(res.executable, os.X_OK)
    names = [p.name.lower() for p in res.out_dir.rglob("*")]
    assert not [n for n in names if n.startswith(("torch", "libtorch", "libc10", "cv2"))]
    assert res.report.forbidden == [] and 100e6 < res.size < 300e6
    readme = (res.out_dir / "README.md").read_text()
    assert "libGL/libEGL and a font" in readme and f"{res.size / 1e6:.0f} MB" in readme
    assert f"./{NAME} --translate" in readme and "tiny-resnet" in readme
    fracs = [p.done / p.total for p in events if p.total]
    assert fracs[-1] == 1.0 and all(b >= a - 1e-9 for a, b in zip(fracs, fracs[1:]))  # never goes backwards
    messages = {p.message for p in events}
    assert any("PyInstaller" in m for m in messages) and any("Exporting" in m for m in messages)


def test_headless_translation_matches_the_engine(built, tiny_library, tmp_path):
    res, _ = built
    src = [make_image(tmp_path / "in" / "a.png", 70, 50, seed=1), make_image(tmp_path / "in" / "b.png", 33, 65, seed=2)]
    r = run_app(res.executable, "--translate", tmp_path / "in", "--out", tmp_path / "out", "--ext", ".png")
    assert r.returncode == 0, r.stderr
    tr = Translator(load_net(tiny_library, "tiny-resnet"), torch.device("cpu"), TranslateOptions(precision="fp32"))
    for s in src:
        got = load_image(tmp_path / "out" / s.name).rgb.astype(np.float64)
        ref = tr.translate(load_image(s)).image.rgb.astype(np.float64)
        assert got.shape == ref.shape
        assert np.abs(got - ref).mean() < 1e-2 and np.abs(got - ref).max() <= 1  # uint8 scale


def test_headless_generation_and_listing(built, tmp_path):
    res, _ = built
    r = run_app(res.executable, "--list-models")
    assert r.returncode == 0 and "tiny-resnet\ttranslate" in r.stdout and "tiny-style\tgenerate" in r.stdout
    r = run_app(res.executable, "--generate", 2, "--seed", 11, "--psi", 0.5, "--out", tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed00011.png", "seed00012.png"]
    r = run_app(res.executable, "--translate", tmp_path / "nothing.png", "--out", tmp_path / "o")
    assert r.returncode == 2 and "not found" in r.stderr


def test_needs_only_gl_egl_from_the_system(built):
    if not shutil.which("ldd"):
        pytest.skip("ldd is not available")
    res, _ = built
    internal = res.out_dir / "_internal"
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(str(p) for p in (internal, internal / "PySide6" / "Qt" / "lib",
                                                                        internal / "numpy.libs")))
    outside = set()
    for f in [res.executable, *internal.rglob("*.so*")]:
        if f.is_symlink() or not f.is_file():
            continue
        out = subprocess.run(["ldd", str(f)], capture_output=True, text=True, env=env).stdout
        for line in out.splitlines():
            m = re.match(r"\s*(\S+) => (.*?) \(", line + " (") if "=>" in line else None
            if m and not m.group(2).startswith(str(res.out_dir)) and not SYSTEM_OK.match(m.group(1)):
                outside.add(f"{m.group(1)} (for {f.name})")
    assert not outside, sorted(outside)


def test_window_opens_offscreen(built, tmp_path):
    from PySide6.QtGui import QImage

    res, _ = built
    img = make_image(tmp_path / "photo.png", 96, 64, seed=5)
    shot = tmp_path / "window.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = run_app(res.executable, "--screenshot", shot, img, env=env)
    assert r.returncode == 0, r.stderr
    q = QImage(str(shot))
    assert (q.width(), q.height()) == (1100, 720)
    px = {q.pixel(x, y) for x in range(0, 1100, 37) for y in range(0, 720, 23)}
    assert len(px) > 50  # a real window with the photo in it, not a blank surface


def test_install_into_a_temporary_home_and_uninstall(built, tmp_path):
    res, _ = built
    home = tmp_path / "home"
    (home / ".local" / "share" / "applications").mkdir(parents=True)
    (home / ".local" / "share" / "applications" / "other.desktop").write_text("[Desktop Entry]\nName=Other\n")
    before = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(home)
    r = run_app(res.executable, "--install", env=env)
    assert r.returncode == 0, r.stderr
    launcher = home / ".local" / "bin" / NAME
    entry = (home / ".local" / "share" / "applications" / f"{NAME}.desktop").read_text()
    assert "Name=Tiny Vintage" in entry and f"Exec={launcher} %F" in entry
    assert (home / ".local" / "share" / "icons" / "hicolor" / "scalable" / "apps" / f"{NAME}.svg").exists()
    installed = home / ".local" / "share" / NAME / "app" / NAME
    r = run_app(launcher, "--list-models", env=env)
    assert r.returncode == 0 and "tiny-resnet" in r.stdout and installed.exists()
    r = run_app(launcher, "--uninstall", env=env)
    assert r.returncode == 0, r.stderr
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == before


def test_archive_unpacks_anywhere_and_runs(built, tmp_path):
    res, _ = built
    assert res.archive == res.out_dir.with_name(res.out_dir.name + ".tar.gz") and res.archive.exists()
    with tarfile.open(res.archive) as tar:
        names = tar.getnames()
        assert f"app/{NAME}" in names and "app/README.md" in names
        tar.extractall(tmp_path, filter="tar")
    r = run_app(tmp_path / "app" / NAME, "--version")
    assert r.returncode == 0 and NAME in r.stdout


def test_rebuild_into_a_foreign_folder_is_refused(built, tiny_library, tmp_path):
    from engine.export import ExportError
    from engine.export.app_builder import BuildAppConfig, build_app_task
    from engine.jobs import run_inline

    (tmp_path / "mine.txt").write_text("keep me")
    cfg = BuildAppConfig(models=("tiny-resnet",), name=NAME, out_dir=str(tmp_path))
    with pytest.raises(ExportError, match="not empty and holds no earlier app build"):
        run_inline(lambda c, ctx: build_app_task(c, ctx, tiny_library), cfg)
    assert (tmp_path / "mine.txt").read_text() == "keep me"
