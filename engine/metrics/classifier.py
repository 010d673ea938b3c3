"""Classifiers for the classifier-based quality and diversity scores (the Inception Score's idea without ImageNet).

The FID archive has no class logits, so the "confident prediction per image, spread-out average prediction" scores
are computed with a classifier the user picks or the project trains. The project trains a *domain classifier*:
multinomial logistic regression on the Inception pool features of two or more labelled folders (for example the
two training folders trainA and trainB, or one folder per class). It is saved as a ``.safetensors`` file of kind
``classifier`` and always reported by its label, its classes and its held-out accuracy, never as "IS".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from ..checkpoint import load_checkpoint, save_checkpoint
from ..config import Config, check
from ..errors import CheckpointError, DataError
from ..fsutil import user_data_dir
from ..jobs import span
from .formulas import entropy

INPUT_KIND = "fid-inception-pool3"


@dataclass
class FeatureClassifier:
    """Softmax regression on standardised Inception pool features."""

    classes: List[str]
    weight: np.ndarray  # C x D
    bias: np.ndarray  # C
    mean: np.ndarray  # D
    scale: np.ndarray  # D
    name: str = "domain classifier"
    accuracy: Optional[float] = None

    @property
    def label(self) -> str:
        acc = f", held-out accuracy {self.accuracy:.0%}" if self.accuracy is not None else ""
        return f"{self.name} ({len(self.classes)} classes: {', '.join(self.classes)}; logistic regression on " \
               f"Inception features{acc})"

    def predict_proba(self, feats: np.ndarray) -> np.ndarray:
        z = ((np.asarray(feats, np.float64) - self.mean) / self.scale) @ self.weight.T + self.bias
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path) -> Path:
        tensors = {k: torch.from_numpy(np.asarray(getattr(self, k), np.float32))
                   for k in ("weight", "bias", "mean", "scale")}
        meta = {"kind": "classifier", "input": INPUT_KIND, "classes": self.classes, "name": self.name,
                "accuracy": self.accuracy}
        return save_checkpoint(path, tensors, meta)

    @classmethod
    def load(cls, path) -> "FeatureClassifier":
        ck = load_checkpoint(path)
        if ck.meta.get("kind") != "classifier" or ck.meta.get("input") != INPUT_KIND:
            raise CheckpointError(f"{path} is not a GAN Studio feature classifier (kind "
                                  f"{ck.meta.get('kind')!r}); train one with 'Train domain classifier'.")
        t = {k: ck.tensors[k].double().numpy() for k in ("weight", "bias", "mean", "scale")}
        return cls(list(ck.meta["classes"]), name=ck.meta.get("name") or Path(path).stem,
                   accuracy=ck.meta.get("accuracy"), **t)


def classifier_scores(probs: np.ndarray) -> Dict[str, float]:
    """Confidence and spread of a classifier's predictions on generated images.

    ``class_entropy``: entropy of the averaged class distribution (nats; high = outputs spread over the classes),
    ``mean_entropy``: mean per-image entropy (low = confident predictions), ``score``: exp of their difference (the
    Inception Score formula with this classifier; 1 .. number of classes)."""
    p = np.asarray(probs, np.float64)
    h_avg = float(entropy(p.mean(axis=0)))
    h_each = float(entropy(p, axis=1).mean())
    return {"class_entropy": h_avg, "mean_entropy": h_each, "score": float(np.exp(h_avg - h_each)),
            "max_entropy": float(np.log(p.shape[1]))}


def fit_classifier(feats: List[np.ndarray], classes: List[str], *, name: str = "domain classifier",
                   l2: float = 1e-3, holdout: float = 0.2, seed: int = 0, steps: int = 200) -> FeatureClassifier:
    """Train on per-class feature arrays; report accuracy on a held-out share of each class."""
    if len(feats) < 2 or any(len(f) < 4 for f in feats):
        raise DataError("A domain classifier needs at least two classes with 4 or more readable images each.")
    rng = np.random.default_rng(seed)
    tr_x, tr_y, te_x, te_y = [], [], [], []
    for c, f in enumerate(feats):
        order = rng.permutation(len(f))
        n_te = max(1, int(round(holdout * len(f))))
        te_x.append(f[order[:n_te]]), te_y.append(np.full(n_te, c))
        tr_x.append(f[order[n_te:]]), tr_y.append(np.full(len(f) - n_te, c))
    x, y = np.concatenate(tr_x).astype(np.float64), np.concatenate(tr_y)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    w, b = _softmax_regression((x - mean) / scale, y, len(classes), l2, steps)
    clf = FeatureClassifier(list(classes), w, b, mean, scale, name=name)
    pred = clf.predict_proba(np.concatenate(te_x)).argmax(axis=1)
    clf.accuracy = float((pred == np.concatenate(te_y)).mean())
    return clf


def _softmax_regression(x: np.ndarray, y: np.ndarray, k: int, l2: float, steps: int):
    torch.manual_seed(0)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).long()
    w = torch.zeros(k, x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xt @ w.T + b, yt) + l2 * (w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return w.detach().numpy(), b.detach().numpy()


@dataclass
class ClassifierConfig(Config):
    folders: Dict[str, str] = field(default_factory=dict)  # class name -> folder
    out: str = ""  # "" = <user data>/classifiers/<name>.safetensors
    name: str = "domain classifier"
    device: str = "auto"

    def validate(self) -> None:
        check(len(self.folders) >= 2, "a domain classifier needs at least two folders (one per class)")


def classifiers_dir() -> Path:
    return user_data_dir() / "classifiers"


def list_classifiers() -> List[Path]:
    d = classifiers_dir()
    return sorted(d.glob("*.safetensors")) if d.is_dir() else []


def train_classifier_task(cfg: ClassifierConfig, ctx: Any, extractors: Any = None) -> Dict[str, Any]:
    """Job task: features of each folder (cached), fit, save. Returns ``{"path", "label", "accuracy"}``."""
    from .cache import ExtractorCache, features_for
    from .images import image_set

    extractor = (extractors or ExtractorCache()).get(cfg.device)
    feats = []
    names = list(cfg.folders)
    for i, (cls_name, folder) in enumerate(cfg.folders.items()):
        sub = span(ctx, i / len(names), (i + 1) / len(names))
        feats.append(features_for(extractor, image_set(folder, cls_name), sub).features)
    clf = fit_classifier(feats, names, name=cfg.name)
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in cfg.name).strip("-") or "classifier"
    path = clf.save(Path(cfg.out) if cfg.out else classifiers_dir() / f"{slug}.safetensors")
    return {"path": str(path), "label": clf.label, "accuracy": clf.accuracy}
