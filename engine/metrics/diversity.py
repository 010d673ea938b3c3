"""Diversity and mode collapse in Inception feature space.

- mean pairwise feature distance of the generated set, beside the same number for the real set (a ratio well below
  1 means the generator's outputs are less varied than the data);
- near-duplicate clusters: generated images much closer to each other than neighbouring real images (below half
  the 5th percentile of the real set's nearest-neighbour distances) are linked; connected groups of two or more are
  "collapsed clusters", reported with their members so the GUI and the report can show example images;
- mode coverage: the real set is clustered with k-means; a real cluster is covered when at least one generated
  image falls inside it (nearest centroid, within the cluster's radius). The share covered and the missed clusters
  (modes the generator dropped) are reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from .formulas import pairwise_distances

NEAR_DUPLICATE_PERCENTILE = 5.0
NEAR_DUPLICATE_FACTOR = 0.5


@dataclass
class Cluster:
    members: List[int]  # row indices into the feature array
    spread: float = 0.0  # mean distance of the members to their centre


@dataclass
class ModeCollapseReport:
    threshold: float
    threshold_rule: str
    clusters: List[Cluster] = field(default_factory=list)  # near-duplicate groups among generated images, largest first
    collapsed_share: float = 0.0  # share of generated images that sit in a near-duplicate group
    n_real_clusters: int = 0
    covered_share: Optional[float] = None  # share of real clusters that some generated image falls into
    missed_clusters: List[Cluster] = field(default_factory=list)  # real clusters no generated image reached
    fake_per_real_cluster: List[int] = field(default_factory=list)
    real_clusters: List[Cluster] = field(default_factory=list)

    def summary(self) -> str:
        n = len(self.clusters)
        text = (f"{n} near-duplicate cluster{'s' if n != 1 else ''} holding {self.collapsed_share:.0%} of the "
                f"generated images")
        if self.covered_share is not None:
            text += (f"; {self.covered_share:.0%} of {self.n_real_clusters} real-data clusters covered"
                     f" ({len(self.missed_clusters)} missed)")
        return text


def nearest_neighbour_distances(feats: np.ndarray) -> np.ndarray:
    d = pairwise_distances(feats)
    np.fill_diagonal(d, np.inf)
    return d.min(axis=1)


def near_duplicate_clusters(fake: np.ndarray, threshold: float) -> List[Cluster]:
    """Connected groups (size >= 2) of generated samples linked by distances below ``threshold``."""
    d = pairwise_distances(fake)
    n = fake.shape[0]
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ii, jj = np.nonzero(np.triu(d < threshold, k=1))
    for i, j in zip(ii.tolist(), jj.tolist()):
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[ri] = rj
    groups: dict = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) >= 2:
            c = fake[members].mean(axis=0)
            out.append(Cluster(sorted(members), float(np.linalg.norm(fake[members] - c, axis=1).mean())))
    out.sort(key=lambda c: (-len(c.members), c.spread))
    return out


def kmeans(x: np.ndarray, k: int, *, iters: int = 50, seed: int = 0):
    """k-means with k-means++ seeding (float64). Returns (centroids k x d, labels n)."""
    x = np.asarray(x, np.float64)
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    centers = [x[rng.integers(n)]]
    d2 = ((x - centers[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        p = d2 / d2.sum() if d2.sum() > 0 else np.full(n, 1.0 / n)
        centers.append(x[rng.choice(n, p=p)])
        d2 = np.minimum(d2, ((x - centers[-1]) ** 2).sum(axis=1))
    c = np.stack(centers)
    labels = np.zeros(n, dtype=np.int64)
    for it in range(iters):
        new = pairwise_distances(x, c).argmin(axis=1)
        if it and np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            if (labels == j).any():
                c[j] = x[labels == j].mean(axis=0)
    return c, labels


def coverage(real: np.ndarray, fake: np.ndarray, k: int, seed: int = 0):
    """Real clusters, the number of generated samples inside each, and the clusters none reached."""
    centers, labels = kmeans(real, k, seed=seed)
    clusters = []
    radii = np.zeros(k)
    for j in range(k):
        m = np.nonzero(labels == j)[0]
        dist = np.linalg.norm(real[m] - centers[j], axis=1) if len(m) else np.zeros(0)
        radii[j] = dist.max() if len(m) else 0.0
        clusters.append(Cluster(m.tolist(), float(dist.mean()) if len(m) else 0.0))
    d = pairwise_distances(fake, centers)
    nearest = d.argmin(axis=1)
    inside = d[np.arange(len(fake)), nearest] <= radii[nearest]
    counts = np.bincount(nearest[inside], minlength=k)
    keep = [j for j in range(k) if clusters[j].members]
    return [clusters[j] for j in keep], [int(counts[j]) for j in keep]


def mode_collapse_report(fake: np.ndarray, real: Optional[np.ndarray] = None, *, n_clusters: int = 0,
                         seed: int = 0) -> ModeCollapseReport:
    fake = np.asarray(fake, np.float64)
    if fake.shape[0] < 2:
        raise ValueError("the mode-collapse report needs at least 2 generated images")
    if real is not None and len(real) >= 2:
        real = np.asarray(real, np.float64)
        thr = NEAR_DUPLICATE_FACTOR * float(np.percentile(nearest_neighbour_distances(real),
                                                          NEAR_DUPLICATE_PERCENTILE))
        rule = (f"closer than half the {NEAR_DUPLICATE_PERCENTILE:g}th percentile of real images' nearest-neighbour "
                f"distances ({thr:.2f})")
    else:
        real = None
        thr = 0.25 * float(np.median(pairwise_distances(fake)))
        rule = f"closer than a quarter of the median distance between generated images ({thr:.2f})"
    clusters = near_duplicate_clusters(fake, thr)
    rep = ModeCollapseReport(thr, rule, clusters, sum(len(c.members) for c in clusters) / fake.shape[0])
    if real is not None and len(real) >= 4:
        k = n_clusters or int(np.clip(len(real) // 10, 2, 50))
        k = min(k, len(real))
        rclusters, counts = coverage(real, fake, k, seed=seed)
        rep.n_real_clusters = len(rclusters)
        rep.real_clusters = rclusters
        rep.fake_per_real_cluster = counts
        rep.missed_clusters = [c for c, n in zip(rclusters, counts) if n == 0]
        rep.covered_share = sum(1 for n in counts if n > 0) / max(1, len(rclusters))
    return rep
