"""CycleGAN (Zhu et al. 2017): unpaired image-to-image translation between two folders, trained in both directions.

The default config is the published recipe (junyanz pytorch-CycleGAN-and-pix2pix ``train.py`` defaults):
two ``resnet_9blocks`` generators, two 70x70 PatchGANs (``basic``), instance norm, LSGAN, cycle weights 10/10,
identity 0.5, image pool 50, Adam 2e-4 (beta1 0.5), constant then linear decay to zero (100 + 100 epochs = 200
epochs of max(|A|, |B|) images when ``steps`` is 0), N(0, 0.02) init, load 286 / random crop 256 / horizontal flip,
batch 1. Every choice is a field: generator (resnet 9/6 blocks, unet_128/256), discriminator (basic, n_layers,
pixel), any ``engine.losses`` GAN loss (wgan: weight clipping, wgan_gp: gradient penalty), weights, sizes, batch,
DiffAugment (``diffaug="color,translation,cutout"``), LR schedule.

Generators are exported at every checkpoint as ``RUN/models/G_A2B.safetensors`` and ``G_B2A.safetensors`` (task
translate, direction AtoB/BtoA) so the model library lists them and ``ganstudio translate --model RUN`` works.
Fine-tuning: ``init_from`` = a model id/name/file or a run folder; the generators start from it (both directions when
the model has a partner), discriminators start fresh.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import torch

from .. import losses as L
from ..checkpoint import load_checkpoint, load_into
from ..config import check, option
from ..library import ModelLibrary, model_meta
from ..models.networks import init_weights
from ..models import get_model
from ..tensors import to_uint8
from . import finetune as F
from .config import ImageToImageConfig
from .core import Trainer, register_family
from .data import open_unpaired, to_model_input
from .grids import grid
from .pool import ImagePool
from .wrappers import DiscPair, GenPair

@dataclass
class CycleGANConfig(ImageToImageConfig):
    family: str = "cyclegan"
    data_a: str = option("", "folder of domain A images (searched recursively)", flag="a")
    data_b: str = option("", "folder of domain B images (searched recursively)", flag="b")
    lambda_a: float = option(10.0, "cycle loss weight A->B->A")
    lambda_b: float = option(10.0, "cycle loss weight B->A->B")
    lambda_identity: float = option(0.5, "identity loss weight, relative to the cycle weights")
    pool_size: int = option(50, "image pool size (0 = off)")

    def validate(self) -> None:
        super().validate()
        check(min(self.lambda_a, self.lambda_b, self.lambda_identity) >= 0, "loss weights must be >= 0")
        check(self.pool_size >= 0, "pool size must be >= 0")


# Deliberate copy of shape: every family declares itself alike (attributes, presets, default_steps, make_data; see
# core.Trainer); the duplicates scan lists these declarations, there is nothing in them to share.
@register_family
class CycleGANTrainer(Trainer):
    family = "cyclegan"
    config_cls = CycleGANConfig
    face_crop_ok = True
    headline = ("G", "D", "cycle")
    generators = ("G_A", "G_B")
    methods = (("cyclegan", "CycleGAN: both directions (about 2x slower)", {}),)
    page_rank = 10

    @classmethod
    def presets(cls) -> Dict[str, Dict[str, Any]]:
        return {
            "tiny": dict(image_size=64, generator="resnet_6blocks", ngf=8, ndf=8, batch_size=1, steps=12,
                         log_every=2, sample_every=6, checkpoint_every=6, sample_rows=2),
            "quick": dict(image_size=128, generator="resnet_6blocks", batch_size=4, steps=3000, log_every=25,
                          sample_every=250, checkpoint_every=500),
            "standard": dict(image_size=256, generator="resnet_9blocks", batch_size=4, steps=20000, log_every=50,
                             sample_every=500, checkpoint_every=1000),
            "high": dict(image_size=256, generator="resnet_9blocks", batch_size=1, steps=0, log_every=100,
                         sample_every=1000, checkpoint_every=2000),
        }

    @classmethod
    def adopt_init_architecture(cls, cfg: CycleGANConfig, library: Optional[ModelLibrary] = None) -> CycleGANConfig:
        """The config with the generator settings of its ``init_from`` model."""
        if not cfg.init_from:
            return cfg
        a2b, _ = F.resolve_init(cfg.init_from, library)
        arch = F.arch_of(a2b)
        return cfg.replace(generator=arch["generator"], ngf=arch["ngf"], norm=arch["norm"],
                           use_dropout=arch["use_dropout"])

    # --- data --------------------------------------------------------------------------------------------
    def make_data(self) -> None:
        cfg = self.cfg
        if cfg.init_from and not cfg.resume_from:
            self._init = F.resolve_init(cfg.init_from)
            for m in self._init:
                if m is not None:
                    F.check_init_arch(m, cfg)
        self.folders, self.stream = open_unpaired(self)

    def default_steps(self) -> int:
        epoch = max(len(f) for f in self.folders.values())
        return max(1, 200 * epoch // (self.cfg.batch_size * self.dist.world))

    # --- networks ----------------------------------------------------------------------------------------
    def gen_kwargs(self) -> Dict[str, Any]:
        c = self.cfg
        return {"ngf": c.ngf, "norm": c.norm, "use_dropout": c.use_dropout}

    def _gen(self) -> torch.nn.Module:
        return init_weights(get_model(self.cfg.generator, **self.gen_kwargs()), self.cfg.init_type,
                            self.cfg.init_gain)

    def _disc(self) -> torch.nn.Module:
        c = self.cfg
        kw: Dict[str, Any] = {"ndf": c.ndf, "norm": c.norm}
        if c.discriminator == "n_layers":
            kw["n_layers_D"] = c.n_layers_d
        return init_weights(get_model(c.discriminator, **kw), c.init_type, c.init_gain)

    def build(self) -> None:
        c = self.cfg
        self.G_A = self.maybe_compile(self.add_net("G_A", self._gen()))
        self.G_B = self.maybe_compile(self.add_net("G_B", self._gen()))
        self.D_A = self.maybe_compile(self.add_net("D_A", self._disc()))
        self.D_B = self.maybe_compile(self.add_net("D_B", self._disc()))
        concat = c.norm != "batch"
        self.gen = self.wrap(GenPair(self.G_A, self.G_B, c.lambda_identity > 0, concat))
        self.disc = self.wrap(DiscPair(self.D_A, self.D_B, concat))
        self.adam("G", list(self.G_A.parameters()) + list(self.G_B.parameters()))
        self.adam("D", list(self.D_A.parameters()) + list(self.D_B.parameters()))
        self.gan = L.get_loss(c.gan_loss)
        self.pool_A, self.pool_B = ImagePool(c.pool_size), ImagePool(c.pool_size)
        self.fixed = self.fixed_inputs(c.sample_rows)

    def load_init(self) -> None:
        a2b, b2a = getattr(self, "_init", (None, None))
        if a2b is None:
            return
        for net, info, what in ((self.G_A, a2b, "A->B"), (self.G_B, b2a, "B->A")):
            if info is None:
                self.log(f"Fine-tuning: {a2b.name!r} has no B->A partner; the B->A generator starts from random "
                         "weights.")
                continue
            load_into(net, load_checkpoint(info.path).tensors, what=f"{what} generator (init model {info.name!r})")
            self.log(f"Fine-tuning: the {what} generator starts from {info.name!r} ({info.path}).")

    # --- one step ----------------------------------------------------------------------------------------
    def train_step(self, batch) -> Dict[str, torch.Tensor]:
        c = self.cfg
        A = to_model_input(batch["A"], self.use_channels_last)
        B = to_model_input(batch["B"], self.use_channels_last)
        aug, gan = self.aug, self.gan
        with self.autocast():
            fake_B, rec_A, fake_A, rec_B, idt_A, idt_B = self.gen(A, B)
            L.set_requires_grad([self.D_A, self.D_B], False)
            g_A = gan.g_loss(self.D_A(aug(fake_B)))
            g_B = gan.g_loss(self.D_B(aug(fake_A)))
            cyc = L.l1(rec_A, A) * c.lambda_a + L.l1(rec_B, B) * c.lambda_b
            idt = torch.zeros((), device=A.device)
            if idt_A is not None:
                idt = (L.l1(idt_A, B) * c.lambda_b + L.l1(idt_B, A) * c.lambda_a) * c.lambda_identity
            loss_G = g_A + g_B + cyc + idt
        self.optimize(loss_G, "G")
        L.set_requires_grad([self.D_A, self.D_B], True)
        with self.autocast():
            q_B = self.pool_B.query(fake_B.detach())
            q_A = self.pool_A.query(fake_A.detach())
            rb, fb, ra, fa = self.disc(aug(B), aug(q_B), aug(A), aug(q_A))
            d_A = gan.d_loss(rb, fb) * 0.5
            d_B = gan.d_loss(ra, fa) * 0.5
            if gan.needs == "gp":
                d_A = d_A + L.gradient_penalty(self.D_A, B, q_B, c.gp_weight)
                d_B = d_B + L.gradient_penalty(self.D_B, A, q_A, c.gp_weight)
            loss_D = d_A + d_B + self.r1_term(self.D_A, B) + self.r1_term(self.D_B, A)
        self.optimize(loss_D, "D")
        if gan.needs == "clip":
            L.clip_weights(self.D_A, c.clip_value)
            L.clip_weights(self.D_B, c.clip_value)
        return {"G": loss_G.detach(), "G_gan": (g_A + g_B).detach(), "cycle": cyc.detach(), "idt": idt.detach(),
                "D": loss_D.detach(), "D_A": d_A.detach(), "D_B": d_B.detach()}

    # --- outputs -----------------------------------------------------------------------------------------
    def sample_grid(self) -> np.ndarray:
        return cycle_grid(self.out_net("G_A"), self.out_net("G_B"), self.fixed["A"], self.fixed["B"], self.autocast)

    def score(self, losses: Dict[str, float]) -> Optional[float]:
        """Best checkpoint: lowest cycle + identity reconstruction loss of the last log window (GAN losses say
        little about quality; replaced by KID once the evaluation metrics are wired in)."""
        if "cycle" not in losses:
            return None
        return float(losses["cycle"] + losses.get("idt", 0.0))

    def extra_state(self) -> Dict[str, Any]:
        return {"pool_A": self.pool_A.state_dict(), "pool_B": self.pool_B.state_dict()}

    def load_extra_state(self, state: Dict[str, Any]) -> None:
        for name, pool in (("pool_A", self.pool_A), ("pool_B", self.pool_B)):
            if name in state:
                pool.load_state_dict(state[name], self.device)

    def export_models(self):
        return [("G_A2B.safetensors", self.out_net("G_A"), self.model_meta("AtoB")),
                ("G_B2A.safetensors", self.out_net("G_B"), self.model_meta("BtoA"))]

    def model_meta(self, direction: str) -> Dict[str, Any]:
        c = self.cfg
        run, slug = self.run_name()
        a, b = Path(c.data_a).name or "A", Path(c.data_b).name or "B"
        src, dst = (a, b) if direction == "AtoB" else (b, a)
        return model_meta(id=f"{slug}-{'a2b' if direction == 'AtoB' else 'b2a'}", name=f"{run}: {src} → {dst}",
                          family="cyclegan", task="translate", arch=c.generator, arch_kwargs=self.gen_kwargs(),
                          direction=direction,
                          description=f"CycleGAN {src} → {dst}, {self.step} steps at {c.image_size} px "
                                      f"(run {self.run_folder.root}).",
                          training={**self.run_record(),
                                    "image_size": c.image_size, "data_a": c.data_a, "data_b": c.data_b})


@torch.no_grad()
def cycle_grid(G_A: torch.nn.Module, G_B: torch.nn.Module, A: torch.Tensor, B: torch.Tensor, autocast) -> np.ndarray:
    """Each row: A, G_A(A), G_B(G_A(A)) | B, G_B(B), G_A(G_B(B))."""
    was = (G_A.training, G_B.training)
    G_A.eval()
    G_B.eval()
    try:
        with autocast():
            fB = G_A(A)
            rA = G_B(fB)
            fA = G_B(B)
            rB = G_A(fA)
    finally:
        G_A.train(was[0])
        G_B.train(was[1])
    cols = [to_uint8(t) for t in (A, fB, rA, B, fA, rB)]
    n = min(A.shape[0], B.shape[0])
    return grid([[c[i] for c in cols] for i in range(n)])
