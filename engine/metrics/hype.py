"""HYPE human evaluation (Zhou et al., NeurIPS 2019): engine side, Qt-free.

A *session* shows one rater real and generated images one at a time in a random order and records each answer
("real" or "fake"). Two modes:

- ``inf`` (HYPE-infinity): unlimited viewing time. Score = error rate over all answers (fakes taken for real plus
  reals taken for fake), in percent; 50 % means indistinguishable from real. The fake and real error rates are
  reported beside it.
- ``time`` (HYPE-time): each image is visible for an exposure time and then masked. A 3-up/1-down staircase adapts
  the exposure: after three correct answers in a row it gets one step shorter, after a wrong answer one step longer.
  A rater's perceptual threshold is the modal exposure (the one shown most often); the score is the mean threshold
  over raters, in ms (longer = images look real for longer = better).

Scores come with a 95 % bootstrap confidence interval (raters resampled, then answers within each rater). Sessions
are JSON files written atomically after every answer, so a session can be closed and resumed; the sessions of
several raters merge by passing them all to :func:`score`.
"""
from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from ..errors import DataError, GanStudioError
from ..fsutil import atomic_write_text, user_data_dir, write_unique
from ..imageio import load_image

FORMAT = "ganstudio.hype"
VERSION = 1
# 2-frame steps at 60 Hz from 100 ms to 1000 ms, start at 500 ms
EXPOSURES_MS = [round(100 + i * 1000 / 30, 1) for i in range(28)]
START_EXPOSURE_INDEX = 12
MODES = ("inf", "time")


@dataclass
class Answer:
    item: int  # index into Session.items
    is_real: bool  # ground truth
    said_real: bool
    exposure_ms: Optional[float] = None
    response_ms: Optional[float] = None
    at: float = 0.0

    @property
    def correct(self) -> bool:
        return self.is_real == self.said_real


@dataclass
class Session:
    mode: str
    rater: str
    items: List[Dict[str, Any]]  # {"path": str, "real": bool}
    order: List[int]
    answers: List[Answer] = field(default_factory=list)
    level: int = START_EXPOSURE_INDEX  # staircase position (HYPE-time)
    streak: int = 0  # correct answers in a row at this level
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S"))
    path: Optional[str] = None
    skipped: List[str] = field(default_factory=list, compare=False)  # unreadable files left out (not saved)

    # --- progress ----------------------------------------------------------------------------------------
    @property
    def position(self) -> int:
        return len(self.answers)

    @property
    def finished(self) -> bool:
        return self.position >= len(self.order)

    def current(self) -> Optional[Dict[str, Any]]:
        """The item to show next (None when finished)."""
        return None if self.finished else self.items[self.order[self.position]]

    def exposure_ms(self) -> Optional[float]:
        return EXPOSURES_MS[self.level] if self.mode == "time" else None

    def answer(self, said_real: bool, response_ms: Optional[float] = None) -> Answer:
        if self.finished:
            raise DataError("This HYPE session is finished; start a new one to rate more images.")
        idx = self.order[self.position]
        a = Answer(idx, bool(self.items[idx]["real"]), bool(said_real), self.exposure_ms(), response_ms, time.time())
        self.answers.append(a)
        if self.mode == "time":
            self._staircase(a.correct)
        if self.path:
            self.save(self.path)
        return a

    def _staircase(self, correct: bool) -> None:
        if correct:
            self.streak += 1
            if self.streak >= 3:
                self.level, self.streak = max(0, self.level - 1), 0
        else:
            self.level, self.streak = min(len(EXPOSURES_MS) - 1, self.level + 1), 0

    # --- files -------------------------------------------------------------------------------------------
    def to_dict(self) -> Dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "mode": self.mode, "rater": self.rater, "created": self.created,
                "items": self.items, "order": self.order, "level": self.level, "streak": self.streak,
                "exposures_ms": EXPOSURES_MS, "answers": [asdict(a) for a in self.answers]}

    def save(self, path) -> Path:
        path = Path(path)
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1))
        self.path = str(path)
        return path

    def save_new(self, folder, stem: str) -> Path:
        """Save under ``folder/stem.json`` or the first free ``stem_N.json``, claimed atomically: two sessions
        started in the same second never share a file. Later saves go to the same file."""
        path = write_unique(Path(folder) / f"{stem}.json", json.dumps(self.to_dict(), indent=1).encode("utf-8"))
        self.path = str(path)
        return path

    @classmethod
    def load(cls, path) -> "Session":
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise DataError(f"Cannot read the HYPE session {path}: {e}.") from None
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise DataError(f"{path} is not a GAN Studio HYPE session file.")
        if d.get("version", 0) > VERSION:
            raise DataError(f"{path} was written by a newer GAN Studio (session version {d.get('version')}).")
        s = cls(d["mode"], d.get("rater", ""), d["items"], d["order"], [Answer(**a) for a in d.get("answers", [])],
                d.get("level", START_EXPOSURE_INDEX), d.get("streak", 0), d.get("created", ""), str(path))
        if s.mode not in MODES:
            raise DataError(f"{path}: unknown HYPE mode {s.mode!r}.")
        return s


def decodes(path: str) -> bool:
    """True when ``path`` opens as an image (a rater must never be shown a broken item)."""
    try:
        load_image(path)
    except (GanStudioError, OSError):
        return False
    return True


