"""Command-line options of the distillation family (``ganstudio distill TEACHER ...`` and
``ganstudio train distill --teacher TEACHER ...``); plain argparse, every option defaults to None."""
from __future__ import annotations

import argparse
from typing import Any, Dict

# (flag, config field, type, help)
OPTIONS = [
    ("--data", "data", str, "folder of photos to learn from (searched recursively; at least 16)"),
    ("--target-macs", "target_macs", str, "student size in MACs at 256x256, e.g. 3G (default: a tenth of the "
                                          "teacher's)"),
    ("--student-ngf", "student_ngf", int, "student width (default: the widest within the target)"),
    ("--lambda-pixel", "lambda_pixel", float, "L1 loss to the teacher's output (10)"),
    ("--lambda-feat", "lambda_feat", float, "feature matching through 1x1 projections (1)"),
    ("--lambda-gan", "lambda_gan", float, "GAN loss against the teacher's outputs (0.2; 0 = off)"),
    ("--taps", "n_taps", int, "layers matched between student and teacher (3)"),
    ("--ndf", "ndf", int, "discriminator width (32)"),
    ("--jitter", "jitter", float, "colour jitter strength of the photos (0.1; 0 = off)"),
    ("--teacher-cache", "teacher_cache", int, "N = train on the first N whole photos, each translated by the teacher "
                                              "once (fast on CPUs; no feature matching); 0 = random crops (default)"),
    ("--load-size", "load_size", int, "scale photos to this short side before the random crop (0 = size*2)"),
]


def add_cli_args(p: argparse.ArgumentParser, *, teacher_option: bool = True) -> None:
    g = p.add_argument_group("distillation")
    if teacher_option:
        g.add_argument("--teacher", dest="teacher", default=None, help="the model to make a fast version of")
    for flag, dest, typ, text in OPTIONS:
        g.add_argument(flag, dest=dest, type=typ, default=None, help=text)
    g.add_argument("--no-flip", dest="flip", action="store_const", const=False, default=None,
                   help="no random horizontal flips")


def config_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    names = ["teacher"] + [dest for _, dest, _, _ in OPTIONS] + ["flip"]
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
