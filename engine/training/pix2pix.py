"""pix2pix (Isola et al. 2017): paired image-to-image translation (sketch -> photo, labels -> facade, map -> aerial).

The default config is the published recipe (junyanz pytorch-CycleGAN-and-pix2pix ``train.py --model pix2pix``):
``unet_256`` generator with skip connections, batch norm and dropout; a conditional 70x70 PatchGAN (``basic``) that
sees input and output together (6 channels); the vanilla GAN loss (``nonsaturating``: BCE, the generator maximises
log D(G(x))) plus L1 with weight 100; Adam 2e-4, beta1 0.5; constant then linear decay to zero (200 epochs of the
pairs when ``steps`` is 0); load 286 / random crop 256 / flip, the same jitter for both images of a pair; batch 1.
Every choice is a field: generator (unet_256, unet_128, resnet_9blocks, resnet_6blocks), discriminator, any
``engine.losses`` GAN loss (bce, lsgan, nonsaturating, wgan with clipping, wgan_gp with a gradient penalty), L1 weight.

Data in three forms (:mod:`._pix2pix_data`): side-by-side AB images, two folders paired by file name, or one folder of
photos with automatic sketches (:mod:`engine.sketch`). The generator is exported at every checkpoint as
``RUN/models/G.safetensors`` (task translate); its metadata says what the input is (sketch / label map / image), the
sketch style and thresholds used in training, the palette of label maps, the training size and which batch-norm mode
to use at inference, so the Draw page draws and makes sketches the way the model was trained.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import torch
import torch.nn as nn

from .. import losses as L
from ..config import check, check_choice, option
from ..errors import CheckpointError, DataError
from ..library import ModelLibrary, model_meta
from ..models import get_model
from ..models.networks import init_weights
from ..sketch import SketchStyle
from ..tensors import to_uint8
from ._pix2pix_data import FORMATS, Geometry, PairedData, detect_palette, open_paired
from .config import ImageToImageConfig, translate_generators
from .core import Trainer, register_family
from .data import FolderStream, to_model_input
from .grids import grid
from .wrappers import CondDisc

@dataclass
class Pix2PixConfig(ImageToImageConfig):
    family: str = "pix2pix"
    data: str = option("", "training data: a folder of AB images, of photos (sketch) or folder A (folders)")
    data_b: str = option("", "folder B for --paired-format folders (default: DATA/A and DATA/B)")
    paired_format: str = option("ab", "ab (side-by-side), folders (matched by file name), sketch (photos + "
                                "automatic sketches)", choices=FORMATS)
    direction: str = option("AtoB", "AtoB: left/A/sketch is the input; BtoA swaps", choices=("AtoB", "BtoA"))
    sketch: SketchStyle = option(help="sketch thresholds, e.g. low=40,high=120 (canny), eps=0.3 (xdog), "
                                 "offset=6 (lineart), thickness=2", default_factory=SketchStyle)
    generator: str = "unet_256"
    norm: str = "batch"
    use_dropout: bool = True
    gan_loss: str = "nonsaturating"  # junyanz "vanilla"
    lambda_l1: float = option(100.0, "weight of the L1 loss")
    norm_mode: str = option("auto", "batch norm at inference, stored in the model: auto (train with batch 1, "
                            "else eval), eval, train", choices=("auto", "eval", "train"))

    def validate(self) -> None:
        super().validate()
        check_choice("paired format", self.paired_format, FORMATS)
        check_choice("direction", self.direction, ("AtoB", "BtoA"))
        check_choice("norm mode", self.norm_mode, ("auto", "eval", "train"))
        check(self.lambda_l1 >= 0, "the L1 weight must be >= 0")
        check(1 <= self.sample_rows <= 16, "sample rows must be between 1 and 16")

    @property
    def inference_norm(self) -> str:
        if self.norm != "batch":
            return "eval"
        if self.norm_mode != "auto":
            return self.norm_mode
        return "train" if self.batch_size == 1 else "eval"


class batchnorm_mode:
    """Context: a generator in eval mode, with batch norm on batch statistics when ``mode == "train"`` (running
    statistics untouched)."""

    def __init__(self, net: nn.Module, mode: str):
        self.net, self.mode = net, mode

    def __enter__(self):
        self.was = self.net.training
        self.net.eval()
        self.bns = [m for m in self.net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        self.momenta = [m.momentum for m in self.bns]
        if self.mode == "train":
            for m in self.bns:
                m.train()
                m.momentum = 0.0
        return self.net

    def __exit__(self, *exc):
        for m, mom in zip(self.bns, self.momenta):
            m.momentum = mom
        self.net.train(self.was)


@register_family
class Pix2PixTrainer(Trainer):
    family = "pix2pix"
    config_cls = Pix2PixConfig
    headline = ("G", "D", "L1")
    generators = ("G",)

    @classmethod
    def adopt_init_architecture(cls, cfg: Pix2PixConfig, library: Optional[ModelLibrary] = None) -> Pix2PixConfig:
        """The config with the generator settings of its ``init_from`` model."""
        if not cfg.init_from:
            return cfg
        info = (library or ModelLibrary()).resolve(cfg.init_from)
        kw = dict(info.meta.get("arch_kwargs") or {})
        if info.arch not in translate_generators():
            raise CheckpointError(f"The init model {info.name!r} uses {info.arch}, which pix2pix cannot train.")
        return cfg.replace(generator=info.arch, ngf=int(kw.get("ngf", 64)), norm=kw.get("norm", "batch"),
                           use_dropout=bool(kw.get("use_dropout", True)))

    @classmethod
    def presets(cls) -> Dict[str, Dict[str, Any]]:
        return {
            "tiny": dict(image_size=128, generator="unet_128", ngf=8, ndf=8, batch_size=1, steps=8, log_every=2,
                         sample_every=4, checkpoint_every=4, sample_rows=2),
            "quick": dict(image_size=128, generator="unet_128", batch_size=4, steps=3000, log_every=25,
                          sample_every=250, checkpoint_every=500),
            "standard": dict(image_size=256, generator="unet_256", batch_size=1, steps=0, log_every=100,
                             sample_every=1000, checkpoint_every=2000),
        }

    # --- data --------------------------------------------------------------------------------------------
    def make_data(self) -> None:
        c = self.cfg
        if not c.data:
            raise DataError("Choose the training data folder (--data DIR).")
        if c.init_from and not c.resume_from:
            self._init = resolve_init(c.init_from, c)
        geo = Geometry(c.preprocess, c.load, c.image_size)
        self.pairs: PairedData = open_paired(
            c.paired_format, c.data, c.data_b, geometry=geo, sketch=c.sketch, swap=c.direction == "BtoA",
            cache_mb=c.cache_mb, progress=lambda d, t, m: self.progress(d, t, m), check_cancel=self.ctx.check_cancel)
        self.log(f"Data: {self.pairs.summary()}; direction {c.direction}.")
        for p, why in self.pairs.skipped[:20]:
            self.log(f"  skipped {p}: {why}")
        for side, files in self.pairs.unmatched.items():
            if files:
                self.log(f"  no partner in the other folder for {len(files)} file(s) of {side}: "
                         + ", ".join(f.name for f in files[:10]) + (" ..." if len(files) > 10 else ""))
        sides = self.pairs.sides()
        self.stream = FolderStream(sides, c.image_size, seed=c.seed, flip=c.flip, paired=True,
                                   rank=self.dist.rank, world=self.dist.world)
        self.palette = None
        if c.paired_format != "sketch" or c.direction == "BtoA":
            sample = [sides["A"].image(i) for i in range(min(32, len(self.pairs)))]
            self.palette = detect_palette(sample)

    def default_steps(self) -> int:
        return max(1, 200 * len(self.pairs) // (self.cfg.batch_size * self.dist.world))

    # --- networks ----------------------------------------------------------------------------------------
    def gen_kwargs(self) -> Dict[str, Any]:
        c = self.cfg
        return {"ngf": c.ngf, "norm": c.norm, "use_dropout": c.use_dropout}

    def build(self) -> None:
        c = self.cfg
        gen = init_weights(get_model(c.generator, **self.gen_kwargs()), c.init_type, c.init_gain)
        dkw: Dict[str, Any] = {"input_nc": 6, "ndf": c.ndf, "norm": c.norm}
        if c.discriminator == "n_layers":
            dkw["n_layers_D"] = c.n_layers_d
        disc = init_weights(get_model(c.discriminator, **dkw), c.init_type, c.init_gain)
        self.G = self.maybe_compile(self.add_net("G", gen))
        self.D = self.maybe_compile(self.add_net("D", disc))
        self.g = self.wrap(self.G)
        self.d = self.wrap(CondDisc(self.D, concat=c.norm != "batch", aug=self.aug))
        self.adam("G", self.G.parameters())
        self.adam("D", self.D.parameters())
        self.gan = L.get_loss(c.gan_loss)
        self.fixed = self.fixed_inputs(c.sample_rows)

    def load_init(self) -> None:
        if getattr(self, "_init", None) is not None:
            self.load_generator(self.G, self._init)

    # --- one step ----------------------------------------------------------------------------------------
    def train_step(self, batch) -> Dict[str, torch.Tensor]:
        c, gan = self.cfg, self.gan
        x = to_model_input(batch["A"], self.use_channels_last)
        y = to_model_input(batch["B"], self.use_channels_last)
        with self.autocast():
            fake = self.g(x)
            real_out, fake_out = self.d(x, y, fake.detach())
            loss_D = gan.d_loss(real_out, fake_out) * 0.5
            if gan.needs == "gp":
                loss_D = loss_D + L.gradient_penalty(self.D, y, fake, c.gp_weight, cond=x)
            loss_D = loss_D + self.r1_term(self.D, torch.cat([x, y], 1))
        self.optimize(loss_D, "D")
        if gan.needs == "clip":
            L.clip_weights(self.D, c.clip_value)
        L.set_requires_grad([self.D], False)
        with self.autocast():
            g_gan = gan.g_loss(self.D(self.aug(torch.cat([x, fake], 1))))
            l1 = L.l1(fake, y)
            loss_G = g_gan + l1 * c.lambda_l1
        self.optimize(loss_G, "G")
        L.set_requires_grad([self.D], True)
        return {"G": loss_G.detach(), "G_gan": g_gan.detach(), "L1": l1.detach(), "D": loss_D.detach(),
                **L.d_means(real_out, fake_out)}

    # --- outputs -----------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample_grid(self) -> np.ndarray:
        """Each row: input, output, target."""
        x, y = self.fixed["A"], self.fixed["B"]
        G = self.out_net("G")
        with batchnorm_mode(G, self.cfg.inference_norm), self.autocast():
            out = torch.cat([G(x[i:i + 1]) for i in range(x.shape[0])])
        cols = [to_uint8(t) for t in (x, out, y)]
        return grid([[col[i] for col in cols] for i in range(x.shape[0])])

    @torch.no_grad()
    def eval_fakes(self, n: int):
        """(real targets, generated) uint8 NHWC for the first ``n`` pairs, centre-cropped."""
        G = self.out_net("G")
        return self.translate_fixed(G, n, batchnorm_mode(G, self.cfg.inference_norm))

    def score(self, losses: Dict[str, float]) -> Optional[float]:
        """Best checkpoint: the lowest L1 to the targets over the last log window."""
        return float(losses["L1"]) if "L1" in losses else None

    def export_models(self):
        return [("G.safetensors", self.out_net("G"), self.model_meta())]

    def model_meta(self) -> Dict[str, Any]:
        c = self.cfg
        run, slug = self.run_name()
        sketch_in = c.paired_format == "sketch" and c.direction == "AtoB"
        src, dst = input_output_names(c)
        extra: Dict[str, Any] = {"input_kind": "sketch" if sketch_in else ("label" if self.palette else "image"),
                                 "image_size": c.image_size, "norm_mode": c.inference_norm}
        if sketch_in:
            extra["sketch"] = c.sketch.to_dict()
        if self.palette:
            extra["palette"] = self.palette
        return model_meta(
            id=slug, name=f"{run}: {src} → {dst}", family="pix2pix", task="translate", arch=c.generator,
            arch_kwargs=self.gen_kwargs(), direction="AtoB",
            description=f"pix2pix {src} → {dst}, {self.step} steps at {c.image_size} px (run {self.run_folder.root}).",
            training={**self.run_record(),
                      "image_size": c.image_size, "batch_size": c.batch_size, "data": c.data, "data_b": c.data_b,
                      "paired_format": c.paired_format, "direction": c.direction, "pairs": len(self.pairs)},
            **extra)


def input_output_names(c: Pix2PixConfig):
    if c.paired_format == "sketch":
        names = (f"sketch ({c.sketch.title.lower()})", "photo")
    elif c.paired_format == "folders":
        names = (Path(c.data).name or "A", Path(c.data_b).name or "B") if c.data_b else ("A", "B")
    else:
        names = ("left half", "right half")
    return names if c.direction == "AtoB" else names[::-1]


def resolve_init(ref: str, c: Pix2PixConfig, lib: Optional[ModelLibrary] = None):
    """The model to fine-tune from; its generator must match the run's architecture."""
    info = (lib or ModelLibrary()).resolve(ref)
    kw = dict(info.meta.get("arch_kwargs") or {})
    got = {"generator": info.arch, "ngf": int(kw.get("ngf", 64)), "norm": kw.get("norm", "batch"),
           "input_nc": int(kw.get("input_nc", 3)), "output_nc": int(kw.get("output_nc", 3))}
    want = {"generator": c.generator, "ngf": c.ngf, "norm": c.norm, "input_nc": 3, "output_nc": 3}
    diff = [k for k in want if got[k] != want[k]]
    if diff:
        raise CheckpointError(f"The init model {info.name!r} does not match this run's generator: "
                              + ", ".join(f"{k} is {got[k]!r} in the model but {want[k]!r} here" for k in diff)
                              + ". Use the model's architecture or pick another model.")
    return info
