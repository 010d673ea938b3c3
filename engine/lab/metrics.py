"""Mode-collapse measurements for the Lab.

Toy data (:func:`toy_modes`): a generated sample is *high quality* when it lies within 3 sigma of the data's
reference points (a Gaussian centre, or the curve); it then counts for that reference point's mode. A mode is
*covered* when it received at least 20 % of its fair share of the samples (``0.2 * N / n_modes``), so a stray sample
does not count as coverage. This follows the unrolled-GAN / VEEGAN protocol (3 standard deviations) with an explicit
share threshold instead of a raw count, so it does not depend on N.

Digits (:func:`digit_modes`): diversity by a classifier. A small MLP trained on the real digits (:func:`classifier`,
~97 % held-out accuracy) labels the generated digits; the class histogram shows which digits the generator makes,
*high quality* means the classifier is at least 90 % confident, and a class is covered with the same 20 % rule. For the
conditional GAN the share of samples classified as the requested class is reported as well.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ._threads import single_thread

COVER_SHARE = 0.2
HQ_SIGMAS = 3.0
HQ_CONFIDENCE = 0.9
CLASSIFIER_VERSION = 1


@dataclass
class ModeStats:
    n_modes: int
    modes_covered: int
    hq_share: float  # share of samples that are high quality
    histogram: List[int] = field(default_factory=list)  # high-quality samples per mode
    n: int = 0
    class_accuracy: Optional[float] = None  # cGAN: share classified as the requested class
    kl_uniform: float = 0.0  # KL(histogram || uniform) in nats, 0 = perfectly balanced

    def to_dict(self) -> Dict:
        return {"n_modes": self.n_modes, "modes_covered": self.modes_covered, "hq_share": self.hq_share,
                "histogram": list(self.histogram), "n": self.n, "class_accuracy": self.class_accuracy,
                "kl_uniform": self.kl_uniform}


def _stats(hist: np.ndarray, n: int, hq: int, class_accuracy: Optional[float] = None) -> ModeStats:
    n_modes = len(hist)
    covered = int((hist >= max(1.0, COVER_SHARE * n / n_modes)).sum())
    p = hist / hist.sum() if hist.sum() else np.full(n_modes, 1.0 / n_modes)
    nz = p > 0
    kl = float((p[nz] * np.log(p[nz] * n_modes)).sum())
    return ModeStats(n_modes, covered, hq / max(1, n), [int(v) for v in hist], n, class_accuracy, kl)


@torch.no_grad()
def toy_modes(samples: torch.Tensor, data) -> ModeStats:
    """Modes covered and high-quality share of 2-D ``samples`` (N, 2) for a :class:`ToyData`."""
    s = samples.detach().float().cpu()
    s = torch.nan_to_num(s, nan=1e6, posinf=1e6, neginf=-1e6)
    dist, idx = torch.cdist(s, data.ref).min(1)
    good = dist <= HQ_SIGMAS * data.sigma
    modes = data.mode_of_ref[idx[good]]
    hist = torch.bincount(modes, minlength=data.n_modes).numpy().astype(np.float64)
    return _stats(hist, s.shape[0], int(good.sum()))


# ------------------------------------------------------------------------------------------------------------
# digits classifier

class DigitClassifier(nn.Module):
    def __init__(self, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(0.2), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def train_classifier(data, epochs: int = 300, seed: int = 0, holdout: float = 0.0) -> tuple:
    """Train :class:`DigitClassifier` on the digits (full batch, Adam, small pixel noise). Returns (model, accuracy on
    the held-out share, or on the training data when ``holdout`` is 0)."""
    with single_thread():
        return _train_classifier(data, epochs, seed, holdout)


def _train_classifier(data, epochs: int, seed: int, holdout: float) -> tuple:
    g = torch.Generator().manual_seed(seed)
    n = data.x.shape[0]
    perm = torch.randperm(n, generator=g)
    n_test = int(n * holdout)
    test, train = perm[:n_test], perm[n_test:]
    torch.manual_seed(seed)
    model = DigitClassifier()
    opt = torch.optim.Adam(model.parameters(), 2e-3, weight_decay=1e-4)
    x, y = data.x[train], data.y[train]
    for _ in range(epochs):
        xb = x + 0.1 * torch.randn(x.shape, generator=g)
        loss = F.cross_entropy(model(xb), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    xe, ye = (data.x[test], data.y[test]) if n_test else (x, y)
    with torch.no_grad():
        acc = float((model(xe).argmax(1) == ye).float().mean())
    return model, acc


def classifier(data, cache_dir=None) -> DigitClassifier:
    """The digits classifier, trained once (about a second) and kept as a safetensors file in the user cache."""
    from ..checkpoint import load_checkpoint, load_into, save_checkpoint
    from ..errors import GanStudioError
    from ..fsutil import user_cache_dir

    path = (cache_dir or user_cache_dir() / "lab") / f"digits_classifier_v{CLASSIFIER_VERSION}.safetensors"
    model = DigitClassifier()
    if path.exists():
        try:
            load_into(model, load_checkpoint(path).tensors, what="digits classifier")
            return model.eval()
        except GanStudioError:
            pass  # damaged cache file: train again and overwrite it
    model, acc = train_classifier(data)
    try:
        save_checkpoint(path, model.state_dict(), {"kind": "lab_classifier", "train_accuracy": acc})
    except OSError:
        pass  # an unwritable cache only costs a second next time
    return model.eval()


@torch.no_grad()
def digit_modes(samples: torch.Tensor, clf: nn.Module, labels: Optional[torch.Tensor] = None) -> ModeStats:
    """Class histogram (confident predictions), classes covered and high-quality share of generated digits."""
    prob = F.softmax(clf(samples.detach().float().cpu()), 1)
    conf, pred = prob.max(1)
    good = conf >= HQ_CONFIDENCE
    hist = torch.bincount(pred[good], minlength=10).numpy().astype(np.float64)
    acc = float((pred == labels.cpu()).float().mean()) if labels is not None else None
    return _stats(hist, samples.shape[0], int(good.sum()), acc)
