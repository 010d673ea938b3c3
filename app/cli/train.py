"""``ganstudio train <family> ...``: train a model from folders of images, with a terminal progress bar.

One sub-subcommand per family registered in ``engine.training.core`` (discovered, so new families plug in without
editing this file); each family module provides ``add_cli_args(parser)`` and ``config_from_args(args) -> dict``.
``--steps`` is the run's total: ``--resume RUN --steps 200`` finishes an interrupted 200-step run or extends a finished
one. With ``--init MODEL`` the generator architecture is taken from the model unless given explicitly (family
hooks ``arch_given(args)`` / ``adopt_init_architecture(cfg)``). ``--gpus N`` starts N processes through torchrun (DDP); a process started by torchrun directly trains as one
rank. Exit codes: 0 finished, 1 failed / cancelled, 2 bad input.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys

from app.cli import EXIT_BAD_INPUT, EXIT_FAIL, EXIT_OK
from app.cli.progress import TerminalProgress

COMMON = [  # (flag, config field, type, help)
    ("--size", "image_size", int, "training image size in px"),
    ("--batch", "batch_size", int, "batch size (per process)"),
    ("--steps", "steps", int, "total optimisation steps of the run (0 = the family's default length)"),
    ("--lr", "lr", float, "learning rate"),
    ("--seed", "seed", int, "random seed"),
    ("--name", "name", str, "display name of the run and its models"),
    ("--device", "device", str, "auto, cpu, cuda, cuda:1, mps"),
    ("--num-workers", "num_workers", int, "data prefetch threads (-1 = auto)"),
    ("--log-every", "log_every", int, "log losses every N steps"),
    ("--sample-every", "sample_every", int, "write a sample grid every N steps (0 = off)"),
    ("--checkpoint-every", "checkpoint_every", int, "write a checkpoint every N steps"),
    ("--lr-policy", "lr_policy", str, "linear (constant then linear decay), constant, cosine, step"),
    ("--diffaug", "diffaug", str, "DiffAugment policy on D's inputs, e.g. color,translation,cutout ('' = off)"),
    ("--ema", "ema_decay", float, "EMA of the generator weights, e.g. 0.999; the EMA copy is saved (0 = off)"),
    ("--r1-gamma", "r1_gamma", float, "lazy R1 penalty weight on D's real inputs (0 = off)"),
    ("--r1-every", "r1_every", int, "apply R1 every N steps (16)"),
]


def add_parser(sub):
    p = sub.add_parser("train", help="train a model (CycleGAN, ...) from folders of images",
                       description=__doc__.split("\n\n")[0])
    fams = p.add_subparsers(dest="family", metavar="FAMILY")
    from engine.training.core import discover_families

    for name, cls in discover_families().items():
        mod = importlib.import_module(cls.__module__)
        fp = fams.add_parser(name, help=(mod.__doc__ or name).strip().splitlines()[0],
                             description=(mod.__doc__ or "").strip().split("\n\n")[0])
        _common_args(fp, sorted(cls.presets()))
        if hasattr(mod, "add_cli_args"):
            mod.add_cli_args(fp)
        fp.set_defaults(_family_module=mod)
    return p


def _common_args(p: argparse.ArgumentParser, preset_names) -> None:
    g = p.add_argument_group("run")
    g.add_argument("--out", "-o", default=None, help="run folder to create (config, checkpoints, samples, models)")
    g.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue the run in RUN_DIR at its last step")
    g.add_argument("--preset", default=None, choices=preset_names or None, help="a named set of settings")
    g.add_argument("--init", default=None, metavar="MODEL", help="fine-tune from a model (id, file or run folder)")
    g.add_argument("--gpus", type=int, default=None, help="train with N processes (DDP through torchrun)")
    for flag, dest, typ, text in COMMON:
        g.add_argument(flag, dest=dest, type=typ, default=None, help=text)
    g.add_argument("--compile", dest="compile", action="store_const", const=True, default=None,
                   help="torch.compile the networks")
    g.add_argument("--no-amp", dest="amp", action="store_const", const=False, default=None,
                   help="train in fp32 on GPUs (default: bf16 autocast)")
    g.add_argument("--face-crop", dest="face_crop", action="store_const", const=True, default=None,
                   help="detect, align (eyes level) and crop the faces of the first folder (the photos) before "
                        "training; stops with the counts if most of its images have no face")
    g.add_argument("--face-margin", dest="face_margin", type=float, default=None,
                   help="face crop margin, a fraction of the face size added on each side (default 0.2)")
    g.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    g.add_argument("--json", action="store_true", help="print a JSON summary at the end")
    g.add_argument("--quiet", "-q", action="store_true")


def _common_values(args) -> dict:
    out = {dest: getattr(args, dest) for _, dest, _, _ in COMMON}
    out.update(compile=args.compile, amp=args.amp, face_crop=args.face_crop, face_margin=args.face_margin)
    return {k: v for k, v in out.items() if v is not None}


def make_config(args):
    """The TrainConfig the arguments describe (new run or resume)."""
    from engine.errors import ConfigError
    from engine.training import core

    mod = args._family_module
    family_values = mod.config_from_args(args) if hasattr(mod, "config_from_args") else {}
    common = _common_values(args)
    if args.resume:
        if args.out and os.path.realpath(args.out) != os.path.realpath(args.resume):
            raise ConfigError("Use either --out for a new run or --resume for an existing one, not both.")
        if args.init:
            raise ConfigError("--init only applies to new runs; a resumed run continues from its checkpoint.")
        return core.resume_config(args.resume, **common, **family_values)
    if not args.out:
        raise ConfigError("Choose a run folder with --out RUN_DIR (or continue one with --resume RUN_DIR).")
    cfg = core.build_config(args.family, args.preset or "", out_dir=args.out, init_from=args.init,
                            **common, **family_values)
    arch_given = getattr(mod, "arch_given", None)  # did the user pick the architecture explicitly?
    if cfg.init_from and hasattr(mod, "adopt_init_architecture") and not (arch_given and arch_given(args)):
        cfg = mod.adopt_init_architecture(cfg)
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


def _stop_on_signals(job) -> None:
    """First Ctrl+C (or SIGTERM): stop after the current step and write a checkpoint; a second Ctrl+C aborts."""
    def stop(signum, frame):
        if job.cancel_requested:
            raise KeyboardInterrupt
        print("\nStopping after this step and saving a checkpoint (Ctrl+C again to abort)...", file=sys.stderr)
        job.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            if signal.getsignal(sig) is not signal.SIG_IGN:
                signal.signal(sig, stop)
        except ValueError:  # not the main thread (tests calling main() from a worker)
            pass


def run(args) -> int:
    if not getattr(args, "family", None):
        print("ganstudio train: choose a family, e.g. 'ganstudio train cyclegan --a DIR --b DIR --out RUN'",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.gpus and args.gpus > 1 and int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        make_config(args)  # bad input is reported once, before any process starts
        from engine.training.distributed import torchrun_command

        argv = _strip_gpus(sys.argv[1:])
        return subprocess.call(torchrun_command(args.gpus, argv))
    from engine.errors import Cancelled
    from engine.jobs import run_inline
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
        result = run_inline(train_task, cfg, on_event=bar, on_start=_stop_on_signals)
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
