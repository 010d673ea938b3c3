"""Metric formulas on feature arrays: FID (self, closed form, pytorch-fid's formula), KID unbiasedness, IS,
precision/recall, diversity and the mode-collapse report. No network needed: fast and exact."""
from __future__ import annotations

import numpy as np
import pytest

from engine.metrics import formulas as F
from engine.metrics.classifier import classifier_scores, fit_classifier
from engine.metrics.diversity import mode_collapse_report


def _random_cov(rng, d, scale=1.0):
    a = rng.normal(size=(d, d)) * scale
    return a @ a.T / d + 0.1 * np.eye(d)


def sqrtm_denman_beavers(a: np.ndarray, iters: int = 100) -> np.ndarray:
    """Principal square root of a (non-symmetric) matrix with positive eigenvalues, by Denman-Beavers iteration.
    An algorithm independent of the project's eigh-based one, standing in for scipy.linalg.sqrtm."""
    y, z = a.astype(np.float64), np.eye(a.shape[0])
    for _ in range(iters):
        y_next, z = 0.5 * (y + np.linalg.inv(z)), 0.5 * (z + np.linalg.inv(y))
        done = np.abs(y_next - y).max() <= 1e-13 * np.abs(y_next).max()
        y = y_next
        if done:
            break
    return y


