"""Image-to-image generators and PatchGAN discriminators, layer for layer as junyanz pytorch-CycleGAN-and-pix2pix
defines them (``models/networks.py``), so its checkpoints load with their own key names.

Registered: generators ``resnet_9blocks`` (11.378 M params), ``resnet_6blocks``, ``unet_128``, ``unet_256``
(54.414 M with batch norm); discriminators ``basic`` (70x70 PatchGAN, 2.765 M with 3 input channels), ``n_layers``
and ``pixel``. Norms: ``instance`` (no affine, junyanz default), ``instance_affine`` (e.g. the vintagify weights),
``batch`` and ``none``.
"""
from __future__ import annotations

import functools
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError
from ..registry import register_model

NORMS = ("instance", "instance_affine", "batch", "none")


def get_norm_layer(norm: str = "instance") -> Callable[[int], nn.Module]:
    if norm == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    if norm == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if norm == "instance_affine":
        return functools.partial(nn.InstanceNorm2d, affine=True, track_running_stats=False)
    if norm == "none":
        return lambda c: nn.Identity()
    raise ConfigError(f"Unknown normalization {norm!r}; use one of {', '.join(NORMS)}")


def _use_bias(norm: str) -> bool:
    # junyanz: conv bias only when the norm is InstanceNorm (BatchNorm has its own shift); 'none' keeps bias too.
    return norm != "batch"


def init_weights(net: nn.Module, init_type: str = "normal", gain: float = 0.02) -> nn.Module:
    """junyanz ``init_weights``: N(0, 0.02) convs and linears, zero bias, BatchNorm weight N(1, 0.02)."""

    def fn(m: nn.Module) -> None:
        name = m.__class__.__name__
        if hasattr(m, "weight") and m.weight is not None and ("Conv" in name or "Linear" in name):
            if init_type == "normal":
                nn.init.normal_(m.weight, 0.0, gain)
            elif init_type == "xavier":
                nn.init.xavier_normal_(m.weight, gain=gain)
            elif init_type == "kaiming":
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            elif init_type == "orthogonal":
                nn.init.orthogonal_(m.weight, gain=gain)
            else:
                raise ConfigError(f"Unknown init type {init_type!r}")
            if getattr(m, "bias", None) is not None:
                nn.init.constant_(m.bias, 0.0)
        elif "BatchNorm2d" in name and getattr(m, "weight", None) is not None:
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.constant_(m.bias, 0.0)

    net.apply(fn)
    return net


def padding_layers(padding_type: str):
    """(layers, conv padding) for a 3x3 convolution: a reflection/replication pad layer, or zero padding in the conv."""
    if padding_type == "reflect":
        return [nn.ReflectionPad2d(1)], 0
    if padding_type == "replicate":
        return [nn.ReplicationPad2d(1)], 0
    if padding_type == "zero":
        return [], 1
    raise ConfigError(f"padding {padding_type!r} is not supported; use reflect, replicate or zero")


