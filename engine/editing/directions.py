"""Edit directions: GANSpace (PCA), SeFa (closed-form factorisation), user-defined (a linear classifier in w).

A :class:`DirectionSet` holds unit vectors in the model's latent space (w or z), a scale per direction (the standard
deviation of sampled latents along it, so a slider moves in "sigmas") and the w+ rows each direction acts on.
Sets are saved as ``.safetensors`` (tensors + JSON metadata) through :mod:`engine.checkpoint`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import torch

from ..checkpoint import load_checkpoint, save_checkpoint
from ..errors import CheckpointError, ConfigError
from .latent import LatentModel


@dataclass
class DirectionSet:
    vectors: torch.Tensor  # (K, dim), unit rows
    sigmas: torch.Tensor  # (K,)
    names: List[str]
    space: str  # "w" or "z"
    method: str = ""
    layers: List[Tuple[int, int]] = field(default_factory=list)  # per direction: w+ rows [start, stop)
    model_id: str = ""

    def __post_init__(self) -> None:
        k = self.vectors.shape[0]
        if not self.layers:
            self.layers = [(0, 10 ** 6)] * k
        if len(self.names) != k or self.sigmas.shape[0] != k or len(self.layers) != k:
            raise ConfigError("A direction set needs one name, scale and layer range per direction.")

    def __len__(self) -> int:
        return self.vectors.shape[0]

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def apply(self, code: torch.Tensor, alphas: Sequence[float]) -> torch.Tensor:
        """code (L, dim) + sum_i alpha_i * sigma_i * d_i on each direction's rows; alphas in sigmas."""
        out = code.clone()
        vec = self.vectors.to(code.device, code.dtype)
        for i, a in enumerate(alphas):
            if a:
                s, e = self.layers[i]
                out[s:e] += float(a) * float(self.sigmas[i]) * vec[i]
        return out

    def extend(self, other: "DirectionSet") -> "DirectionSet":
        if other.space != self.space or other.dim != self.dim:
            raise ConfigError("Cannot combine direction sets of different latent spaces.")
        return DirectionSet(torch.cat([self.vectors, other.vectors]), torch.cat([self.sigmas, other.sigmas]),
                            self.names + other.names, self.space, "mixed", self.layers + other.layers, self.model_id)

    def save(self, path) -> Path:
        meta = {"kind": "directions", "space": self.space, "method": self.method, "names": self.names,
                "layers": [list(x) for x in self.layers], "model_id": self.model_id, "dim": self.dim}
        return save_checkpoint(path, {"vectors": self.vectors.float().cpu(), "sigmas": self.sigmas.float().cpu()},
                               meta)

    @classmethod
    def load(cls, path, model: Optional[LatentModel] = None) -> "DirectionSet":
        ck = load_checkpoint(path)
        if ck.meta.get("kind") != "directions" or "vectors" not in ck.tensors:
            raise CheckpointError(f"{path} is not a GAN Studio direction set.")
        m = ck.meta
        ds = cls(ck.tensors["vectors"], ck.tensors["sigmas"], list(m.get("names") or []), m.get("space", "w"),
                 m.get("method", ""), [tuple(x) for x in m.get("layers") or []], m.get("model_id", ""))
        if model is not None and (ds.space != model.space or ds.dim != model.dim):
            raise CheckpointError(f"{Path(path).name} holds {ds.dim}-dimensional {ds.space} directions, but the "
                                  f"model has a {model.dim}-dimensional {model.space} space; it was made for "
                                  f"another model ({ds.model_id or 'unknown'}).")
        return ds


@torch.no_grad()
def _sigmas(model: LatentModel, vectors: torch.Tensor, n: int = 4096, seed: int = 1) -> torch.Tensor:
    """Standard deviation of sampled latents along each direction."""
    codes = model.sample_codes(n, seed=seed).float()
    proj = (codes - codes.mean(0)) @ vectors.t().float().to(codes.device)
    return proj.std(0).clamp_min(1e-6).cpu()


def ranked_names(k: int, first: str) -> List[str]:
    """Names a user can read for unlabelled directions found in rank order: "direction 1 (largest variance)", ..."""
    return [f"direction {i + 1}" + (f" ({first})" if i == 0 else "") for i in range(k)]


