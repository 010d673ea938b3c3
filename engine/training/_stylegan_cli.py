"""Command-line options of the StyleGAN family (``ganstudio train stylegan --data DIR --out RUN ...``)."""
from __future__ import annotations

import argparse
from typing import Any, Dict

OPTIONS = [  # (flag, config field, type, help)
    ("--data", "data", str, "folder of training images (searched recursively)"),
    ("--z-dim", "z_dim", int, "latent z size (512)"),
    ("--w-dim", "w_dim", int, "style w size (512)"),
    ("--mapping-layers", "mapping_layers", int, "layers of the mapping network (8)"),
    ("--channel-base", "channel_base", int, "width rule: channels at resolution r = min(base / r, max) (16384)"),
    ("--channel-max", "channel_max", int, "maximum channels per layer (512)"),
    ("--style-mode", "style_mode", str, "modulated (StyleGAN2 demodulation, default) or adain (StyleGAN 1)"),
    ("--gan-loss", "gan_loss", str, "nonsaturating (default), bce, lsgan, wgan_gp, hinge"),
    ("--mixing-prob", "mixing_prob", float, "style-mixing regularisation probability (0.9)"),
    ("--ema-kimg", "ema_kimg", float, "EMA half-life in thousands of images (10)"),
    ("--start-res", "start_res", int, "progressive growing: first resolution (8)"),
    ("--phase-steps", "phase_steps", int, "progressive growing: steps per fade-in and per hold (2000)"),
    ("--psi", "truncation_psi", float, "truncation psi stored in the exported model (0.7)"),
]


def add_cli_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("StyleGAN")
    for flag, dest, typ, text in OPTIONS:
        g.add_argument(flag, dest=dest, type=typ, default=None, help=text)
    g.add_argument("--progressive", dest="progressive", action="store_const", const=True, default=None,
                   help="progressive growing with fade-in (ProGAN / StyleGAN 1)")
    g.add_argument("--no-flip", dest="flip", action="store_const", const=False, default=None,
                   help="no random horizontal flips")


def config_from_args(args: argparse.Namespace) -> Dict[str, Any]:
    names = [dest for _, dest, _, _ in OPTIONS] + ["progressive", "flip"]
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
