"""Distillation: a fast version of an image-to-image model, taught by the model itself (GAN Compression, Li et al.
2020, ``distillers/``).

The student (a :mod:`engine.models.mobile` network sized for a MACs target, default a tenth of the teacher's)
learns the teacher's outputs on any folder of photos: random crops, flips and colour jitter make many training
patches out of a few hundred photos, and the teacher translates each patch as it is drawn. Losses:

- pixel: L1 between the student's and the teacher's output (``lambda_pixel``);
- features: the outputs of ``n_taps`` student layers, projected by learned 1x1 convolutions to the teacher's channels,
  against the teacher's at the same depth (MSE relative to the teacher features' mean square, ``lambda_feat``);
- GAN: a PatchGAN learns to tell the student's outputs from the teacher's (``lambda_gan``; 0 = off, no D at all).

Refused before any work: a teacher that is not a ResNet/U-Net translate model, a student that would not be smaller
than its teacher (or is the same network), a run folder that holds the teacher, fewer than ``MIN_PHOTOS`` photos.
The exported student (``RUN/models/G.safetensors``) stands alone: its metadata names the teacher
(``distilled_from``), but it needs nothing from it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict, Optional

import numpy as np
import torch
import torch.nn as nn

from .. import losses as L
from ..checkpoint import CHECKSUM_KEY, load_checkpoint, load_into
from ..config import check, check_choice, option
from ..errors import ConfigError, DataError
from ..faces.translator import face_fields
from ..fsutil import slug
from ..library import ModelInfo, ModelLibrary, model_meta
from ..models import get_model
from ..models.macs import format_macs, parse_macs
from ..models.mobile import GLOBAL_BRANCHES
from ..models.networks import init_weights, size_multiple
from ..models.widen import widen_into
from ..tensors import to_uint8
from . import _distill_parts as P
from .config import PREPROCESS, TrainConfig
from .calibrate import calibration_of, fit_calibration
from .core import Trainer, register_family
from .data import FolderStream, ImageFolder, check_folder_paths, to_model_input
from .grids import grid

MIN_PHOTOS = 16
#: photos the colour calibration is fitted on when a run ends (one student forward each, and a teacher forward
#: without the teacher cache)
CALIBRATION_PHOTOS = 400
CALIBRATION_PHOTOS_CPU_UNCACHED = 100


@dataclass
class DistillConfig(TrainConfig):
    family: str = "distill"
    teacher: str = option("", "the model to make a fast version of (model id, name, file or run folder)")
    data: str = option("", "folder of photos to learn from (searched recursively; at least 16)")
    target_macs: str = option("", "student size in MACs at 256x256, e.g. 3G ('' = a tenth of the teacher's)")
    student_ngf: int = option(0, "student width (0 = the widest within the target)")
    lambda_pixel: float = option(10.0, "L1 loss to the teacher's output")
    lambda_psnr: float = option(0.0, "per-image log mean squared error to the teacher's output, -PSNR/10: what the "
                                     "fidelity to the teacher is measured by (0 = off)")
    lambda_feat: float = option(1.0, "feature matching through 1x1 projections")
    lambda_gan: float = option(0.2, "GAN loss against the teacher's outputs (0 = off)")
    n_taps: int = option(3, "layers matched between student and teacher", flag="taps")
    ndf: int = option(32, "discriminator width")
    jitter: float = option(0.1, "colour jitter strength of the photos (0 = off)")
    load_size: int = option(0, "scale photos to this short side before the random crop (0 = size*2)")
    preprocess: str = "scale_shortside_and_crop"
    branch_lr: float = option(10.0, "learning-rate multiple of the student's global colour branches (small MLPs "
                                    "that start at zero)")
    teacher_cache: int = option(0, "N = train on the first N whole photos, each translated by the teacher once "
                                "(fast on CPUs; feature matching only with --cache-features); 0 = random crops")
    cache_features: bool = option(False, "with the teacher cache: also keep the teacher's features of the matched "
                                         "layers on disk (about 2 MB per layer per 256 px photo), so that the "
                                         "student learns them too (feature matching)")

    @classmethod
    def gan_losses(cls):
        return ("lsgan", "bce", "nonsaturating", "hinge")

    def validate(self) -> None:
        super().validate()
        check(bool(self.teacher), "choose the model to make a fast version of (the teacher)")
        if self.target_macs:
            parse_macs(self.target_macs)
        check(self.student_ngf == 0 or 4 <= self.student_ngf <= 1024, "student width must be 0 (auto) or 4-1024")
        check(min(self.lambda_pixel, self.lambda_feat, self.lambda_gan, self.lambda_psnr) >= 0,
              "loss weights must be >= 0")
        check(self.lambda_pixel + self.lambda_feat + self.lambda_psnr > 0,
              "the pixel, PSNR or feature loss must have a positive weight")
        check(0 <= self.n_taps <= 8, "n_taps must be between 0 and 8")
        check(1 <= self.ndf <= 1024, "ndf must be between 1 and 1024")
        check(0 <= self.jitter <= 1, "jitter must be between 0 and 1")
        check(self.load_size == 0 or self.load_size >= self.image_size, "load size must be >= image size (or 0)")
        check_choice("preprocess", self.preprocess, PREPROCESS)
        check(self.teacher_cache >= 0, "teacher_cache must be 0 (off) or a number of photos")
        check(0 < self.branch_lr <= 1000, "branch_lr must be a positive multiple of the learning rate (at most 1000)")

    @property
    def cached(self) -> bool:
        return self.teacher_cache > 0

    @property
    def load(self) -> int:
        if self.cached:  # whole photos: short side to the image size, centre square
            return self.image_size
        return self.load_size or self.image_size * 2


# Deliberate copy of shape: every family declares itself alike (attributes, presets, default_steps, make_data; see
# core.Trainer); the duplicates scan lists these declarations, there is nothing in them to share.
@register_family
class DistillTrainer(Trainer):
    family = "distill"
    config_cls = DistillConfig
    headline = ("pixel", "psnr", "feat", "G_gan")
    generators = ("G",)  # EMA copy with ema_decay > 0 (that copy is sampled and saved)

    @classmethod
    def presets(cls) -> Dict[str, Dict[str, Any]]:
        return {
            "tiny": dict(image_size=64, batch_size=2, steps=6, log_every=2, sample_every=3, checkpoint_every=3,
                         sample_rows=2, ndf=8),
            # CPU: whole photos, each translated by the teacher once (the teacher's forward dominates a step)
            "quick": dict(image_size=256, batch_size=1, steps=1500, teacher_cache=96, lambda_gan=0.1, ndf=16,
                          log_every=10, sample_every=100, checkpoint_every=50),
            # GPU: random crops of photos at twice the size, the teacher translates every crop, feature matching
            "standard": dict(image_size=256, batch_size=4, steps=20000, log_every=50, sample_every=500,
                             checkpoint_every=1000),
        }

    def default_steps(self) -> int:
        return 20000

    # --- checks and data ---------------------------------------------------------------------------------
    def make_data(self) -> None:
        cfg = self.cfg
        self.teacher_info = self._resolve_teacher()
        target = parse_macs(cfg.target_macs) if cfg.target_macs else None
        self.plan = P.plan_student(self.teacher_info, target, cfg.student_ngf)
        mult = max(self._multiple(self.teacher_info.arch, self.teacher_info.meta.get("arch_kwargs") or {}),
                   self._multiple(self.plan.arch, self.plan.kwargs))
        check(cfg.image_size % mult == 0, f"image size must be a multiple of {mult} for {self.teacher_info.name!r} "
                                          f"and its student (got {cfg.image_size})")
        path = check_folder_paths({"photos": cfg.data})["photos"]
        folder_cls = P.folder_class(self.teacher_info.meta)
        if folder_cls is not ImageFolder:
            self.log("The teacher draws from sketches: each photo is turned into a sketch in its training style.")
        folder = folder_cls.open(path, "photos", preprocess=cfg.preprocess, load_size=cfg.load,
                                  crop_size=cfg.image_size, cache_mb=cfg.cache_mb, check_cancel=self.ctx.check_cancel,
                                  progress=lambda d, t, m: self.progress(d, t, m))
        if len(folder) < MIN_PHOTOS:
            raise DataError(f"The photo folder {path} has {len(folder)} usable photo{'s' if len(folder) != 1 else ''}"
                            f"; a fast version needs at least {MIN_PHOTOS} (a few hundred is better: random crops "
                            "make many training patches out of each).")
        self.folder = folder
        self.log(f"Data: {folder.summary()}; {folder.cached} cached in memory.")
        self.log(f"Teacher: {self.teacher_info.name!r} ({self.teacher_info.arch}, "
                 f"{format_macs(self.plan.teacher_macs)}MACs); student: {self.plan.describe()}, "
                 f"{self.plan.teacher_macs / max(1, self.plan.macs):.1f}x fewer MACs.")
        self.feature_cache = cfg.cached and cfg.cache_features and cfg.lambda_feat > 0 and cfg.n_taps > 0
        if cfg.cached:
            self.stream = P.WholePhotoStream(folder, cfg.teacher_cache, cfg.image_size, cfg.seed, cfg.flip)
            self.cache = P.TeacherCache.on_disk(self.teacher_info.path, cfg.image_size,
                                                folder.files[:self.stream.n], self.log)
            with_feats = (f", with their features: {self.cache.count_features_on_disk(cfg.flip)}"
                          if self.feature_cache else "")
            self.log(f"Teacher outputs already translated: {self.cache.count_on_disk(cfg.flip)} of "
                     f"{self.stream.n * (2 if cfg.flip else 1)}{with_feats} (cache {self.cache.folder}).")
            feats = ("its features at the matched layers are kept too (feature matching)" if self.feature_cache
                     else "feature matching is off in this mode (--cache-features turns it on)")
            self.log(f"Teacher cache: whole photos at {cfg.image_size} px, the teacher translates each of the first "
                     f"{self.stream.n} photos once; {feats}; colour jitter is off in this mode.")
        else:
            self.stream = FolderStream({"A": folder}, cfg.image_size, seed=cfg.seed, flip=cfg.flip, paired=False,
                                       rank=self.dist.rank, world=self.dist.world)

    def check_run_folder(self) -> None:
        P.check_not_into_itself(self._resolve_teacher(), self.cfg.out_dir)

    def _resolve_teacher(self) -> ModelInfo:
        info = ModelLibrary().resolve(self.cfg.teacher)
        if info.meta.get("kind") != "model" or not info.arch:
            raise ConfigError(f"{self.cfg.teacher!r} is not a model file GAN Studio can distill.")
        return info

    @staticmethod
    def _multiple(arch: str, kwargs: Dict[str, Any]) -> int:
        with torch.device("meta"):
            return size_multiple(get_model(arch, **kwargs))

    # --- networks ----------------------------------------------------------------------------------------
    def build(self) -> None:
        cfg = self.cfg
        lib = ModelLibrary()
        self.teacher = lib.load(self.teacher_info, self.device).module.eval().requires_grad_(False)
        student = init_weights(get_model(self.plan.arch, **self.plan.kwargs))
        if self.plan.kwargs.get("residual"):  # start as the identity: the last convolution's weights are zero
            nn.init.zeros_([m for m in student.modules() if isinstance(m, nn.Conv2d)][-1].weight)
        for m in student.modules():  # the global colour branches: their own start, no change at first
            if isinstance(m, GLOBAL_BRANCHES):
                m.reset_parameters()
        self.G = self.maybe_compile(self.add_net("G", student))
        taps = cfg.n_taps if cfg.lambda_feat > 0 and (not cfg.cached or cfg.cache_features) else 0
        t_layers, s_layers = P.matched_layers(self.teacher, self.G, taps)
        self.t_taps, self.s_taps = P.FeatureTaps(t_layers), P.FeatureTaps(s_layers)
        fixed = self._fixed(cfg.sample_rows)
        self.fixed = to_model_input(fixed.to(self.device), self.use_channels_last)
        with torch.no_grad():
            self.teacher(self.fixed[:1])
            self.G(self.fixed[:1])
        self.P = self.add_net("P", P.make_projections(self.s_taps.take(), self.t_taps.take()))
        self.t_taps.take()
        branches = [p for m in self.G_module().modules() if isinstance(m, GLOBAL_BRANCHES)
                    for p in m.parameters()]
        ids = {id(p) for p in branches}
        rest = [p for p in list(self.G.parameters()) + list(self.P.parameters()) if id(p) not in ids]
        self.adam("G", [{"params": rest}] + ([{"params": branches, "lr": cfg.lr * cfg.branch_lr}] if branches else []))
        self.D: Optional[nn.Module] = None
        if cfg.lambda_gan > 0:
            self.D = self.maybe_compile(self.add_net("D", init_weights(get_model("basic", ndf=cfg.ndf))))
            self.adam("D", self.D.parameters())
        self.gan = L.get_loss(cfg.gan_loss)

    def _fixed(self, n: int) -> torch.Tensor:
        if self.cfg.cached:
            return torch.stack([self.stream.example(i)["A"] for i in range(min(n, self.stream.n))])
        return self.stream.fixed(n)["A"]

    def load_init(self) -> None:
        """``init_from``: the student starts from a model of the same architecture (e.g. a run at a smaller size)."""
        if not self.cfg.init_from:
            return
        info = ModelLibrary().resolve(self.cfg.init_from)
        kw = dict(info.meta.get("arch_kwargs") or {})
        tensors = load_checkpoint(info.path).tensors
        for branch, key in (("global_color", "color"), ("global_affine", "affine"), ("calibration", "calib")):
            if self.plan.kwargs.get(branch) and not kw.get(branch):
                # a student from before this branch: the branch starts at zero (the same outputs)
                kw[branch] = True
                tensors = dict(tensors, **{f"{key}.{k}": v
                                           for k, v in getattr(self.G_module(), key).state_dict().items()})
        start_ngf, plan_ngf = int(kw.get("ngf", 0)), int(self.plan.kwargs.get("ngf", 0))
        width_only = (info.arch == self.plan.arch == "mobile_resnet"
                      and dict(kw, ngf=self.plan.kwargs.get("ngf")) == self.plan.kwargs)
        narrower = width_only and start_ngf < plan_ngf
        if width_only and start_ngf > plan_ngf:
            raise ConfigError(f"The start model {info.name!r} is wider (ngf {start_ngf}) than the planned student "
                              f"(ngf {plan_ngf}): a student can start from a narrower fast model, which is widened, "
                              f"not from a wider one. Choose --student-ngf {start_ngf} or more.")
        if (info.arch != self.plan.arch or kw != self.plan.kwargs) and not narrower:
            raise ConfigError(f"The start model {info.name!r} ({info.arch} {info.meta.get('arch_kwargs')}) is not the "
                              f"planned student {self.plan.describe()} {self.plan.kwargs}.")
        if narrower:  # a wider student that starts by computing what the narrow one does (Net2WiderNet)
            small = get_model(info.arch, **kw)
            load_into(small, tensors, what=f"student (start model {info.name!r})")
            widen_into(small, self.G_module(), noise=0.01, seed=self.cfg.seed)
            self.log(f"The student starts from {info.name!r} ({info.path}), widened from ngf {start_ngf} to "
                     f"{plan_ngf} (the same outputs, up to a little noise that lets the new channels "
                     "learn apart).")
            return
        load_into(self.G_module(), tensors, what=f"student (start model {info.name!r})")
        self.log(f"The student starts from {info.name!r} ({info.path}).")

    def G_module(self) -> nn.Module:
        """The student itself (under a DDP or compile wrapper where there is one)."""
        return getattr(self.G, "_orig_mod", getattr(self.G, "module", self.G))

    # --- one step ----------------------------------------------------------------------------------------
    def train_step(self, batch) -> Dict[str, torch.Tensor]:
        cfg = self.cfg
        x, target, t_feats = self._targets(batch)
        with self.autocast():
            out = self.G(x)
            s_feats = self.s_taps.take()
            pixel = L.l1(out, target)
            psnr = P.psnr_db(out, target)
            feat = P.feature_loss(self.P, s_feats, t_feats) if s_feats else torch.zeros((), device=x.device)
            g_gan = torch.zeros((), device=x.device)
            if self.D is not None:
                L.set_requires_grad([self.D], False)
                g_gan = self.gan.g_loss(self.D(self.aug(out)))
            loss = (cfg.lambda_pixel * pixel - cfg.lambda_psnr * psnr.mean() / 10 + cfg.lambda_feat * feat
                    + cfg.lambda_gan * g_gan)
        self.optimize(loss, "G")
        losses = {"G": loss.detach(), "pixel": pixel.detach(), "psnr": psnr.detach().mean(), "feat": feat.detach(),
                  "G_gan": g_gan.detach()}
        if self.D is not None:
            L.set_requires_grad([self.D], True)
            with self.autocast():
                d = self.gan.d_loss(self.D(self.aug(target)), self.D(self.aug(out.detach()))) * 0.5
                d = d + self.r1_term(self.D, target)
            self.optimize(d, "D")
            losses["D"] = d.detach()
        return losses

    def _targets(self, batch):
        """(photos, teacher outputs, teacher features) of a batch."""
        x = to_model_input(batch["A"], self.use_channels_last)
        if self.cfg.cached:
            x = torch.where(batch["flip"].bool().view(-1, 1, 1, 1), x.flip(3), x)
            keys = batch["idx"] * 2 + batch["flip"]
            with self.autocast():
                if self.feature_cache and self.s_taps.outputs:
                    return (x, *self.cache.targets_and_features(self.teacher, x, keys, self.t_taps.take,
                                                                len(self.s_taps.outputs)))
                return x, self.cache.targets(self.teacher, x, keys), []
        x = P.color_jitter(x, self.cfg.jitter)
        with torch.no_grad(), self.autocast():
            target = self.teacher(x)
            return x, target, self.t_taps.take()

    # --- outputs -----------------------------------------------------------------------------------------
    def sample_grid(self) -> np.ndarray:
        """Each row: photo, teacher, student."""
        G = self.out_net("G")
        was = G.training
        G.eval()
        try:
            with torch.no_grad(), self.autocast():
                t, s = self.teacher(self.fixed), G(self.fixed)
                self.t_taps.take(), self.s_taps.take()
        finally:
            G.train(was)
        cols = [to_uint8(v) for v in (self.fixed, t, s)]
        return grid([[c[i] for c in cols] for i in range(self.fixed.shape[0])])

    def score(self, losses: Dict[str, float]) -> Optional[float]:
        return float(losses["pixel"]) if "pixel" in losses else None

    def export_models(self):
        G = self.out_net("G")
        # the finished run's models: solve the colour calibration (not at each checkpoint or on cancel, which should
        # be quick: it takes one student forward per photo; a cancelled run gets it when it is resumed and finishes)
        if self.finishing and calibration_of(G) is not None:
            G = copy.deepcopy(G)
            self.log(f"Fitting the colour calibration (one forward per photo, up to {self._calibration_count()} "
                     "photos)…")
            self.log(fit_calibration(G, self._calibration_pairs())[1])
        return [("G.safetensors", G, self.model_meta())]

    def _calibration_count(self) -> int:
        if self.cfg.cached:
            return min(CALIBRATION_PHOTOS, self.stream.n)
        # the teacher translates each photo: about a second each on a CPU
        return CALIBRATION_PHOTOS if self.device.type == "cuda" else CALIBRATION_PHOTOS_CPU_UNCACHED

    def _calibration_pairs(self):
        """(photo, teacher output) pairs for :func:`fit_calibration`: whole photos spread over the training photos
        (teacher cache), or the first photos' centre crops."""
        n = self._calibration_count()
        if self.cfg.cached:
            for i in P.pick(self.stream.n, n):
                x = to_model_input(self.stream.photo(i)[None].to(self.device), self.use_channels_last)
                with self.autocast():
                    yield x, self.cache.targets(self.teacher, x, torch.tensor([2 * i])).float()
            return
        photos = self.stream.fixed(n)["A"]
        for i in range(photos.shape[0]):
            x = to_model_input(photos[i:i + 1].to(self.device), self.use_channels_last)
            with torch.no_grad(), self.autocast():
                t = self.teacher(x)
            self.t_taps.take()
            yield x, t.float()

    def model_meta(self) -> Dict[str, Any]:
        c, t = self.cfg, self.teacher_info
        run = c.name or f"{t.name} (fast)"
        return model_meta(**inherited_meta(t.meta), **face_fields(t.meta), id=slug(c.name or f"{t.id}-fast", "fast"),
                          name=run, family=t.family, task="translate",
                          arch=self.plan.arch,
                          arch_kwargs=self.plan.kwargs, direction=t.direction,
                          description=f"Fast version of {t.name!r}: {self.plan.describe()}, "
                                      f"{self.plan.teacher_macs / max(1, self.plan.macs):.1f}x fewer MACs; distilled "
                                      f"for {self.step} steps at {c.image_size} px (run {self.run_folder.root}).",
                          distilled_from=teacher_record(t, self.plan.teacher_macs),
                          macs_256=self.plan.macs,
                          training={**self.run_record(), "image_size": c.image_size, "data": c.data,
                                    "family": "distill"})


#: what a fast version takes over from its teacher's metadata: how the pages use it (Draw canvas size, sketch style,
#: label palette, batch-norm mode, domains) and the teacher's licence terms
INHERITED = ("input_kind", "image_size", "trained_at", "norm_mode", "sketch", "palette", "domains", "license")


def inherited_meta(meta: Dict[str, Any]) -> Dict[str, Any]:
    out = {k: meta[k] for k in INHERITED if k in meta}
    size = (meta.get("training") or {}).get("image_size")
    if "image_size" not in out and "trained_at" not in out and size:
        out["image_size"] = size
    return out


def teacher_record(t: ModelInfo, macs: int) -> Dict[str, Any]:
    """What a student's metadata says about its teacher (kept so its card names the teacher after it is deleted)."""
    rec = {"id": t.id, "name": t.name, "arch": t.arch, "file": str(t.path), "macs_256": int(macs)}
    if t.meta.get(CHECKSUM_KEY):  # which version of the teacher: a re-trained model keeps its id, not its weights
        rec[CHECKSUM_KEY] = t.meta[CHECKSUM_KEY]
    return rec
