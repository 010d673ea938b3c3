"""``ganstudio train <family> ...``: train a model from folders of images, with a terminal progress bar.

One sub-subcommand per family registered in ``engine.training.core`` (discovered, so a new family plugs in without
editing this file). Its options come from the metadata of its config's fields (``engine.config.option``: help text,
choices read from the registries). ``--steps`` is the run's total: ``--resume RUN --steps 200`` finishes an
interrupted 200-step run or extends a finished one. With ``--init MODEL`` the generator architecture is taken from
the model unless an architecture option is given (``Trainer.adopt_init_architecture``). ``--gpus N`` starts N
processes through torchrun (DDP); a process started by torchrun directly trains as one rank. Exit codes: 0 finished,
1 failed / cancelled, 2 bad input.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from app.cli import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_OK
from app.cli.options import add_options, arch_given, values_from_args
from app.cli.progress import TerminalProgress

HELP = "train a model (CycleGAN, CUT/FastCUT, pix2pix, StarGAN, StyleGAN, VAE-GAN, ...) from folders of images"


def add_parser(sub):
    p = sub.add_parser("train", help=HELP, description=__doc__.split("\n\n")[0])
    fams = p.add_subparsers(dest="family", metavar="FAMILY")
    from engine.training.core import discover_families

    for name, cls in discover_families().items():
        doc = cls.__doc__ or sys.modules[cls.__module__].__doc__ or name
        fp = fams.add_parser(name, help=doc.strip().splitlines()[0], description=doc.strip().split("\n\n")[0])
        _run_args(fp, sorted(cls.presets()))
        add_options(fp.add_argument_group("settings"), cls.config_cls)
        fp.set_defaults(_trainer=cls)
    return p


def _run_args(p: argparse.ArgumentParser, preset_names) -> None:
    g = p.add_argument_group("run")
    g.add_argument("--out", "-o", default=None, help="run folder to create (config, checkpoints, samples, models)")
    g.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue the run in RUN_DIR at its last step")
    g.add_argument("--preset", default=None, choices=preset_names or None, help="a named set of settings")
    g.add_argument("--init", default=None, metavar="MODEL", help="fine-tune from a model (id, file or run folder)")
    g.add_argument("--gpus", type=int, default=None, help="train with N processes (DDP through torchrun)")
    g.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    g.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    g.add_argument("--quiet", "-q", action="store_true")


def make_config(args):
    """The TrainConfig the arguments describe (new run or resume)."""
    from engine.errors import ConfigError
    from engine.training import core

    cls = args._trainer
    values = values_from_args(args, cls.config_cls)
    if args.resume:
        if args.out and os.path.realpath(args.out) != os.path.realpath(args.resume):
            raise ConfigError("Use either --out for a new run or --resume for an existing one, not both.")
        if args.init:
            raise ConfigError("--init only applies to new runs; a resumed run continues from its checkpoint.")
        run_family = core.load_run_config(args.resume).family
        if run_family != args.family:
            raise ConfigError(f"{args.resume} is a {run_family} run; continue it with: ganstudio train {run_family} "
                              f"--resume {args.resume}")
        return core.resume_config(args.resume, **values)
    if not args.out:
        raise ConfigError("Choose a run folder with --out RUN_DIR (or continue one with --resume RUN_DIR).")
    cfg = core.build_config(args.family, args.preset or "", out_dir=args.out, init_from=args.init, **values)
    if cfg.init_from and not arch_given(args, cls.config_cls):
        cfg = cls.adopt_init_architecture(cfg)
    return cfg


def _strip_gpus(argv):
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--gpus":
            skip = True
            continue
        if a.startswith("--gpus="):
            continue
        out.append(a)
    return out


def run(args) -> int:
    if not getattr(args, "family", None):
        print("ganstudio train: choose a family, e.g. 'ganstudio train cyclegan --a DIR --b DIR --out RUN'",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.gpus is not None and args.gpus < 1:
        from engine.errors import ConfigError

        raise ConfigError(f"--gpus must be 1 or more (the number of training processes); got {args.gpus}.")
    if args.gpus and args.gpus > 1 and int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        make_config(args)  # bad input is reported once, before any process starts
        from engine.training.distributed import torchrun_command

        argv = _strip_gpus(sys.argv[1:])
        return subprocess.call(torchrun_command(args.gpus, argv))
    from engine.errors import Cancelled
    from engine.jobs import StopOnSignals, run_inline
    from engine.training.core import train_task

    cfg = make_config(args)
    if args.threads is not None:
        import torch

        from engine.errors import ConfigError

        most = max(4, 4 * (os.cpu_count() or 1))
        if not 1 <= args.threads <= most:
            raise ConfigError(f"--threads must be between 1 and {most} on this machine; got {args.threads}.")
        torch.set_num_threads(args.threads)
    rank = int(os.environ.get("RANK", "0"))
    bar = TerminalProgress(quiet=args.quiet or args.json or rank != 0)
    try:
        with StopOnSignals() as stop:  # the first Ctrl+C / SIGTERM checkpoints, then Cancelled
            result = run_inline(train_task, cfg, on_event=bar, on_start=stop.bind)
    except Cancelled:
        print(f"Stopped; the run keeps its last checkpoint. Continue with: ganstudio train {args.family} "
              f"--resume {cfg.out_dir}", file=sys.stderr)
        return EXIT_FAIL
    if rank != 0:
        return EXIT_OK
    if args.json:
        print(json.dumps({"run_dir": str(result.run_dir), "family": result.family, "state": result.state,
                          "step": result.step, "total": result.total, "models": [str(m) for m in result.models],
                          "train_seconds": round(result.seconds, 2), "losses": result.last_losses}, indent=2))
    elif not args.quiet:
        print(result.message())
        for m in result.models:
            print(f"  model: {m}")
    return EXIT_OK
