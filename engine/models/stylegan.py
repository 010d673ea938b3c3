"""StyleGAN-style generator: mapping network (z -> w, tracked w average), synthesis network from a learned constant
with per-layer styles, per-pixel noise, ToRGB skips and equalized learning rate.

Styles act through modulated convolution with weight demodulation (StyleGAN2) or, with ``style_mode="adain"``,
through classic AdaIN after each convolution (StyleGAN 1). Progressive growing is supported by
:meth:`StyleGenerator.set_stage`: the synthesis stops at the current stage's resolution and the newest ToRGB is faded
in with ``alpha`` (the skip architecture makes this the ProGAN fade-in).

The ``generate`` convention: ``forward(z)`` maps (N, z_dim) to an image in [-1, 1] using the stored truncation
``truncation_psi`` and the stored constant noise, so an exported model is deterministic. ``mapping``/``synthesis``
and the noise controls are for the editing engine.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..config import check, check_choice
from ..registry import register_model

SQRT2 = math.sqrt(2.0)


class EqualLinear(nn.Module):
    """Linear layer with equalized learning rate (weights scaled at run time by 1/sqrt(fan_in))."""

    def __init__(self, in_f: int, out_f: int, bias_init: float = 0.0, lr_mul: float = 1.0, activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_f, in_f) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_f,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_f)
        self.lr_mul = lr_mul
        self.activation = activation

    def effective_weight(self) -> torch.Tensor:
        return self.weight * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return F.leaky_relu(x, 0.2) * SQRT2 if self.activation else x


class EqualConv2d(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, kernel: int, bias: bool = True, activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.scale = 1.0 / math.sqrt(in_ch * kernel * kernel)
        self.padding = kernel // 2
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)
        return F.leaky_relu(x, 0.2) * SQRT2 if self.activation else x


class NoiseInput(nn.Module):
    """Per-pixel noise with a learned strength; a stored constant map makes rendering deterministic."""

    def __init__(self, resolution: int):
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))
        self.register_buffer("const", torch.randn(1, 1, resolution, resolution))

    def forward(self, x: torch.Tensor, mode: str = "random", scale: float = 1.0,
                noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        if noise is None:
            if mode == "none":
                return x
            if mode == "const":
                noise = self.const
            else:
                noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
        return x + noise.to(x.dtype) * (self.strength * scale)


class StyledConv(nn.Module):
    """3x3 convolution whose input channels are scaled by a style from w (modulated, demodulated) or, in AdaIN mode,
    a plain convolution followed by instance normalisation and a per-channel style scale and bias."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, resolution: int, up: bool = False,
                 mode: str = "modulated"):
        super().__init__()
        self.up, self.mode = up, mode
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, 3, 3))
        self.scale = 1.0 / math.sqrt(in_ch * 9)
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.noise = NoiseInput(resolution)
        # modulated: one scale per input channel; adain: scale and bias per output channel
        self.affine = EqualLinear(w_dim, in_ch if mode == "modulated" else 2 * out_ch, bias_init=1.0)
        if mode == "adain":
            with torch.no_grad():
                self.affine.bias[out_ch:] = 0.0

    def style_weight(self) -> torch.Tensor:
        """The style (modulation) matrix that maps w to per-channel scales, for SeFa."""
        w = self.affine.effective_weight()
        return w if self.mode == "modulated" else w[: w.shape[0] // 2]

    def forward(self, x, w, noise_mode="random", noise_scale=1.0, noise=None):
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        weight = self.weight * self.scale
        if self.mode == "modulated":
            s = self.affine(w)
            x = F.conv2d(x * s[:, :, None, None], weight, padding=1)
            dcoef = torch.rsqrt(s.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8)
            x = x * dcoef[:, :, None, None]
            x = self.noise(x, noise_mode, noise_scale, noise)
            return F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * SQRT2
        x = F.conv2d(x, weight, padding=1)
        x = self.noise(x, noise_mode, noise_scale, noise)
        x = F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * SQRT2
        x = F.instance_norm(x)
        ys, yb = self.affine(w).chunk(2, dim=1)
        return x * ys[:, :, None, None] + yb[:, :, None, None]


class ToRGB(nn.Module):
    """1x1 modulated convolution to RGB without demodulation."""

    def __init__(self, in_ch: int, w_dim: int):
        super().__init__()
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(3, in_ch, 1, 1))
        self.scale = 1.0 / math.sqrt(in_ch)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        s = self.affine(w) * self.scale
        return F.conv2d(x * s[:, :, None, None], self.weight) + self.bias[None, :, None, None]


class MappingNetwork(nn.Module):
    def __init__(self, z_dim: int, w_dim: int, layers: int = 8, lr_mul: float = 0.01, w_avg_beta: float = 0.995):
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        self.net = nn.Sequential(*[EqualLinear(dims[i], dims[i + 1], lr_mul=lr_mul, activation=True)
                                   for i in range(layers)])
        self.w_avg_beta = w_avg_beta
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, update_w_avg: bool = False) -> torch.Tensor:
        z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)
        w = self.net(z)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(w.detach().float().mean(0).lerp(self.w_avg, self.w_avg_beta))
        return w


