"""The metric formulas on feature arrays (numpy, float64). No images, no networks: easy to test exactly.

- FID (Heusel et al. 2017): ``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^1/2)``. The trace of the square root is
  computed stably as the sum of the square roots of the eigenvalues of the symmetric matrix ``S1^1/2 S2 S1^1/2``
  (same eigenvalues as ``S1 S2``), both from ``eigh`` in float64 with tiny negative round-off clipped to 0. No
  complex parts to discard, no ``sqrtm`` failing on singular products. With fewer images than dimensions the same
  trace is the nuclear norm of the small cross-Gram matrix of the centred features (exact, and much faster).
- KID (Binkowski et al. 2018): unbiased MMD^2 with the kernel ``(x.y / d + 1)^3`` over random subsets; mean and std.
- Inception Score (Salimans et al. 2016): ``exp(E_x KL(p(y|x) || p(y)))`` over splits; mean and std.
- Precision and recall (Kynkaanniemi et al. 2019): k-NN manifolds, a sample is inside a set's manifold when it lies
  within the k-th nearest-neighbour radius of one of the set's samples.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np


def feature_stats(feats: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased, N-1) covariance in float64, as pytorch-fid computes them."""
    f = np.asarray(feats, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError("need at least 2 feature vectors to estimate a covariance")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def trace_sqrt_product(s1: np.ndarray, s2: np.ndarray) -> float:
    """``tr((S1 S2)^1/2)`` for covariance matrices: with ``S1 = V W V^T`` and ``L = V W^1/2``, the eigenvalues of
    ``S1 S2`` are those of the symmetric ``L^T S2 L``."""
    s1 = np.asarray(s1, dtype=np.float64)
    w, v = np.linalg.eigh((s1 + s1.T) * 0.5)
    lf = v * np.sqrt(np.clip(w, 0.0, None))
    m = lf.T @ np.asarray(s2, dtype=np.float64) @ lf
    e = np.linalg.eigvalsh((m + m.T) * 0.5)
    return float(np.sqrt(np.clip(e, 0.0, None)).sum())


def trace_sqrt_product_from_features(x: np.ndarray, y: np.ndarray) -> float:
    """The same trace from the features, cheaper when there are fewer images than dimensions.

    With centred features ``A`` (n1 x d) and ``B`` (n2 x d), ``S1 S2`` has the non-zero eigenvalues of ``M M^T``,
    ``M = A B^T / sqrt((n1 - 1)(n2 - 1))``, so the trace of its square root is the sum of ``M``'s singular values."""
    a = np.asarray(x, np.float64)
    b = np.asarray(y, np.float64)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    m = (a @ b.T) / np.sqrt((a.shape[0] - 1) * (b.shape[0] - 1))
    return float(np.linalg.svd(m, compute_uv=False).sum())


def frechet_distance(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.atleast_2d(np.asarray(s1, np.float64)), np.atleast_2d(np.asarray(s2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape:
        raise ValueError("the two sets of statistics have different dimensions")
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt_product(s1, s2))
    return max(value, 0.0)


def fid_from_features(real: np.ndarray, fake: np.ndarray) -> float:
    """FID of two feature sets; the trace term from the features when that is cheaper (N small next to d)."""
    n1, n2, d = real.shape[0], fake.shape[0], real.shape[1]
    if n1 < 2 or n2 < 2:
        raise ValueError("need at least 2 feature vectors in each set")
    if n1 * n2 * min(n1, n2) >= 2 * d ** 3:
        return frechet_distance(*feature_stats(real), *feature_stats(fake))
    mu1, mu2 = np.asarray(real, np.float64).mean(axis=0), np.asarray(fake, np.float64).mean(axis=0)
    tr1 = float(np.asarray(real, np.float64).var(axis=0, ddof=1).sum())
    tr2 = float(np.asarray(fake, np.float64).var(axis=0, ddof=1).sum())
    diff = mu1 - mu2
    return max(float(diff @ diff + tr1 + tr2 - 2.0 * trace_sqrt_product_from_features(real, fake)), 0.0)


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    d = x.shape[1]
    return (x @ y.T / d + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 between samples ``x`` (m x d) and ``y`` (n x d), polynomial kernel."""
    m, n = x.shape[0], y.shape[0]
    if m < 2 or n < 2:
        raise ValueError("the unbiased MMD needs at least 2 samples in each set")
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2.0 * kxy.mean())


def kid(real: np.ndarray, fake: np.ndarray, *, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> Tuple[float, float]:
    """KID mean and std over ``subsets`` random subsets of ``min(subset_size, n_real, n_fake)`` samples each."""
    x, y = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    m = min(subset_size, x.shape[0], y.shape[0])
    rng = np.random.default_rng(seed)
    vals = np.empty(subsets)
    for i in range(subsets):
        xs = x[rng.choice(x.shape[0], m, replace=False)]
        ys = y[rng.choice(y.shape[0], m, replace=False)]
        vals[i] = mmd2_unbiased(xs, ys)
    return float(vals.mean()), float(vals.std())


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def inception_score(probs: np.ndarray, splits: int = 10) -> Tuple[float, float]:
    """IS mean and std over ``splits`` consecutive splits of the class probabilities ``p(y|x)`` (N x C)."""
    p = np.asarray(probs, np.float64)
    n = p.shape[0]
    if n < splits:
        raise ValueError(f"the Inception Score over {splits} splits needs at least {splits} images")
    scores = []
    for k in range(splits):
        part = p[k * n // splits:(k + 1) * n // splits]
        py = part.mean(axis=0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(py + 1e-12))).sum(axis=1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    p = np.asarray(p, np.float64)
    return -(p * np.log(np.clip(p, 1e-12, None))).sum(axis=axis)


def pairwise_distances(a: np.ndarray, b: Optional[np.ndarray] = None, chunk: int = 2048) -> np.ndarray:
    """Euclidean distances (float64), in row chunks to bound memory."""
    a = np.asarray(a, np.float64)
    b = a if b is None else np.asarray(b, np.float64)
    bb = (b * b).sum(axis=1)
    out = np.empty((a.shape[0], b.shape[0]))
    for i in range(0, a.shape[0], chunk):
        x = a[i:i + chunk]
        d2 = (x * x).sum(axis=1)[:, None] + bb[None, :] - 2.0 * x @ b.T
        out[i:i + chunk] = np.sqrt(np.clip(d2, 0.0, None))
    return out


def knn_radii(feats: np.ndarray, k: int) -> np.ndarray:
    """Distance of each sample to its k-th nearest neighbour in the same set (itself excluded)."""
    d = pairwise_distances(feats)
    np.fill_diagonal(d, np.inf)
    return np.partition(d, k - 1, axis=1)[:, k - 1]


def manifold_coverage(ref: np.ndarray, radii: np.ndarray, query: np.ndarray) -> float:
    """Share of ``query`` samples inside the union of balls around ``ref`` with ``radii``."""
    d = pairwise_distances(query, ref)
    return float((d <= radii[None, :]).any(axis=1).mean())


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> Tuple[float, float]:
    """Improved precision and recall (k-NN manifolds in feature space)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.shape[0] <= k or fake.shape[0] <= k:
        raise ValueError(f"precision and recall with k={k} need more than {k} images in each set")
    precision = manifold_coverage(real, knn_radii(real, k), fake)
    recall = manifold_coverage(fake, knn_radii(fake, k), real)
    return precision, recall


def mean_pairwise_distance(feats: np.ndarray) -> float:
    f = np.asarray(feats, np.float64)
    n = f.shape[0]
    if n < 2:
        raise ValueError("need at least 2 samples")
    d = pairwise_distances(f)
    return float(d.sum() / (n * (n - 1)))
