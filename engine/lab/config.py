"""Settings of one Lab configuration and of a Lab run (one or two configurations trained in lockstep)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .. import losses as _losses_module  # noqa: F401  (registers the losses)
from ..config import Config, check, check_choice
from ..errors import ConfigError
from ..registry import LOSSES as _LOSSES
from ..registry import MINIBATCH_LAYERS
from . import nets as _nets  # noqa: F401  (registers the minibatch layers)
from .data import DATASETS

SN_GAIN_2D = 10.0


def losses() -> Tuple[str, ...]:
    """Every registered GAN loss, in registration order (engine.losses' first)."""
    return tuple(_LOSSES.in_order())


def loss_title(name: str) -> str:
    return _LOSSES.meta(name).get("title") or name


def minibatch_choices() -> Tuple[str, ...]:
    """"" (no minibatch layer) and every registered minibatch layer (engine.lab.nets' first)."""
    return ("",) + tuple(MINIBATCH_LAYERS.in_order())


def minibatch_title(name: str) -> str:
    return (MINIBATCH_LAYERS.meta(name).get("title") or name) if name else "none"


@dataclass
class LabConfig(Config):
    """One GAN of the Lab: data, loss, remedies and optimiser settings."""

    data: str = "ring8"
    loss: str = "nonsaturating"
    conditional: bool = False  # digits only: class-conditional G (label embedding) and projection D
    minibatch: str = ""  # "" or a registered minibatch layer: "discrimination", "stddev" (minibatch_choices())
    unrolled_steps: int = 0  # k > 0: G is trained against D unrolled k optimizer steps ahead
    augment: bool = False  # instance noise on 2-D data; random shifts + noise on digits (applied to real and fake)
    spectral_norm: bool = False
    sn_gain: float = 0.0  # spectral-norm D output gain (Lipschitz bound); 0: 10 on 2-D data, 1 on digits (see nets)
    lr_g: float = 1e-3
    lr_d: float = 1e-3  # a larger D rate than G rate is the two-time-scale update rule (TTUR)
    beta1: float = 0.5
    beta2: float = 0.999
    d_steps: int = 1  # D (critic) updates per G update
    clip: float = 0.01  # weight clipping bound for ``wgan``
    gp_weight: float = 1.0  # gradient penalty weight for ``wgan_gp`` (10 in the paper for images; 1 suits 2-D)
    batch_size: int = 128
    z_dim: int = 0  # 0: 16 on 2-D data, 32 on digits
    hidden: int = 128
    depth: int = 3
    seed: int = 0
    label: str = ""  # shown in the views and the benchmark table

    def validate(self) -> None:
        check_choice("data", self.data, DATASETS)
        check_choice("loss", self.loss, losses())
        check_choice("minibatch", self.minibatch, minibatch_choices())
        check(not self.conditional or self.data == "digits",
              "The conditional GAN needs class labels: choose the digits data set or turn 'conditional' off.")
        check(0 <= self.unrolled_steps <= 20, "unrolled_steps must be between 0 and 20.")
        check(self.lr_g > 0 and self.lr_d > 0, "Learning rates must be positive.")
        check(1 <= self.d_steps <= 10, "d_steps must be between 1 and 10.")
        check(2 <= self.batch_size <= 4096, "batch_size must be between 2 and 4096.")
        check(self.z_dim >= 0 and 4 <= self.hidden <= 2048 and 1 <= self.depth <= 8,
              "z_dim must be >= 0, hidden between 4 and 2048, depth between 1 and 8.")
        check(self.clip > 0 and self.gp_weight >= 0, "clip must be positive and gp_weight not negative.")
        check(self.sn_gain >= 0, "sn_gain must not be negative (0 picks the data set's default).")

    @property
    def latent_dim(self) -> int:
        return self.z_dim or (32 if self.data == "digits" else 16)

    @property
    def spectral_gain(self) -> float:
        """Gain on the spectrally normalised D's output: 1 as in the paper on digits (images in [-1, 1]); 10, about
        1 / (2 sigma), on the 2-D toys, whose modes are sigma = 0.05 wide."""
        return self.sn_gain or (1.0 if self.data == "digits" else SN_GAIN_2D)

    @property
    def ttur(self) -> bool:
        return self.lr_d != self.lr_g

    def remedies(self) -> List[str]:
        out = []
        if self.minibatch:
            out.append(minibatch_title(self.minibatch))
        if self.unrolled_steps:
            out.append(f"unrolled D (k={self.unrolled_steps})")
        if self.augment:
            out.append("augmentation")
        if self.spectral_norm:
            out.append("spectral norm" + (f" (gain {self.sn_gain:g})" if self.sn_gain else ""))
        if self.ttur:
            out.append(f"TTUR (D {self.lr_d:g}, G {self.lr_g:g})")
        if self.d_steps > 1:
            out.append(f"{self.d_steps} D steps per G step")
        return out

    def title(self) -> str:
        if self.label:
            return self.label
        rem = self.remedies()
        base = loss_title(self.loss) + (" cGAN" if self.conditional else "")
        return base + (" + " + ", ".join(rem) if rem else "")


@dataclass
class LabRun(Config):
    """What the Lab job trains: one configuration, or two side by side in lockstep."""

    left: LabConfig = field(default_factory=LabConfig)
    right: Optional[LabConfig] = None
    steps: int = 5000  # G steps per configuration
    snapshot_every_s: float = 0.25  # wall-clock interval between live snapshots (0: only at the end)
    eval_samples: int = 2000  # generated samples used by the measurements

    def validate(self) -> None:
        check(1 <= self.steps <= 10_000_000, "steps must be between 1 and 10,000,000.")
        check(self.snapshot_every_s >= 0, "snapshot_every_s must not be negative.")
        check(100 <= self.eval_samples <= 100_000, "eval_samples must be between 100 and 100,000.")
        for c in self.configs():
            if not isinstance(c, LabConfig):
                raise ConfigError("A Lab run holds LabConfig settings for each side.")

    def configs(self) -> List[LabConfig]:
        return [self.left] + ([self.right] if self.right is not None else [])

    @classmethod
    def from_dict(cls, data: Dict[str, Any], *, strict: bool = True) -> "LabRun":
        data = dict(data)
        for k in ("left", "right"):
            if isinstance(data.get(k), dict):
                data[k] = LabConfig.from_dict(data[k], strict=strict)
        return super().from_dict(data, strict=strict)
