"""Command line of the exported program: the window by default, or headless work, or install/uninstall."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from . import __version__, app_info, app_root, bundle_dir, icon_path


def build_parser(info: dict) -> argparse.ArgumentParser:
    name = info["name"]
    ap = argparse.ArgumentParser(prog=name, description=f"{info['title']}: translate photos with the model(s) "
                                 "inside this program. Without options it opens its window.")
    ap.add_argument("paths", nargs="*", help="images or folders to open in the window")
    ap.add_argument("--translate", nargs="+", metavar="IN", help="translate these files or folders without a window")
    ap.add_argument("--generate", type=int, metavar="N", help="generate N images (seed, seed+1, …) without a window")
    ap.add_argument("--out", metavar="DIR", help="output folder for --translate / --generate")
    ap.add_argument("--model", default="", help="model id or name (default: the first that fits)")
    ap.add_argument("--suffix", default="", help="text added to output names")
    ap.add_argument("--ext", default="", help="output format, e.g. .png (default: as the input)")
    ap.add_argument("--seed", type=int, default=0, help="first seed for --generate")
    ap.add_argument("--psi", type=float, default=None, help="truncation psi for --generate (where the model has it)")
    ap.add_argument("--list-models", action="store_true", help="list the models inside and exit")
    ap.add_argument("--install", action="store_true", help="install for this user: menu entry, icon, launcher")
    ap.add_argument("--uninstall", action="store_true", help="remove exactly what --install added")
    ap.add_argument("--quiet", "-q", action="store_true")
    ap.add_argument("--screenshot", metavar="PNG", help=argparse.SUPPRESS)
    ap.add_argument("--version", action="version", version=f"{name} {info.get('version', __version__)} "
                    f"(built with {info.get('built_with', 'GAN Studio')})")
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    info = app_info()
    args = build_parser(info).parse_args(argv)
    if args.install or args.uninstall:
        return _install(args, info)
    if args.translate or args.generate is not None or args.list_models:
        return _headless(args)
    from .window import run_window

    return run_window(args.paths, screenshot=args.screenshot)


def _install(args, info: dict) -> int:
    from . import desktop_install as di

    try:
        if args.uninstall:
            removed = di.uninstall(info["name"])
            print(f"Uninstalled {info['title']} ({len(removed)} files and folders removed).")
            return 0
        if not getattr(sys, "frozen", False):
            print("error: --install works from a built program, not from source.", file=sys.stderr)
            return 2
        icon = icon_path()
        m = di.install(info["name"], info["title"], source=app_root(), exe=Path(sys.executable).name, icon=icon,
                       comment=f"Translate photos with {', '.join(info.get('model_names', [])) or 'GAN models'}")
        on_path = str(Path(m["launcher"]).parent) in os.environ.get("PATH", "").split(os.pathsep)
        print(f"Installed {info['title']}. Start it from the applications menu or run {m['launcher']}"
              f"{'' if on_path else ' (its folder is not on your PATH yet)'}.")
        return 0
    except di.InstallError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _headless(args) -> int:
    from PySide6.QtCore import QCoreApplication

    from . import headless
    from .runtime import ModelError, read_index

    _app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])  # image format plugins
    try:
        models = read_index(bundle_dir() / "models")
        if args.list_models:
            for m in models:
                print(f"{m.id}\t{m.task}\t{m.name}")
            return 0
        if not args.out:
            print("error: --out DIR is required with --translate and --generate", file=sys.stderr)
            return headless.EXIT_BAD_INPUT
        if args.translate:
            return headless.translate(models, args.translate, args.out, model=args.model, suffix=args.suffix,
                                      ext=args.ext, quiet=args.quiet)
        return headless.generate(models, args.generate, args.out, model=args.model, seed=args.seed, psi=args.psi,
                                 ext=args.ext or ".png", quiet=args.quiet)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return headless.EXIT_BAD_INPUT
    except OSError as e:
        print(f"error: {e.filename or ''} {e.strerror or e}".strip(), file=sys.stderr)
        return headless.EXIT_FAIL
