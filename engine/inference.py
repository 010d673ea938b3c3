"""Image translation on any size: pad to the network's multiple (reflection), crop back, optional max side, tiles
with overlap blending for images too big for memory, bf16/fp16 on CUDA, CPU fallback, and out-of-memory recovery
(smaller tiles or a smaller batch, with a note, never a crash)."""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from . import devices
from .config import Config, check, check_choice
from .errors import OutOfMemory, is_oom
from .imageio import LoadedImage, resize_to
from .models.mobile import GLOBAL_BRANCHES, FastInstanceNorm2d
from .models.networks import size_multiple

MIN_SIDE = 16
# Large images on a CPU: tiles and the side of the statistics pass. Peak memory of the bundled vintagify
# (ResNet-9, ngf 64) per forward: 176 MB at 512 px, 860 MB at 1024 px, 2.8 GB at 2048x1638 px.
STREAM_TILE = 512
STREAM_STATS_SIDE = 1024


@dataclass
class TranslateOptions(Config):
    max_side: int = 0  # longest side processed; 0 = full resolution
    fit_side: bool = False  # with max_side: smaller images are enlarged, so the long side is exactly max_side
    tile: int = 0  # tile size in px; 0 = automatic (whole image unless it is too big for memory)
    tile_overlap: int = 32
    precision: str = "auto"  # auto | fp32 | fp16 | bf16
    batch_size: int = 4
    norm_mode: str = "eval"  # eval | train: batch norm statistics (pix2pix models trained with batch norm)
    channels_last: bool = True  # NHWC memory layout (faster convolutions on CUDA and with oneDNN on CPU)
    cpu_bf16: bool = True  # "auto" precision on a CPU with native bf16 instructions runs in bf16

    def validate(self) -> None:
        check(self.max_side == 0 or self.max_side >= MIN_SIDE, f"max side must be 0 (full size) or >= {MIN_SIDE}")
        check(self.tile == 0 or self.tile >= 64, "tile must be 0 (automatic) or >= 64 px")
        check(0 <= self.tile_overlap <= 256 and (self.tile == 0 or self.tile_overlap < self.tile // 2),
              "tile overlap must be 0..256 px and smaller than half a tile")
        check_choice("precision", self.precision, ("auto", "fp32", "fp16", "bf16"))
        check_choice("norm_mode", self.norm_mode, ("eval", "train"))
        check(1 <= self.batch_size <= 256, "batch size must be between 1 and 256")


@dataclass
class Translated:
    image: LoadedImage
    notes: List[str] = field(default_factory=list)


class Translator:
    """Wraps a generator for inference. Thread-compatible: use one Translator per worker."""

    def __init__(self, module: torch.nn.Module, device: Optional[torch.device] = None,
                 options: Optional[TranslateOptions] = None):
        self.options = options or TranslateOptions()
        self.device = device or devices.pick_device()
        #: called as ``on_tile(done, total)`` after each tile of a tiled image (progress, cancel)
        self.on_tile: Optional[Callable[[int, int], None]] = None
        self.multiple = size_multiple(module)
        dtype = self._dtype()
        net = copy.deepcopy(module)  # never change the caller's (possibly cached, shared) module
        net = net.to(self.device, dtype=dtype)
        self.channels_last = self.device.type == "cuda" or self.options.channels_last
        if self.channels_last:
            net = net.to(memory_format=torch.channels_last)
        net.eval()
        if self.options.norm_mode == "train":  # batch statistics (junyanz test.py without --eval)
            for m in net.modules():
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                    m.train()
                    m.momentum = 0.0  # running statistics stay as trained
        self.net, self.dtype = net, dtype
        self.auto_tile_pixels = 6_000_000 if self.device.type == "cpu" else 0

    def _dtype(self) -> torch.dtype:
        p = self.options.precision
        if self.device.type == "cpu":
            if p == "bf16" or (p == "auto" and self.options.cpu_bf16 and devices.cpu_has_fast_bf16()):
                return torch.bfloat16
            return torch.float32
        if p == "fp32":
            return torch.float32
        if p == "fp16":
            return torch.float16
        if p == "bf16":
            return torch.bfloat16
        return devices.amp_dtype(self.device) or torch.float32

    # --- tensors -----------------------------------------------------------------------------------------
    @torch.inference_mode()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """NCHW in [-1, 1] (any H, W) -> same size output, float32 on the device."""
        h, w = x.shape[-2:]
        m = self.multiple
        th, tw = max(MIN_SIDE, math.ceil(h / m) * m), max(MIN_SIDE, math.ceil(w / m) * m)
        th, tw = math.ceil(th / m) * m, math.ceil(tw / m) * m
        x = x.to(self.device, self.dtype, non_blocking=True)
        if (th, tw) != (h, w):
            x = pad_to(x, th, tw)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        y = self.net(x)
        return y[..., :h, :w].float()

    def forward_tiled(self, x: torch.Tensor, tile: int, overlap: int) -> torch.Tensor:
        """Run overlapping tiles and blend them with linear ramps (seams fade across ``overlap`` px).

        Instance-norm networks normalise each tile by its own statistics, which shifts tones from tile to tile; so
        the statistics of every InstanceNorm layer are first measured on a downscaled pass over the whole image and
        then frozen while the tiles run."""
        n, _, h, w = x.shape
        if h <= tile and w <= tile:
            return self.forward(x)
        with frozen_instance_norm(self, x, max_side=max(tile, 2048), min_side=tile):
            return self._tiles(x, tile, overlap)

    def _tiles(self, x: torch.Tensor, tile: int, overlap: int) -> torch.Tensor:
        n, _, h, w = x.shape
        out = torch.empty(n, 3, h, w, device=self.device)

        def write(y0: int, y1: int, band: torch.Tensor) -> None:
            out[:, :, y0:y1] = band

        self._blend_tiles(n, h, w, tile, overlap, lambda y0, y1, x0, x1: x[:, :, y0:y1, x0:x1], write, self.device)
        return out

    def _blend_tiles(self, n: int, h: int, w: int, tile: int, overlap: int,
                     read: Callable[[int, int, int, int], torch.Tensor],
                     write: Callable[[int, int, torch.Tensor], None], device: torch.device) -> None:
        """Translate overlapping tiles a band (one row of tiles) at a time and blend them with linear ramps, so that
        seams fade across ``overlap`` px. ``read(y0, y1, x0, x1)`` gives a tile's input; ``write(y0, y1, band)``
        receives rows ``[y0, y1)`` of the output once no later tile touches them. Only one band of the output and
        the rows it overlaps with the next are held at a time."""
        step = max(1, tile - overlap)
        ys, xs = _starts(h, tile, step), _starts(w, tile, step)
        carry: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
        k = 0
        for i, y0 in enumerate(ys):
            th = min(tile, h - y0)
            acc = torch.zeros(n, 3, th, w, device=device)
            weight = torch.zeros(1, 1, th, w, device=device)
            if carry is not None:  # the rows the previous band overlaps with this one
                rows = carry[0].shape[2]
                acc[:, :, :rows] += carry[0]
                weight[:, :, :rows] += carry[1]
            for x0 in xs:
                tw = min(tile, w - x0)
                y = self.forward(read(y0, y0 + th, x0, x0 + tw)).to(device)
                r = _ramp(th, tw, overlap, y0 > 0, y0 + th < h, x0 > 0, x0 + tw < w, device)
                acc[:, :, :, x0:x0 + tw] += y * r
                weight[:, :, :, x0:x0 + tw] += r
                k += 1
                if self.on_tile is not None:  # progress (and a chance to cancel) inside one large image
                    self.on_tile(k, len(ys) * len(xs))
            end = ys[i + 1] if i + 1 < len(ys) else h  # rows [y0, end) get no more tiles
            write(y0, end, acc[:, :, :end - y0].div_(weight[:, :, :end - y0].clamp_min(1e-6)))
            carry = (acc[:, :, end - y0:], weight[:, :, end - y0:]) if end < h else None

    def run(self, x: torch.Tensor, notes: Optional[List[str]] = None) -> torch.Tensor:
        """Whole image if it fits, else tiles; on out-of-memory retry with smaller tiles."""
        notes = notes if notes is not None else []
        h, w = x.shape[-2:]
        tile = self.options.tile
        if tile == 0 and self.auto_tile_pixels and h * w > self.auto_tile_pixels:
            tile = 1024
            notes.append(f"large image ({w}x{h}): translated in {tile} px tiles")
        while True:
            try:
                if tile:
                    return self.forward_tiled(x, tile, max(self.options.tile_overlap, tile // 16))
                return self.forward(x)
            except Exception as e:  # noqa: BLE001 - only OOM is handled here
                if not is_oom(e):
                    raise
                devices.empty_cache(self.device)
                new = 1024 if tile == 0 else tile // 2
                new = min(new, max(h, w) // 2 or 64)
                if new < 128:
                    raise OutOfMemory("Out of GPU memory even with 128 px tiles. Close other GPU programs or use "
                                      "a smaller max side.") from None
                notes.append(f"out of GPU memory: retried in {new} px tiles")
                tile = new

    # --- images ------------------------------------------------------------------------------------------
    def prepare(self, img: LoadedImage) -> Tuple[torch.Tensor, Tuple[int, int]]:
        rgb = img.float_rgb()
        h, w = rgb.shape[:2]
        ms = self.options.max_side
        if ms and (max(h, w) > ms or (self.options.fit_side and max(h, w) < ms)):
            s = ms / max(h, w)
            rgb = resize_to(rgb, (max(1, round(w * s)), max(1, round(h * s))))
        t = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
        del rgb  # (a 100-megapixel image is 1.2 GB per float copy: keep one)
        return t.mul_(2).sub_(1), (t.shape[-1], t.shape[-2])

    def finish(self, y: torch.Tensor, img: LoadedImage, size: Tuple[int, int]) -> LoadedImage:
        alpha = img.alpha
        if alpha is not None and (alpha.shape[1], alpha.shape[0]) != size:
            alpha = resize_to(alpha, size)
        scale, dtype = (65535.0, np.uint16) if img.bit_depth == 16 else (255.0, np.uint8)
        rgb = _to_pixels(y.float().cpu(), scale, dtype)
        return LoadedImage(np.ascontiguousarray(rgb), alpha, img.path, img.source_mode, img.fmt)

    def translate(self, img: LoadedImage) -> Translated:
        notes: List[str] = []
        if self._is_large(img):
            return self._translate_large(img, notes)
        x, size = self.prepare(img)
        y = self.run(x, notes)
        return Translated(self.finish(y[0], img, size), notes)

    # --- large images: streamed from the decoded pixels, a band of tiles at a time ----------------------
    def _is_large(self, img: LoadedImage) -> bool:
        w, h = img.size
        return bool(self.auto_tile_pixels and w * h > self.auto_tile_pixels) or \
            bool(self.options.tile and max(w, h) > self.options.tile and not self.options.max_side)

    def _scaled(self, img: LoadedImage) -> LoadedImage:
        """``max_side`` applied to the integer pixels (a float copy of a 100-megapixel image would be 1.2 GB)."""
        w, h = img.size
        ms = self.options.max_side
        if not ms or not (max(h, w) > ms or (self.options.fit_side and max(h, w) < ms)):
            return img
        s = ms / max(h, w)
        size = (max(1, round(w * s)), max(1, round(h * s)))
        alpha = None if img.alpha is None else resize_to(img.alpha, size)
        return LoadedImage(resize_to(img.rgb, size), alpha, img.path, img.source_mode, img.fmt)

    def _translate_large(self, img: LoadedImage, notes: List[str]) -> Translated:
        """Memory stays near two copies of the image's integer pixels (input and output), one band of tiles and one
        forward at 1024 px, instead of five float copies of the whole image and a 2048 px forward (5.6 GB and
        more for 100 megapixels)."""
        img = self._scaled(img)
        w, h = img.size
        tile = self.options.tile or (STREAM_TILE if w * h > self.auto_tile_pixels else 0)
        if not tile or (w <= tile and h <= tile):
            x, size = self.prepare(img)
            return Translated(self.finish(self.run(x, notes)[0], img, size), notes)
        if not self.options.tile:
            notes.append(f"large image ({w}x{h}): translated in {tile} px tiles")
        while True:
            try:
                return Translated(self._stream(img, tile), notes)
            except Exception as e:  # noqa: BLE001 - only OOM is handled here
                if not is_oom(e):
                    raise
                devices.empty_cache(self.device)
                if tile // 2 < 128:
                    raise OutOfMemory("Out of memory even with 128 px tiles. Close other programs or use a smaller "
                                      "max side.") from None
                tile //= 2
                notes.append(f"out of memory: retried in {tile} px tiles")

    def _stream(self, img: LoadedImage, tile: int) -> LoadedImage:
        src = img.rgb
        scale = 65535.0 if src.dtype == np.uint16 else 255.0
        h, w = src.shape[:2]
        overlap = max(self.options.tile_overlap, tile // 16)
        side = max(tile, STREAM_STATS_SIDE)  # instance-norm statistics from a downscaled copy of the whole image
        s = min(1.0, side / max(h, w))
        small = src if s == 1 else resize_to(src, (max(MIN_SIDE, round(w * s)), max(MIN_SIDE, round(h * s))))
        small_t = _to_input(small, scale)
        out = np.empty_like(src)
        cpu = torch.device("cpu")

        def write(y0: int, y1: int, band: torch.Tensor) -> None:
            out[y0:y1] = _to_pixels(band[0], scale, src.dtype)

        with frozen_instance_norm(self, small_t, max_side=side, min_side=tile):
            del small, small_t
            self._blend_tiles(1, h, w, tile, overlap, lambda y0, y1, x0, x1: _to_input(src[y0:y1, x0:x1], scale),
                              write, cpu)
        return LoadedImage(out, img.alpha, img.path, img.source_mode, img.fmt)

    def translate_many(self, imgs: Sequence[LoadedImage]) -> List[Translated]:
        """Batch images that share a size (after ``max_side``); fall back to one at a time on OOM. Large images
        go one at a time through the streamed path."""
        results: List[Optional[Translated]] = [None] * len(imgs)
        prepared: dict = {}
        for i, img in enumerate(imgs):
            if self._is_large(img):
                results[i] = self.translate(img)
            else:
                prepared[i] = self.prepare(img)
        groups: dict = {}
        for i, (t, size) in prepared.items():
            groups.setdefault(size, []).append(i)
        bs = self.options.batch_size
        for size, idx in groups.items():
            w, h = size
            if len(idx) == 1 or (self.auto_tile_pixels and w * h > self.auto_tile_pixels // 2):
                for i in idx:
                    notes: List[str] = []
                    y = self.run(prepared[i][0], notes)
                    results[i] = Translated(self.finish(y[0], imgs[i], size), notes)
                continue
            for k in range(0, len(idx), bs):
                chunk = idx[k:k + bs]
                x = torch.cat([prepared[i][0] for i in chunk])
                notes = []
                try:
                    y = self.forward(x)
                except Exception as e:  # noqa: BLE001
                    if not is_oom(e):
                        raise
                    devices.empty_cache(self.device)
                    notes.append("out of GPU memory in a batch: translated one image at a time")
                    y = torch.cat([self.run(prepared[i][0], notes) for i in chunk])
                for j, i in enumerate(chunk):
                    results[i] = Translated(self.finish(y[j], imgs[i], size), list(notes))
        return [r for r in results if r is not None]


class frozen_instance_norm:
    """Context manager: measure each InstanceNorm's input mean/var on ``x`` (downscaled to ``max_side`` if larger,
    halving on out-of-memory down to ``min_side``), then make those layers normalise with the measured statistics.

    Statistics depend on scale: on the bundled model, tiles with statistics from the full image differ from the
    whole-image result by 0.3 uint8 levels, from a 3/4-size pass by 1.1, from a half-size pass by 4.6, and per-tile
    statistics by 10.7 (astronaut.png, 256 px tiles)."""

    def __init__(self, tr: "Translator", x: torch.Tensor, max_side: int = 2048, min_side: int = 256):
        self.tr, self.x, self.max_side, self.min_side = tr, x, max_side, min_side
        self.layers = [m for m in tr.net.modules() if isinstance(m, (torch.nn.InstanceNorm2d, FastInstanceNorm2d))]
        self.layers += [m for m in tr.net.modules() if isinstance(m, GLOBAL_BRANCHES)]  # whole-image colour shift / transform
        self.stats: dict = {}

    def __enter__(self) -> "frozen_instance_norm":
        if not self.layers:
            return self
        side = min(self.max_side, max(self.x.shape[-2:]))
        while True:
            try:
                self._measure(side)
                break
            except Exception as e:  # noqa: BLE001 - only OOM is handled
                if not is_oom(e) or side // 2 < self.min_side:
                    raise
                devices.empty_cache(self.tr.device)
                side //= 2
        for m in self.layers:
            m.forward = self._frozen(m)
        return self

    def _measure(self, side: int) -> None:
        h, w = self.x.shape[-2:]
        s = min(1.0, side / max(h, w))
        small = F.interpolate(self.x, size=(max(MIN_SIDE, round(h * s)), max(MIN_SIDE, round(w * s))),
                              mode="area") if s < 1 else self.x
        for m in self.layers:
            m.forward = self._recorder(m)
        try:
            self.tr.forward(small)
        finally:
            for m in self.layers:
                del m.forward

    def __exit__(self, *exc) -> None:
        for m in self.layers:
            if "forward" in m.__dict__:
                del m.forward

    def _recorder(self, m):
        orig = type(m).forward.__get__(m)
        if isinstance(m, GLOBAL_BRANCHES):  # its output (a colour shift or transform per image) is kept as it is
            def keep(*args: torch.Tensor) -> torch.Tensor:
                self.stats[m] = out = orig(*args)
                return out

            return keep

        def fwd(inp: torch.Tensor) -> torch.Tensor:
            f = inp.float()
            self.stats[m] = (f.mean(dim=(2, 3), keepdim=True), f.var(dim=(2, 3), unbiased=False, keepdim=True))
            return orig(inp)

        return fwd

    def _frozen(self, m):
        if isinstance(m, GLOBAL_BRANCHES):
            return lambda *args: self.stats[m]

        def fwd(inp: torch.Tensor) -> torch.Tensor:
            mean, var = self.stats[m]
            y = (inp.float() - mean) / torch.sqrt(var + m.eps)
            if m.affine:
                y = y * m.weight.float().view(1, -1, 1, 1) + m.bias.float().view(1, -1, 1, 1)
            return y.to(inp.dtype)

        return fwd


def _to_input(pixels: np.ndarray, scale: float) -> torch.Tensor:
    """HxWx3 integer pixels -> 1x3xHxW float32 in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1)).astype(np.float32))[None]
    return t.mul_(2 / scale).sub_(1)


def _to_pixels(y: torch.Tensor, scale: float, dtype) -> np.ndarray:
    """3xHxW float in [-1, 1] -> HxWx3 integer pixels (rounded); ``scale`` 255 or 65535."""
    arr = y.clamp(-1, 1).add_(1).mul_(0.5).permute(1, 2, 0).numpy()
    return np.round(arr * scale).astype(dtype)


def pad_to(x: torch.Tensor, th: int, tw: int) -> torch.Tensor:
    """Pad bottom/right to (th, tw): reflection where the image is big enough, else replication."""
    h, w = x.shape[-2:]
    ph, pw = th - h, tw - w
    if ph == 0 and pw == 0:
        return x
    if ph < h and pw < w:
        return F.pad(x, (0, pw, 0, ph), mode="reflect")
    return F.pad(x, (0, pw, 0, ph), mode="replicate")


def _starts(n: int, tile: int, step: int) -> List[int]:
    # Copied on purpose into packaging/translator/gstranslator/runtime.py (no engine there): change both.
    if n <= tile:
        return [0]
    starts = list(range(0, n - tile, step))
    starts.append(n - tile)
    return sorted(set(starts))


def _ramp(h: int, w: int, ov: int, top: bool, bottom: bool, left: bool, right: bool,
          device: torch.device) -> torch.Tensor:
    def axis(n: int, lo: bool, hi: bool) -> torch.Tensor:
        r = torch.ones(n, device=device)
        k = min(ov, n // 2)
        if k > 0:
            ramp = (torch.arange(k, device=device, dtype=torch.float32) + 1) / (k + 1)
            if lo:
                r[:k] = ramp
            if hi:
                r[n - k:] = ramp.flip(0)
        return r

    return (axis(h, top, bottom)[:, None] * axis(w, left, right)[None, :])[None, None]
