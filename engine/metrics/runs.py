"""Training runs: read ``metrics.jsonl`` for charts, and evaluate a run while it trains.

A run folder (``<user data>/runs/<name>/``) holds ``metrics.jsonl``: one JSON object per logged step with a ``step``
field and any numeric values (losses, learning rates, FID, KID ...), possibly one level nested (``"eval": {...}``).
:func:`read_metrics` turns it into one series per numeric key; bad lines are skipped and counted, a half-written
last line (a run still writing) is ignored.

:class:`TrainingEvaluator` is what a trainer calls every N steps: the real set's features are computed once
(and cached on disk for folders), each call extracts features of the generated samples (on a separate CUDA stream,
so the training stream is not blocked) and appends ``{"step", "fid", "kid", "kid_std", ...}`` to ``metrics.jsonl``.
It computes through :func:`engine.metrics.api.evaluate_sets`, like the Evaluate page and ``ganstudio eval``. The
list of run folders is :func:`engine.training.runs.list_runs`.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple


METRICS_FILE = "metrics.jsonl"


@dataclass
class RunMetrics:
    path: Path
    series: Dict[str, List[Tuple[float, float]]] = field(default_factory=dict)  # key -> [(step, value)]
    bad_lines: int = 0

    @property
    def name(self) -> str:
        return self.path.parent.name

    def keys(self) -> List[str]:
        return sorted(self.series)


def read_metrics(path) -> RunMetrics:
    """Series per numeric key from a ``metrics.jsonl`` file (or a run folder holding one)."""
    p = Path(path)
    if p.is_dir():
        p = p / METRICS_FILE
    rm = RunMetrics(p)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return rm
    lines = text.split("\n")
    for i, line in enumerate(lines):
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            if i < len(lines) - 1:  # the last line may still be being written
                rm.bad_lines += 1
            continue
        step = rec.get("step") if isinstance(rec, dict) else None
        if not _is_number(step):
            rm.bad_lines += 1
            continue
        for k, v in _flatten(rec):
            if k != "step" and _is_number(v):
                rm.series.setdefault(k, []).append((float(step), float(v)))
    for k in rm.series:
        rm.series[k].sort(key=lambda sv: sv[0])
    return rm


def _flatten(rec: Dict[str, Any]):
    """Top-level values, and one level of nested objects as ``outer_inner`` (the trainer logs
    ``{"step", "eval": {"fid": ...}}``, charted as ``eval_fid``)."""
    for k, v in rec.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                yield f"{k}_{k2}", v2
        else:
            yield k, v


def numeric_metrics(result: Dict[str, Any]) -> Dict[str, float]:
    """The finite numbers of a :func:`compute_metrics` result (for logs and charts; strings and lists dropped)."""
    return {k: float(v) for k, v in result.items() if _is_number(v)}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def append_metrics(run_dir, record: Dict[str, Any]) -> None:
    """Append one JSON line (flushed and fsynced, so a crash never leaves a half line behind a good one)."""
    if "step" not in record:
        raise ValueError("a metrics record needs a 'step'")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=False, default=float) + "\n"
    with open(run_dir / METRICS_FILE, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


class TrainingEvaluator:
    """Periodic FID/KID during training.

        ev = TrainingEvaluator(real="data/trainB", run_dir=run, every=1000)
        if ev.due(step):
            ev.evaluate(step, quantize(fakes))      # uint8 N x H x W x 3; appends to metrics.jsonl
    """

    def __init__(self, real: Any, *, run_dir=None, every: int = 1000, metrics: Optional[Sequence[str]] = None,
                 device: Optional[str] = None, options: Any = None, extractor: Any = None):
        from .features import FeatureExtractor
        from .registry_defs import MetricOptions, metric_names

        if every < 1:
            raise ValueError("every must be >= 1")
        self.real = real
        self.run_dir = Path(run_dir) if run_dir else None
        self.every = every
        self.metrics = tuple(metrics) if metrics is not None else metric_names(quick=True)  # FID, KID
        self.options = options or MetricOptions()
        self._extractor = extractor
        self._device = device
        self._factory = FeatureExtractor
        self._real_set = None
        self._real_features = None

    @property
    def extractor(self):
        if self._extractor is None:
            self._extractor = self._factory(self._device)
        return self._extractor

    def due(self, step: int) -> bool:
        return step > 0 and step % self.every == 0

    def _real(self, ctx: Any = None):
        from .cache import features_for
        from .images import image_set

        if self._real_features is None:
            self._real_set = image_set(self.real, "real")
            self._real_features = features_for(self.extractor, self._real_set, ctx, what="real images")
        return self._real_set, self._real_features

    def evaluate(self, step: int, fake: Any, ctx: Any = None) -> Dict[str, Any]:
        """Metrics of ``fake`` against the real set (through :func:`~engine.metrics.api.evaluate_sets`, with the real
        features of the first call); appended to ``metrics.jsonl`` when ``run_dir`` is set."""
        from .api import evaluate_sets
        from .images import image_set

        real_set, rf = self._real(ctx)
        res = evaluate_sets(real_set, image_set(fake, "generated"), self.metrics, ctx=ctx, extractor=self.extractor,
                            options=self.options, real_features=rf).metrics
        record: Dict[str, Any] = {"step": int(step)}
        record.update({k: v for k, v in numeric_metrics(res).items() if k not in ("n_real", "n_fake", "seconds")})
        record.update(eval_n_real=res["n_real"], eval_n_fake=res["n_fake"], eval_seconds=round(res["seconds"], 2))
        if self.run_dir is not None:
            append_metrics(self.run_dir, record)
        return record
