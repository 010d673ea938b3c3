"""Tiny registered networks and a model library for the export tests.

``test_tiny_stylegan`` follows the convention the generate-task generators use (an integer ``z_dim``, ``forward(z)``
-> image in [-1, 1]), with StyleGAN's ``truncation_psi`` (towards a tracked ``w_avg``) and ``noise_mode``;
``test_tiny_dcgan`` is a z-only generator; ``test_noisy_generator`` draws fresh noise at every call, which no export
can reproduce.
"""
from __future__ import annotations

from pathlib import Path
import torch
from torch import nn

from engine.library import ModelLibrary, model_meta, save_model
from engine.models import get_model
from engine.registry import MODELS, register_model


class TinyStyleGen(nn.Module):
    def __init__(self, z_dim: int = 8, w_dim: int = 16, ch: int = 8):
        super().__init__()
        self.z_dim = z_dim
        self.mapping = nn.Sequential(nn.Linear(z_dim, w_dim), nn.LeakyReLU(0.2), nn.Linear(w_dim, w_dim))
        self.register_buffer("w_avg", torch.randn(w_dim) * 0.5)
        self.const = nn.Parameter(torch.randn(1, ch, 4, 4))
        self.style = nn.Linear(w_dim, ch)
        self.synthesis = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(ch, ch, 3, padding=1), nn.LeakyReLU(0.2),
                                       nn.Upsample(scale_factor=2), nn.Conv2d(ch, 3, 3, padding=1), nn.Tanh())

    def forward(self, z: torch.Tensor, truncation_psi=1.0, noise_mode: str = "random") -> torch.Tensor:
        w = self.mapping(z)
        w = self.w_avg + (w - self.w_avg) * truncation_psi
        x = self.const.expand(z.shape[0], -1, -1, -1) * (1 + self.style(w)[:, :, None, None])
        if noise_mode == "random":
            x = x + 0.1 * torch.randn_like(x)
        return self.synthesis(x)


class TinyDCGAN(nn.Module):
    def __init__(self, z_dim: int = 6, ch: int = 8):
        super().__init__()
        self.z_dim = z_dim
        self.net = nn.Sequential(nn.ConvTranspose2d(z_dim, ch, 4, 1, 0), nn.BatchNorm2d(ch), nn.ReLU(True),
                                 nn.ConvTranspose2d(ch, 3, 4, 2, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.reshape(z.shape[0], self.z_dim, 1, 1))


class NoisyGenerator(TinyDCGAN):
    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return super().forward(z + torch.randn_like(z))


class NoZDim(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 48)

    def forward(self, z):
        return self.fc(z).reshape(-1, 3, 4, 4)


if "test_tiny_stylegan" not in MODELS:
    register_model("test_tiny_stylegan", role="generator", task="generate")(lambda z_dim=8: TinyStyleGen(z_dim))
    register_model("test_tiny_dcgan", role="generator", task="generate")(lambda z_dim=6: TinyDCGAN(z_dim))
    register_model("test_noisy_generator", role="generator", task="generate")(lambda: NoisyGenerator())
    register_model("test_no_z_dim", role="generator", task="generate")(lambda: NoZDim())


MODELS_SPEC = {
    # id: (arch, arch_kwargs, task, family)
    "tiny-resnet": ("resnet_6blocks", {"ngf": 4}, "translate", "cyclegan"),
    "tiny-unet": ("unet_128", {"ngf": 4}, "translate", "pix2pix"),
    "tiny-style": ("test_tiny_stylegan", {"z_dim": 8}, "generate", "stylegan"),
    "tiny-dcgan": ("test_tiny_dcgan", {"z_dim": 6}, "generate", "dcgan"),
    "noisy-gen": ("test_noisy_generator", {}, "generate", "dcgan"),
    "no-zdim": ("test_no_z_dim", {}, "generate", "dcgan"),
    "patch-d": ("basic", {"ndf": 4}, "translate", "cyclegan"),
    "multi": ("resnet_6blocks", {"ngf": 4}, "translate_multi", "stargan"),
}


def make_library(root: Path, ids=None) -> ModelLibrary:
    """A library whose bundled folder holds the listed tiny models (fixed seeds)."""
    root = Path(root)
    for mid in ids or MODELS_SPEC:
        arch, kw, task, family = MODELS_SPEC[mid]
        torch.manual_seed(sum(map(ord, mid)))
        net = get_model(arch, **kw)
        if isinstance(net, TinyDCGAN):
            net.eval()
            net.net[1].running_mean.uniform_(-0.1, 0.1)
            net.net[1].running_var.uniform_(0.5, 1.5)
        meta = model_meta(id=mid, name=f"Tiny {mid}", family=family, task=task, arch=arch, arch_kwargs=kw,
                          description=f"A tiny untrained {arch} for tests.")
        save_model(root / "bundled" / mid / "model.safetensors", net, meta)
    return ModelLibrary(bundled=root / "bundled", user=root / "user", runs=root / "runs")


def load_net(library: ModelLibrary, mid: str) -> nn.Module:
    return library.load(library.resolve(mid)).module
