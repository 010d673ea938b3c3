"""The trainer core shared by every GAN family (CycleGAN, pix2pix, StyleGAN, StarGAN, VAE-GAN): the
:class:`Trainer` base class, the family registry (:data:`FAMILIES`, discovered from the modules of this package) and
the entry points ``train_task``, ``build_config``, ``resume_config``.

A family is one module: a config (a :class:`~engine.training.config.TrainConfig` subclass whose fields carry
``engine.config.option`` metadata, from which ``ganstudio train <family>`` makes its options) and a trainer::

    @register_family
    class CycleGANTrainer(Trainer):
        family = "cyclegan"; config_cls = CycleGANConfig
        def make_data(self): ...      # validate + self.stream/self.loader; DataError before any work
        def build(self): ...          # self.nets / self.opts / self.scheds (use self.add_net, self.adam, self.wrap)
        def train_step(self, batch) -> dict[str, Tensor]   # detached losses, no .item()
        def sample_grid(self) -> np.ndarray
        def export_models(self) -> [(file name, module, engine.library.model_meta(...))]
        def extra_state(self) / load_extra_state(d) / load_init() / score(losses) / eval_fakes(n)  # translate_fixed
        @classmethod adopt_init_architecture(cfg, library)   # optional: take the generator from --init's model
        def check_run_folder(self)    # optional: refuse an output folder with the family's own message

The core owns the rest: device, bf16/fp16 autocast (+ GradScaler for fp16), channels_last, cudnn.benchmark,
optional torch.compile, DDP (:mod:`.distributed`), the loop with pause/cancel (``ctx.check_cancel()``), progress
(steps/s, ETA, GPU memory) through ``ctx.progress``/``ctx.partial``, ``.item()`` only at log steps, metrics.jsonl,
train.log, samples, atomic ``latest`` checkpoints (+ ``best`` by the family's score), exported model files, resume
at the same step, status.json, and clear messages for full disks, unwritable folders and out-of-memory.

Loop details live in :mod:`.loop`, the run folder in :mod:`.runs`, checkpoint state in :mod:`.state`; shared pieces
in :mod:`.config`, :mod:`.data`, :mod:`.grids`, :mod:`.wrappers` (DDP one-forward modules), :mod:`.finetune`.
``resume_from`` is a config field (``resume_config(run_dir, steps=...)`` builds it), ``steps=0`` means "the family's
default length", ``score()`` picks the best checkpoint (lower is better) and ``optimize(loss, name)`` is the
backward/step helper (it handles the fp16 GradScaler).
"""
from __future__ import annotations

import contextlib
import importlib
import pkgutil
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Type

import numpy as np
import torch

from .. import devices
from ..errors import ConfigError, DataError
from ..fsutil import slug
from ..registry import Registry
from ..tensors import to_uint8
from . import distributed as D
from ..guard import NonFiniteGuard
from ._intervals import scale_intervals
from .augment import DiffAugment
from .config import TrainConfig
from .data import to_model_input
from .ema import EMASet, make_ema
from .loop import TrainLoop
from .runs import RunFolder, TrainResult, is_data_field, may_repoint
from .schedule import LRSchedule, make_factor


# ------------------------------------------------------------------------------------------------------------
# family registry

FAMILIES = Registry("training family")
_INFRA = {"core", "config", "data", "augment", "pool", "schedule", "distributed", "runs", "state", "loop", "grids",
          "finetune", "wrappers", "run_card", "run_status", "ema", "resume_state"}
_discovered = False


def register_family(cls: Type["Trainer"]) -> Type["Trainer"]:
    if not cls.family:
        raise ValueError(f"{cls.__name__} has no family name")
    return FAMILIES.register(cls.family)(cls)


def discover_families() -> Dict[str, Type["Trainer"]]:
    """Import every module of ``engine.training`` that is not shared infrastructure (each registers its family)."""
    global _discovered
    if not _discovered:
        pkg = importlib.import_module(__package__)
        for mod in pkgutil.iter_modules(pkg.__path__):
            if mod.name not in _INFRA and not mod.name.startswith("_"):
                importlib.import_module(f"{__package__}.{mod.name}")
        _discovered = True
    return {name: FAMILIES.get(name) for name in FAMILIES}


def get_trainer(family: str) -> Type["Trainer"]:
    fams = discover_families()
    if family not in fams:
        raise ConfigError(f"Unknown training family {family!r}. Known: {', '.join(fams) or 'none'}.")
    return fams[family]


def presets(family: str) -> Dict[str, Dict[str, Any]]:
    return get_trainer(family).presets()


