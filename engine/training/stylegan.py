"""StyleGAN: an unconditional StyleGAN-style generator trained on one folder of images (faces, portraits, ...).

The recipe follows StyleGAN2(-ADA): non-saturating logistic loss with lazy R1 on real images (every ``r1_every`` D
steps, scaled by the interval), any other ``engine.losses`` loss selectable (wgan_gp adds the gradient penalty),
style-mixing regularisation (two z for one image with probability ``mixing_prob``), optionally a slower
generator (``g_lr`` below ``lr``: two time-scale updates, Heusel et al. 2017), DiffAugment on real and fake
images for the discriminator so a few hundred images are enough, minibatch standard deviation in the residual
discriminator, equalized learning rate, Adam (0, 0.99), and an exponential moving average of the generator
(``G_ema``, half-life ``ema_kimg`` thousand images, ramped up at the start) which is what gets exported.
With ``progressive=True`` training starts at ``start_res`` and fades in each next resolution over ``phase_steps``
steps, then stabilises for ``phase_steps`` (ProGAN / StyleGAN 1).

The EMA generator is exported at every checkpoint as ``RUN/models/G_ema.safetensors`` (task ``generate``), so the
model library and the Latent page list it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .. import losses as L
from ..config import check, check_choice, option
from ..library import model_meta
from ..models import get_model
from ..tensors import to_uint8
from .config import TrainConfig
from .core import Trainer, register_family
from .ema import ema_update, make_ema
from .data import open_folders, to_model_input

# Deliberate copy of shape: the family configs' field lists look alike (a field and its option() each); what they
# share lives in TrainConfig.
@dataclass
class StyleGANConfig(TrainConfig):
    family: str = "stylegan"
    data: str = option("", "folder of training images (searched recursively)")
    image_size: int = 64
    batch_size: int = 16
    lr: float = 0.002
    beta1: float = 0.0
    beta2: float = 0.99
    lr_policy: str = "constant"
    z_dim: int = option(512, "latent z size")
    w_dim: int = option(512, "style w size")
    mapping_layers: int = option(8, "layers of the mapping network")
    channel_base: int = option(16384, "width rule: channels at resolution r = min(base / r, max)")
    channel_max: int = option(512, "maximum channels per layer")
    d_channel_base: int = 0  # 0 = the generator's
    d_channel_max: int = 0
    style_mode: str = option("modulated", "modulated (StyleGAN2 demodulation) or adain (StyleGAN 1)",
                             choices=("modulated", "adain"))
    gan_loss: str = "nonsaturating"
    r1_gamma: float = option(-1.0, "R1 weight (-1 = 0.0002 * size^2 / batch)")
    mixing_prob: float = option(0.9, "style-mixing regularisation probability")
    mbstd_group: int = 4
    ema_kimg: float = option(10.0, "EMA half-life in thousands of images")
    ema_rampup: float = 0.05
    diffaug: str = "color,translation,cutout"
    progressive: bool = option(False, "progressive growing with fade-in (ProGAN / StyleGAN 1)")
    start_res: int = option(8, "progressive growing: first resolution")
    phase_steps: int = option(2000, "progressive growing: steps per fade-in and per hold")
    truncation_psi: float = option(0.7, "truncation psi stored in the exported model", flag="psi")
    g_lr: float = option(0.0, "generator learning rate (0 = lr). Below lr is TTUR: D learns faster than G, which on "
                              "a small batch keeps G from chasing D onto one face", flag="g-lr")

    @classmethod
    def gan_losses(cls):
        return tuple(n for n in super().gan_losses() if n != "wgan")  # no weight clipping in this trainer

    def validate(self) -> None:
        super().validate()
        check(self.image_size in (64, 128, 256), f"StyleGAN image size must be 64, 128 or 256; got {self.image_size}.")
        check_choice("style mode", self.style_mode, ("modulated", "adain"))
        check(self.z_dim >= 1 and self.w_dim >= 1, "z_dim and w_dim must be positive")
        check(1 <= self.mapping_layers <= 16, "mapping_layers must be between 1 and 16")
        check(self.channel_base >= 16 and self.channel_max >= 4, "channel_base/channel_max are too small")
        check(self.r1_every >= 1, "r1_every must be at least 1")
        check(0.0 <= self.mixing_prob <= 1.0, "mixing_prob must be between 0 and 1")
        check(self.ema_kimg >= 0, "ema_kimg must be >= 0")
        check(self.ema_decay == 0, "StyleGAN always keeps an EMA generator; set its half-life with ema_kimg "
                                   "instead of ema_decay")
        check(self.start_res in (4, 8, 16, 32, 64, 128) and self.start_res < self.image_size,
              "start_res must be a power of two below the image size")
        check(self.phase_steps >= 1, "phase_steps must be at least 1")
        check(self.g_lr >= 0, f"g_lr must be 0 (= lr) or a positive learning rate; got {self.g_lr}")

    @property
    def gamma(self) -> float:
        return self.r1_gamma if self.r1_gamma >= 0 else 0.0002 * self.image_size ** 2 / self.batch_size


class _GenForward(torch.nn.Module):
    """The generator's training forward (mapping + style mixing + synthesis), so DDP can wrap it."""

    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, z: torch.Tensor, z2: torch.Tensor, mixing_prob: float) -> torch.Tensor:
        G = self.G
        ws = G.mapping(z, update_w_avg=True)
        if mixing_prob > 0 and G.num_ws > 1:
            cut = torch.randint(1, G.num_ws, (), device=z.device)
            cut = torch.where(torch.rand((), device=z.device) < mixing_prob, cut, torch.full_like(cut, G.num_ws))
            ws2 = G.mapping(z2)
            layer = torch.arange(G.num_ws, device=z.device)[None, :, None]
            ws = torch.where(layer < cut, ws, ws2)
        return G.synthesis(ws, noise_mode="random")


