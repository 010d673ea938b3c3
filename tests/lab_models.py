"""Tiny StarGAN and VAE-GAN model files, written as the trainers export them (random weights, fixed seeds)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence, Tuple

import torch

from engine.library import model_meta, save_model
from engine.models import get_model

DOMAINS = ("photo", "monet", "vangogh")
STAR_KW = dict(n_domains=3, conv_dim=8, repeat_num=1)
VAE_KW = dict(image_size=32, z_dim=8, width=8)


def save_tiny_stargan(models_dir: Path, mid: str = "tinystar", domains: Sequence[str] = DOMAINS) -> str:
    """A StarGAN generator file in ``models_dir/<mid>/`` (e.g. the user model folder); returns its id."""
    torch.manual_seed(0)
    kw = dict(STAR_KW, n_domains=len(domains))
    G = get_model("stargan_g", **kw)
    meta = model_meta(id=mid, name="Tiny StarGAN", family="stargan", task="translate_multi", arch="stargan_g",
                      arch_kwargs=kw, description=f"random tiny StarGAN ({', '.join(domains)})",
                      domains=list(domains))
    save_model(Path(models_dir) / mid / "stargan.safetensors", G, meta)
    return mid


def save_tiny_vaegan(models_dir: Path, prefix: str = "tinyvae") -> Tuple[str, str]:
    """A VAE-GAN decoder + encoder pair in ``models_dir/<prefix>/``; returns (decoder id, encoder id)."""
    torch.manual_seed(0)
    ids = {"decoder": f"{prefix}-decoder", "encoder": f"{prefix}-encoder"}
    folder = Path(models_dir) / prefix
    for part, other in (("decoder", "encoder"), ("encoder", "decoder")):
        net = get_model(f"vaegan_{part}", **VAE_KW)
        _calibrate_batch_norm(net, part)
        meta = model_meta(id=ids[part], name=f"Tiny VAE-GAN {part}", family="vaegan",
                          task="generate" if part == "decoder" else "encode", arch=f"vaegan_{part}",
                          arch_kwargs=VAE_KW, description=f"random tiny VAE-GAN {part}",
                          partner={"role": other, "id": ids[other], "file": f"{other}.safetensors"})
        save_model(folder / f"{part}.safetensors", net, meta)
    return ids["decoder"], ids["encoder"]


@torch.no_grad()
def _calibrate_batch_norm(net: torch.nn.Module, part: str) -> None:
    """Give a random network's batch norms the statistics of real inputs, so that (in eval mode) its output varies
    with its input as a trained one's does instead of being nearly flat."""
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = None  # cumulative average
    net.train()
    g = torch.Generator().manual_seed(1)
    for _ in range(4):
        if part == "decoder":
            net(torch.randn(32, VAE_KW["z_dim"], generator=g))
        else:
            size = VAE_KW["image_size"]
            base = torch.linspace(-1, 1, size)
            x = base[None, None, :, None] * torch.randn(32, 3, 1, 1, generator=g) + base[None, None, None, :] * \
                torch.randn(32, 3, 1, 1, generator=g)
            net(x.clamp(-1, 1))
    net.eval()

