"""Per-user install and uninstall (menu entry, icon, launcher) into a temporary HOME: exactly what was added goes."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.packaging.conftest import ROOT


@pytest.fixture
def home(tmp_path, monkeypatch):
    h = tmp_path / "home"
    (h / ".local" / "bin").mkdir(parents=True)
    (h / ".local" / "bin" / "mytool").write_text("#!/bin/sh\necho mine\n")  # the user's own file stays
    monkeypatch.setenv("HOME", str(h))
    for var in ("XDG_DATA_HOME", "XDG_BIN_HOME"):
        monkeypatch.delenv(var, raising=False)
    return h


def snapshot(root: Path):
    return sorted((str(p.relative_to(root)), p.is_dir(), p.read_bytes() if p.is_file() else b"")
                  for p in root.rglob("*"))


def fake_app(tmp_path: Path) -> Path:
    src = tmp_path / "built" / "vintage"
    (src / "_internal").mkdir(parents=True, exist_ok=True)
    exe = src / "vintage"
    exe.write_text('#!/bin/sh\necho "vintage ran with $*"\n')
    exe.chmod(0o755)
    (src / "_internal" / "data.bin").write_bytes(b"\0" * 100)
    return src


def test_install_and_uninstall_leave_home_as_it_was(home, tmp_path):
    from gstranslator import desktop_install as di

    before = snapshot(home)
    src = fake_app(tmp_path)
    icon = ROOT / "resources" / "icons" / "ganstudio.svg"
    m = di.install("vintage", "Vintage photo", source=src, exe="vintage", icon=icon, comment="Old look")
    share = home / ".local" / "share"
    entry = (share / "applications" / "vintage.desktop").read_text()
    assert f"Exec={home}/.local/bin/vintage %F" in entry and "Name=Vintage photo" in entry
    assert f"Icon={share}/icons/hicolor/scalable/apps/vintage.svg" in entry
    assert (share / "icons/hicolor/scalable/apps/vintage.svg").read_bytes() == icon.read_bytes()
    out = subprocess.run([m["launcher"], "a b.png"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "vintage ran with a b.png"  # runs the installed copy, arguments intact
    assert (share / "vintage" / "app" / "_internal" / "data.bin").exists()
    removed = di.uninstall("vintage")
    assert snapshot(home) == before and len(removed) > 5
    with pytest.raises(di.InstallError, match="not installed"):
        di.uninstall("vintage")


def test_install_refuses_to_replace_foreign_files(home, tmp_path):
    from gstranslator import desktop_install as di

    before = snapshot(home)
    with pytest.raises(di.InstallError, match="mytool already exists and was not installed by mytool"):
        di.install("mytool", "My tool", source=fake_app(tmp_path), exe="vintage")
    assert snapshot(home) == before
    with pytest.raises(di.InstallError, match="cannot be used as a program name"):
        di.install("../evil", "Evil", exec_path="/bin/true")


def test_reinstall_replaces_and_changed_files_are_kept(home, tmp_path, capsys):
    from gstranslator import desktop_install as di

    di.install("vintage", "Vintage", source=fake_app(tmp_path), exe="vintage")
    m = di.install("vintage", "Vintage 2", source=fake_app(tmp_path), exe="vintage")  # same id: replaced
    entry = Path(m["desktop"])
    assert "Name=Vintage 2" in entry.read_text()
    entry.write_text(entry.read_text() + "X-Mine=1\n")  # the user edited the menu entry
    di.uninstall("vintage")
    assert entry.exists() and "changed after it was installed" in capsys.readouterr().err
    assert not (home / ".local" / "bin" / "vintage").exists()


def test_studio_install_script_with_xdg_dirs(tmp_path, monkeypatch):
    """What `make install` runs: the launcher starts GAN Studio from its venv; XDG variables are honoured."""
    data, bins = tmp_path / "data", tmp_path / "bin"
    env = dict(os.environ, HOME=str(tmp_path / "h"), XDG_DATA_HOME=str(data), XDG_BIN_HOME=str(bins))
    script = ROOT / "packaging" / "translator" / "gstranslator" / "desktop_install.py"
    venv_exe = tmp_path / "venv" / "bin" / "ganstudio"
    venv_exe.parent.mkdir(parents=True)
    venv_exe.write_text("#!/bin/sh\necho studio $*\n")
    venv_exe.chmod(0o755)
    r = subprocess.run(["python3", str(script), "install", "--id", "ganstudio", "--title", "GAN Studio",
                        "--exec", str(venv_exe), "--desktop-args", "gui", "--icon",
                        str(ROOT / "resources" / "icons" / "ganstudio.png")], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert f"Exec={bins}/ganstudio gui %F" in (data / "applications" / "ganstudio.desktop").read_text()
    assert (data / "icons" / "hicolor" / "256x256" / "apps" / "ganstudio.png").exists()
    assert subprocess.run([str(bins / "ganstudio"), "gui"], capture_output=True, text=True).stdout == "studio gui\n"
    r = subprocess.run(["python3", str(script), "uninstall", "--id", "ganstudio"], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0 and not data.exists() and not bins.exists() and not (tmp_path / "h").exists()


def test_make_install_and_uninstall(tmp_path):
    """The Makefile targets themselves (``setup`` is skipped with ``-o``: the venv is a stand-in here)."""
    import shutil

    if not shutil.which("make"):
        pytest.skip("make is not installed")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "ganstudio").write_text("#!/bin/sh\necho studio from venv $*\n")
    (venv / "bin" / "ganstudio").chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "MAKE"))}
    env["HOME"] = str(home)
    make = ["make", "-s", "-C", str(ROOT), "-o", "setup", f"VENV={venv}", "PYTHON=python3"]
    r = subprocess.run(make + ["install"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    launcher = home / ".local" / "bin" / "ganstudio"
    entry = (home / ".local" / "share" / "applications" / "ganstudio.desktop").read_text()
    assert f"Exec={launcher} gui %F" in entry and "Name=GAN Studio" in entry
    assert subprocess.run([str(launcher), "gui"], capture_output=True, text=True).stdout == "studio from venv gui\n"
    r = subprocess.run(make + ["uninstall"], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert list(home.iterdir()) == []
