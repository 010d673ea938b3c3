"""Closed-form colour calibration of a fast model (:class:`engine.models.mobile.OutputCalibration`).

A distilled student's main error against its teacher is a per-image colour cast: on vintagify's fast version, the best
3x3 colour matrix and offset per held-out photo would lift its PSNR from 26.3 to 32.6 dB. The student's trained colour
branches predict part of that cast; what they miss is, in part, linear in simple whole-image statistics. For each
photo this finds the best correction of the student's output toward the teacher's (least squares), then a ridge
regression from the photo's statistics to those corrections gives the calibration's weights. No gradient descent: one
student forward per photo (seconds to a minute on a CPU).

Guarded against photos that cannot teach it and against overfitting: flat photos (a correction of a single colour is
not defined) are skipped; the ridge strength is chosen by two-fold cross-validation on the photos; and when the
calibration does not lower the held-out half's error, or there are too few photos, it stays off (zero, no change).
Every photo's error under any correction is a quadratic form of a few moments of its pixels, so the cross-validation
needs no second pass over the images.
"""
from __future__ import annotations

from typing import Iterable, List, Optional, Tuple

import torch
import torch.nn as nn

from ..models.mobile import OutputCalibration

#: ridge strengths tried (on standardised statistics, per photo); the cross-validation picks one
RIDGES = (1e-3, 1e-2, 1e-1, 1.0)
#: fewer usable photos than this and the calibration stays off (a regression of 13 numbers onto 12 needs many)
MIN_PHOTOS = 32
#: a photo whose output varies less than this (standard deviation, [-1, 1] units) in every channel is skipped
FLAT = 0.02


def calibration_of(net: nn.Module) -> Optional[OutputCalibration]:
    net = getattr(net, "module", net)
    calib = getattr(net, "calib", None)
    return calib if isinstance(calib, OutputCalibration) else None


class _Photo:
    """The moments of one photo that give its error under any correction: with a = [out, 1] per pixel, the mean of
    a aᵀ (``g``), of a tᵀ (``c``) and of |t|² (``tt``)."""

    def __init__(self, out: torch.Tensor, target: torch.Tensor):
        c = out.shape[0]
        a = torch.cat([out.double().reshape(c, -1), torch.ones(1, out[0].numel(), dtype=torch.float64)])
        t = target.double().reshape(c, -1)
        n = a.shape[1]
        self.g, self.c, self.tt = a @ a.T / n, a @ t.T / n, float((t * t).sum() / n)

    def best(self) -> torch.Tensor:
        """The least-squares correction (c + 1, c): t ≈ [out, 1] · full."""
        return torch.linalg.lstsq(self.g, self.c, driver="gelsd").solution

    def error(self, full: torch.Tensor) -> float:
        """Mean squared error of the corrected output (before clamping to [-1, 1])."""
        return max(1e-10, self.tt - 2 * float((full * self.c).sum()) + float((full * (self.g @ full)).sum()))


def _as_params(full: torch.Tensor) -> torch.Tensor:
    """(c + 1, c) least-squares correction -> the calibration's layout: matrix change row by row, then the offset."""
    c = full.shape[1]
    return torch.cat([(full[:c].T - torch.eye(c, dtype=full.dtype)).reshape(-1), full[c]])


def _as_full(params: torch.Tensor, c: int) -> torch.Tensor:
    matrix = params[:c * c].reshape(c, c) + torch.eye(c, dtype=params.dtype)
    return torch.cat([matrix.T, params[c * c:][None]])


def _solve(f: torch.Tensor, y: torch.Tensor, ridge: float) -> torch.Tensor:
    """Ridge regression of ``y`` on the statistics ``f`` (last column: the constant 1, not shrunk), on standardised
    statistics; returns the weights for the raw statistics."""
    mu, sd = f[:, :-1].mean(0), f[:, :-1].std(0).clamp_min(1e-3)
    z = torch.cat([(f[:, :-1] - mu) / sd, f[:, -1:]], 1)
    reg = ridge * len(f) * torch.eye(z.shape[1], dtype=z.dtype)
    reg[-1, -1] = 0
    wz = torch.linalg.solve(z.T @ z + reg, z.T @ y)
    w = wz[:-1] / sd[:, None]
    return torch.cat([w, (wz[-1] - (mu / sd) @ wz[:-1])[None]])


def _mean_log_error(photos: List[_Photo], f: torch.Tensor, w: Optional[torch.Tensor], c: int) -> float:
    """Mean log10 MSE (-PSNR/10 up to a constant) of ``photos`` under the calibration ``w`` (None: no change)."""
    total = 0.0
    for p, fi in zip(photos, f):
        params = torch.zeros(c * (c + 1), dtype=torch.float64) if w is None else \
            (fi @ w).clamp(-OutputCalibration.LIMIT, OutputCalibration.LIMIT)
        total += torch.log10(torch.tensor(p.error(_as_full(params, c)))).item()
    return total / len(photos)


@torch.no_grad()
def fit_calibration(net: nn.Module, pairs: Iterable[Tuple[torch.Tensor, torch.Tensor]]) -> Tuple[int, str]:
    """Solve ``net``'s calibration from (input, teacher output) pairs, each (1, C, H, W) in [-1, 1]. Returns the
    number of photos it was fitted on (0: it stays off, no change) and a sentence for the run's log."""
    calib = calibration_of(net)
    if calib is None:
        return 0, "This network has no colour calibration."
    calib.reset_parameters()
    feats, photos = [], []
    for x, target in pairs:
        out = net(x)
        if not (torch.isfinite(out).all() and torch.isfinite(target).all()):
            continue
        if out[0].flatten(1).std(1).max() < FLAT:
            continue
        feats.append(calib.stats(x, out)[0].double())
        photos.append(_Photo(out[0], target[0]))
    if len(photos) < MIN_PHOTOS:
        return 0, (f"Colour calibration left off: {len(photos)} usable photos (not flat, finite), at least "
                   f"{MIN_PHOTOS} needed.")
    c = calib.output_nc
    f = torch.stack(feats)
    y = torch.stack([_as_params(p.best()) for p in photos])
    halves = [list(range(0, len(photos), 2)), list(range(1, len(photos), 2))]

    def held_out_errors(ridge: Optional[float]) -> List[float]:
        """Each half's error under the calibration fitted on the other half."""
        return [_mean_log_error([photos[i] for i in check], f[check],
                                None if ridge is None else _solve(f[fit], y[fit], ridge), c)
                for fit, check in (halves, halves[::-1])]

    base = held_out_errors(None)
    # a strength counts only if it brings both halves closer to the teacher (a chance gain on one half is noise)
    per_ridge = {r: held_out_errors(r) for r in RIDGES}
    errors = {r: sum(e) / 2 for r, e in per_ridge.items() if all(a < b for a, b in zip(e, base))}
    if not errors:
        return 0, (f"Colour calibration left off: fitted on either half of the {len(photos)} photos, it did not "
                   "bring the other half closer to the teacher.")
    best = min(errors, key=errors.get)
    weight = _solve(f, y, best)
    if not torch.isfinite(weight).all():
        return 0, "Colour calibration left off: the fit was not finite."
    calib.weight.copy_(weight.to(calib.weight.dtype))
    return len(photos), (f"Colour calibration fitted on {len(photos)} photos: on the half it was not fitted on, "
                         f"{10 * (sum(base) / 2 - errors[best]):+.2f} dB PSNR against the teacher.")
