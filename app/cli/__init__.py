"""``ganstudio`` command line. Each subcommand is a module with ``add_parser(sub)`` and ``run(args) -> int``.

Exit codes: 0 success, 1 failure, 2 bad input or usage, 3 partly done (some inputs skipped).
Errors print one line, no traceback (set GANSTUDIO_DEBUG=1 to see it). Only ``gui`` imports Qt.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import List, Optional

#: command name -> module in app/cli
COMMANDS = {"gui": "gui", "translate": "translate", "train": "train", "distill": "distill", "models": "models",
            "import": "import_model", "export": "export", "eval": "eval", "faces": "faces", "runstate": "runstate"}

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_PARTIAL = 0, 1, 2, 3


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The full parser, or with ``only`` just that command's (so ``ganstudio eval`` never imports the training
    stack that ``train`` lists its families from)."""
    from engine import __version__

    ap = argparse.ArgumentParser(prog="ganstudio", description="GAN Studio: GAN image translation, training, "
                                                               "latent editing, evaluation and export.")
    ap.add_argument("--version", action="version", version=f"ganstudio {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        if only is not None and name != only:
            continue
        mod = importlib.import_module(f"app.cli.{module}")
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return ap


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    argv = argv or ["gui"]
    ap = build_parser(argv[0] if argv[0] in COMMANDS else None)
    args = ap.parse_args(argv)
    if not getattr(args, "_run", None):
        ap.print_help()
        return EXIT_BAD_INPUT
    from engine.errors import ConfigError, GanStudioError, describe_exception, printable

    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("ganstudio: interrupted", file=sys.stderr)
        return 130
    except (ConfigError, GanStudioError) as e:
        if os.environ.get("GANSTUDIO_DEBUG"):
            raise
        print(f"ganstudio: error: {printable(e)}", file=sys.stderr)
        cancelled = getattr(e, "kind", "") == "cancelled"
        return EXIT_FAIL if cancelled or getattr(e, "kind", "") in ("oom", "disk", "diverged") else EXIT_BAD_INPUT
    except Exception as e:  # noqa: BLE001 - one line for the user, the traceback on request
        if os.environ.get("GANSTUDIO_DEBUG"):
            raise
        info = describe_exception(e)
        print(f"ganstudio: error: {printable(info.message)}", file=sys.stderr)
        return EXIT_FAIL
