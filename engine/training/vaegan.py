"""VAE-GAN (Larsen et al. 2016): an encoder, a decoder that is also the GAN generator, and a discriminator whose
features measure reconstructions ("learned similarity"), trained from one folder of images.

Per step, on a batch x: z ~ q(z|x) (reparameterised), x~ = Dec(z), x_p = Dec(z_p) with z_p ~ N(0, I).

- discriminator: the GAN loss (any ``engine.losses`` loss; BCE by default) with x real and x~, x_p fake;
- encoder: ``kl_weight * KL(q(z|x) || N(0, I)) + L_feat`` (+ optional pixel L1);
- decoder: ``gamma * L_feat + GAN generator loss on x~ and x_p`` (+ optional pixel L1);

where ``L_feat`` is the mean squared difference between the discriminator's last convolutional features of x and x~
(the paper's Gaussian likelihood on Dis_l, normalised per feature). ``kl_weight = 0`` picks the paper's balance for
that normalisation: z_dim / number of features (a sum-of-squares likelihood against a summed KL). The encoder and the
decoder get the gradients of their own losses only, as in the paper.

Exports at every checkpoint: ``RUN/models/decoder.safetensors`` (task ``generate``: ``forward(z)``, ``z_dim``) and
``RUN/models/encoder.safetensors`` (task ``encode``: ``forward(x)`` -> posterior mean), each naming its partner in
``meta["partner"]``, so the Latent page can embed a photo with the encoder and edit it with the decoder.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

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
from .data import open_folders, to_model_input
from .grids import grid

# Deliberate copy of shape: the family configs' field lists look alike (a field and its option() each); what they
# share lives in TrainConfig.
@dataclass
class VAEGANConfig(TrainConfig):
    family: str = "vaegan"
    data: str = option("", "folder of training images (searched recursively)")
    image_size: int = 64
    batch_size: int = 64
    lr: float = 3e-4
    lr_policy: str = "constant"
    z_dim: int = option(128, "latent size")
    width: int = option(64, "base width of encoder, decoder and discriminator")
    gan_loss: str = "nonsaturating"
    gamma: float = option(1.0, "feature reconstruction weight against the GAN loss for the decoder")
    kl_weight: float = option(0.0, "KL weight (0 = z_dim / number of discriminator features)")
    pixel_weight: float = option(0.0, "optional pixel L1 reconstruction weight (0 = the paper: features only)")
    load_size: int = option(0, "resize to this before the random crop (0 = size*9/8)")
    preprocess: str = option("resize_and_crop", "preprocessing", choices=PREPROCESS)
    sample_rows: int = 8

    def validate(self) -> None:
        super().validate()
        check(bool(self.data), "Choose a folder of training images for the VAE-GAN (--data DIR).")
        n = math.log2(self.image_size) if self.image_size > 0 else 0
        check(self.image_size >= 16 and n == int(n), f"VAE-GAN image size must be a power of two of at least 16 px "
                                                     f"(16, 32, 64, 128, ...); got {self.image_size}.")
        check(self.batch_size >= 2, "VAE-GAN needs a batch size of at least 2 (batch norm).")
        check_choice("preprocess", self.preprocess, PREPROCESS)
        check(1 <= self.z_dim <= 4096 and 4 <= self.width <= 1024, "z_dim must be 1..4096 and width 4..1024")
        check(min(self.gamma, self.kl_weight, self.pixel_weight, self.gp_weight) >= 0, "loss weights must be >= 0")
        check(self.load_size == 0 or self.load_size >= self.image_size, "load size must be >= image size (or 0)")
        check(1 <= self.sample_rows <= 32, "sample_rows must be between 1 and 32")

    @property
    def load(self) -> int:
        return self.load_size or self.image_size * 9 // 8


# Deliberate copy of shape: every family declares itself alike (attributes, presets, default_steps, make_data; see
# core.Trainer); the duplicates scan lists these declarations, there is nothing in them to share.
@register_family
class VAEGANTrainer(Trainer):
    family = "vaegan"
    config_cls = VAEGANConfig
    face_crop_ok = True
    headline = ("rec_l1", "KL", "D")

    @classmethod
    def presets(cls) -> Dict[str, Dict[str, Any]]:
        return {
            "tiny": dict(image_size=32, z_dim=16, width=8, batch_size=4, steps=6, log_every=2, sample_every=3,
                         checkpoint_every=3, sample_rows=2),
            "quick": dict(image_size=64, z_dim=128, width=32, batch_size=32, steps=5000, log_every=25,
                          sample_every=250, checkpoint_every=500),
            "standard": dict(image_size=64, z_dim=128, width=64, batch_size=64, steps=50000, log_every=50,
                             sample_every=1000, checkpoint_every=2000),
        }

    def default_steps(self) -> int:
        return max(1000, 100 * len(self.folder) // self.cfg.batch_size)

    # --- data --------------------------------------------------------------------------------------------
    def make_data(self) -> None:
        cfg = self.cfg
        folders, self.stream = open_folders(self, {"images": cfg.data})
        self.folder = folders["images"]

    # --- networks ----------------------------------------------------------------------------------------
    def arch_kwargs(self) -> Dict[str, Any]:
        c = self.cfg
        return {"image_size": c.image_size, "z_dim": c.z_dim, "width": c.width}

    def build(self) -> None:
        c = self.cfg
        self.E = self.add_net("E", init_weights(get_model("vaegan_encoder", **self.arch_kwargs())))
        self.G = self.add_net("G", init_weights(get_model("vaegan_decoder", **self.arch_kwargs())))
        self.D = self.add_net("D", init_weights(get_model("vaegan_d", image_size=c.image_size, width=c.width)))
        self.adam("E", self.E.parameters())
        self.adam("G", self.G.parameters())
        self.adam("D", self.D.parameters())
        self.gan = L.get_loss(c.gan_loss)
        n_feat = self.D(torch.zeros(2, 3, c.image_size, c.image_size, device=self.device))[1].shape[1]
        self.kl_weight = c.kl_weight or c.z_dim / n_feat
        self.fixed = to_model_input(self.stream.fixed(c.sample_rows)["images"].to(self.device),
                                    self.use_channels_last)
        self.fixed_z = torch.randn(c.sample_rows, c.z_dim, generator=torch.Generator().manual_seed(c.seed + 5))
        self.fixed_z = self.fixed_z.to(self.device)

    # --- one step ----------------------------------------------------------------------------------------
    def train_step(self, batch) -> Dict[str, torch.Tensor]:
        c, gan = self.cfg, self.gan
        x = to_model_input(batch["images"], self.use_channels_last)
        n = x.shape[0]
        with self.autocast():
            mu, logvar = self.E.distribution(x)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            rec = self.G(z)
            prior = self.G(torch.randn_like(mu))
        # discriminator: x real; reconstructions and prior samples fake
        with self.autocast():
            logits, _ = self.D(torch.cat([x, rec.detach(), prior.detach()]))
            d_loss = gan.d_loss(logits[:n], logits[n:])
            if gan.needs == "gp":
                d_loss = d_loss + L.gradient_penalty(lambda v: self.D(v)[0], x, rec.detach(), c.gp_weight)
        self.optimize(d_loss, "D")
        if gan.needs == "clip":
            L.clip_weights(self.D, c.clip_value)
        # encoder and decoder, each with its own loss
        L.set_requires_grad([self.D], False)
        with self.autocast():
            logits, feats = self.D(torch.cat([x, rec, prior]))
            feat = F.mse_loss(feats[n:2 * n].float(), feats[:n].detach().float())
            kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).float().sum(1)).mean()
            pix = L.l1(rec, x)
            adv = gan.g_loss(logits[n:])
            enc_loss = self.kl_weight * kl + feat + c.pixel_weight * pix
            dec_loss = c.gamma * (feat + c.pixel_weight * pix) + adv
        self._step_separately([(enc_loss, "E", self.E), (dec_loss, "G", self.G)])
        L.set_requires_grad([self.D], True)
        return {"D": d_loss.detach(), "G_adv": adv.detach(), "feat": feat.detach(), "KL": kl.detach(),
                "rec_l1": pix.detach()}

    def _step_separately(self, parts) -> None:
        """Each loss updates only its own network (the encoder's loss must not train the decoder, and back)."""
        grads = []
        for i, (loss, _, net) in enumerate(parts):
            scaled = self.scaler.scale(loss) if self.scaler is not None else loss
            params = [p for p in net.parameters() if p.requires_grad]
            grads.append((params, torch.autograd.grad(scaled, params, retain_graph=i < len(parts) - 1,
                                                      allow_unused=True)))
        for (loss, name, _), (params, gs) in zip(parts, grads):
            opt = self.opts[name]
            opt.zero_grad(set_to_none=True)
            for p, g in zip(params, gs):
                p.grad = g
            self.guard.step(opt, loss, self.scaler)  # a non-finite loss or gradient skips the update

    # --- outputs -----------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample_grid(self) -> np.ndarray:
        """Row 1: real images; row 2: their reconstructions; row 3: samples from the prior (fixed z)."""
        nets = (self.E, self.G)
        was = [m.training for m in nets]
        for m in nets:
            m.eval()
        try:
            with self.autocast():
                rec = self.G(self.E(self.fixed))
                samples = self.G(self.fixed_z)
        finally:
            for m, w in zip(nets, was):
                m.train(w)
        rows = [list(to_uint8(t)) for t in (self.fixed, rec, samples)]
        return grid(rows, group=len(rows[0]) + 1)

    def score(self, losses: Dict[str, float]) -> Optional[float]:
        """Best checkpoint: lowest pixel reconstruction error (feature and GAN losses drift with D)."""
        return float(losses["rec_l1"]) if "rec_l1" in losses else None

    def export_models(self) -> List:
        ids = self.model_ids()
        return [("decoder.safetensors", self.G, self._meta("decoder", ids)),
                ("encoder.safetensors", self.E, self._meta("encoder", ids))]

    def model_ids(self) -> Dict[str, str]:
        slug = self.run_name()[1]
        return {"decoder": f"{slug}-vaegan-decoder", "encoder": f"{slug}-vaegan-encoder"}

    def _meta(self, part: str, ids: Dict[str, str]) -> Dict[str, Any]:
        c = self.cfg
        run = self.run_name()[0]
        other = "encoder" if part == "decoder" else "decoder"
        what = ("generator: latent code -> image" if part == "decoder" else "encoder: image -> latent code")
        return model_meta(id=ids[part], name=f"{run}: VAE-GAN {part}", family="vaegan",
                          task="generate" if part == "decoder" else "encode",
                          arch=f"vaegan_{part}", arch_kwargs=self.arch_kwargs(),
                          description=f"VAE-GAN {what}, z {c.z_dim}, {c.image_size} px, {self.step} steps "
                                      f"(run {self.run_folder.root}).",
                          partner={"role": other, "id": ids[other], "file": f"{other}.safetensors"},
                          training={**self.run_record(),
                                    "image_size": c.image_size, "data": c.data})
