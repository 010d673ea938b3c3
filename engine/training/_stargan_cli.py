"""Command-line options of the StarGAN family (``ganstudio train stargan --domains DIR DIR DIR ... --out RUN``).

Every option defaults to None so only what the user typed overrides the preset / the recipe defaults.
"""
from __future__ import annotations

import argparse
from typing import Any, Dict

# (flag, config field, type, help)
OPTIONS = [
    ("--g-conv-dim", "g_conv_dim", int, "generator base width (64)"),
    ("--d-conv-dim", "d_conv_dim", int, "discriminator base width (64)"),
    ("--g-repeat", "g_repeat", int, "residual blocks in the generator (6)"),
    ("--d-repeat", "d_repeat", int, "stride-2 layers in the discriminator (0 = down to 2x2 patches)"),
    ("--gan-loss", "gan_loss", str, "wgan_gp (default), lsgan, nonsaturating, hinge, bce, wgan"),
    ("--lambda-cls", "lambda_cls", float, "domain classification loss weight (1)"),
    ("--lambda-rec", "lambda_rec", float, "reconstruction loss weight (10)"),
    ("--gp-weight", "gp_weight", float, "gradient penalty weight for wgan_gp (10)"),
    ("--n-critic", "n_critic", int, "discriminator updates per generator update (5)"),
    ("--load-size", "load_size", int, "resize to this before the random crop (0 = size*143/128)"),
    ("--preprocess", "preprocess", str, "resize_and_crop (default), scale_shortside_and_crop, crop, resize"),
]


def add_cli_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("StarGAN (--batch is images per domain per discriminator update)")
    g.add_argument("--domains", nargs="+", metavar="DIR", default=None,
                   help="one folder of images per domain (at least two; searched recursively)")
    g.add_argument("--domain-names", nargs="+", metavar="NAME", default=None,
                   help="display names of the domains, in the same order (default: the folder names)")
    for flag, dest, typ, text in OPTIONS:
        g.add_argument(flag, dest=dest, type=typ, default=None, help=text)
    g.add_argument("--no-flip", dest="flip", action="store_const", const=False, default=None,
                   help="no random horizontal flips")


def config_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """The StarGAN settings the user gave on the command line."""
    out = {dest: getattr(args, dest) for _, dest, _, _ in OPTIONS + [("", "flip", None, "")]}
    if args.domains is not None:
        out["domains"] = tuple(args.domains)
    if args.domain_names is not None:
        out["domain_names"] = tuple(args.domain_names)
    return {k: v for k, v in out.items() if v is not None}
