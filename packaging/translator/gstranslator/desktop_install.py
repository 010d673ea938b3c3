"""Install a program for the current user the freedesktop way; uninstall exactly what was installed.

Standard library only: the standalone translator uses it for ``--install``/``--uninstall`` and GAN Studio's
``make install``/``make uninstall`` run it as a script::

    python desktop_install.py install --id ganstudio --title "GAN Studio" --exec /path/.venv/bin/ganstudio \
        --desktop-args gui --icon resources/icons/ganstudio.svg
    python desktop_install.py uninstall --id ganstudio

What install adds (``$XDG_DATA_HOME`` defaults to ``~/.local/share``, the launcher folder is ``$XDG_BIN_HOME`` or
``~/.local/bin``): with ``--source DIR`` a copy of DIR in ``$XDG_DATA_HOME/<id>/app``; the launcher
``~/.local/bin/<id>``; the icon in ``$XDG_DATA_HOME/icons/hicolor/…/apps/<id>.svg|png``; the menu entry
``$XDG_DATA_HOME/applications/<id>.desktop``; and a manifest ``$XDG_DATA_HOME/<id>/install-manifest.json`` listing
every file, copied tree and folder it created. Uninstall removes those (a file only if it still holds what was
installed), then the folders it created if they are empty, then the manifest. It never touches a file it did not
write: install refuses to replace one.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIME = "image/png;image/jpeg;image/webp;image/bmp;image/tiff;"


class InstallError(Exception):
    pass


def data_home() -> Path:
    env = os.environ.get("XDG_DATA_HOME")
    return Path(env) if env else Path.home() / ".local" / "share"


def bin_home() -> Path:
    env = os.environ.get("XDG_BIN_HOME")
    return Path(env) if env else Path.home() / ".local" / "bin"


def manifest_path(app_id: str) -> Path:
    return data_home() / app_id / "install-manifest.json"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _desktop_quote(arg: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./=+:,@-]+", arg):
        return arg.replace("%", "%%")
    return '"' + re.sub(r'(["`$\\])', r"\\\1", arg).replace("%", "%%") + '"'


class _Recorder:
    """Writes files and remembers every file, tree and folder it created."""

    def __init__(self) -> None:
        self.files: List[Dict[str, str]] = []
        self.trees: List[str] = []
        self.dirs: List[str] = []

    def mkdirs(self, d: Path) -> None:
        missing = []
        while not d.exists():
            missing.append(d)
            d = d.parent
        for m in reversed(missing):
            m.mkdir()
            self.dirs.append(str(m))

    def write(self, path: Path, text: str, mode: int = 0o644) -> None:
        self.mkdirs(path.parent)
        path.write_text(text, encoding="utf-8")
        os.chmod(path, mode)
        self.files.append({"path": str(path), "sha256": _sha(path)})

    def copy(self, src: Path, dest: Path) -> None:
        self.mkdirs(dest.parent)
        shutil.copyfile(src, dest)
        os.chmod(dest, 0o644)
        self.files.append({"path": str(dest), "sha256": _sha(dest)})

    def copytree(self, src: Path, dest: Path) -> None:
        self.mkdirs(dest.parent)
        shutil.copytree(src, dest, symlinks=True)
        self.trees.append(str(dest))


def install(app_id: str, title: str, *, exec_path: Optional[str] = None, icon: Optional[Path] = None,
            source: Optional[Path] = None, exe: Optional[str] = None, desktop_args: str = "",
            comment: str = "", categories: str = "Graphics;", mime: str = MIME) -> Dict:
    """Install and return the manifest. Re-installing the same id replaces the previous installation."""
    if not ID_RE.match(app_id):
        raise InstallError(f"{app_id!r} cannot be used as a program name (letters, digits, '.', '_', '-').")
    if manifest_path(app_id).exists():
        uninstall(app_id)
    app_dir = data_home() / app_id / "app"
    if source is not None:
        exec_path = str(app_dir / (exe or app_id))
    if not exec_path:
        raise InstallError("Nothing to launch: give the program to run (--exec) or a folder to copy (--source).")
    icon_dest = None
    if icon is not None:
        kind = "scalable" if icon.suffix.lower() == ".svg" else "256x256"
        icon_dest = data_home() / "icons" / "hicolor" / kind / "apps" / f"{app_id}{icon.suffix.lower()}"
    launcher = bin_home() / app_id
    entry = data_home() / "applications" / f"{app_id}.desktop"
    for p in (launcher, entry, icon_dest, app_dir if source is not None else None):
        if p is not None and (p.exists() or p.is_symlink()):
            raise InstallError(f"{p} already exists and was not installed by {app_id}; remove it or choose another "
                               "name.")
    rec = _Recorder()
    try:
        rec.mkdirs(manifest_path(app_id).parent)
        if source is not None:
            rec.copytree(Path(source), app_dir)
        rec.write(launcher, f"#!/bin/sh\nexec {shlex.quote(exec_path)} \"$@\"\n", 0o755)
        if icon_dest is not None:
            rec.copy(Path(icon), icon_dest)
        args = " ".join(_desktop_quote(a) for a in shlex.split(desktop_args))
        lines = ["[Desktop Entry]", "Type=Application", f"Name={title}", f"Comment={comment or title}",
                 f"Exec={_desktop_quote(str(launcher))}{' ' + args if args else ''} %F",
                 f"TryExec={launcher}", f"Icon={icon_dest or 'application-x-executable'}", "Terminal=false",
                 f"Categories={categories}", f"MimeType={mime}", f"StartupWMClass={app_id}"]
        rec.write(entry, "\n".join(lines) + "\n")
    except BaseException:
        _remove(rec.files, rec.trees, rec.dirs)
        raise
    manifest = {"app_id": app_id, "title": title, "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "launcher": str(launcher), "desktop": str(entry), "files": rec.files, "trees": rec.trees,
                "dirs": rec.dirs}
    manifest_path(app_id).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def uninstall(app_id: str) -> List[str]:
    """Remove what :func:`install` recorded; return the paths removed. Files changed since are kept."""
    mp = manifest_path(app_id)
    try:
        manifest = json.loads(mp.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InstallError(f"{app_id} is not installed for this user (no {mp}).") from None
    except ValueError:
        raise InstallError(f"{mp} is damaged; remove the installed files by hand.") from None
    mp.unlink()
    return _remove(manifest.get("files", []), manifest.get("trees", []), manifest.get("dirs", []))


def _remove(files: List[Dict[str, str]], trees: List[str], dirs: List[str]) -> List[str]:
    removed = []
    for f in files:
        p = Path(f["path"])
        if p.is_file() and not p.is_symlink() and _sha(p) == f.get("sha256"):
            p.unlink()
            removed.append(str(p))
        elif p.exists():
            print(f"kept {p}: it changed after it was installed", file=sys.stderr)
    for t in trees:
        if Path(t).is_dir():
            shutil.rmtree(t)
            removed.append(t)
    for d in sorted(dirs, key=len, reverse=True):
        try:
            Path(d).rmdir()
            removed.append(d)
        except OSError:
            pass  # not empty (or gone): keep it
    return removed


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="desktop_install.py", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("install")
    p.add_argument("--id", required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--exec", dest="exec_path", default=None)
    p.add_argument("--desktop-args", default="", help="arguments the menu entry passes before the files")
    p.add_argument("--source", type=Path, default=None)
    p.add_argument("--exe", default=None)
    p.add_argument("--icon", type=Path, default=None)
    p.add_argument("--comment", default="")
    u = sub.add_parser("uninstall")
    u.add_argument("--id", required=True)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "install":
            m = install(a.id, a.title, exec_path=a.exec_path, icon=a.icon, source=a.source, exe=a.exe,
                        desktop_args=a.desktop_args, comment=a.comment)
            print(f"Installed {a.title}: launcher {m['launcher']}, menu entry {m['desktop']}.")
        else:
            removed = uninstall(a.id)
            print(f"Uninstalled {a.id}: removed {len(removed)} files and folders.")
    except InstallError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