class StyleGenerator(nn.Module):
    def __init__(self, z_dim: int = 512, w_dim: int = 512, resolution: int = 256, channel_base: int = 16384,
                 channel_max: int = 512, mapping_layers: int = 8, style_mode: str = "modulated",
                 truncation_psi: float = 0.7, mapping_lr_mul: float = 0.01):
        super().__init__()
        check(resolution in (32, 64, 128, 256, 512), f"StyleGAN resolution must be 64, 128 or 256; got {resolution}.")
        check_choice("style_mode", style_mode, ("modulated", "adain"))
        self.z_dim, self.w_dim, self.resolution = int(z_dim), int(w_dim), int(resolution)
        self.truncation_psi = float(truncation_psi)
        self.style_mode = style_mode
        log = int(math.log2(resolution))
        self.num_ws = 2 * log - 2
        ch = {2 ** i: min(channel_base // 2 ** i, channel_max) for i in range(2, log + 1)}
        self.channels = ch
        self.mapping_net = MappingNetwork(z_dim, w_dim, mapping_layers, mapping_lr_mul)
        self.const = nn.Parameter(torch.randn(1, ch[4], 4, 4))
        self.conv1 = StyledConv(ch[4], ch[4], w_dim, 4, mode=style_mode)
        self.to_rgb1 = ToRGB(ch[4], w_dim)
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        for i in range(3, log + 1):
            r = 2 ** i
            self.convs.append(StyledConv(ch[r // 2], ch[r], w_dim, r, up=True, mode=style_mode))
            self.convs.append(StyledConv(ch[r], ch[r], w_dim, r, mode=style_mode))
            self.to_rgbs.append(ToRGB(ch[r], w_dim))
        self.stage = self.resolution  # progressive growing: current output resolution
        self.alpha = 1.0  # fade-in of the newest resolution

    # --- progressive growing -----------------------------------------------------------------------------
    def set_stage(self, resolution: int, alpha: float = 1.0) -> None:
        check(4 <= resolution <= self.resolution and resolution & (resolution - 1) == 0,
              f"Stage resolution must be a power of two between 4 and {self.resolution}; got {resolution}.")
        self.stage, self.alpha = int(resolution), float(alpha)

    # --- latent spaces -----------------------------------------------------------------------------------
    @property
    def w_avg(self) -> torch.Tensor:
        return self.mapping_net.w_avg

    def mapping(self, z: torch.Tensor, psi: float = 1.0, cutoff: Optional[int] = None,
                update_w_avg: bool = False) -> torch.Tensor:
        """z (N, z_dim) -> ws (N, num_ws, w_dim), truncated towards ``w_avg`` by ``psi`` (layers < cutoff)."""
        w = self.mapping_net(z, update_w_avg=update_w_avg)
        ws = w[:, None, :].repeat(1, self.num_ws, 1)
        if psi != 1.0:
            avg = self.w_avg.to(ws.dtype)
            if cutoff is None:
                ws = avg.lerp(ws, psi)
            else:
                ws[:, :cutoff] = avg.lerp(ws[:, :cutoff], psi)
        return ws

    def noise_layers(self) -> List[NoiseInput]:
        return [self.conv1.noise] + [c.noise for c in self.convs]

    def style_weights(self) -> List[torch.Tensor]:
        """Style-modulation matrices of every convolution (rows: channels, columns: w), in layer order."""
        return [self.conv1.style_weight()] + [c.style_weight() for c in self.convs]

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const", noise_scale: float = 1.0,
                  noises: Optional[Sequence[Optional[torch.Tensor]]] = None) -> torch.Tensor:
        """ws (N, num_ws, w_dim) -> image (N, 3, R, R) in about [-1, 1] (R = current stage)."""
        check(ws.dim() == 3 and ws.shape[1] == self.num_ws and ws.shape[2] == self.w_dim,
              f"ws must have shape (N, {self.num_ws}, {self.w_dim}); got {tuple(ws.shape)}.")
        noises = list(noises) if noises is not None else [None] * len(self.noise_layers())
        x = self.const.expand(ws.shape[0], -1, -1, -1)
        x = self.conv1(x, ws[:, 0], noise_mode, noise_scale, noises[0])
        rgb = self.to_rgb1(x, ws[:, 1])
        n_blocks = int(math.log2(self.stage)) - 2
        for b in range(n_blocks):
            i = 1 + 2 * b
            x = self.convs[2 * b](x, ws[:, i], noise_mode, noise_scale, noises[1 + 2 * b])
            x = self.convs[2 * b + 1](x, ws[:, i + 1], noise_mode, noise_scale, noises[2 + 2 * b])
            up = F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False)
            new = self.to_rgbs[b](x, ws[:, i + 2])
            last = b == n_blocks - 1
            rgb = up + (new * self.alpha if last and self.alpha < 1.0 else new)
        return rgb

    def forward(self, z: torch.Tensor, psi: Optional[float] = None) -> torch.Tensor:
        ws = self.mapping(z, self.truncation_psi if psi is None else psi)
        return self.synthesis(ws, noise_mode="const")


@torch.no_grad()
@register_model("stylegan_g", role="generator", task="generate")
def stylegan_g(**kw) -> StyleGenerator:
    """StyleGAN-style generator (mapping + modulated-conv synthesis), 64 to 256 px."""
    return StyleGenerator(**kw)
