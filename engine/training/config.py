"""The settings every training family shares (:class:`TrainConfig`), with their command-line options.

A family's config subclasses it and adds its own fields with :func:`engine.config.option` metadata (help text,
choices read from the registries); ``ganstudio train <family>`` makes its options from that metadata. A family changes
a shared default by re-declaring the field with a plain default (``gan_loss: str = "wgan_gp"``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from .. import losses as _losses  # noqa: F401  (registers the GAN losses in LOSSES)
from .. import models as _models  # noqa: F401  (registers the networks in MODELS)
from ..config import Config, check, check_choice, option
from ..registry import LOSSES, MODELS
from .augment import parse_policy
from .data import PREPROCESS  # noqa: F401  (one list of preprocessing modes, for the family configs)
from .schedule import POLICIES

INIT_TYPES = ("normal", "xavier", "kaiming", "orthogonal")
NORMS = ("instance", "instance_affine", "batch", "none")


def translate_generators() -> Tuple[str, ...]:
    """Image-to-image generators to train (registered with ``role="generator", task="translate"``); compressed
    students (``compressed=True``) are made by the distill family instead."""
    return tuple(n for n in MODELS.names(role="generator", task="translate") if not MODELS.meta(n).get("compressed"))


def patch_discriminators() -> Tuple[str, ...]:
    """Image discriminators for image-to-image families (``role="discriminator", task="translate"``)."""
    return tuple(MODELS.names(role="discriminator", task="translate"))


def generator_multiple(name: str) -> int:
    """The factor the image size must be a multiple of for generator ``name`` (its registry ``size_multiple``)."""
    return int(MODELS.meta(name).get("size_multiple", 1))


MAX_STEPS = 100_000_000  # a run this long would take years; larger numbers are typos


@dataclass
class TrainConfig(Config):
    family: str = ""
    out_dir: str = ""  # the run folder
    resume_from: str = ""  # a run folder to continue (then out_dir is the same folder)
    name: str = option("", "display name of the run and its models")
    preset: str = ""
    steps: int = option(0, "total optimisation steps of the run (0 = the family's default length)")
    batch_size: int = option(1, "batch size (per process)", flag="batch")
    image_size: int = option(256, "training image size in px", flag="size")
    lr: float = option(2e-4, "learning rate")
    beta1: float = 0.5
    beta2: float = 0.999
    lr_policy: str = option("linear", "linear (constant, then linear decay), constant, cosine, step",
                            choices=POLICIES)
    decay_start: float = 0.5  # fraction of the run before the decay starts
    warmup_steps: int = 0
    seed: int = option(0, "random seed")
    device: str = option("auto", "auto, cpu, cuda, cuda:1, mps")
    amp: bool = option(True, "bf16 autocast on GPUs (fp16 where bf16 is missing); off trains in fp32")
    channels_last: bool = True  # on GPUs
    compile: bool = option(False, "torch.compile the networks (first steps are slow while it compiles)")
    num_workers: int = option(-1, "data prefetch threads (-1 = auto: 0 on CPU, 4 on GPU)")
    cache_mb: int = 4096  # decoded-image cache per run
    log_every: int = option(50, "log losses every N steps")
    sample_every: int = option(500, "write a sample grid every N steps (0 = off)")
    checkpoint_every: int = option(1000, "write a checkpoint every N steps")
    eval_every: int = 0  # 0 = off
    init_from: str = ""  # model to fine-tune from ("" = random init)
    face_crop: bool = option(False, "detect, align (eyes level) and crop the faces of the first folder (the photos) "
                             "before training; stops with the counts if most of its images have no face")
    face_margin: float = option(0.2, "face crop margin, a fraction of the face size added on each side")
    # data-efficiency switches, shared by every family (recorded in the run's config and in the model card)
    diffaug: str = option("", "DiffAugment policy on everything D sees, e.g. color,translation,cutout ('' = off)")
    ema_decay: float = option(0.0, "EMA of the generator weights, e.g. 0.999; the EMA copy is saved (0 = off)",
                              flag="ema")
    r1_gamma: float = option(0.0, "lazy R1 penalty weight on D's real inputs (0 = off)")
    r1_every: int = option(16, "apply R1 every N steps")
    # --- shared by the GAN families -----------------------------------------------------------------------
    gan_loss: str = option("lsgan", "GAN loss", choices=LOSSES.names)
    gp_weight: float = option(10.0, "gradient penalty weight for wgan_gp")
    clip_value: float = 0.01  # wgan weight clipping
    flip: bool = option(True, "random horizontal flips")
    sample_rows: int = 4  # rows of the sample grid

    def validate(self) -> None:
        check(0 <= self.steps <= MAX_STEPS, f"steps must be 0 (the default length) or up to {MAX_STEPS:,}")
        check(0 <= self.seed < 2**32, "seed must be between 0 and 4294967295")
        check(-1 <= self.num_workers <= 64, "num_workers must be -1 (auto) or between 0 and 64")
        check(1 <= self.batch_size <= 4096, "batch size must be between 1 and 4096")
        check(16 <= self.image_size <= 4096, "image size must be between 16 and 4096 px")
        check(self.lr > 0, "learning rate must be positive")
        check(0 <= self.beta1 < 1 and 0 <= self.beta2 < 1, "Adam betas must be in [0, 1)")
        check_choice("lr policy", self.lr_policy, POLICIES)
        check(0.0 <= self.decay_start <= 1.0, "decay start must be a fraction between 0 and 1")
        check(self.log_every >= 1, "log_every must be at least 1")
        check(self.sample_every >= 0 and self.checkpoint_every >= 0 and self.eval_every >= 0,
              "sample/checkpoint/eval intervals must be 0 (off) or positive")
        check(self.cache_mb >= 0, "cache_mb must be >= 0")
        check(0.0 <= self.face_margin <= 1.0, "face margin must be between 0 and 1 (a fraction of the face size)")
        check(0.0 <= self.ema_decay < 1.0, f"EMA decay must be in [0, 1) (0 = off); got {self.ema_decay}")
        check(self.r1_every >= 1, "r1_every must be at least 1")
        parse_policy(self.diffaug)
        check_choice("gan loss", self.gan_loss, self.gan_losses())
        check(self.gp_weight >= 0, "the gradient penalty weight must be >= 0")

    @classmethod
    def gan_losses(cls) -> Tuple[str, ...]:
        """The GAN losses this family supports (default: every registered one); the Train page offers these."""
        return tuple(LOSSES.names())


@dataclass
class ImageToImageConfig(TrainConfig):
    """Shared by the image-to-image families (CycleGAN, pix2pix): junyanz generators and PatchGAN discriminators."""

    generator: str = option("resnet_9blocks", "generator network", choices=translate_generators, arch=True)
    discriminator: str = option("basic", "discriminator (basic: 70x70 PatchGAN)", choices=patch_discriminators)
    n_layers_d: int = option(3, "layers of the n_layers discriminator")
    ngf: int = option(64, "generator width", arch=True)
    ndf: int = option(64, "discriminator width")
    norm: str = option("instance", "normalisation layers", choices=NORMS, arch=True)
    use_dropout: bool = option(False, "dropout in the generator", flag="dropout", arch=True)
    init_type: str = option("normal", "weight init", choices=INIT_TYPES)
    init_gain: float = 0.02
    load_size: int = option(0, "resize to this before the random crop (0 = size*286/256)")
    preprocess: str = option("resize_and_crop", "preprocessing", choices=PREPROCESS)

    def validate(self) -> None:
        super().validate()
        check_choice("generator", self.generator, translate_generators())
        check_choice("discriminator", self.discriminator, patch_discriminators())
        check_choice("norm", self.norm, NORMS)
        check_choice("preprocess", self.preprocess, PREPROCESS)
        check_choice("init type", self.init_type, INIT_TYPES)
        m = generator_multiple(self.generator)
        smaller = [g for g in translate_generators() if self.image_size % generator_multiple(g) == 0
                   and g.split("_")[0] == self.generator.split("_")[0]]
        check(self.image_size % m == 0, f"image size must be a multiple of {m} for {self.generator} "
                                        f"(got {self.image_size})" + (f"; use {smaller[0]} for {self.image_size} px"
                                                                      if smaller else ""))
        check(1 <= self.ngf <= 1024 and 1 <= self.ndf <= 1024, "ngf and ndf must be between 1 and 1024")
        check(1 <= self.n_layers_d <= 8, "n_layers_d must be between 1 and 8")
        check(self.load_size == 0 or self.load_size >= self.image_size, "load size must be >= image size (or 0)")

    @property
    def load(self) -> int:
        return self.load_size or self.image_size * 286 // 256