def new_session(real: Sequence, fake: Sequence, *, mode: str = "inf", rater: str = "", n_each: int = 50,
                seed: Optional[int] = None, path=None, readable: Optional[Callable[[str], bool]] = None) -> Session:
    """A balanced session: ``n_each`` real and ``n_each`` generated images (or fewer if fewer exist), shuffled.
    ``readable`` (e.g. :func:`decodes`): images it refuses are left out, drawn again from the rest, and listed in
    ``Session.skipped``."""
    if mode not in MODES:
        raise DataError(f"HYPE mode must be one of {', '.join(MODES)}; got {mode!r}.")
    real, fake = [str(p) for p in real], [str(p) for p in fake]
    n = min(n_each, len(real), len(fake))
    rng = random.Random(seed)
    skipped: List[str] = []
    if n >= 5 and readable is not None:
        real, fake = (_draw_readable(paths, n, rng, readable, skipped) for paths in (real, fake))
        n = min(n, len(real), len(fake))
    if n < 5:
        bad = f", {len(skipped)} unreadable file{'s' if len(skipped) != 1 else ''} left out" if skipped else ""
        raise DataError(f"HYPE needs at least 5 real and 5 generated images (got {len(real)} real, {len(fake)} "
                        f"generated{bad}).")
    items = [{"path": p, "real": True} for p in rng.sample(real, n)] + \
            [{"path": p, "real": False} for p in rng.sample(fake, n)]
    order = list(range(len(items)))
    rng.shuffle(order)
    s = Session(mode, rater or "rater", items, order, skipped=skipped)
    if path:
        s.save(path)
    return s


def _draw_readable(paths: List[str], n: int, rng: random.Random, readable, skipped: List[str]) -> List[str]:
    """Up to ``n`` of ``paths`` that ``readable`` accepts, tried in random order (only as many as needed)."""
    out: List[str] = []
    for p in rng.sample(paths, len(paths)):
        if len(out) == n:
            break
        (out if readable(p) else skipped).append(p)
    return out


def sessions_dir() -> Path:
    return user_data_dir() / "hype"


@dataclass
class HypeScore:
    mode: str
    score: float  # percent error (inf) or ms (time)
    ci_low: float
    ci_high: float
    n_answers: int
    n_raters: int
    fake_error: Optional[float] = None  # percent of generated images judged real (inf)
    real_error: Optional[float] = None  # percent of real images judged fake (inf)
    per_rater: Dict[str, float] = field(default_factory=dict)

    def text(self) -> str:
        unit = "%" if self.mode == "inf" else " ms"
        name = "HYPE-∞" if self.mode == "inf" else "HYPE-time"
        t = (f"{name} {self.score:.1f}{unit} (95% CI {self.ci_low:.1f}–{self.ci_high:.1f}{unit}; "
             f"{self.n_answers} answers from {self.n_raters} rater{'s' if self.n_raters != 1 else ''})")
        if self.fake_error is not None:
            t += f"; fakes taken for real {self.fake_error:.1f}%, reals taken for fake {self.real_error:.1f}%"
        return t


def _error_rate(answers: Sequence[Answer]) -> float:
    return 100.0 * sum(not a.correct for a in answers) / max(1, len(answers))


def _threshold(answers: Sequence[Answer]) -> float:
    """Modal exposure (ties: the shorter one)."""
    c = Counter(a.exposure_ms for a in answers if a.exposure_ms is not None)
    best = max(c.values())
    return float(min(e for e, n in c.items() if n == best))


def _merge(sessions: Sequence[Session]) -> Dict[str, List[Answer]]:
    by_rater: Dict[str, List[Answer]] = {}
    for s in sessions:
        by_rater.setdefault(s.rater or "rater", []).extend(s.answers)
    return {r: a for r, a in by_rater.items() if a}


def score(sessions: Sequence[Session], *, n_boot: int = 2000, seed: int = 0) -> HypeScore:
    """Merge sessions (one mode) and score them with a bootstrap 95% CI."""
    modes = {s.mode for s in sessions}
    if len(modes) != 1:
        raise DataError("HYPE sessions of different modes (HYPE-∞ and HYPE-time) cannot be merged.")
    mode = modes.pop()
    by_rater = _merge(sessions)
    if not by_rater:
        raise DataError("These HYPE sessions hold no answers yet.")
    stat = _error_rate if mode == "inf" else _threshold
    per_rater = {r: stat(a) for r, a in by_rater.items()}
    if mode == "inf":
        every = [a for ans in by_rater.values() for a in ans]
        value = _error_rate(every)
    else:
        value = float(np.mean(list(per_rater.values())))
    lo, hi = _bootstrap(list(by_rater.values()), stat, mode, n_boot, seed)
    out = HypeScore(mode, value, lo, hi, sum(len(a) for a in by_rater.values()), len(by_rater), per_rater=per_rater)
    if mode == "inf":
        every = [a for ans in by_rater.values() for a in ans]
        out.fake_error = _error_rate([a for a in every if not a.is_real])
        out.real_error = _error_rate([a for a in every if a.is_real])
    return out


def _bootstrap(groups: List[List[Answer]], stat, mode: str, n_boot: int, seed: int):
    rng = np.random.default_rng(seed)
    vals = np.empty(n_boot)
    for b in range(n_boot):
        raters = [groups[i] for i in rng.integers(len(groups), size=len(groups))]
        resampled = [[g[j] for j in rng.integers(len(g), size=len(g))] for g in raters]
        if mode == "inf":
            vals[b] = _error_rate([a for g in resampled for a in g])
        else:
            vals[b] = np.mean([stat(g) for g in resampled])
    return float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))