def pytorch_fid_formula(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance, line by line, with sqrtm from Denman-Beavers."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    diff = mu1 - mu2
    covmean = sqrtm_denman_beavers(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = sqrtm_denman_beavers((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    tr_covmean = np.trace(covmean)
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean


def test_fid_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(0)
    full_rank = rng.normal(size=(400, 64)) @ rng.normal(size=(64, 64))
    assert abs(F.fid_from_features(full_rank, full_rank)) < 1e-6
    # realistic small-N case: 2048-d features, 100 images -> a singular covariance; still exactly 0, never NaN
    singular = np.abs(rng.normal(size=(100, 2048))).astype(np.float32)
    assert abs(F.fid_from_features(singular, singular)) < 1e-6
    mu, s = F.feature_stats(singular[:, :512])  # the covariance route on a singular covariance
    assert abs(F.frechet_distance(mu, s, mu, s)) < 1e-6


def test_fid_closed_form_for_gaussians_with_commuting_covariances():
    rng = np.random.default_rng(1)
    d = 32
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    a, b = rng.uniform(0.1, 4, d), rng.uniform(0.1, 4, d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = (q * a) @ q.T, (q * b) @ q.T
    closed = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert F.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(closed, rel=1e-9)


def test_fid_of_gaussian_samples_approaches_the_closed_form():
    """Two Gaussians sampled in feature space: the sample FID converges to the distance of the true parameters."""
    rng = np.random.default_rng(2)
    d, n = 6, 200_000
    mu1, mu2 = np.zeros(d), np.full(d, 0.5)
    s1, s2 = _random_cov(rng, d), _random_cov(rng, d, 2.0)
    x = rng.multivariate_normal(mu1, s1, n)
    y = rng.multivariate_normal(mu2, s2, n)
    true = pytorch_fid_formula(mu1, s1, mu2, s2)
    assert F.fid_from_features(x, y) == pytest.approx(true, rel=0.02)
    assert F.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(true, rel=1e-9)


def test_fid_equals_pytorch_fid_formula_on_the_same_features():
    rng = np.random.default_rng(3)
    d = 192
    base = np.abs(rng.normal(size=(1500, d)))  # ReLU-pool-like features, positive
    real = base @ (np.eye(d) + 0.05 * rng.normal(size=(d, d)))
    fake = np.abs(rng.normal(0.2, 1.1, size=(1200, d))) @ (np.eye(d) + 0.05 * rng.normal(size=(d, d)))
    mu1, s1 = F.feature_stats(real)
    mu2, s2 = F.feature_stats(fake)
    ours = F.fid_from_features(real, fake)
    ref = pytorch_fid_formula(mu1, s1, mu2, s2)
    assert abs(ours - ref) / ref < 1e-6
    # the small-N route (cross-Gram nuclear norm) and the covariance route agree on fewer images than dimensions
    few_r, few_f = real[:60], fake[:70]
    via_stats = F.frechet_distance(*F.feature_stats(few_r), *F.feature_stats(few_f))
    assert F.fid_from_features(few_r, few_f) == pytest.approx(via_stats, rel=1e-7)


def test_kid_is_unbiased_and_separates_distributions():
    rng = np.random.default_rng(4)
    d = 16
    # unbiased: the average over many independent pairs of samples of one distribution is ~0 ...
    est = np.array([F.mmd2_unbiased(rng.normal(size=(40, d)), rng.normal(size=(40, d))) for _ in range(300)])
    assert abs(est.mean()) < 3 * est.std() / np.sqrt(len(est))
    # ... while the biased (V-statistic) estimate of the same samples is clearly positive
    biased = []
    for _ in range(50):
        x, y = rng.normal(size=(40, d)), rng.normal(size=(40, d))
        biased.append(F.polynomial_kernel(x, x).mean() + F.polynomial_kernel(y, y).mean()
                      - 2 * F.polynomial_kernel(x, y).mean())
    assert np.mean(biased) > 10 * abs(est.mean())
    # KID over subsets: near 0 for one distribution, far from 0 for two
    same = F.kid(rng.normal(size=(300, d)), rng.normal(size=(300, d)), subsets=50, subset_size=100)
    other = F.kid(rng.normal(size=(300, d)), rng.normal(0.7, 1, size=(300, d)), subsets=50, subset_size=100)
    assert abs(same[0]) < 3 * same[1] + 1e-3
    assert other[0] > 20 * abs(same[0]) and other[0] > 3 * other[1]


def test_inception_score_extremes():
    uniform = np.full((100, 10), 0.1)
    assert F.inception_score(uniform, splits=10) == pytest.approx((1.0, 0.0), abs=1e-9)
    onehot = np.eye(10)[np.tile(np.arange(10), 10)]  # every split holds each class once, predicted with certainty
    mean, std = F.inception_score(onehot, splits=10)
    assert mean == pytest.approx(10.0, rel=1e-6) and std < 1e-6
    with pytest.raises(ValueError):
        F.inception_score(uniform[:5], splits=10)


def test_precision_recall():
    rng = np.random.default_rng(5)
    real = rng.normal(size=(400, 8))
    assert F.precision_recall(real, real.copy(), k=3) == (1.0, 1.0)
    far = rng.normal(50, 1, size=(300, 8))
    assert F.precision_recall(real, far, k=3) == (0.0, 0.0)
    narrow = rng.normal(0, 0.2, size=(300, 8))  # good-looking but not varied: high precision, low recall
    p, r = F.precision_recall(real, narrow, k=3)
    assert p > 0.9 and r < 0.3


def test_mode_collapse_report_finds_duplicates_and_missed_modes():
    rng = np.random.default_rng(6)
    centres = rng.normal(0, 30, size=(4, 16))
    real = np.concatenate([c + rng.normal(size=(50, 16)) for c in centres])
    fake = np.concatenate([centres[0] + rng.normal(size=(30, 16)), centres[1] + rng.normal(size=(30, 16)),
                           np.repeat(centres[1][None] + 2.5, 6, axis=0) + rng.normal(0, 1e-3, size=(6, 16))])
    rep = mode_collapse_report(fake, real, n_clusters=4)
    assert len(rep.clusters) >= 1
    assert sorted(rep.clusters[0].members) == list(range(60, 66))  # the six near-copies, largest cluster first
    assert len(rep.clusters) == 1 and rep.collapsed_share == pytest.approx(6 / 66)
    assert rep.covered_share == pytest.approx(0.5)
    assert len(rep.missed_clusters) == 2 and "50% of 4 real-data clusters covered" in rep.summary()


def test_mean_pairwise_distance_and_classifier_scores():
    pts = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert F.mean_pairwise_distance(pts) == pytest.approx(5.0)
    s = classifier_scores(np.array([[1.0, 0.0], [0.0, 1.0]]))
    assert s["class_entropy"] == pytest.approx(np.log(2)) and s["mean_entropy"] == pytest.approx(0, abs=1e-9)
    assert s["score"] == pytest.approx(2.0)
    rng = np.random.default_rng(7)
    clf = fit_classifier([rng.normal(0, 1, (40, 8)), rng.normal(3, 1, (40, 8))], ["A", "B"], name="toy")
    assert clf.accuracy >= 0.9 and "toy (2 classes: A, B" in clf.label