def build_config(family: str, preset: str = "", **overrides: Any) -> TrainConfig:
    """Defaults <- preset <- overrides (None values are ignored)."""
    cls = get_trainer(family)
    values: Dict[str, Any] = {}
    if preset:
        table = cls.presets()
        if preset not in table:
            raise ConfigError(f"Unknown preset {preset!r} for {family}; use one of {', '.join(table)}.")
        values.update(table[preset])
        values.update(scale_intervals(table[preset], overrides))  # the smoke test over 2000 steps: not every 6
    values.update({k: v for k, v in overrides.items() if v is not None})
    values.update(family=family, preset=preset)
    return cls.config_cls.from_dict(values)


def load_run_config(run_dir) -> TrainConfig:
    rf = RunFolder(run_dir)
    if not rf.root.is_dir():
        raise DataError(f"{rf.root} is a file, not a training run folder." if rf.root.exists() else
                        f"Run folder {rf.root} does not exist.")
    if not rf.config_path.exists():
        raise DataError(f"{rf.root} is not a training run folder (it has no config.json).")
    import json

    try:
        data = json.loads(rf.config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"{rf.config_path} cannot be read ({e}).") from None
    if not isinstance(data, dict):
        raise DataError(f"{rf.config_path} is damaged: it holds a JSON {type(data).__name__}, not the run's settings.")
    cls = get_trainer(str(data.get("family", "")))
    return cls.config_cls.from_dict(data, strict=False)


#: settings that may change when a run is resumed (everything else defines the run and is kept)
RESUME_OVERRIDES = ("steps", "device", "num_workers", "log_every", "sample_every", "checkpoint_every", "eval_every",
                    "compile", "amp", "cache_mb")


def resume_config(run_dir, **overrides: Any) -> TrainConfig:
    """The config of ``run_dir`` set to resume, with the allowed run-time overrides (None = keep)."""
    cfg = load_run_config(run_dir)
    given = {k: v for k, v in overrides.items() if v is not None}
    moved = {k: str(Path(v).expanduser().resolve()) for k, v in given.items()
             if is_data_field(k) and isinstance(v, str) and v and may_repoint(getattr(cfg, k, ""), v)}
    given = {k: v for k, v in given.items() if k not in moved}
    foreign = [k for k in given if not hasattr(cfg, k)]
    if foreign:
        raise ConfigError(f"{', '.join(foreign)}: {run_dir} is a {cfg.family} run, which has no such setting; resume "
                          f"it without {'it' if len(foreign) == 1 else 'them'} (or start a new run).")
    bad = [k for k, v in given.items() if k not in RESUME_OVERRIDES and getattr(cfg, k) != v]
    if bad:
        raise ConfigError(f"{', '.join(bad)} cannot be changed when resuming {run_dir} (the run was started with "
                          + ", ".join(f"{k}={getattr(cfg, k)!r}" for k in bad)
                          + "); start a new run to change it.")
    given = {k: v for k, v in given.items() if k in RESUME_OVERRIDES}
    at = int(RunFolder(run_dir).read_status().get("checkpoint_step") or 0)  # before any folder is read
    if "steps" in given and given["steps"] < at:
        raise ConfigError(f"{run_dir} is already at step {at}; to extend it, ask for more steps than that (got "
                          f"{given['steps']}).")
    return cfg.replace(resume_from=str(Path(run_dir)), out_dir=str(Path(run_dir)), **given, **moved)


def train_task(cfg: TrainConfig, ctx) -> TrainResult:
    """The job task used by the GUI, the CLI and tests."""
    trainer = get_trainer(cfg.family)(cfg, ctx)
    return trainer.run()


# ------------------------------------------------------------------------------------------------------------