@torch.no_grad()
def ganspace(model: LatentModel, k: int = 10, n: int = 10000, seed: int = 0) -> DirectionSet:
    """GANSpace: principal axes of sampled w (w models). For z models, PCA of the first block's activations,
    carried back to z by least squares (GANSpace's recipe for BigGAN) and orthonormalised."""
    codes = model.sample_codes(n, seed=seed).float()
    k = min(k, model.dim)
    if model.has_w:
        centred = codes - codes.mean(0)
        _, _, v = torch.linalg.svd(centred, full_matrices=False)
        vectors = v[:k]
    else:
        feats = torch.cat([model.net.features(codes[i:i + 512]).float() for i in range(0, n, 512)])
        feats = feats - feats.mean(0)
        _, _, v = torch.pca_lowrank(feats, q=min(k + 10, feats.shape[1]), center=False, niter=4)
        coords = feats @ v[:, :k]  # (n, k) PCA coordinates
        sol = torch.linalg.lstsq(coords, codes).solution  # (k, dim): z ~ coords @ sol
        q, r = torch.linalg.qr(sol.t())  # orthonormal, keeps the order of the components
        vectors = (q * torch.sign(torch.diagonal(r))).t()
    vectors = vectors.cpu().contiguous()
    return DirectionSet(vectors, _sigmas(model, vectors), ranked_names(k, "largest variance"), model.space,
                        "ganspace")


@torch.no_grad()
def sefa(model: LatentModel, k: int = 10, layers: Optional[Tuple[int, int]] = None) -> DirectionSet:
    """SeFa: eigenvectors of A^T A where A stacks the style-modulation weights (w models, all or ``layers`` of the
    convolutions) or the first layer's weight (z models). Unit rows, orthonormal."""
    if model.has_w:
        mats = model.net.style_weights()
        if layers is not None:
            mats = mats[layers[0]:layers[1]]
        a = torch.cat([m.detach().float() for m in mats], 0)  # (channels, w_dim)
    else:
        a = model.net.first_weight().detach().float().t()  # (features, z_dim)
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-8)
    _, _, v = torch.linalg.svd(a, full_matrices=False)
    vectors = v[: min(k, v.shape[0])].cpu().contiguous()
    n = vectors.shape[0]
    rows = [(0, 10 ** 6)] * n
    return DirectionSet(vectors, _sigmas(model, vectors), ranked_names(n, "strongest"), model.space, "sefa",
                        rows)


def user_direction(model: LatentModel, positives: Sequence[torch.Tensor], negatives: Sequence[torch.Tensor],
                   name: str = "custom", l2: float = 1e-2, steps: int = 200) -> DirectionSet:
    """A direction from examples: the normal of an L2-regularised logistic regression separating positive from
    negative latents (each latent (L, dim) is averaged over its rows)."""
    if len(positives) < 1 or len(negatives) < 1:
        raise ConfigError("A custom direction needs at least one positive and one negative example.")
    x = torch.stack([p.float().reshape(-1, model.dim).mean(0).cpu() for p in list(positives) + list(negatives)])
    y = torch.cat([torch.ones(len(positives)), torch.zeros(len(negatives))])
    mu, sd = x.mean(0), x.std(0).clamp_min(1e-3)
    xs = (x - mu) / sd
    w = torch.zeros(model.dim, requires_grad=True)
    b = torch.zeros((), requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=0.5, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xs @ w + b, y) + l2 * w.square().sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    d = (w.detach() / sd)  # back to unstandardised coordinates
    if d.norm() < 1e-8:
        d = x[: len(positives)].mean(0) - x[len(positives):].mean(0)
    if d.norm() < 1e-8:
        raise ConfigError("The positive and negative examples are identical; pick different images.")
    vec = (d / d.norm())[None]
    return DirectionSet(vec, _sigmas(model, vec), [name], model.space, "user")


def orthonormality_error(vectors: torch.Tensor) -> float:
    """max |V V^T - I| (0 for orthonormal rows)."""
    g = vectors.double() @ vectors.double().t()
    return float((g - torch.eye(g.shape[0], dtype=g.dtype)).abs().max())
