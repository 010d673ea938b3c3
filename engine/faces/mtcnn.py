"""MTCNN's three networks (P-, R- and O-Net, Zhang et al. 2016) and their weights.

The weights ship inside the PyPI wheel ``facenet-pytorch==2.6.0`` (``facenet_pytorch/data/{pnet,rnet,onet}.pt``, MIT
licence), so nothing is downloaded. The package pins an old torch, so it is installed with ``--no-deps`` and never
imported: its own classes read the files with a plain ``torch.load``. We find the folder with
``importlib.util.find_spec`` (which runs none of its code), check each file's sha256 and load the state dicts with
``torch.load(weights_only=True)`` into the modules below, whose layer names match the files.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Dict, Tuple

import torch
from torch import nn

from ..errors import GanStudioError
from ..fsutil import file_sha256

PACKAGE = "facenet_pytorch"
PACKAGE_PIN = "facenet-pytorch==2.6.0"
WEIGHTS_SHA256 = {
    "pnet": "a2a71925e0b9996a42f63e47efc1ca19043e69558b5c523b978d611dfae49c8f",
    "rnet": "bbb937de72efc9ef83b186c49f5f558467a1d7e3453a8ece0d71a886633f6a86",
    "onet": "165bfbe42940416ccfb977545cf0e976d5bf321f67083ae2aaaa5c764280118d",
}


class DetectorUnavailable(GanStudioError):
    kind = "weights"


# Deliberate copies of shape: PNet, RNet and ONet name and order their layers as the published MTCNN weights do
# (facenet-pytorch's state-dict keys, loaded as they are), so their definitions look alike.
class PNet(nn.Module):
    """Proposal net: fully convolutional, 12x12 receptive field, stride 2. Returns (box offsets, face probability)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 10, 3), nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(10, 16, 3), nn.PReLU(16)
        self.conv3, self.prelu3 = nn.Conv2d(16, 32, 3), nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)
        self.conv4_2 = nn.Conv2d(32, 4, 1)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = self.prelu1(self.conv1(x))
        x = self.pool1(x)
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.conv4_2(x), torch.softmax(self.conv4_1(x), dim=1)[:, 1]


class RNet(nn.Module):
    """Refinement net on 24x24 crops. Returns (box offsets, face probability)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 28, 3), nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(28, 48, 3), nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(48, 64, 2), nn.PReLU(64)
        self.dense4, self.prelu4 = nn.Linear(576, 128), nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x))
        x = x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)  # the weights came from a (W, H)-ordered framework
        x = self.prelu4(self.dense4(x))
        return self.dense5_2(x), torch.softmax(self.dense5_1(x), dim=1)[:, 1]


class ONet(nn.Module):
    """Output net on 48x48 crops. Returns (box offsets, 5 landmarks as x1..x5, y1..y5 fractions, probability)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.prelu1 = nn.Conv2d(3, 32, 3), nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2, self.prelu2 = nn.Conv2d(32, 64, 3), nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3, self.prelu3 = nn.Conv2d(64, 64, 3), nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4, self.prelu4 = nn.Conv2d(64, 128, 2), nn.PReLU(128)
        self.dense5, self.prelu5 = nn.Linear(1152, 256), nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x))
        x = x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)
        x = self.prelu5(self.dense5(x))
        return self.dense6_2(x), self.dense6_3(x), torch.softmax(self.dense6_1(x), dim=1)[:, 1]


def weights_folder() -> Path:
    """``facenet_pytorch/data`` without importing the package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DetectorUnavailable("The face detector's weights are missing: the package facenet-pytorch is not "
                                  f"installed. Install it with: pip install --no-deps {PACKAGE_PIN}")
    for folder in spec.submodule_search_locations:
        data = Path(folder) / "data"
        if all((data / f"{n}.pt").is_file() for n in WEIGHTS_SHA256):
            return data
    raise DetectorUnavailable("The package facenet-pytorch is installed but lacks data/pnet.pt, rnet.pt or onet.pt; "
                              f"reinstall it with: pip install --force-reinstall --no-deps {PACKAGE_PIN}")


def load_state(name: str, folder: Path) -> Dict[str, torch.Tensor]:
    path = folder / f"{name}.pt"
    digest = file_sha256(path)
    if digest != WEIGHTS_SHA256[name]:
        raise DetectorUnavailable(f"{path} is not the expected MTCNN {name} weight file (sha256 {digest[:12]}…, "
                                  f"expected {WEIGHTS_SHA256[name][:12]}…). Reinstall {PACKAGE_PIN}.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the same problem for the user
        raise DetectorUnavailable(f"{path} cannot be read as a weights-only state dict ({e}).") from None


def load_nets(device: torch.device) -> Tuple[PNet, RNet, ONet]:
    folder = weights_folder()
    nets = []
    for name, cls in (("pnet", PNet), ("rnet", RNet), ("onet", ONet)):
        net = cls()
        net.load_state_dict(load_state(name, folder), strict=True)
        nets.append(net.to(device).eval().requires_grad_(False))
    return nets[0], nets[1], nets[2]