class Trainer:
    """Base class; see the module docstring for the hooks a family implements."""

    family: str = ""
    config_cls: Type[TrainConfig] = TrainConfig
    #: mean losses from which progress messages are made (first ones found)
    headline: Tuple[str, ...] = ("G", "D")
    #: the family reads its folders through :meth:`data_paths`, so ``face_crop`` applies to it
    face_crop_ok: bool = False
    #: networks that get an EMA copy when ``cfg.ema_decay`` > 0 (see :meth:`out_net`)
    generators: Tuple[str, ...] = ()
    #: how the Train page offers the family for two folders of images (A and B): (key, label, config overrides)
    #: per method, ordered by ``page_rank`` across families (lowest first); () = not on the Train page
    methods: Tuple[Tuple[str, str, Dict[str, Any]], ...] = ()
    page_rank: int = 100

    def method_name(self) -> str:
        """What the run is called in its log: the method's short label (e.g. "FastCUT") where the family's
        ``methods`` has one matching the config, else the family."""
        for _key, label, overrides in self.methods:
            if all(getattr(self.cfg, k, None) == v for k, v in overrides.items()):
                return label.split(":")[0]
        return self.family

    def __init__(self, cfg: TrainConfig, ctx):
        if not isinstance(cfg, self.config_cls):
            raise ConfigError(f"{type(self).__name__} needs a {self.config_cls.__name__}, got {type(cfg).__name__}")
        if getattr(cfg, "face_crop", False) and not self.face_crop_ok:
            raise ConfigError(f"Face crop is not available for {self.family or type(self).__name__} training (its "
                              "images are paired or not photos of faces); turn face crop off.")
        self.cfg = cfg
        self.ctx = ctx
        self.nets: Dict[str, torch.nn.Module] = {}
        self.opts: Dict[str, torch.optim.Optimizer] = {}
        self.scheds: Dict[str, LRSchedule] = {}
        self.scaler = None
        self.step = 0
        self.total = cfg.steps
        self.finishing = False  # set by the loop for the last checkpoint of a run that finished its steps
        self.dist = D.DistInfo()
        self.device = torch.device("cpu")
        self.amp_dtype: Optional[torch.dtype] = None
        self.run_folder = RunFolder(cfg.resume_from or cfg.out_dir)
        self.ema = EMASet(cfg.ema_decay)
        self.aug = DiffAugment(cfg.diffaug)
        self.guard = NonFiniteGuard()  # non-finite losses/gradients skip the update (see engine/guard.py)
        self._evaluator: Any = None  # engine.metrics.TrainingEvaluator, made at the first evaluation

    # --- hooks -------------------------------------------------------------------------------------------
    @classmethod
    def presets(cls) -> Dict[str, Dict[str, Any]]:
        return {}

    @classmethod
    def adopt_init_architecture(cls, cfg: TrainConfig, library: Any = None) -> TrainConfig:
        """``cfg`` with the architecture of its ``init_from`` model, for when the user did not choose one (the CLI
        without architecture options, the Train page). Default: unchanged."""
        return cfg

    def default_steps(self) -> int:
        return 10000

    def check_run_folder(self) -> None:
        """Refuse an output folder this family cannot use, with its own message, before the core's checks and
        before anything is written (a new run only). Default: nothing."""

    def make_data(self) -> None:
        raise NotImplementedError

    def build(self) -> None:
        raise NotImplementedError

    def batches(self) -> Iterator[Any]:
        """Batches starting with the one of ``self.step`` (called after a resume has set the step). Default: the
        :class:`~engine.training.data.FolderStream` ``self.stream`` made in ``make_data``, through ``make_loader``."""
        from .data import make_loader

        return make_loader(self.stream, self.cfg.batch_size, self.step,  # type: ignore[attr-defined]
                           num_workers=self.num_workers, device=self.device)

    def train_step(self, batch: Any) -> Dict[str, torch.Tensor]:
        raise NotImplementedError

    def sample_grid(self) -> Optional[np.ndarray]:
        return None

    def export_models(self) -> List[Tuple[str, torch.nn.Module, Dict[str, Any]]]:
        return []

    def extra_state(self) -> Dict[str, Any]:
        return {}

    def load_extra_state(self, state: Dict[str, Any]) -> None:
        pass

    def fixed_inputs(self, n: int) -> Dict[str, torch.Tensor]:
        """The first ``n`` images of each folder of ``self.stream``, centre-cropped, on the device as model inputs
        (the rows of sample grids)."""
        return {k: to_model_input(v.to(self.device), self.use_channels_last) for k, v in self.stream.fixed(n).items()}

    @torch.no_grad()
    def translate_fixed(self, G: torch.nn.Module, n: int, mode=None) -> Tuple[np.ndarray, np.ndarray]:
        """``eval_fakes`` of an A -> B family: (the first ``n`` B images, ``G`` of the first ``n`` A images), uint8
        NHWC, centre-cropped; each A image is translated alone (as a user's picture is), inside the context
        ``mode`` (e.g. pix2pix's batch-norm mode) when one is given."""
        fixed = self.stream.fixed(n)
        fakes = []
        with mode or contextlib.nullcontext(), self.autocast():
            for i in range(fixed["A"].shape[0]):
                fakes.append(to_uint8(G(to_model_input(fixed["A"][i:i + 1].to(self.device))))[0])
        return fixed["B"].permute(0, 2, 3, 1).numpy(), np.stack(fakes)

    def run_name(self) -> Tuple[str, str]:
        """The run's name (``cfg.name``, else its folder's) and the slug of it that starts its models' ids."""
        run = self.cfg.name or self.run_folder.name
        return run, slug(run, "run")

    def load_generator(self, net: torch.nn.Module, info) -> None:
        """Fine-tuning: ``net`` starts from the weights of the model ``info`` (resolved and checked in make_data)."""
        from ..checkpoint import load_checkpoint, load_into

        load_into(net, load_checkpoint(info.path).tensors, what=f"generator (init model {info.name!r})")
        self.log(f"Fine-tuning: the generator starts from {info.name!r} ({info.path}).")

    def load_init(self) -> None:
        """Load ``cfg.init_from`` weights (fine-tuning); called for new runs only."""
        if self.cfg.init_from:
            raise ConfigError(f"{self.family} training cannot start from a model (init_from).")

    def score(self, losses: Dict[str, float]) -> Optional[float]:
        """Lower is better; the checkpoint with the lowest score is kept as ``best``. None = no best checkpoint."""
        return None

    def eval_fakes(self, n: int):
        """Optional: ``(real, fake)`` uint8 NHWC arrays of ``n`` images for metrics during training."""
        return None

    def evaluate(self) -> Optional[Dict[str, float]]:
        """Called every ``eval_every`` steps: ``eval_fakes(256)`` through :class:`engine.metrics.TrainingEvaluator`,
        whose real-image features are computed at the first evaluation of the run and reused after. The result is
        logged to metrics.jsonl as ``{"step", "eval": {...}}``."""
        pair = self.eval_fakes(256)
        if pair is None:
            return None
        if self._evaluator is None:  # built once per run (the Inception weights take seconds to load)
            from ..metrics import TrainingEvaluator

            self._evaluator = TrainingEvaluator(pair[0], device=str(self.device))
        rec = self._evaluator.evaluate(self.step, pair[1])
        return {k.removeprefix("eval_"): float(v) for k, v in rec.items() if k not in ("step", "eval_seconds")}

    # --- helpers for families ----------------------------------------------------------------------------
    def data_paths(self, folders: Dict[str, str]) -> Dict[str, Path]:
        """:func:`~engine.training.data.check_folder_paths`, then with ``face_crop`` the first folder (the photos)
        is replaced by its aligned face crops at the training size (cached; a DataError with the counts when most
        of its images have no face)."""
        from .data import check_folder_paths

        paths = check_folder_paths(folders)
        if self.cfg.face_crop and paths:
            from ..faces.prep import prepared_for_training

            name = next(iter(paths))
            prep = lambda: prepared_for_training(paths[name], f"folder {name}", self.cfg.image_size,  # noqa: E731
                                                 self.cfg.face_margin, self.ctx)
            if self.dist.world > 1:  # rank 0 writes the crops; the others wait, then reuse them (same manifest)
                res = prep() if self.dist.is_main else None
                D.barrier(self.dist)
                res = res or prep()
            else:
                res = prep()
            self.log(f"Face crop: {res.message()}")
            paths[name] = res.out_dir
        return paths

    def model_meta_for_export(self, meta: Dict[str, Any]) -> Dict[str, Any]:
        """A translate model trained on face crops says so (``input: face``): it is then translated in face mode."""
        if self.cfg.face_crop:
            from ..faces.prep import mark_face_model

            return mark_face_model(meta, self.cfg.face_margin, self.cfg.image_size)
        return meta

    def add_net(self, name: str, net: torch.nn.Module) -> torch.nn.Module:
        net = net.to(self.device)
        if self.use_channels_last:
            net = net.to(memory_format=torch.channels_last)
        self.nets[name] = net
        return net

    def adam(self, name: str, params, lr: Optional[float] = None, betas=None) -> torch.optim.Optimizer:
        kw: Dict[str, Any] = {}
        if self.device.type == "cuda":
            kw["fused"] = True
        opt = torch.optim.Adam(list(params), lr=lr or self.cfg.lr, betas=betas or (self.cfg.beta1, self.cfg.beta2),
                               **kw)
        self.opts[name] = opt
        self.scheds[name] = LRSchedule(opt, make_factor(self.cfg.lr_policy, self.total, self.cfg.decay_start,
                                                        self.cfg.warmup_steps))
        return opt

    def setup_ema(self) -> None:
        """Called by the loop after :meth:`build`: an EMA copy of each of ``generators`` (before a resume restores
        the state, so the copies are restored too)."""
        if self.cfg.ema_decay <= 0:
            return
        for name in self.generators:
            net = self.nets[name]
            self.ema.add(name, net, self.add_net(f"{name}_ema", make_ema(net)))

    def update_ema(self) -> None:
        if self.ema.pairs:
            self.ema.update(self.step)

    def out_net(self, name: str) -> torch.nn.Module:
        """The network to sample, evaluate and save for ``name``: its EMA copy when EMA is on."""
        return self.ema.lookup().get(name) or self.nets[name]

    def run_record(self) -> Dict[str, Any]:
        """What a model file says about the run that made it (``meta["training"]``): run folder, step, total and the
        data-efficiency recipe."""
        c = self.cfg
        rec = {"run": str(self.run_folder.root), "step": self.step, "total": self.total,
               "recipe": {"diffaug": c.diffaug, "ema_decay": c.ema_decay, "r1_gamma": c.r1_gamma,
                          "r1_every": c.r1_every}}
        if c.init_from:
            rec["init"] = self.init_lineage()
        return rec

    def init_lineage(self) -> Dict[str, Any]:
        """What a fine-tuned model started from: the model, and the training steps and seconds behind it (its own and
        those of whatever it started from in turn), so that a model card can state the whole history."""
        if getattr(self, "_lineage", None) is None:
            from ..library import ModelLibrary

            try:
                info = ModelLibrary().resolve(self.cfg.init_from)
            except Exception:  # noqa: BLE001 - a record only; the init model was checked before training
                self._lineage = {"model": self.cfg.init_from}
                return self._lineage
            tr = info.meta.get("training") or {}
            before = tr.get("init") or {}
            self._lineage = {"model": info.name, "id": info.id,
                             "steps_before": int(tr.get("step") or 0) + int(before.get("steps_before") or 0),
                             "seconds_before": round(float(tr.get("train_seconds") or 0)
                                                     + float(before.get("seconds_before") or 0), 1)}
        return self._lineage

    def r1_term(self, D: torch.nn.Module, real: torch.Tensor) -> torch.Tensor:
        """Lazy R1 (Mescheder et al. 2018): ``gamma/2 * E|grad D(real)|^2 * r1_every`` on every ``r1_every``-th step,
        zero otherwise. Add it to the discriminator's loss."""
        c = self.cfg
        if c.r1_gamma <= 0 or self.step % c.r1_every:
            return torch.zeros((), device=real.device)
        from ..losses import r1_penalty

        x = real.detach().requires_grad_(True)
        return r1_penalty(D(self.aug(x)), x, c.r1_gamma) * c.r1_every

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """DDP-wrap a module that is trained through its forward (identity in a single process)."""
        return D.wrap(module, self.dist, self.device)

    def maybe_compile(self, net: torch.nn.Module) -> torch.nn.Module:
        if self.cfg.compile:
            net.forward = torch.compile(net.forward)  # state_dict keys unchanged
        return net

    @property
    def use_channels_last(self) -> bool:
        return self.cfg.channels_last and self.device.type == "cuda"

    def autocast(self):
        return devices.autocast(self.device, self.amp_dtype, enabled=self.amp_dtype is not None)

    def optimize(self, loss: torch.Tensor, name: str) -> None:
        opt = self.opts[name]
        opt.zero_grad(set_to_none=True)
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()
        self.guard.step(opt, loss, self.scaler)  # a non-finite loss or gradient skips the update

    def log(self, message: str) -> None:
        if self.dist.is_main:
            self.run_folder.log(message)
            self.ctx.log(message)

    def progress(self, done: float, total: float, message: str) -> None:
        if self.dist.is_main:
            self.ctx.progress(done, total, message)

    # --- set-up ------------------------------------------------------------------------------------------
    def setup_device(self) -> None:
        self.dist = D.init(self.cfg.device)
        dev = devices.pick_device(None if self.cfg.device == "auto" else self.cfg.device)
        self.device = D.device_for(self.dist, dev)
        devices.setup_fast_math(self.device)
        if self.cfg.amp and self.device.type in ("cuda", "mps"):
            self.amp_dtype = devices.amp_dtype(self.device)
        if self.amp_dtype == torch.float16 and self.device.type == "cuda":
            self.scaler = torch.amp.GradScaler("cuda")

    @property
    def num_workers(self) -> int:
        n = self.cfg.num_workers
        return (4 if self.device.type == "cuda" else 0) if n < 0 else n

    def run(self) -> TrainResult:
        return TrainLoop(self).run()
