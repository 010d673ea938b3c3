"""Command-line options of the CycleGAN family (``ganstudio train cyclegan ...``); no Qt, plain argparse.

Every option defaults to None so only what the user typed overrides the preset / the recipe defaults.
"""
from __future__ import annotations

import argparse
from typing import Any, Dict

# (flag, config field, type, help)
OPTIONS = [
    ("--a", "data_a", str, "folder of domain A images (searched recursively)"),
    ("--b", "data_b", str, "folder of domain B images (searched recursively)"),
    ("--generator", "generator", str, "resnet_9blocks (default), resnet_6blocks, unet_128, unet_256"),
    ("--discriminator", "discriminator", str, "basic (70x70 PatchGAN, default), n_layers, pixel"),
    ("--n-layers-d", "n_layers_d", int, "layers of the n_layers discriminator (3)"),
    ("--ngf", "ngf", int, "generator width (64)"),
    ("--ndf", "ndf", int, "discriminator width (64)"),
    ("--norm", "norm", str, "instance (default), instance_affine, batch, none"),
    ("--gan-loss", "gan_loss", str, "lsgan (default), bce, nonsaturating, wgan, wgan_gp, hinge"),
    ("--lambda-a", "lambda_a", float, "cycle loss weight A->B->A (10)"),
    ("--lambda-b", "lambda_b", float, "cycle loss weight B->A->B (10)"),
    ("--lambda-identity", "lambda_identity", float, "identity loss weight, relative (0.5)"),
    ("--pool-size", "pool_size", int, "image pool size (50; 0 = off)"),
    ("--load-size", "load_size", int, "resize to this before the random crop (0 = size*286/256)"),
    ("--preprocess", "preprocess", str, "resize_and_crop (default), scale_shortside_and_crop, crop, resize"),
    ("--init-type", "init_type", str, "weight init: normal (default), xavier, kaiming, orthogonal"),
]


def add_cli_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("CycleGAN")
    for flag, dest, typ, text in OPTIONS:
        g.add_argument(flag, dest=dest, type=typ, default=None, help=text)
    g.add_argument("--no-flip", dest="flip", action="store_const", const=False, default=None,
                   help="no random horizontal flips")
    g.add_argument("--dropout", dest="use_dropout", action="store_const", const=True, default=None,
                   help="dropout in the generator")


def config_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """The CycleGAN settings the user gave on the command line."""
    names = [dest for _, dest, _, _ in OPTIONS] + ["flip", "use_dropout"]
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def arch_given(args: argparse.Namespace) -> bool:
    return any(getattr(args, n, None) is not None for n in ("generator", "ngf", "norm", "use_dropout"))
