"""Command-line options of the pix2pix family (``ganstudio train pix2pix ...``); no Qt, plain argparse.

Every option defaults to None so only what the user typed overrides the preset / the recipe defaults. Sketch
thresholds are given as ``--sketch low=40,high=120`` (the fields of :class:`engine.sketch.SketchStyle`).
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any, Dict

from ..errors import ConfigError
from ..sketch import STYLES, SketchStyle

# (flag, config field, type, help)
OPTIONS = [
    ("--data", "data", str, "training data: a folder of AB images, of photos (sketch) or folder A (folders)"),
    ("--data-b", "data_b", str, "folder B for --paired-format folders (default: DATA/A and DATA/B)"),
    ("--paired-format", "paired_format", str, "ab (side-by-side, default), folders (matched by file name), "
                                              "sketch (photos + automatic sketches)"),
    ("--direction", "direction", str, "AtoB (default: left/A/sketch is the input) or BtoA"),
    ("--generator", "generator", str, "unet_256 (default), unet_128, resnet_9blocks, resnet_6blocks"),
    ("--discriminator", "discriminator", str, "basic (70x70 PatchGAN, default), n_layers, pixel"),
    ("--n-layers-d", "n_layers_d", int, "layers of the n_layers discriminator (3)"),
    ("--ngf", "ngf", int, "generator width (64)"),
    ("--ndf", "ndf", int, "discriminator width (64)"),
    ("--norm", "norm", str, "batch (default), instance, instance_affine, none"),
    ("--gan-loss", "gan_loss", str, "nonsaturating (default, junyanz 'vanilla'), bce, lsgan, wgan, wgan_gp, hinge"),
    ("--lambda-l1", "lambda_l1", float, "weight of the L1 loss (100)"),
    ("--load-size", "load_size", int, "resize to this before the random crop (0 = size*286/256)"),
    ("--preprocess", "preprocess", str, "resize_and_crop (default), scale_shortside_and_crop, crop, resize"),
    ("--init-type", "init_type", str, "weight init: normal (default), xavier, kaiming, orthogonal"),
    ("--norm-mode", "norm_mode", str, "batch norm at inference, stored in the model: auto (default), eval, train"),
]


def add_cli_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("pix2pix")
    for flag, dest, typ, text in OPTIONS:
        g.add_argument(flag, dest=dest, type=typ, default=None, help=text)
    g.add_argument("--sketch-style", dest="sketch_style", choices=STYLES, default=None,
                   help="edge style of automatic sketches: lineart (default), xdog, canny")
    g.add_argument("--sketch", dest="sketch_params", default=None, metavar="K=V,...",
                   help="sketch thresholds, e.g. low=40,high=120 (canny), eps=0.3 (xdog), offset=6 (lineart), "
                        "thickness=2")
    g.add_argument("--no-flip", dest="flip", action="store_const", const=False, default=None,
                   help="no random horizontal flips")
    g.add_argument("--no-dropout", dest="use_dropout", action="store_const", const=False, default=None,
                   help="no dropout in the generator")


def parse_sketch(style, params) -> Dict[str, Any]:
    """``--sketch-style`` + ``--sketch k=v,...`` -> a SketchStyle dict (validated)."""
    out: Dict[str, Any] = {}
    if style:
        out["style"] = style
    types = {f.name: f.type for f in dataclasses.fields(SketchStyle)}
    for part in filter(None, (params or "").split(",")):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in types or key == "style":
            known = ", ".join(k for k in types if k != "style")
            raise ConfigError(f"--sketch takes KEY=VALUE pairs with keys {known}; got {part!r}.")
        conv = int if types[key] in (int, "int") else float
        try:
            out[key] = conv(value)
        except ValueError:
            raise ConfigError(f"--sketch {key} needs a number, got {value!r}.") from None
    SketchStyle.from_dict(out)
    return out


def config_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    """The pix2pix settings the user gave on the command line."""
    names = [dest for _, dest, _, _ in OPTIONS] + ["flip", "use_dropout"]
    values = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    if getattr(args, "sketch_style", None) or getattr(args, "sketch_params", None):
        values["sketch"] = parse_sketch(args.sketch_style, args.sketch_params)
    return values


def arch_given(args: argparse.Namespace) -> bool:
    return any(getattr(args, n, None) is not None for n in ("generator", "ngf", "norm", "use_dropout"))
