"""Evaluate anything: the public API (:func:`compute_metrics`) and the job task (:func:`eval_task`).

    from engine.metrics import compute_metrics
    res = compute_metrics("data/testB", fake_uint8_nhwc, metrics=("fid", "kid"))
    res["kid"], res["kid_std"], res["n_real"], res["n_fake"], res["extractor"], res["resize"]

``real`` and ``fake`` may each be a folder, a list of files/folders/globs, or a uint8 ``N x H x W x 3`` array
(convert generator output with :func:`engine.metrics.quantize`). A metric that cannot be computed meaningfully is
left out of the numbers and explained in ``res["messages"][name]``. Qt-free; ``ctx`` (a job context) is optional and
gives progress and cancel.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..config import Config, check, check_choice
from ..errors import DataError
from ..fsutil import is_inside
from ..jobs import span
from ..registry import METRICS
from .cache import ExtractorCache, features_for
from .classifier import FeatureClassifier
from .diversity import ModeCollapseReport
from .features import FeatureExtractor, FeatureSet
from .images import RESIZE_LABEL, ImageSet, image_set
from .inception import NORMALISATION
from .registry_defs import MetricData, MetricOptions, MetricUnavailable, as_float, default_metrics, metric_names, run_metric


@dataclass
class Evaluation:
    """Everything one comparison produced: the numbers (``metrics``, JSON-able) and what the GUI shows."""

    metrics: Dict[str, Any]
    fake: ImageSet
    fake_features: FeatureSet
    real: Optional[ImageSet] = None
    real_features: Optional[FeatureSet] = None
    report: Optional[ModeCollapseReport] = None
    samples: Dict[str, list] = field(default_factory=dict)  # "real"/"fake" -> thumbnails (uint8 arrays)
    cluster_examples: List[list] = field(default_factory=list)  # per near-duplicate cluster: thumbnails
    missed_examples: List[list] = field(default_factory=list)  # per real cluster no generated image reached

    @property
    def label(self) -> str:
        return self.metrics.get("label", "")


def evaluate_sets(real: Optional[ImageSet], fake: ImageSet, metrics: Optional[Sequence[str]] = None, *,
                  ctx: Any = None, extractor: Optional[FeatureExtractor] = None, options: Optional[MetricOptions] = None,
                  cache_real: bool = True, label: str = "", real_features: Optional[FeatureSet] = None) -> Evaluation:
    """The one way metrics are computed (Evaluate page, CLI, training). ``real_features`` (of ``real``, from an
    earlier call with the same extractor) skips extracting the real set again, as a training run does."""
    t0 = time.perf_counter()
    options = options or MetricOptions()
    metrics = _check_metrics(metrics)
    extractor = extractor or FeatureExtractor()
    if len(fake) == 0:
        raise DataError(f"No readable images in {fake.label or 'the generated set'}"
                        + (f" ({fake.skipped[0][1]})." if fake.skipped else "."))
    needs_real = any(METRICS.meta(m).get("needs_real", True) for m in metrics)
    if real_features is None and real is not None and needs_real and len(real) == 0:
        raise DataError(f"No readable images in the real set {real.label or ''}".rstrip()
                        + (f" ({real.skipped[0][1]})." if real.skipped else ".")
                        + " Choose a folder of real images to compare with.")
    rf = real_features
    if rf is None and real is not None and needs_real:
        rf = features_for(extractor, real, span(ctx, 0.0, 0.45), cache=cache_real, what="real images")
    ff = features_for(extractor, fake, span(ctx, 0.45, 0.9), cache=False, what="generated images")
    _progress(ctx, 0.9, "Computing metrics")
    clf = FeatureClassifier.load(options.classifier) if options.classifier and "diversity" in metrics else None
    data = MetricData(rf, ff, options, extractor.is_status, clf)
    out: Dict[str, Any] = {}
    messages: Dict[str, str] = {}
    for name in metrics:
        if ctx is not None:
            ctx.check_cancel()
        try:
            out.update({k: as_float(v) for k, v in run_metric(name, data).items()})
        except MetricUnavailable as e:
            messages[name] = str(e)
    out.update(n_real=len(rf) if rf is not None else 0, n_fake=len(ff), extractor=extractor.label,
               resize=RESIZE_LABEL, normalisation=NORMALISATION, device=str(extractor.device), messages=messages,
               metrics=list(metrics), label=label or fake.label, real_source=_describe(real),
               fake_source=_describe(fake), real_features_cached=bool(rf is not None and rf.from_cache),
               skipped=[{"set": s, "path": p, "reason": r} for s, fs in (("real", rf), ("generated", ff))
                        if fs is not None for p, r in fs.skipped],
               seconds=round(time.perf_counter() - t0, 3))
    _progress(ctx, 1.0, "Done")
    return Evaluation(out, fake, ff, real, rf, data.report)


def compute_metrics(real: Any, fake: Any, metrics: Optional[Sequence[str]] = None, *, ctx: Any = None,
                    extractor: Optional[FeatureExtractor] = None, device: Optional[str] = None,
                    options: Optional[MetricOptions] = None, cache_real: bool = True, label: str = "") -> Dict[str, Any]:
    """Compare real and generated images; returns the flat result dict (see the module docstring)."""
    rs = image_set(real, "real") if real is not None else None
    fs = image_set(fake, "generated")
    extractor = extractor or FeatureExtractor(device)
    return evaluate_sets(rs, fs, metrics, ctx=ctx, extractor=extractor, options=options, cache_real=cache_real,
                         label=label).metrics


def _check_metrics(metrics: Optional[Sequence[str]]) -> List[str]:
    """The metric names to compute (aliases resolved, checked against the registry); None: the quick set."""
    if metrics is None:
        metrics = metric_names(quick=True)
    names = [m.strip().lower() for m in metrics if m and m.strip()]
    aliases = {"precision": "pr", "recall": "pr", "inception_score": "is", "modes": "mode_collapse"}
    names = list(dict.fromkeys(aliases.get(n, n) for n in names))
    bad = [n for n in names if n not in METRICS]
    if bad:
        raise DataError(f"Unknown metric {bad[0]!r}. Choose from: {', '.join(metric_names())}.")
    if not names:
        raise DataError("Choose at least one metric.")
    return names


def _describe(s: Optional[ImageSet]) -> str:
    if s is None:
        return ""
    if s.folder is not None:
        return str(s.folder)
    if s.array is not None:
        return f"{len(s)} images in memory"
    return f"{len(s)} files"


def _progress(ctx: Any, frac: float, msg: str) -> None:
    if ctx is not None:
        ctx.progress(frac, 1.0, msg)


# ------------------------------------------------------------------------------------------------------------
# the job task: two folders, or a model on a test folder

@dataclass
class EvalConfig(Config):
    real: Tuple[str, ...] = ()  # folders/files of real images
    fake: Tuple[str, ...] = ()  # folders/files of generated images (or use model + inputs)
    model: str = ""  # library model id/name/file/run folder: translate `inputs`, compare with `real`
    inputs: Tuple[str, ...] = ()
    direction: str = "AtoB"
    out_dir: str = ""  # where the model's outputs are written; "" = the cache folder
    metrics: Tuple[str, ...] = field(default_factory=default_metrics)  # all but IS (registry_defs)
    options: MetricOptions = field(default_factory=MetricOptions)
    device: str = "auto"
    is_weights: str = ""
    label: str = ""
    samples: int = 16  # thumbnails per set for the sample grids
    cluster_examples: int = 6  # example images per cluster
    cache_real: bool = True
    allow_same: bool = False  # compare a folder with itself (FID 0 by construction) on purpose

    def validate(self) -> None:
        check_choice("direction", self.direction, ("AtoB", "BtoA"))
        check(bool(self.fake) != bool(self.model), "give either generated images or a model (with inputs)")
        same = same_sets(self.real, self.fake)
        check(self.allow_same or not same,
              f"the real and generated images are the same ({same}), so FID and KID would be 0 by construction; "
              "choose two different folders")
        check(not self.model or bool(self.inputs), "a model needs input images to translate")
        check(not self.out_dir or not os.path.lexists(os.path.expanduser(self.out_dir))
              or os.path.isdir(os.path.expanduser(self.out_dir)),
              f"{self.out_dir} is a file; give a folder for the translated images")
        clash = overlapping(self.out_dir, (*self.inputs, *self.real)) if self.model and self.out_dir else ""
        check(not clash, f"the folder for the translated images ({self.out_dir}) overlaps {clash}: it would mix "
              "generated images with the inputs or the real ones; choose a separate folder")
        check(0 <= self.samples <= 256 and 0 <= self.cluster_examples <= 64, "too many sample images requested")


def overlapping(out: str, paths) -> str:
    """The first of ``paths`` that is ``out``, lies inside it or contains it (links followed), or ""."""
    o = os.path.expanduser(str(out))
    for p in paths:
        q = os.path.expanduser(str(p)) if str(p) else ""
        if q and (is_inside(q, o) or is_inside(o, q)):
            return str(p)
    return ""


def same_sets(a, b) -> str:
    """The first path of ``b`` that is one of ``a`` (symbolic links followed), or ""."""
    import os

    real = {os.path.realpath(os.path.expanduser(str(p))) for p in a if str(p)}
    return next((str(p) for p in b if str(p) and os.path.realpath(os.path.expanduser(str(p))) in real), "")


def eval_task(cfg: EvalConfig, ctx: Any, library: Any = None, extractors: Optional[ExtractorCache] = None
              ) -> Evaluation:
    """Job task. Translates first when ``cfg.model`` is set; returns an :class:`Evaluation` with thumbnails."""
    from .translate_eval import translate_for_eval

    real = image_set(list(cfg.real), "real") if cfg.real else None
    start = 0.0
    label = cfg.label
    if cfg.model:
        folder, info_name, skipped_inputs = translate_for_eval(cfg, span(ctx, 0.0, 0.4), library)
        fake = image_set(folder, info_name)
        label = label or info_name
        start = 0.4
    else:
        fake = image_set(list(cfg.fake), "generated")
    _progress(ctx, start, "Loading the Inception network")
    extractor = (extractors or ExtractorCache()).get(cfg.device, cfg.is_weights)
    ev = evaluate_sets(real, fake, cfg.metrics, ctx=span(ctx, start, 0.95), extractor=extractor,
                       options=cfg.options, cache_real=cfg.cache_real, label=label)
    if cfg.model:
        ev.metrics.update(model=cfg.model, inputs=list(cfg.inputs), generated_folder=str(fake.folder))
        ev.metrics["skipped"] += [{"set": "inputs", "path": p, "reason": r} for p, r in skipped_inputs]
    _progress(ctx, 0.95, "Preparing sample images")
    add_thumbnails(ev, cfg.samples, cfg.cluster_examples)
    _progress(ctx, 1.0, "Done")
    return ev


def add_thumbnails(ev: Evaluation, samples: int, per_cluster: int, side: int = 128) -> None:
    """Sample grids of both sets and example images of the collapsed and the missed clusters."""
    def thumbs(s: ImageSet, idx) -> list:
        return [t for t in (s.thumbnail(int(i), side) for i in idx) if t is not None]

    ev.samples["fake"] = thumbs(ev.fake, ev.fake_features.index[:samples])
    if ev.real is not None and ev.real_features is not None:
        ev.samples["real"] = thumbs(ev.real, ev.real_features.index[:samples])
    if ev.report is None:
        return
    ev.cluster_examples = [thumbs(ev.fake, ev.fake_features.index[c.members[:per_cluster]])
                           for c in ev.report.clusters[:12]]
    if ev.real is not None and ev.real_features is not None:
        ev.missed_examples = [thumbs(ev.real, ev.real_features.index[c.members[:per_cluster]])
                              for c in ev.report.missed_clusters[:12]]
    ev.metrics["collapsed_cluster_files"] = [[ev.fake.name(int(ev.fake_features.index[m])) for m in c.members]
                                             for c in ev.report.clusters[:50]]
