"""``ganstudio distill TEACHER --data PHOTOS --out RUN [--target-macs 3G]``: make a fast version of a model.

The same run as ``ganstudio train distill --teacher TEACHER ...`` (the distillation trainer family, see
``engine/training/distill.py``): a compressed student learns the teacher's outputs on a folder of photos; resume with
``ganstudio distill --resume RUN``. Exit codes: 0 finished, 1 failed / cancelled, 2 bad input.
"""
from __future__ import annotations


def add_parser(sub):
    from app.cli.options import add_options
    from app.cli.train import _run_args
    from engine.training.core import get_trainer

    cls = get_trainer("distill")
    p = sub.add_parser("distill", help="make a fast version of a model (distillation into a compressed network)",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("teacher", nargs="?", default=None, metavar="TEACHER",
                   help="the model to make a fast version of (id, name, file or run folder)")
    _run_args(p, sorted(cls.presets()))
    add_options(p.add_argument_group("settings"), cls.config_cls, skip=("teacher",))  # TEACHER is positional
    p.set_defaults(_trainer=cls, family="distill")
    return p


def run(args) -> int:
    import sys

    from app.cli import EXIT_BAD_INPUT
    from app.cli.train import run as train_run

    if not args.teacher and not args.resume:
        print("ganstudio distill: name the model to make a fast version of, e.g. "
              "'ganstudio distill vintagify --data PHOTOS --out RUN'", file=sys.stderr)
        return EXIT_BAD_INPUT
    return train_run(args)