class ResnetBlock(nn.Module):
    def __init__(self, dim: int, padding_type: str, norm_layer, use_dropout: bool, use_bias: bool):
        super().__init__()
        block = []
        for i in range(2):
            pad, p = padding_layers(padding_type)
            block += pad + [nn.Conv2d(dim, dim, kernel_size=3, padding=p, bias=use_bias), norm_layer(dim)]
            if i == 0:
                block.append(nn.ReLU(True))
                if use_dropout:
                    block.append(nn.Dropout(0.5))
        self.conv_block = nn.Sequential(*block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


class Downsample(nn.Module):
    """Anti-aliased stride-2 downsampling (Zhang 2019, as in CUT's ``networks.Downsample``): reflect pad, then a
    fixed [1 2 1] x [1 2 1] / 16 blur per channel with stride 2. No parameters."""

    def __init__(self, channels: int):
        super().__init__()
        f = torch.tensor([1.0, 2.0, 1.0])
        f = f[:, None] * f[None, :]
        self.register_buffer("filt", (f / f.sum())[None, None].repeat(channels, 1, 1, 1), persistent=False)
        self.pad = nn.ReflectionPad2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(self.pad(x), self.filt.to(x.dtype), stride=2, groups=x.shape[1])


class Upsample(nn.Module):
    """Anti-aliased x2 upsampling (CUT's ``networks.Upsample``): replicate pad, transposed conv with a fixed
    [1 3 3 1] blur, crop. Resize-then-convolve instead of a learned transposed conv avoids checkerboards."""

    def __init__(self, channels: int):
        super().__init__()
        f = torch.tensor([1.0, 3.0, 3.0, 1.0])
        f = f[:, None] * f[None, :]
        self.register_buffer("filt", (f / f.sum() * 4)[None, None].repeat(channels, 1, 1, 1), persistent=False)
        self.pad = nn.ReplicationPad2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv_transpose2d(self.pad(x), self.filt.to(x.dtype), stride=2, padding=2, groups=x.shape[1])
        return y[:, :, 1:-1, 1:-1]


def resnet_layers(input_nc: int, output_nc: int, ngf: int, norm_layer, use_bias: bool, blocks, head_kernel: int = 7):
    """Johnson et al.'s layer list around the residual ``blocks`` (at 4 x ngf channels, 1/4 resolution): c7s1-ngf,
    two stride-2 convolutions, the blocks, two transposed convolutions, a ``head_kernel`` convolution and Tanh. The
    indices are junyanz's (``model.N`` keys of imported checkpoints)."""
    model = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=use_bias),
             norm_layer(ngf), nn.ReLU(True)]
    for i in range(2):
        mult = 2 ** i
        model += [nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1, bias=use_bias),
                  norm_layer(ngf * mult * 2), nn.ReLU(True)]
    model += list(blocks)
    for i in range(2):
        mult = 2 ** (2 - i)
        model += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, kernel_size=3, stride=2, padding=1,
                                     output_padding=1, bias=use_bias),
                  norm_layer(ngf * mult // 2), nn.ReLU(True)]
    model += [nn.ReflectionPad2d(head_kernel // 2), nn.Conv2d(ngf, output_nc, kernel_size=head_kernel, padding=0),
              nn.Tanh()]
    return model


class ResnetGenerator(nn.Module):
    """c7s1-64, d128, d256, n x R256, u128, u64, c7s1-3 with Tanh (Johnson et al., as used by CycleGAN).

    ``antialias=True`` is CUT's variant (Park et al. 2020): stride-1 convolutions followed by a blur-pool on the way
    down, blur upsampling followed by a 3x3 convolution on the way up (no transposed convolutions, so no
    checkerboard artefacts). ``encode(x, layers)`` returns the outputs of the chosen layers of ``self.model`` and
    stops after the last one (PatchNCE's feature taps); ``nce_layers()`` names CUT's default taps."""

    size_multiple = 4

    def __init__(self, input_nc: int = 3, output_nc: int = 3, ngf: int = 64, norm: str = "instance",
                 use_dropout: bool = False, n_blocks: int = 9, padding_type: str = "reflect",
                 antialias: bool = False):
        super().__init__()
        if n_blocks < 0:
            raise ConfigError("n_blocks must be >= 0")
        norm_layer, use_bias = get_norm_layer(norm), _use_bias(norm)
        model = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=use_bias),
                 norm_layer(ngf), nn.ReLU(True)]
        self._taps = [0]
        for i in range(2):
            c_in, c_out = ngf * 2 ** i, ngf * 2 ** (i + 1)
            self._taps.append(len(model))
            if antialias:
                model += [nn.Conv2d(c_in, c_out, kernel_size=3, stride=1, padding=1, bias=use_bias),
                          norm_layer(c_out), nn.ReLU(True), Downsample(c_out)]
            else:
                model += [nn.Conv2d(c_in, c_out, kernel_size=3, stride=2, padding=1, bias=use_bias),
                          norm_layer(c_out), nn.ReLU(True)]
        mult = 4
        if n_blocks:
            self._taps += sorted({len(model), len(model) + min(4, n_blocks - 1)})
        model += [ResnetBlock(ngf * mult, padding_type, norm_layer, use_dropout, use_bias) for _ in range(n_blocks)]
        for i in range(2):
            c_in, c_out = ngf * 2 ** (2 - i), ngf * 2 ** (1 - i)
            if antialias:
                model += [Upsample(c_in), nn.Conv2d(c_in, c_out, kernel_size=3, stride=1, padding=1, bias=use_bias),
                          norm_layer(c_out), nn.ReLU(True)]
            else:
                model += [nn.ConvTranspose2d(c_in, c_out, kernel_size=3, stride=2, padding=1, output_padding=1,
                                             bias=use_bias),
                          norm_layer(c_out), nn.ReLU(True)]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def nce_layers(self) -> list:
        """CUT's feature taps: the padded input, both downsampling convolutions, the first and the fifth residual
        block (indices into ``self.model``; ``0,4,8,12,16`` for the anti-aliased 9-block network, as in CUT)."""
        return list(self._taps)

    def encode(self, x: torch.Tensor, layers) -> list:
        want, feats = set(layers), []
        last = max(want)
        for i, layer in enumerate(self.model):
            x = layer(x)
            if i in want:
                feats.append(x)
            if i == last:
                break
        return feats