# Deliberate copy of shape: every family declares itself alike (attributes, presets, default_steps, make_data; see
# core.Trainer); the duplicates scan lists these declarations, there is nothing in them to share.
@register_family
class StyleGANTrainer(Trainer):
    family = "stylegan"
    config_cls = StyleGANConfig
    face_crop_ok = True
    headline = ("G", "D", "r1")

    @classmethod
    def presets(cls) -> Dict[str, Dict[str, Any]]:
        return {
            "tiny": dict(image_size=64, z_dim=32, w_dim=32, mapping_layers=2, channel_base=512, channel_max=32,
                         batch_size=4, steps=4, r1_every=2, log_every=2, sample_every=2, checkpoint_every=2,
                         sample_rows=2, diffaug="color,translation,cutout"),
            "cpu": dict(image_size=64, z_dim=128, w_dim=128, channel_base=2048, channel_max=64, batch_size=8,
                        steps=20000, log_every=50, sample_every=500, checkpoint_every=250, r1_every=8,
                        ema_kimg=2.0),
            "quick": dict(image_size=64, z_dim=256, w_dim=256, channel_base=4096, channel_max=256, batch_size=16,
                          steps=20000, log_every=100, sample_every=1000, checkpoint_every=1000),
            "standard": dict(image_size=256, batch_size=16, steps=100000, log_every=100, sample_every=2000,
                             checkpoint_every=2000),
        }

    def default_steps(self) -> int:
        return 50000

    # --- data --------------------------------------------------------------------------------------------
    def make_data(self) -> None:
        cfg = self.cfg
        folders, self.stream = open_folders(self, {"images": cfg.data}, preprocess="scale_shortside_and_crop",
                                            load_size=cfg.image_size)
        self.folder = folders["images"]

    # --- networks ----------------------------------------------------------------------------------------
    def gen_kwargs(self) -> Dict[str, Any]:
        c = self.cfg
        return dict(z_dim=c.z_dim, w_dim=c.w_dim, resolution=c.image_size, channel_base=c.channel_base,
                    channel_max=c.channel_max, mapping_layers=c.mapping_layers, style_mode=c.style_mode,
                    truncation_psi=c.truncation_psi)

    def build(self) -> None:
        c = self.cfg
        self.G = self.add_net("G", get_model("stylegan_g", **self.gen_kwargs()))
        self.D = self.add_net("D", get_model("stylegan_d", resolution=c.image_size,
                                             channel_base=c.d_channel_base or c.channel_base,
                                             channel_max=c.d_channel_max or c.channel_max,
                                             mbstd_group=c.mbstd_group, progressive=c.progressive))
        self.G_ema = self.add_net("G_ema", make_ema(self.G))
        self.gen = self.wrap(_GenForward(self.maybe_compile(self.G)))
        self.disc = self.wrap(self.maybe_compile(self.D))
        r1_ratio = c.r1_every / (c.r1_every + 1)  # lazy regularisation: compensate Adam for the skipped steps
        self.adam("G", self.G.parameters(), lr=c.g_lr or None)
        self.adam("D", self.D.parameters(), lr=c.lr * r1_ratio, betas=(c.beta1 ** r1_ratio, c.beta2 ** r1_ratio))
        self.loss = L.get_loss(c.gan_loss)
        g = torch.Generator().manual_seed(c.seed + 12345)
        self.fixed_z = torch.randn(c.sample_rows * 8, c.z_dim, generator=g).to(self.device)
        self._set_stage()

    # --- progressive growing -----------------------------------------------------------------------------
    def stage_at(self, step: int) -> Tuple[int, float]:
        """(resolution, fade-in alpha) at ``step``: each new resolution fades in over phase_steps, then holds."""
        c = self.cfg
        if not c.progressive:
            return c.image_size, 1.0
        n_grow = int(math.log2(c.image_size // c.start_res))
        phase, within = divmod(step, c.phase_steps)
        if phase == 0:
            return c.start_res, 1.0
        k = (phase + 1) // 2  # resolutions added so far (odd phases fade, even phases hold)
        if k > n_grow:
            return c.image_size, 1.0
        alpha = within / c.phase_steps if phase % 2 == 1 else 1.0
        return c.start_res * 2 ** k, alpha

    def _set_stage(self) -> Tuple[int, float]:
        res, alpha = self.stage_at(self.step)
        for g in (self.G, self.G_ema):
            g.set_stage(res, alpha)
        self.D.alpha = alpha
        return res, alpha

    # --- one step ----------------------------------------------------------------------------------------
    def train_step(self, batch) -> Dict[str, torch.Tensor]:
        c = self.cfg
        res, _ = self._set_stage()
        real = to_model_input(batch["images"], self.use_channels_last)
        if res < real.shape[-1]:
            real = F.interpolate(real, size=(res, res), mode="area")
        n = real.shape[0]
        z, z2 = torch.randn(2, n, c.z_dim, device=self.device)
        L.set_requires_grad([self.D], False)
        with self.autocast():
            fake = self.gen(z, z2, c.mixing_prob)
            loss_G = self.loss.g_loss(self.disc(self.aug(fake)))
        self.optimize(loss_G, "G")
        L.set_requires_grad([self.D], True)
        with self.autocast():
            out_real, out_fake = self.disc(self.aug(real)), self.disc(self.aug(fake.detach()))
            loss_D = self.loss.d_loss(out_real, out_fake)
            if c.gan_loss == "wgan_gp":
                loss_D = loss_D + L.gradient_penalty(self.disc, self.aug(real), self.aug(fake.detach()),
                                                     c.gp_weight)
        r1 = torch.zeros((), device=self.device)
        if c.gan_loss != "wgan_gp" and c.gamma > 0 and self.step % c.r1_every == 0:
            real_in = self.aug(real).detach().requires_grad_(True)
            r1 = L.r1_penalty(self.disc(real_in), real_in, c.gamma)
            loss_D = loss_D + r1 * c.r1_every
        self.optimize(loss_D, "D")
        ema_update(self.G_ema, self.G, self.ema_beta(n))
        return {"G": loss_G.detach(), "D": loss_D.detach(), "r1": r1.detach(), **L.d_means(out_real, out_fake)}

    def ema_beta(self, batch: int) -> float:
        c = self.cfg
        imgs = c.ema_kimg * 1000
        if c.ema_rampup > 0:
            imgs = min(imgs, (self.step + 1) * batch * self.dist.world * c.ema_rampup)
        return 0.5 ** (batch * self.dist.world / max(imgs, 1e-8))

    # --- outputs -----------------------------------------------------------------------------------------
    @torch.no_grad()
    def _render(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        with self.autocast():
            img = self.G_ema.synthesis(self.G_ema.mapping(z, psi=psi), noise_mode="const")
        if img.shape[-1] < self.cfg.image_size:
            img = F.interpolate(img.float(), size=(self.cfg.image_size,) * 2, mode="nearest")
        return img.float().clamp(-1, 1)

    def sample_grid(self) -> np.ndarray:
        """Rows of 8 fixed seeds from the EMA generator; the last row with truncation psi 0.7."""
        z = self.fixed_z
        imgs = to_uint8(torch.cat([self._render(z[:-8]), self._render(z[-8:], 0.7)]))  # N, H, W, C
        rows = imgs.reshape(-1, 8, *imgs.shape[1:]).transpose(0, 2, 1, 3, 4)  # R, H, 8, W, C
        return np.ascontiguousarray(rows.reshape(rows.shape[0] * rows.shape[1], -1, 3))

    def eval_fakes(self, n: int):
        real = self.stream.fixed(min(n, len(self.folder)))["images"].permute(0, 2, 3, 1).numpy()
        g = torch.Generator().manual_seed(777)
        z = torch.randn(n, self.cfg.z_dim, generator=g).to(self.device)
        fake = torch.cat([self._render(z[i:i + 32]) for i in range(0, n, 32)])
        return real, to_uint8(fake)

    def export_models(self):
        c = self.cfg
        run, slug = self.run_name()
        res, alpha = self.stage_at(self.step)
        meta = model_meta(id=f"{slug}-stylegan", name=f"{run}: StyleGAN", family="stylegan", task="generate",
                          arch="stylegan_g", arch_kwargs=self.gen_kwargs(),
                          description=f"StyleGAN-style generator (EMA), {self.step} steps at {c.image_size} px "
                                      f"on {c.data} (run {self.run_folder.root}).",
                          training={**self.run_record(),
                                    "image_size": c.image_size, "data": c.data, "stage": [res, alpha]})
        return [("G_ema.safetensors", self.G_ema, meta)]
