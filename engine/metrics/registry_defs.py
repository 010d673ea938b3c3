"""The metrics GAN Studio computes, registered in ``engine.registry.METRICS``.

Each entry is ``fn(data: MetricData) -> dict`` of result keys. A metric that cannot be computed meaningfully raises
:class:`MetricUnavailable` with a user-facing sentence (too few images, no class logits ...), which the caller
reports instead of a number.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import numpy as np

from ..config import Config, check
from ..errors import GanStudioError
from ..registry import METRICS, register_metric
from . import formulas as F
from .classifier import FeatureClassifier, classifier_scores
from .diversity import ModeCollapseReport, mode_collapse_report
from .features import FeatureSet

FID_MIN_IMAGES = 50  # below this FID is dominated by its bias: refuse and advise KID
FID_FULL_RANK = 2048  # below this the 2048-d covariance is singular: compute, but say FID is strongly biased
KID_MIN_IMAGES = 10
IS_MIN_PER_SPLIT = 10
PR_MIN_IMAGES = 10
DIVERSITY_MIN_IMAGES = 4


class MetricUnavailable(GanStudioError):
    kind = "metric"


@dataclass
class MetricOptions(Config):
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    is_splits: int = 10
    pr_k: int = 3
    classifier: str = ""  # path to a feature classifier for the classifier-based diversity scores
    mode_clusters: int = 0  # k-means clusters of the real set for mode coverage; 0 = automatic
    seed: int = 0

    def validate(self) -> None:
        check(1 <= self.kid_subsets <= 10000, "KID subsets must be between 1 and 10000")
        check(self.kid_subset_size >= 2, "the KID subset size must be at least 2")
        check(1 <= self.is_splits <= 100, "IS splits must be between 1 and 100")
        check(1 <= self.pr_k <= 50, "k for precision/recall must be between 1 and 50")


@dataclass
class MetricData:
    real: Optional[FeatureSet]
    fake: FeatureSet
    options: MetricOptions
    is_status: str = ""  # "" when class logits are available, else why not
    classifier: Optional[FeatureClassifier] = None
    report: Optional[ModeCollapseReport] = None  # filled by the mode-collapse metric


def too_few(metric: str, need: int, n_real: Optional[int], n_fake: int, kid_hint: bool = True) -> MetricUnavailable:
    have = f"generated: {n_fake}" if n_real is None else f"real: {n_real}, generated: {n_fake}"
    msg = f"{metric} needs at least {need} images in each set ({have}); with fewer it is a number that means nothing."
    if kid_hint:
        msg += " Use KID, which is unbiased for small sets."
    return MetricUnavailable(msg)


def _need_real(data: MetricData, metric: str) -> FeatureSet:
    if data.real is None or len(data.real) == 0:
        raise MetricUnavailable(f"{metric} compares with real images; give a folder of real images.")
    return data.real


@register_metric("fid", label="FID", lower_is_better=True, keys=("fid",), quick=True)
def fid_metric(data: MetricData) -> Dict[str, Any]:
    """Fréchet Inception Distance (float64, stable matrix square root)."""
    real = _need_real(data, "FID")
    nr, nf = len(real), len(data.fake)
    if min(nr, nf) < FID_MIN_IMAGES:
        raise too_few("FID", FID_MIN_IMAGES, nr, nf)
    out: Dict[str, Any] = {"fid": F.fid_from_features(real.features, data.fake.features)}
    if min(nr, nf) < FID_FULL_RANK:
        out["fid_note"] = (f"FID is biased upwards with fewer than {FID_FULL_RANK} images per set (N = {min(nr, nf)}); "
                           "compare FIDs only at equal N, and read KID beside it.")
    return out


@register_metric("kid", label="KID", lower_is_better=True, keys=("kid", "kid_std"), quick=True)
def kid_metric(data: MetricData) -> Dict[str, Any]:
    """Kernel Inception Distance: unbiased MMD^2 (cubic polynomial kernel) over subsets, mean and std."""
    real = _need_real(data, "KID")
    nr, nf = len(real), len(data.fake)
    if min(nr, nf) < KID_MIN_IMAGES:
        raise too_few("KID", KID_MIN_IMAGES, nr, nf, kid_hint=False)
    o = data.options
    mean, std = F.kid(real.features, data.fake.features, subsets=o.kid_subsets, subset_size=o.kid_subset_size,
                      seed=o.seed)
    m = min(o.kid_subset_size, nr, nf)
    out = {"kid": mean, "kid_std": std, "kid_subset_size": m, "kid_subsets": o.kid_subsets}
    if m == nr == nf:  # every subset is both whole sets: the subsets agree by construction
        out["kid_subsets"] = 1
        out["kid_note"] = (f"KID spread not measured: with {nr} real and {nf} generated images every subset holds all "
                           "of them, so its std of 0 says nothing about certainty. Add images (a few hundred) before "
                           "trusting small KID differences.")
    return out


@register_metric("is", label="Inception Score", lower_is_better=False, keys=("is", "is_std"), needs_real=False,
                 default=False)  # off unless asked: IS only means something for ImageNet-like content
def is_metric(data: MetricData) -> Dict[str, Any]:
    """Inception Score over splits (needs the user-supplied full Inception weights with class logits)."""
    if data.fake.logits is None:
        raise MetricUnavailable("Inception Score " + (data.is_status or "unavailable: no class logits."))
    n, splits = len(data.fake), data.options.is_splits
    if n < splits * IS_MIN_PER_SPLIT:
        raise too_few(f"The Inception Score over {splits} splits", splits * IS_MIN_PER_SPLIT, None, n)
    mean, std = F.inception_score(F.softmax(data.fake.logits), splits)
    return {"is": mean, "is_std": std}


@register_metric("pr", label="Precision / recall", lower_is_better=False, keys=("precision", "recall"))
def pr_metric(data: MetricData) -> Dict[str, Any]:
    """Improved precision and recall (k-NN manifolds of Inception features)."""
    real = _need_real(data, "Precision and recall")
    nr, nf = len(real), len(data.fake)
    need = max(PR_MIN_IMAGES, data.options.pr_k + 1)
    if min(nr, nf) < need:
        raise too_few("Precision and recall", need, nr, nf)
    p, r = F.precision_recall(real.features, data.fake.features, data.options.pr_k)
    return {"precision": p, "recall": r, "pr_k": data.options.pr_k}


@register_metric("diversity", label="Diversity", lower_is_better=False,
                 keys=("diversity_fake", "diversity_real", "diversity_ratio"))
def diversity_metric(data: MetricData) -> Dict[str, Any]:
    """Mean pairwise Inception feature distance, and classifier-based spread when a classifier is chosen."""
    nf = len(data.fake)
    if nf < DIVERSITY_MIN_IMAGES:
        raise too_few("Diversity", DIVERSITY_MIN_IMAGES, None, nf, kid_hint=False)
    out: Dict[str, Any] = {"diversity_fake": F.mean_pairwise_distance(data.fake.features)}
    if data.real is not None and len(data.real) >= 2:
        out["diversity_real"] = F.mean_pairwise_distance(data.real.features)
        out["diversity_ratio"] = out["diversity_fake"] / max(out["diversity_real"], 1e-12)
    if data.classifier is not None:
        scores = classifier_scores(data.classifier.predict_proba(data.fake.features))
        out.update({f"classifier_{k}": v for k, v in scores.items()})
        out["classifier"] = data.classifier.label
    return out


@register_metric("mode_collapse", label="Mode collapse", lower_is_better=True,
                 keys=("collapsed_share", "modes_covered"))
def mode_collapse_metric(data: MetricData) -> Dict[str, Any]:
    """Near-duplicate clusters among generated images and the share of real-data clusters covered."""
    nf = len(data.fake)
    if nf < DIVERSITY_MIN_IMAGES:
        raise too_few("The mode-collapse report", DIVERSITY_MIN_IMAGES, None, nf, kid_hint=False)
    real = data.real.features if data.real is not None and len(data.real) >= 2 else None
    rep = mode_collapse_report(data.fake.features, real, n_clusters=data.options.mode_clusters,
                               seed=data.options.seed)
    data.report = rep
    out: Dict[str, Any] = {"collapsed_share": rep.collapsed_share, "collapsed_clusters": len(rep.clusters),
                           "mode_collapse_summary": rep.summary()}
    if rep.covered_share is not None:
        out["modes_covered"] = rep.covered_share
        out["real_clusters"] = rep.n_real_clusters
    return out


def metric_names(*, quick: bool = False) -> Tuple[str, ...]:
    """The registered metrics in registration order (fid, kid, is, pr, diversity, mode_collapse above, then any
    registered later). ``quick``: only those registered with ``quick=True``, what ``ganstudio eval``, training-time
    evaluation and :func:`~engine.metrics.api.compute_metrics` compute unless told otherwise."""
    return tuple(n for n in METRICS.in_order() if not quick or METRICS.meta(n).get("quick"))


def default_metrics() -> Tuple[str, ...]:
    """The metrics on by default on the Evaluate page and in ``EvalConfig``: all but those registered with
    ``default=False`` (the Inception Score)."""
    return tuple(n for n in metric_names() if METRICS.meta(n).get("default", True))


def run_metric(name: str, data: MetricData) -> Dict[str, Any]:
    fn = METRICS.get(name)
    return fn(data)


def as_float(v: Any) -> Any:
    return float(v) if isinstance(v, (np.floating, np.integer)) else v
