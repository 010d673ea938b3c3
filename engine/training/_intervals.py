"""Log, sample and checkpoint intervals that fit the length of the run.

A preset's intervals are tuned for the preset's own length: the 12-step smoke test checkpoints every 6 steps, which
over a 2000-step run means 333 checkpoints and a log full of them. When a run is longer than its preset, each
interval the user did not set grows to a fixed share of the run (checkpoints about every 5 %, samples every 2.5 %,
loss logs every 0.25 %), never below the preset's own value.
"""
from __future__ import annotations

import math
from typing import Any, Dict

#: interval -> share of the run between two events
SHARES = {"checkpoint_every": 1 / 20, "sample_every": 1 / 40, "log_every": 1 / 400}


def nice_floor(x: float) -> int:
    """The largest 1, 2 or 5 times a power of ten that is at most ``x`` (at least 1)."""
    if x < 1:
        return 1
    p = 10 ** int(math.floor(math.log10(x)))
    return max(m * p for m in (1, 2, 5) if m * p <= x)


def scale_intervals(preset: Dict[str, Any], overrides: Dict[str, Any]) -> Dict[str, int]:
    """The intervals to use instead of the preset's for a run of ``overrides["steps"]`` steps (only the ones that
    change; an interval the user gave, or one the preset turns off with 0, is kept)."""
    steps = int(overrides.get("steps") or 0)
    base = int(preset.get("steps") or 0)
    if steps <= base:
        return {}
    out: Dict[str, int] = {}
    for key, share in SHARES.items():
        if overrides.get(key) is not None or key not in preset or not preset[key]:
            continue
        scaled = max(int(preset[key]), nice_floor(steps * share))
        if scaled != preset[key]:
            out[key] = scaled
    return out
