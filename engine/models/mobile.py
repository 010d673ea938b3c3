"""Compressed image-to-image generators for fast CPU inference (GAN Compression, Li et al. 2020).

- ``mobile_resnet``: the ResNet generator of :mod:`.networks` (same stem, down/up-sampling and head) whose residual
  blocks use depthwise-separable 3x3 convolutions (depthwise 3x3, norm, pointwise 1x1), as in mit-han-lab
  gan-compression ``models/modules/mobile_modules.py``. Its width ``ngf`` is chosen per MACs target
  (:func:`engine.training._distill_parts.plan_student`); ngf 32 with 9 blocks is about 1/18 of the CycleGAN generator's MACs.
- ``mobile_unet``: the pix2pix U-Net with depthwise-separable down/up convolutions below the outermost level (the
  outermost keeps dense convolutions: with 3 input/output channels a separable one saves nothing).

Both expose ``feature_layers()``: the modules whose outputs distillation matches against the teacher's (through
learned 1x1 projections). The junyanz generators get the same through :func:`feature_layers`.
"""
from __future__ import annotations

from typing import List

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError
from ..registry import register_model
from .networks import NORMS, ResnetBlock, ResnetGenerator, UnetGenerator, UnetSkipConnectionBlock, _use_bias, \
    get_norm_layer, padding_layers, resnet_layers, unet_levels


class FastInstanceNorm2d(nn.Module):
    """Instance norm (optionally affine) whose statistics are plain means, fast in channels_last on CPU.

    ``torch.nn.InstanceNorm2d`` and ``var_mean`` reduce channels_last tensors over H, W slowly on CPU (about 25x the
    time of a mean over the same data); E[x^2] - E[x]^2 with means takes two quick passes. Same state dict keys as
    ``nn.InstanceNorm2d`` (``weight``, ``bias`` when affine)."""

    def __init__(self, num_features: int, affine: bool = False, eps: float = 1e-5):
        super().__init__()
        self.num_features, self.eps, self.affine = num_features, eps, affine
        if affine:
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.onnx.is_in_onnx_export():  # one InstanceNormalization node: onnxruntime's kernel is 4x faster here
            return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)
        n, c, h, w = x.shape
        v = x.permute(0, 2, 3, 1).reshape(n, h * w, c)
        mean = v.mean(1)
        var = ((v * v).mean(1) - mean * mean).clamp_min(0)
        scale = torch.rsqrt(var + self.eps)
        if self.weight is not None:
            scale = scale * self.weight
        shift = -mean * scale
        if self.bias is not None:
            shift = shift + self.bias
        return torch.addcmul(shift.view(n, c, 1, 1), x, scale.view(n, c, 1, 1))


def mobile_norm_layer(norm: str):
    """Norm layers of the mobile networks: instance norms are :class:`FastInstanceNorm2d`."""
    if norm in ("instance", "instance_affine"):
        return lambda c: FastInstanceNorm2d(c, affine=norm == "instance_affine")
    return get_norm_layer(norm)


def _fast_layout(x: torch.Tensor) -> torch.Tensor:
    """channels_last on CPU: depthwise and transposed convolutions run 4-14x faster there (oneDNN)."""
    if x.device.type == "cpu" and x.dim() == 4 and not torch.jit.is_tracing() and not torch.onnx.is_in_onnx_export():
        return x.contiguous(memory_format=torch.channels_last)
    return x


