"""Evaluation metrics: Inception features (TF FID weights), FID, KID, IS, precision/recall, diversity, mode collapse,
HYPE human evaluation. Qt-free.

Public API for the GUI, the CLI and the trainers::

    from engine.metrics import compute_metrics, quantize
    res = compute_metrics(real_folder, quantize(generator_output), metrics=("fid", "kid"))

See :mod:`engine.metrics.api` for the result keys and :mod:`engine.metrics.runs` for evaluation during training.
"""
from . import registry_defs as _registry_defs  # noqa: F401  (registers the metrics)
from .api import (EvalConfig, Evaluation, ExtractorCache, compute_metrics, eval_task, evaluate_sets,
                  features_for)
from .features import FeatureExtractor, FeatureSet
from .images import RESIZE_LABEL, ImageSet, image_set, quantize
from .registry_defs import MetricOptions, MetricUnavailable, default_metrics, metric_names
from .runs import TrainingEvaluator, numeric_metrics
from .weights import EXTRACTOR_LABEL

__all__ = ["EXTRACTOR_LABEL", "EvalConfig", "Evaluation", "ExtractorCache", "FeatureExtractor",
           "FeatureSet", "ImageSet", "MetricOptions", "MetricUnavailable", "RESIZE_LABEL", "compute_metrics",
           "default_metrics", "eval_task", "evaluate_sets", "features_for", "image_set", "metric_names",
           "numeric_metrics", "quantize", "TrainingEvaluator"]
