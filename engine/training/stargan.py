"""StarGAN (Choi et al. 2018): one generator translating between N domains, trained from N folders.

Defaults follow the official recipe (``yunjey/stargan``): WGAN-GP adversarial loss (gradient penalty 10), domain
classification loss weight 1, reconstruction (cycle) L1 weight 10, 5 discriminator updates per generator update,
Adam 1e-4 (beta1 0.5, beta2 0.999), generator with 6 residual blocks, 64 base channels. One *step* is one generator
update preceded by ``n_critic`` discriminator updates, each on a fresh batch of ``batch_size`` images from **every**
domain (domain labels come from the folders). The generator translates each image to a random *other* domain; the
discriminator learns real/fake and the domain of real images, the generator fools it, makes images the classifier
puts in the target domain, and must bring them back (reconstruction with the original label).

The generator is exported at every checkpoint as ``RUN/models/stargan.safetensors`` (task ``translate_multi``) with
the domain names in its metadata (``meta["domains"]``), so the library lists it and the Translate page can offer a
target-domain picker; see :mod:`engine.models.stargan` for its calling convention.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .. import losses as L
from ..config import check, check_choice, option
from ..library import model_meta
from ..models.networks import init_weights
from ..models import get_model
from ..tensors import to_uint8
from .config import PREPROCESS, TrainConfig
from .core import Trainer, register_family
from .data import make_loader, open_folders, to_model_input
from .grids import grid


# Deliberate copy of shape: the family configs' field lists look alike (a field and its option() each); what they
# share lives in TrainConfig.
@dataclass
class StarGANConfig(TrainConfig):
    family: str = "stargan"
    domains: Tuple[str, ...] = option((), "one folder of images per domain (at least two; searched recursively)",
                                      metavar="DIR")
    domain_names: Tuple[str, ...] = option((), "display names of the domains, in the same order (default: the "
                                           "folder names)", metavar="NAME")
    image_size: int = 128
    batch_size: int = 16  # images per domain per discriminator update
    lr: float = 1e-4
    lr_policy: str = "linear"
    g_conv_dim: int = option(64, "generator base width")
    d_conv_dim: int = option(64, "discriminator base width")
    g_repeat: int = option(6, "residual blocks in the generator")
    d_repeat: int = option(0, "stride-2 layers in the discriminator (0 = down to 2x2 patches)")
    gan_loss: str = "wgan_gp"
    lambda_cls: float = option(1.0, "domain classification loss weight")
    lambda_rec: float = option(10.0, "reconstruction loss weight")
    n_critic: int = option(5, "discriminator updates per generator update")
    load_size: int = option(0, "resize to this before the random crop (0 = size*143/128)")
    preprocess: str = option("resize_and_crop", "preprocessing", choices=PREPROCESS)
    sample_rows: int = 2  # fixed images per domain in the sample grid

    def validate(self) -> None:
        super().validate()
        check(len(self.domains) >= 2, "StarGAN needs at least two domain folders (--domains DIR DIR ...).")
        check(len(self.domains) <= 64, "StarGAN supports at most 64 domains.")
        check(not self.domain_names or len(self.domain_names) == len(self.domains),
              f"Give one name per domain folder ({len(self.domains)} folders, {len(self.domain_names)} names).")
        check(self.image_size % 4 == 0, f"image size must be a multiple of 4 for the StarGAN generator "
                                        f"(got {self.image_size})")
        check(self.d_repeat == 0 or self.image_size % 2 ** self.d_repeat == 0,
              f"image size {self.image_size} must be divisible by 2**d_repeat ({2 ** self.d_repeat})")
        check_choice("preprocess", self.preprocess, PREPROCESS)
        check(1 <= self.n_critic <= 20, "n_critic must be between 1 and 20")
        check(min(self.lambda_cls, self.lambda_rec, self.gp_weight) >= 0, "loss weights must be >= 0")
        check(1 <= self.g_conv_dim <= 1024 and 1 <= self.d_conv_dim <= 1024 and 0 <= self.g_repeat <= 16,
              "widths must be between 1 and 1024 and g_repeat between 0 and 16")
        check(self.load_size == 0 or self.load_size >= self.image_size, "load size must be >= image size (or 0)")

    @property
    def d_layers(self) -> int:
        """Discriminator depth: given, or down to 2x2 patches (at least 1 layer)."""
        if self.d_repeat:
            return self.d_repeat
        n, size = 0, self.image_size
        while size % 2 == 0 and size > 2:
            size //= 2
            n += 1
        return max(1, n)

    @property
    def load(self) -> int:
        return self.load_size or int(math.ceil(self.image_size * 143 / 128))

    def names(self) -> List[str]:
        if self.domain_names:
            return list(self.domain_names)
        names = [Path(d).name or f"domain {i}" for i, d in enumerate(self.domains)]
        if len(set(names)) < len(names):  # e.g. a/train and b/train: use the parent folder too
            names = [f"{Path(d).parent.name}/{Path(d).name}" for d in self.domains]
        return names


# Deliberate copy of shape: every family declares itself alike (attributes, presets, default_steps, make_data; see
# core.Trainer); the duplicates scan lists these declarations, there is nothing in them to share.
@register_family
class StarGANTrainer(Trainer):
    family = "stargan"
    config_cls = StarGANConfig
    face_crop_ok = True
    headline = ("G", "D", "rec")

    @classmethod
    def presets(cls) -> Dict[str, Dict[str, Any]]:
        return {
            "tiny": dict(image_size=32, g_conv_dim=8, d_conv_dim=8, g_repeat=1, batch_size=2, n_critic=1, steps=6,
                         log_every=2, sample_every=3, checkpoint_every=3, sample_rows=1),
            "quick": dict(image_size=64, g_conv_dim=32, d_conv_dim=32, g_repeat=4, batch_size=8, n_critic=5,
                          steps=5000, log_every=25, sample_every=250, checkpoint_every=500),
            "standard": dict(image_size=128, batch_size=16, n_critic=5, steps=200000, log_every=50,
                             sample_every=1000, checkpoint_every=2000),
        }

    def default_steps(self) -> int:
        return 200000

    # --- data --------------------------------------------------------------------------------------------
    def make_data(self) -> None:
        cfg = self.cfg
        names = cfg.names()
        self.folders, self.stream = open_folders(self, dict(zip(names, cfg.domains)))
        self.domain_names = names

    def batches(self):
        """One item per step: ``n_critic`` discriminator batches stacked ({domain: uint8 (n_critic*B)CHW})."""
        return make_loader(self.stream, self.cfg.batch_size * self.cfg.n_critic, self.step,
                           num_workers=self.num_workers, device=self.device)

    # --- networks ----------------------------------------------------------------------------------------
    def gen_kwargs(self) -> Dict[str, Any]:
        c = self.cfg
        return {"n_domains": len(c.domains), "conv_dim": c.g_conv_dim, "repeat_num": c.g_repeat}

    def build(self) -> None:
        c = self.cfg
        self.G = self.maybe_compile(self.add_net("G", init_weights(get_model("stargan_g", **self.gen_kwargs()))))
        d = get_model("stargan_d", image_size=c.image_size, n_domains=len(c.domains), conv_dim=c.d_conv_dim,
                      repeat_num=c.d_layers)
        self.D = self.maybe_compile(self.add_net("D", init_weights(d)))
        self.adam("G", self.G.parameters())
        self.adam("D", self.D.parameters())
        self.gan = L.get_loss(c.gan_loss)
        self.fixed = list(self.fixed_inputs(c.sample_rows).values())
        self.gen = torch.Generator().manual_seed(c.seed + 17)

    # --- one step ----------------------------------------------------------------------------------------
    def _split(self, batch) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        """The stacked batch -> ``n_critic`` (images, domain labels) pairs, all domains mixed."""
        n, b = self.cfg.n_critic, self.cfg.batch_size
        imgs = [to_model_input(batch[name], self.use_channels_last) for name in self.domain_names]
        out = []
        for k in range(n):
            x = torch.cat([im[k * b:(k + 1) * b] for im in imgs])
            y = torch.arange(len(imgs), device=x.device).repeat_interleave(b)
            out.append((x, y))
        return out

    def random_targets(self, y: torch.Tensor) -> torch.Tensor:
        """A random domain different from each source domain."""
        shift = torch.randint(1, len(self.domain_names), y.shape, generator=self.gen).to(y.device)
        return (y + shift) % len(self.domain_names)

    def d_step(self, x: torch.Tensor, y: torch.Tensor) -> Dict[str, torch.Tensor]:
        c, gan = self.cfg, self.gan
        with torch.no_grad(), self.autocast():
            fake = self.G(x, self.random_targets(y))
        with self.autocast():
            src_r, cls_r = self.D(self.aug(x))
            src_f, _ = self.D(self.aug(fake))
            adv = gan.d_loss(src_r, src_f)
            cls = F.cross_entropy(cls_r.float(), y)
            loss = adv + c.lambda_cls * cls
            if gan.needs == "gp":
                loss = loss + L.gradient_penalty(self.D.critic, x, fake.to(x.dtype), c.gp_weight)
        self.optimize(loss, "D")
        if gan.needs == "clip":
            L.clip_weights(self.D, c.clip_value)
        return {"D": loss.detach(), "D_adv": adv.detach(), "D_cls": cls.detach()}

    def g_step(self, x: torch.Tensor, y: torch.Tensor) -> Dict[str, torch.Tensor]:
        c = self.cfg
        trg = self.random_targets(y)
        L.set_requires_grad([self.D], False)
        with self.autocast():
            fake = self.G(x, trg)
            src_f, cls_f = self.D(self.aug(fake))
            adv = self.gan.g_loss(src_f)
            cls = F.cross_entropy(cls_f.float(), trg)
            rec = L.l1(self.G(fake, y), x)
            loss = adv + c.lambda_cls * cls + c.lambda_rec * rec
        self.optimize(loss, "G")
        L.set_requires_grad([self.D], True)
        return {"G": loss.detach(), "G_adv": adv.detach(), "G_cls": cls.detach(), "rec": rec.detach()}

    def train_step(self, batch) -> Dict[str, torch.Tensor]:
        parts = self._split(batch)
        d_losses = [self.d_step(x, y) for x, y in parts]
        out = {k: torch.stack([d[k] for d in d_losses]).mean() for k in d_losses[0]}
        out.update(self.g_step(*parts[-1]))
        return out

    # --- outputs -----------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample_grid(self) -> np.ndarray:
        """Each row: an input image, then the generator's translation into every domain (its own included)."""
        was = self.G.training
        self.G.eval()
        rows = []
        try:
            for imgs in self.fixed:
                outs = [imgs]
                for k in range(len(self.domain_names)):
                    t = torch.full((imgs.shape[0],), k, dtype=torch.long, device=imgs.device)
                    with self.autocast():
                        outs.append(self.G(imgs, t))
                cols = [to_uint8(o) for o in outs]
                rows += [[col[i] for col in cols] for i in range(imgs.shape[0])]
        finally:
            self.G.train(was)
        return grid(rows, group=1 + len(self.domain_names))

    def score(self, losses: Dict[str, float]) -> Optional[float]:
        """Best checkpoint: lowest reconstruction + generator classification loss of the last log window."""
        if "rec" not in losses:
            return None
        return float(losses["rec"] + losses.get("G_cls", 0.0))

    def export_models(self):
        return [("stargan.safetensors", self.G, self.model_meta())]

    def model_meta(self) -> Dict[str, Any]:
        c = self.cfg
        run, slug = self.run_name()
        names = self.domain_names
        return model_meta(id=f"{slug}-stargan", name=f"{run}: StarGAN ({', '.join(names)})", family="stargan",
                          task="translate_multi", arch="stargan_g", arch_kwargs=self.gen_kwargs(),
                          description=f"StarGAN between {len(names)} domains ({', '.join(names)}), {self.step} steps "
                                      f"at {c.image_size} px (run {self.run_folder.root}).",
                          domains=list(names),
                          training={**self.run_record(),
                                    "image_size": c.image_size, "domains": list(c.domains)})