class SeparableConv2d(nn.Module):
    """Depthwise k x k convolution (``scale`` channels per input channel), norm, pointwise 1x1 convolution."""

    def __init__(self, in_nc: int, out_nc: int, kernel_size: int = 3, stride: int = 1, padding: int = 0,
                 norm_layer=nn.InstanceNorm2d, use_bias: bool = True, scale: int = 1):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_nc, in_nc * scale, kernel_size, stride=stride, padding=padding, groups=in_nc,
                      bias=use_bias),
            norm_layer(in_nc * scale),
            nn.Conv2d(in_nc * scale, out_nc, kernel_size=1, bias=use_bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class MobileResnetBlock(nn.Module):
    def __init__(self, dim: int, padding_type: str, norm_layer, dropout: float, use_bias: bool):
        super().__init__()
        block: List[nn.Module] = []
        for i in range(2):
            pad, p = padding_layers(padding_type)
            block += pad + [SeparableConv2d(dim, dim, 3, padding=p, norm_layer=norm_layer, use_bias=use_bias),
                      norm_layer(dim)]
            if i == 0:
                block.append(nn.ReLU(True))
                if dropout > 0:
                    block.append(nn.Dropout(dropout))
        self.conv_block = nn.Sequential(*block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


def _reset_mlp(mlp: nn.Sequential) -> None:
    for layer in mlp:
        if isinstance(layer, nn.Linear):
            layer.reset_parameters()
    nn.init.zeros_(mlp[-1].weight)
    nn.init.zeros_(mlp[-1].bias)


class GlobalColor(nn.Module):
    """A per-image colour shift from global statistics: the mean and standard deviation of each channel of the
    input and of the network's own output, through a small MLP, added to the output before its Tanh.

    Instance norms remove every image's global colour, so a small student cannot follow a teacher whose look
    depends on it (vintagify turns a face warmer and a cat lighter): on 64 held-out photos, matching only the
    per-image channel means of the student's output to the teacher's raised its PSNR from 25.4 to 30.2 dB. The last
    layer starts at zero, so a student with this branch starts as the one without. Under tiling its output is
    measured on the whole image and frozen (:class:`engine.inference.frozen_instance_norm`). About 1k MACs."""

    def __init__(self, input_nc: int, output_nc: int, hidden: int = 32):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(2 * (input_nc + output_nc), hidden), nn.ReLU(True),
                                 nn.Linear(hidden, output_nc))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default start for the hidden layer, zeros for the last: no change until it learns one (called
        again after a whole-network init such as ``init_weights``, which would make the hidden layer learn slowly)."""
        _reset_mlp(self.mlp)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        stats = [t for v in (x, y) for t in (v.mean(dim=(2, 3)), v.float().std(dim=(2, 3)).to(v.dtype))]
        return self.mlp(torch.cat(stats, 1)).view(x.shape[0], -1, 1, 1)


class GlobalAffine(nn.Module):
    """A per-image colour transform: a 3x3 matrix and an offset applied to the input's pixels, predicted from global
    statistics (channel means, standard deviations and correlations of the input, means and standard deviations of
    the network's output) by a small MLP, and added to the output before its Tanh.

    The teacher's instance norms discard the input's global colour and contrast, so its colours are a per-image
    colour transform of the photo: on 64 held-out photos, the best affine colour map of the *input* alone reaches
    32.5 dB PSNR against vintagify's output, the best shift of the student's channel means 30.3 dB. A residual student
    keeps the input's colours unless something like this changes them. Starts at zero (the identity); its output
    (12 numbers per image) is measured on the whole image and frozen under tiling like :class:`GlobalColor`. About 9
    MACs per pixel."""

    def __init__(self, input_nc: int, output_nc: int, hidden: int = 64):
        super().__init__()
        self.input_nc, self.output_nc = input_nc, output_nc
        n_corr = input_nc * (input_nc - 1) // 2
        self.mlp = nn.Sequential(nn.Linear(2 * (input_nc + output_nc) + n_corr, hidden), nn.ReLU(True),
                                 nn.Linear(hidden, output_nc * (input_nc + 1)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_mlp(self.mlp)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(B, output_nc * (input_nc + 1)): the matrix's change from the identity, row by row, then the offset."""
        xf = x.float().flatten(2)
        mean, std = xf.mean(2), xf.std(2)
        z = (xf - mean[..., None]) / (std[..., None] + 1e-4)
        corr = torch.bmm(z, z.transpose(1, 2)) / max(1, xf.shape[2] - 1)
        i, j = torch.triu_indices(self.input_nc, self.input_nc, 1)
        yf = y.float().flatten(2)
        stats = torch.cat([mean, std, corr[:, i, j], yf.mean(2), yf.std(2)], 1)
        return self.mlp(stats.to(x.dtype))

    def transform(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The colour change for ``x`` from :meth:`forward`'s output."""
        b, o, i = x.shape[0], self.output_nc, self.input_nc
        matrix, offset = params[:, :o * i].view(b, o, i), params[:, o * i:].view(b, o, 1, 1)
        return torch.bmm(matrix, x.flatten(2)).view(b, o, *x.shape[2:]) + offset


class OutputCalibration(nn.Module):
    """A per-image colour correction of the finished output (a 3x3 matrix and an offset, added to the identity),
    linear in 12 whole-image statistics: the channel means and standard deviations of the input and of the output.

    It is not learnt by gradient descent but solved in closed form after distillation
    (:func:`engine.training.calibrate.fit_calibration`: a ridge regression of each training photo's best correction
    toward the teacher), so its weights are a buffer that training leaves at zero, which is no change. On vintagify's
    fast version it raised the PSNR against the teacher on held-out photos from 26.3 to 26.7 dB, where 2000 more
    training steps of the colour branches had stayed within 0.1 dB. Frozen under tiling like the other branches.
    13 x 12 numbers."""

    #: the largest change of a matrix entry or offset it makes (vintagify-fast's stay below 0.25): a photo unlike any it
    #: was fitted on cannot be driven to extremes
    LIMIT = 0.5

    def __init__(self, input_nc: int, output_nc: int):
        super().__init__()
        self.output_nc = output_nc
        self.register_buffer("weight", torch.zeros(2 * (input_nc + output_nc) + 1, output_nc * (output_nc + 1)))

    def reset_parameters(self) -> None:
        self.weight.zero_()

    @staticmethod
    def stats(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """(B, 2 * (input_nc + output_nc) + 1): means and standard deviations of ``x`` and ``out``, then a 1."""
        xf, of = x.float().flatten(2), out.float().flatten(2)
        return torch.cat([xf.mean(2), xf.std(2), of.mean(2), of.std(2), torch.ones_like(xf[:, :1, 0])], 1)

    def forward(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return (self.stats(x, out) @ self.weight.float()).clamp(-self.LIMIT, self.LIMIT)

    def transform(self, params: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """The corrected output: ``out + M out + offset`` (M: the matrix's change from the identity), clamped."""
        b, o = out.shape[0], self.output_nc
        matrix, offset = params[:, :o * o].view(b, o, o), params[:, o * o:].view(b, o, 1, 1)
        change = torch.bmm(matrix, out.float().flatten(2)).view(b, o, *out.shape[2:]) + offset
        return (out + change.to(out.dtype)).clamp(-1, 1)


#: the per-image branches computed from whole-image statistics (frozen under tiling, own start and learning rate)
GLOBAL_BRANCHES = (GlobalColor, GlobalAffine, OutputCalibration)


class MobileResnetGenerator(nn.Module):
    """c7s1-ngf, d2ngf, d4ngf, n x separable R4ngf, u2ngf, ungf, c7s1-3 with Tanh."""

    size_multiple = 4

    def __init__(self, input_nc: int = 3, output_nc: int = 3, ngf: int = 32, norm: str = "instance",
                 dropout: float = 0.0, n_blocks: int = 9, padding_type: str = "reflect", head_kernel: int = 7,
                 residual: bool = False, global_color: bool = False, global_affine: bool = False,
                 calibration: bool = False):
        super().__init__()
        self.residual = residual
        if head_kernel not in (1, 3, 5, 7):
            raise ConfigError(f"the output convolution's kernel must be 1, 3, 5 or 7 (got {head_kernel})")
        if not 1 <= n_blocks <= 64:
            raise ConfigError(f"a mobile ResNet generator needs 1 to 64 residual blocks (got {n_blocks})")
        if not 4 <= ngf <= 1024:
            raise ConfigError(f"the mobile ResNet width ngf must be between 4 and 1024 (got {ngf})")
        norm_layer, use_bias = mobile_norm_layer(norm), _use_bias(norm)
        blocks = [MobileResnetBlock(ngf * 4, padding_type, norm_layer, dropout, use_bias) for _ in range(n_blocks)]
        model = resnet_layers(input_nc, output_nc, ngf, norm_layer, use_bias, blocks, head_kernel)
        if residual:
            if input_nc != output_nc:
                raise ConfigError("a residual generator needs as many output channels as input channels")
            model = model[:-1]  # the Tanh is applied after adding the input
        if (global_color or global_affine) and not residual:
            raise ConfigError("the global colour branches need a residual generator (residual=True)")
        self.model = nn.Sequential(*model)
        self.color = GlobalColor(input_nc, output_nc) if global_color else None
        self.affine = GlobalAffine(input_nc, output_nc) if global_affine else None
        self.calib = OutputCalibration(input_nc, output_nc) if calibration else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.model(_fast_layout(x))
        if self.color is not None:
            y = y + self.color(x, y)
        if self.affine is not None:
            y = y + self.affine.transform(self.affine(x, y), x)
        if self.residual:  # the network learns a change of the input: tanh(atanh(x) + f(x)), identity at f = 0
            y = torch.tanh(torch.atanh(x.clamp(-0.999, 0.999)) + y)
        if self.calib is not None:
            y = self.calib.transform(self.calib(x, y), y)
        return y


class MobileUnetBlock(nn.Module):
    """One U-Net level with separable convolutions: depthwise 4x4 stride 2 + pointwise down, depthwise transposed
    4x4 stride 2 + pointwise up, skip concatenation."""

    def __init__(self, outer_nc: int, inner_nc: int, submodule=None, innermost=False, norm_layer=nn.BatchNorm2d,
                 use_dropout=False, use_bias=False):
        super().__init__()
        up_in = inner_nc if innermost else inner_nc * 2
        down = [nn.LeakyReLU(0.2), nn.Conv2d(outer_nc, outer_nc, 4, stride=2, padding=1, groups=outer_nc,
                                             bias=use_bias),
                nn.Conv2d(outer_nc, inner_nc, 1, bias=use_bias)]
        if not innermost:
            down.append(norm_layer(inner_nc))
        up = [nn.ReLU(), nn.ConvTranspose2d(up_in, up_in, 4, stride=2, padding=1, groups=up_in, bias=use_bias),
              nn.Conv2d(up_in, outer_nc, 1, bias=use_bias), norm_layer(outer_nc)]
        if use_dropout and not innermost:
            up.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*down, *([submodule] if submodule is not None else []), *up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.model(x)], 1)


class MobileUnetGenerator(nn.Module):
    def __init__(self, input_nc: int = 3, output_nc: int = 3, num_downs: int = 8, ngf: int = 32, norm: str = "batch",
                 use_dropout: bool = False):
        super().__init__()
        if not 5 <= num_downs <= 10:
            raise ConfigError(f"a mobile U-Net needs 5 to 10 downsamplings (got {num_downs})")
        if not 4 <= ngf <= 1024:
            raise ConfigError(f"the mobile U-Net width ngf must be between 4 and 1024 (got {ngf})")
        norm_layer, use_bias = mobile_norm_layer(norm), _use_bias(norm)
        kw = dict(norm_layer=norm_layer, use_bias=use_bias)
        block = unet_levels(lambda o, i, sub, inner, drop: MobileUnetBlock(
            o, i, submodule=sub, innermost=inner, use_dropout=drop, **kw), ngf, num_downs, use_dropout)
        self.model = nn.Sequential(nn.Conv2d(input_nc, ngf, 4, stride=2, padding=1, bias=use_bias), block,
                                   nn.ReLU(), nn.ConvTranspose2d(ngf * 2, output_nc, 4, stride=2, padding=1),
                                   nn.Tanh())
        self.size_multiple = 2 ** num_downs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(_fast_layout(x))


def feature_layers(net: nn.Module) -> List[nn.Module]:
    """The modules whose outputs distillation can match, outermost/earliest first: residual blocks of (mobile) ResNet
    generators, U-Net levels (outermost first) of (mobile) U-Nets. Empty for other networks."""
    net = getattr(net, "module", net)
    if isinstance(net, (ResnetGenerator, MobileResnetGenerator)):
        return [m for m in net.model if isinstance(m, (ResnetBlock, MobileResnetBlock))]
    if isinstance(net, (UnetGenerator, MobileUnetGenerator)):
        return [m for m in net.modules() if isinstance(m, (MobileUnetBlock, UnetSkipConnectionBlock))
                and not getattr(m, "outermost", False)]
    return []


# ------------------------------------------------------------------------------------------------------------
# registry entries

@register_model("mobile_resnet", role="generator", task="translate", compressed=True)
def mobile_resnet(input_nc=3, output_nc=3, ngf=32, norm="instance", n_blocks=9, dropout=0.0, padding_type="reflect",
                  head_kernel=7, residual=False, global_color=False, global_affine=False, calibration=False):
    """Mobile ResNet generator: depthwise-separable residual blocks (GAN Compression), width per MACs target;
    ``global_color``: a per-image colour shift from global statistics (:class:`GlobalColor`); ``global_affine``: a
    per-image colour transform of the input (:class:`GlobalAffine`); ``calibration``: a per-image colour correction of the
    output solved in closed form after distillation (:class:`OutputCalibration`)."""
    if norm not in NORMS:
        raise ConfigError(f"Unknown normalization {norm!r}; use one of {', '.join(NORMS)}")
    return MobileResnetGenerator(input_nc, output_nc, ngf, norm, dropout, n_blocks, padding_type, head_kernel,
                                 residual, global_color, global_affine, calibration)


@register_model("mobile_unet", role="generator", task="translate", compressed=True)
def mobile_unet(input_nc=3, output_nc=3, num_downs=8, ngf=32, norm="batch", use_dropout=False):
    """Mobile U-Net generator: depthwise-separable down/up convolutions (pix2pix students)."""
    return MobileUnetGenerator(input_nc, output_nc, num_downs, ngf, norm, use_dropout)