class UnetSkipConnectionBlock(nn.Module):
    """One U-Net level: down, the inner submodule, up, and the skip concatenation.

    As in junyanz, the down path's LeakyReLU is in-place, so the skip connection carries the activated input.
    Kept for exact parity with imported pix2pix weights."""

    def __init__(self, outer_nc: int, inner_nc: int, input_nc=None, submodule=None, outermost=False,
                 innermost=False, norm_layer=nn.BatchNorm2d, use_dropout=False, use_bias=False):
        super().__init__()
        self.outermost = outermost
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
        downrelu = nn.LeakyReLU(0.2, True)
        downnorm = norm_layer(inner_nc)
        uprelu = nn.ReLU(True)
        upnorm = norm_layer(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1)
            model = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            model = [downrelu, downconv, uprelu, upconv, upnorm]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2, padding=1, bias=use_bias)
            model = [downrelu, downconv, downnorm, submodule, uprelu, upconv, upnorm]
            if use_dropout:
                model.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


def unet_levels(make, ngf: int, num_downs: int, use_dropout: bool):
    """The nested U-Net levels below the outermost one: ``make(outer_nc, inner_nc, submodule, innermost, dropout)``
    builds one level; dropout only in the extra ngf*8 levels, as in junyanz."""
    block = make(ngf * 8, ngf * 8, None, True, False)
    for _ in range(num_downs - 5):
        block = make(ngf * 8, ngf * 8, block, False, use_dropout)
    for outer, inner in ((ngf * 4, ngf * 8), (ngf * 2, ngf * 4), (ngf, ngf * 2)):
        block = make(outer, inner, block, False, False)
    return block


