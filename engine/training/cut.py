"""CUT and FastCUT (Park et al. 2020, "Contrastive Learning for Unpaired Image-to-Image Translation"): one-sided
unpaired translation A -> B, the fast choice when only one direction is wanted.

One generator, one PatchGAN, and a small MLP head (``PatchSampleF``) that samples 256 patch positions from each of
five encoder layers of G. PatchNCE pulls the features of an output patch towards those of the input patch at the
same place and away from the other 255 patches of the same image (InfoNCE, temperature 0.07), so content is kept
without a second generator and without a cycle: about half the work of a CycleGAN step.

Defaults are the paper's (taesungp contrastive-unpaired-translation ``cut_model.py``): anti-aliased
``resnet_9blocks`` generator (ngf 64, instance norm, xavier init), ``basic`` PatchGAN, LSGAN, lambda_GAN 1, Adam
2e-4 (0.5, 0.999), batch 1, 286 -> 256 random crops with flips, NCE layers 0,4,8,12,16, 256 patches, MLP width 256.
``mode``:
- ``cut``: PatchNCE on the identity mapping too (G(B) should keep B), lambda_NCE 1, 400 epochs by default;
- ``fastcut``: no identity term, flip equivariance (the input is flipped half of the time and the output features
  flipped back before PatchNCE), lambda_NCE 10, 200 epochs. If the losses become non-finite with lambda_NCE 10,
  the run falls back to 1 (the paper's advice where FastCUT diverges) and says so in its log.
Every family switch applies: DiffAugment on everything D sees, an EMA copy of G that is saved as the model, lazy
R1. The generator is exported at every checkpoint as ``RUN/models/G.safetensors`` (task translate, AtoB).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import losses as L
from ..config import check, check_choice, option
from ..library import model_meta
from ..models import get_model
from ..models.networks import init_weights
from ..registry import MODELS
from ..tensors import to_uint8
from . import finetune
from .config import ImageToImageConfig
from .core import Trainer, register_family
from .data import open_unpaired, to_model_input
from .grids import grid

MODES = {  # mode: (lambda_NCE, NCE on identity, flip equivariance, epochs)
    "cut": (1.0, True, False, 400),
    "fastcut": (10.0, False, True, 200),
}


def nce_generators() -> Tuple[str, ...]:
    """Generators with PatchNCE feature taps (registered with ``nce_taps=True``: ``encode``, ``nce_layers``)."""
    return tuple(MODELS.names(role="generator", task="translate", nce_taps=True))


@dataclass
class CUTConfig(ImageToImageConfig):
    family: str = "cut"
    data_a: str = option("", "folder of domain A images (the inputs; searched recursively)", flag="a")
    data_b: str = option("", "folder of domain B images (the target look)", flag="b")
    mode: str = option("cut", "cut (NCE on identity, lambda_NCE 1) or fastcut (flip equivariance, lambda_NCE 10, "
                       "half the epochs)", choices=tuple(MODES))
    generator: str = option("resnet_9blocks", "generator network (one with PatchNCE feature taps)",
                            choices=nce_generators, arch=True)
    antialias: bool = option(True, "CUT's blur-pool sampling instead of strided / transposed convolutions", arch=True)
    discriminator: str = "n_layers"
    init_type: str = "xavier"
    lambda_gan: float = option(1.0, "GAN loss weight")
    lambda_nce: float = option(0.0, "PatchNCE weight (0 = the mode's: CUT 1, FastCUT 10)")
    nce_layers: str = option("", "generator layers for PatchNCE ('' = the generator's taps, 0,4,8,12,16)")
    num_patches: int = option(256, "patches per layer")
    nce_t: float = 0.07
    netf_nc: int = 256

    @classmethod
    def gan_losses(cls) -> Tuple[str, ...]:
        return ("lsgan", "bce", "nonsaturating", "hinge")

    def validate(self) -> None:
        check_choice("generator", self.generator, nce_generators())  # before the shared checks: a clearer message
        super().validate()
        check_choice("mode", self.mode, tuple(MODES))
        check(self.lambda_gan >= 0 and self.lambda_nce >= 0, "loss weights must be >= 0")
        check(1 <= self.num_patches <= 4096, "num_patches must be between 1 and 4096")
        check(0 < self.nce_t <= 10, "the NCE temperature must be in (0, 10]")
        check(1 <= self.netf_nc <= 4096, "netf_nc must be between 1 and 4096")
        parse_layers(self.nce_layers)

    @property
    def nce_weight(self) -> float:
        return self.lambda_nce or MODES[self.mode][0]

    @property
    def nce_idt(self) -> bool:
        return MODES[self.mode][1]

    @property
    def flip_equivariance(self) -> bool:
        return MODES[self.mode][2]


def parse_layers(text: str) -> List[int]:
    try:
        out = sorted({int(t) for t in text.replace(" ", "").split(",") if t})
    except ValueError:
        out = [-1]
    check(all(i >= 0 for i in out), f"nce_layers must be comma-separated layer indices such as 0,4,8,12,16 "
                                    f"(got {text!r})")
    return out


class PatchSampleF(nn.Module):
    """CUT's ``PatchSampleF``: per layer, the features at ``num_patches`` random positions (the same positions for
    every image of the batch, and for the query and key images), through a 2-layer MLP, L2-normalised."""

    def __init__(self, channels: Sequence[int], nc: int = 256):
        super().__init__()
        self.mlps = nn.ModuleList(nn.Sequential(nn.Linear(c, nc), nn.ReLU(), nn.Linear(nc, nc)) for c in channels)

    def forward(self, feats: List[torch.Tensor], num_patches: int, ids: Optional[List[torch.Tensor]] = None):
        out, used = [], []
        for i, f in enumerate(feats):
            n, c, h, w = f.shape
            flat = f.permute(0, 2, 3, 1).reshape(n, h * w, c)
            pid = ids[i] if ids is not None else torch.randperm(h * w, device=f.device)[:min(num_patches, h * w)]
            x = self.mlps[i](flat[:, pid, :].reshape(-1, c).float())
            out.append(F.normalize(x, dim=1))
            used.append(pid)
        return out, used


def patch_nce(q: torch.Tensor, k: torch.Tensor, batch: int, tau: float) -> torch.Tensor:
    """PatchNCE (CUT's ``PatchNCELoss``): each query patch against its own key (positive) and the other patches of
    the same image (negatives); per-patch cross-entropy, averaged. ``q``, ``k``: (batch * patches, dim)."""
    k = k.detach()
    npatch = q.shape[0] // batch
    pos = (q * k).sum(1, keepdim=True)
    neg = torch.bmm(q.view(batch, npatch, -1), k.view(batch, npatch, -1).transpose(1, 2))
    eye = torch.eye(npatch, dtype=torch.bool, device=q.device)[None]
    neg = neg.masked_fill(eye, -10.0).view(-1, npatch)
    logits = torch.cat([pos, neg], 1) / tau
    return F.cross_entropy(logits, torch.zeros(logits.shape[0], dtype=torch.long, device=q.device))


class GenStep(nn.Module):
    """The generator's training forward as one module (one DDP forward/backward per step): the translation, the
    identity mapping (CUT) and the PatchNCE loss. Returns ``(fake_B, nce)``; ``nce`` is unweighted."""

    def __init__(self, G: nn.Module, netF: PatchSampleF, layers: List[int], cfg: CUTConfig):
        super().__init__()
        self.G, self.F = G, netF
        self.layers = layers
        self.num_patches, self.tau, self.idt = cfg.num_patches, cfg.nce_t, cfg.nce_idt

    def nce(self, src: torch.Tensor, out: torch.Tensor, flipped: bool) -> torch.Tensor:
        feat_q = self.G.encode(out, self.layers)
        if flipped:
            feat_q = [torch.flip(f, [3]) for f in feat_q]
        with torch.no_grad():  # the key branch gets no gradient (PatchNCELoss detaches it)
            k, ids = self.F(self.G.encode(src, self.layers), self.num_patches)
        q, _ = self.F(feat_q, self.num_patches, ids)
        n = src.shape[0]
        return sum(patch_nce(qi, ki, n, self.tau) for qi, ki in zip(q, k)) / len(self.layers)

    def forward(self, A: torch.Tensor, B: torch.Tensor, flipped: bool):
        n = A.shape[0]
        real = torch.cat([A, B]) if self.idt else A
        if flipped:
            real = torch.flip(real, [3])
        fake = self.G(real)
        fake_B = fake[:n]
        nce = self.nce(A, fake_B, flipped)
        if self.idt:
            nce = (nce + self.nce(B, fake[n:], flipped)) * 0.5
        return fake_B, nce


@register_family
class CUTTrainer(Trainer):
    family = "cut"
    config_cls = CUTConfig
    headline = ("G", "D", "NCE")
    face_crop_ok = True
    generators = ("G",)
    methods = (("fastcut", "FastCUT: fast, one direction A → B (recommended)", {"mode": "fastcut"}),
               ("cut", "CUT: one direction A → B, keeps more of the input", {"mode": "cut"}))
    page_rank = 0  # the fast choice comes first

    @classmethod
    def presets(cls) -> Dict[str, Dict[str, Any]]:
        return {
            "tiny": dict(image_size=64, generator="resnet_6blocks", ngf=8, ndf=8, netf_nc=16, num_patches=16,
                         steps=12, log_every=2, sample_every=6, checkpoint_every=6, sample_rows=2),
            "quick": dict(mode="fastcut", decay_start=0.75, image_size=128, generator="resnet_6blocks", steps=4000,
                          log_every=25,
                          sample_every=250, checkpoint_every=500, diffaug="color,translation,cutout",
                          ema_decay=0.999),
            "standard": dict(image_size=256, generator="resnet_9blocks", steps=20000, log_every=50,
                             sample_every=500, checkpoint_every=1000, diffaug="color,translation,cutout",
                             ema_decay=0.999),
            "high": dict(image_size=256, generator="resnet_9blocks", steps=0, log_every=100, sample_every=1000,
                         checkpoint_every=2000),
        }

    def make_data(self) -> None:
        cfg = self.cfg
        if cfg.init_from and not cfg.resume_from:
            self._init, _ = finetune.resolve_init(cfg.init_from)
            finetune.check_init_arch(self._init, cfg)
        self.folders, self.stream = open_unpaired(self)

    def default_steps(self) -> int:
        epoch = max(len(f) for f in self.folders.values())
        return max(1, MODES[self.cfg.mode][3] * epoch // (self.cfg.batch_size * self.dist.world))

    # --- networks ----------------------------------------------------------------------------------------
    def gen_kwargs(self) -> Dict[str, Any]:
        c = self.cfg
        return {"ngf": c.ngf, "norm": c.norm, "use_dropout": c.use_dropout, "antialias": c.antialias}

    def build(self) -> None:
        c = self.cfg
        G = init_weights(get_model(c.generator, **self.gen_kwargs()), c.init_type, c.init_gain)
        kw: Dict[str, Any] = {"ndf": c.ndf, "norm": c.norm}
        if c.discriminator == "n_layers":
            kw["n_layers_D"] = c.n_layers_d
        D = init_weights(get_model(c.discriminator, **kw), c.init_type, c.init_gain)
        self.G = self.maybe_compile(self.add_net("G", G))
        self.D = self.maybe_compile(self.add_net("D", D))
        layers = parse_layers(c.nce_layers) or G.nce_layers()
        n_layers = len(G.model)
        if layers[-1] >= n_layers:
            from ..errors import ConfigError

            raise ConfigError(f"nce_layers {c.nce_layers!r} names layer {layers[-1]}, but {c.generator} has "
                              f"{n_layers} layers (0-{n_layers - 1}).")
        with torch.no_grad():
            probe = G.encode(torch.zeros(1, 3, c.image_size, c.image_size, device=self.device), layers)
        netF = init_weights(PatchSampleF([f.shape[1] for f in probe], c.netf_nc), c.init_type, c.init_gain)
        self.netF = self.add_net("F", netF)
        self.gen = self.wrap(GenStep(self.G, self.netF, layers, c))
        self.disc = self.wrap(self.D)
        self.adam("G", list(self.G.parameters()) + list(self.netF.parameters()))
        self.adam("D", self.D.parameters())
        self.gan = L.get_loss(c.gan_loss)
        self.nce_weight = c.nce_weight
        self.fixed = self.fixed_inputs(c.sample_rows)

    def load_init(self) -> None:
        if getattr(self, "_init", None) is not None:
            self.load_generator(self.G, self._init)

    # --- one step ----------------------------------------------------------------------------------------
    def train_step(self, batch) -> Dict[str, torch.Tensor]:
        c, gan, aug = self.cfg, self.gan, self.aug
        A = to_model_input(batch["A"], self.use_channels_last)
        B = to_model_input(batch["B"], self.use_channels_last)
        flipped = bool(c.flip_equivariance and random.random() < 0.5)  # Python's RNG: saved in checkpoints
        with self.autocast():
            fake_B, nce = self.gen(A, B, flipped)
            real_out, fake_out = self.disc(torch.cat([aug(B), aug(fake_B.detach())])).chunk(2)
            loss_D = gan.d_loss(real_out, fake_out) * 0.5 + self.r1_term(self.D, B)
        self.optimize(loss_D, "D")
        L.set_requires_grad([self.D], False)
        with self.autocast():
            g_gan = gan.g_loss(self.D(aug(fake_B))) * c.lambda_gan
            loss_G = g_gan + nce * self.nce_weight
        if self.nce_weight > 1 and c.mode == "fastcut" and not bool(torch.isfinite(loss_G)):
            self.nce_weight = 1.0
            self.log(f"FastCUT diverged at step {self.step} with lambda_NCE {c.nce_weight:g}; continuing with "
                     "lambda_NCE 1 (the paper's fallback).")
            self.opts["G"].zero_grad(set_to_none=True)
        else:
            self.optimize(loss_G, "G")
        L.set_requires_grad([self.D], True)
        return {"G": loss_G.detach(), "G_gan": g_gan.detach(), "NCE": nce.detach(), "D": loss_D.detach(),
                **L.d_means(real_out, fake_out)}

    # --- outputs -----------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample_grid(self) -> np.ndarray:
        """Each row: A, G(A) | B, G(B) (the identity mapping)."""
        G = self.out_net("G")
        was = G.training
        G.eval()
        try:
            with self.autocast():
                fB, iB = G(self.fixed["A"]), G(self.fixed["B"])
        finally:
            G.train(was)
        cols = [to_uint8(t) for t in (self.fixed["A"], fB, self.fixed["B"], iB)]
        n = min(len(c) for c in cols)
        return grid([[col[i] for col in cols] for i in range(n)], group=2)

    @torch.no_grad()
    def eval_fakes(self, n: int):
        """(real B, G(A)) uint8 NHWC for the first ``n`` images of each folder, centre-cropped."""
        return self.translate_fixed(self.out_net("G"), n)

    def extra_state(self) -> Dict[str, Any]:
        return {"nce_weight": float(self.nce_weight)}

    def load_extra_state(self, state: Dict[str, Any]) -> None:
        if "nce_weight" in state:
            self.nce_weight = float(state["nce_weight"])

    def export_models(self):
        c = self.cfg
        run, slug = self.run_name()
        a, b = Path(c.data_a).name or "A", Path(c.data_b).name or "B"
        label = "FastCUT" if c.mode == "fastcut" else "CUT"
        meta = model_meta(id=f"{slug}-a2b", name=f"{run}: {a} → {b}", family="cut", task="translate",
                          arch=c.generator, arch_kwargs=self.gen_kwargs(), direction="AtoB",
                          description=f"{label} {a} → {b}, {self.step} steps at {c.image_size} px "
                                      f"(run {self.run_folder.root}).",
                          training={**self.run_record(), "image_size": c.image_size, "mode": c.mode,
                                    "lambda_nce": self.nce_weight, "data_a": c.data_a, "data_b": c.data_b})
        return [("G.safetensors", self.out_net("G"), meta)]
