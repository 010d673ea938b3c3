"""Command-line options of the VAE-GAN family (``ganstudio train vaegan --data DIR --out RUN``).

Every option defaults to None so only what the user typed overrides the preset / the recipe defaults.
"""
from __future__ import annotations

import argparse
from typing import Any, Dict

# (flag, config field, type, help)
OPTIONS = [
    ("--data", "data", str, "folder of training images (searched recursively)"),
    ("--z-dim", "z_dim", int, "latent size (128)"),
    ("--width", "width", int, "base width of encoder, decoder and discriminator (64)"),
    ("--gan-loss", "gan_loss", str, "nonsaturating (default), bce, lsgan, hinge, wgan_gp, wgan"),
    ("--gamma", "gamma", float, "feature reconstruction weight against the GAN loss for the decoder (1)"),
    ("--kl-weight", "kl_weight", float, "KL weight (0 = z_dim / number of discriminator features)"),
    ("--pixel-weight", "pixel_weight", float, "optional pixel L1 reconstruction weight (0)"),
    ("--load-size", "load_size", int, "resize to this before the random crop (0 = size*9/8)"),
    ("--preprocess", "preprocess", str, "resize_and_crop (default), scale_shortside_and_crop, crop, resize"),
]


def add_cli_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("VAE-GAN")
    for flag, dest, typ, text in OPTIONS:
        g.add_argument(flag, dest=dest, type=typ, default=None, help=text)
    g.add_argument("--no-flip", dest="flip", action="store_const", const=False, default=None,
                   help="no random horizontal flips")


def config_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """The VAE-GAN settings the user gave on the command line."""
    names = [dest for _, dest, _, _ in OPTIONS] + ["flip"]
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