class UnetGenerator(nn.Module):
    def __init__(self, input_nc: int = 3, output_nc: int = 3, num_downs: int = 8, ngf: int = 64, norm: str = "batch",
                 use_dropout: bool = False):
        super().__init__()
        if num_downs < 5:
            raise ConfigError("a U-Net needs at least 5 downsamplings")
        norm_layer, use_bias = get_norm_layer(norm), _use_bias(norm)
        kw = dict(norm_layer=norm_layer, use_bias=use_bias)
        block = unet_levels(lambda o, i, sub, inner, drop: UnetSkipConnectionBlock(
            o, i, submodule=sub, innermost=inner, use_dropout=drop, **kw), ngf, num_downs, use_dropout)
        self.model = UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, **kw)
        self.size_multiple = 2 ** num_downs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    """PatchGAN; with n_layers=3 each output sees a 70x70 patch."""

    def __init__(self, input_nc: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        norm_layer, use_bias = get_norm_layer(norm), _use_bias(norm)
        seq = [nn.Conv2d(input_nc, ndf, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            seq += [nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=2, padding=1, bias=use_bias),
                    norm_layer(ndf * mult), nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2 ** n_layers, 8)
        seq += [nn.Conv2d(ndf * prev, ndf * mult, kernel_size=4, stride=1, padding=1, bias=use_bias),
                norm_layer(ndf * mult), nn.LeakyReLU(0.2, True),
                nn.Conv2d(ndf * mult, 1, kernel_size=4, stride=1, padding=1)]
        self.model = nn.Sequential(*seq)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN (pixelGAN)."""

    def __init__(self, input_nc: int = 3, ndf: int = 64, norm: str = "instance"):
        super().__init__()
        norm_layer, use_bias = get_norm_layer(norm), _use_bias(norm)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, kernel_size=1, stride=1, padding=0), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, kernel_size=1, stride=1, padding=0, bias=use_bias), norm_layer(ndf * 2),
            nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * 2, 1, kernel_size=1, stride=1, padding=0, bias=use_bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


# ------------------------------------------------------------------------------------------------------------
# registry entries (keyword arguments are the architecture's config, stored in every checkpoint)

@register_model("resnet_9blocks", role="generator", task="translate", size_multiple=4, nce_taps=True)
def resnet_9blocks(input_nc=3, output_nc=3, ngf=64, norm="instance", use_dropout=False, padding_type="reflect",
                   antialias=False):
    """ResNet generator with 9 residual blocks (CycleGAN at 256 px)."""
    return ResnetGenerator(input_nc, output_nc, ngf, norm, use_dropout, 9, padding_type, antialias)


@register_model("resnet_6blocks", role="generator", task="translate", size_multiple=4, nce_taps=True)
def resnet_6blocks(input_nc=3, output_nc=3, ngf=64, norm="instance", use_dropout=False, padding_type="reflect",
                   antialias=False):
    """ResNet generator with 6 residual blocks (CycleGAN at 128 px)."""
    return ResnetGenerator(input_nc, output_nc, ngf, norm, use_dropout, 6, padding_type, antialias)


@register_model("unet_256", role="generator", task="translate", size_multiple=256)
def unet_256(input_nc=3, output_nc=3, ngf=64, norm="batch", use_dropout=True):
    """U-Net generator with 8 downsamplings (pix2pix at 256 px)."""
    return UnetGenerator(input_nc, output_nc, 8, ngf, norm, use_dropout)


@register_model("unet_128", role="generator", task="translate", size_multiple=128)
def unet_128(input_nc=3, output_nc=3, ngf=64, norm="batch", use_dropout=True):
    """U-Net generator with 7 downsamplings (pix2pix at 128 px)."""
    return UnetGenerator(input_nc, output_nc, 7, ngf, norm, use_dropout)


@register_model("basic", role="discriminator", task="translate")
def basic(input_nc=3, ndf=64, norm="instance"):
    """70x70 PatchGAN discriminator (3 layers)."""
    return NLayerDiscriminator(input_nc, ndf, 3, norm)


@register_model("n_layers", role="discriminator", task="translate")
def n_layers(input_nc=3, ndf=64, n_layers_D=3, norm="instance"):
    """PatchGAN discriminator with a chosen number of layers."""
    return NLayerDiscriminator(input_nc, ndf, n_layers_D, norm)


@register_model("pixel", role="discriminator", task="translate")
def pixel(input_nc=3, ndf=64, norm="instance"):
    """1x1 PixelGAN discriminator."""
    return PixelDiscriminator(input_nc, ndf, norm)


def count_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def size_multiple(net: nn.Module) -> int:
    """The factor H and W must be divisible by for this network (4 for ResNet generators)."""
    m = getattr(net, "size_multiple", None)
    if m is None and hasattr(net, "module"):
        m = getattr(net.module, "size_multiple", None)
    return int(m or 1)
