"""Pieces of the distillation family: choosing the student for a teacher and a MACs target, the checks that refuse
a distillation before any work, feature taps with learned 1x1 projections, and photo augmentation.

Student choice: a ResNet teacher (``resnet_9blocks``/``resnet_6blocks``/``mobile_resnet``) gets a ``mobile_resnet``
with the teacher's number of blocks and norm and a 3x3 output convolution (the 7x7 one costs more CPU time than all
residual blocks of a narrow student) and a residual output, ``tanh(atanh(x) + f(x))``: it starts as the identity and
learns the change a translation makes, which a small network learns several times faster than the whole picture
(vintagify: the student's samples were posterized after 200 steps without it); a U-Net teacher gets a ``mobile_unet`` with the teacher's depth and norm. The
width is the largest multiple of 8 whose MACs at 256x256 fit the target (default: a tenth of the teacher's).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..errors import ConfigError
from ..library import ModelInfo
from ..models.macs import arch_macs, format_macs
from ..models.mobile import feature_layers

RESNET_TEACHERS = {"resnet_9blocks": 9, "resnet_6blocks": 6}
UNET_TEACHERS = {"unet_256": 8, "unet_128": 7}
WIDTHS = tuple(range(8, 257, 8))


@dataclass
class StudentPlan:
    arch: str
    kwargs: Dict[str, Any]
    macs: int
    teacher_macs: int

    def describe(self) -> str:
        return f"{self.arch} (ngf {self.kwargs['ngf']}, {format_macs(self.macs)}MACs at 256x256)"


def _student_base(teacher: ModelInfo) -> Tuple[str, Dict[str, Any]]:
    arch = teacher.arch
    kw = dict(teacher.meta.get("arch_kwargs") or {})
    norm = kw.get("norm", "instance" if arch not in UNET_TEACHERS else "batch")
    io = {k: kw[k] for k in ("input_nc", "output_nc") if k in kw}
    if arch in RESNET_TEACHERS or arch == "mobile_resnet":
        blocks = RESNET_TEACHERS.get(arch) or int(kw.get("n_blocks", 9))
        return "mobile_resnet", dict(io, norm=norm, n_blocks=blocks, head_kernel=3, residual=True, global_color=True,
                                     global_affine=True, calibration=True)
    if arch in UNET_TEACHERS or arch == "mobile_unet":
        downs = UNET_TEACHERS.get(arch) or int(kw.get("num_downs", 8))
        return "mobile_unet", dict(io, norm=norm, num_downs=downs)
    raise ConfigError(f"Model {teacher.name!r} ({arch or 'unknown architecture'}) cannot be distilled: only ResNet "
                      "and U-Net image-to-image generators (CycleGAN, pix2pix and their fast versions) can.")


def plan_student(teacher: ModelInfo, target_macs: Optional[int] = None, ngf: int = 0) -> StudentPlan:
    """The student network for ``teacher``; ConfigError when no student fits or it would not be smaller."""
    if teacher.task != "translate":
        raise ConfigError(f"Model {teacher.name!r} is a {teacher.task} model; distillation makes fast versions of "
                          "image-to-image (translate) models only.")
    t_macs = arch_macs(teacher.arch, teacher.meta.get("arch_kwargs") or {})
    arch, base = _student_base(teacher)
    if t_macs is None:
        raise ConfigError(f"The size of model {teacher.name!r} ({teacher.arch}) cannot be computed.")
    target = target_macs or t_macs // 10
    if ngf:
        chosen = dict(base, ngf=ngf)
        macs = arch_macs(arch, chosen)
    else:
        fits = [(w, m) for w in WIDTHS for m in [arch_macs(arch, dict(base, ngf=w))] if m is not None and m <= target]
        if not fits:
            smallest = arch_macs(arch, dict(base, ngf=WIDTHS[0]))
            raise ConfigError(f"No {arch} student fits a target of {format_macs(target)}MACs; the smallest (ngf "
                              f"{WIDTHS[0]}) needs {format_macs(smallest)}MACs. Choose a larger target (--target-macs).")
        w, macs = fits[-1]
        chosen = dict(base, ngf=w)
    plan = StudentPlan(arch, chosen, int(macs or 0), int(t_macs))
    check_not_larger(teacher, plan)
    return plan


def check_not_larger(teacher: ModelInfo, plan: StudentPlan) -> None:
    t_kw = dict(teacher.meta.get("arch_kwargs") or {})
    if teacher.arch == plan.arch and all(t_kw.get(k) == v for k, v in plan.kwargs.items() if k in t_kw) \
            and t_kw.get("ngf") == plan.kwargs.get("ngf"):
        raise ConfigError(f"Model {teacher.name!r} is already a {plan.describe()}: distilling it into the same "
                          "network gives nothing faster. Choose a smaller target (--target-macs) or width.")
    if plan.macs >= plan.teacher_macs:
        raise ConfigError(f"The student {plan.describe()} would not be smaller than its teacher {teacher.name!r} "
                          f"({format_macs(plan.teacher_macs)}MACs). Choose a --target-macs below "
                          f"{format_macs(plan.teacher_macs)} or a smaller width.")


def check_not_into_itself(teacher: ModelInfo, run_dir: str) -> None:
    """Refuse a run folder that holds the teacher (its model files would be overwritten by the student's)."""
    if not run_dir:
        return
    root = Path(run_dir).expanduser().resolve()
    tpath = Path(teacher.path).resolve()
    if root == tpath.parent or root in tpath.parents:
        raise ConfigError(f"The run folder {root} holds the teacher model {teacher.name!r} ({tpath}); distilling a "
                          "model into itself would overwrite it. Choose a new run folder.")


# ------------------------------------------------------------------------------------------------------------
# feature matching

def pick(n: int, k: int) -> List[int]:
    """``k`` indices spread over ``range(n)``, the last one included (e.g. 9 blocks, 3 taps: 2, 5, 8)."""
    k = max(0, min(k, n))
    return sorted({round((i + 1) * n / k) - 1 for i in range(k)}) if k else []


class FeatureTaps:
    """Forward hooks that keep the outputs of chosen layers of a network during one forward."""

    def __init__(self, layers: List[nn.Module]):
        self.outputs: List[Optional[torch.Tensor]] = [None] * len(layers)
        self._handles = [m.register_forward_hook(self._hook(i)) for i, m in enumerate(layers)]

    def _hook(self, i: int):
        def fn(module, args, out):
            self.outputs[i] = out
        return fn

    def take(self) -> List[torch.Tensor]:
        out, self.outputs = self.outputs, [None] * len(self.outputs)
        return [o for o in out if o is not None]

    def close(self) -> None:
        for h in self._handles:
            h.remove()


def matched_layers(teacher: nn.Module, student: nn.Module, n_taps: int) -> Tuple[List[nn.Module], List[nn.Module]]:
    """Pairs of (teacher layer, student layer) at the same relative depth."""
    t_layers, s_layers = feature_layers(teacher), feature_layers(student)
    k = min(n_taps, len(t_layers), len(s_layers))
    if k == 0:
        return [], []
    if hasattr(t_layers[0], "conv_block"):  # residual blocks: spread over the depth
        ti, si = pick(len(t_layers), k), pick(len(s_layers), k)
    else:  # U-Net levels: the outermost ones, aligned by resolution
        ti = si = list(range(k))
    return [t_layers[i] for i in ti], [s_layers[i] for i in si]


def make_projections(s_feats: List[torch.Tensor], t_feats: List[torch.Tensor]) -> nn.ModuleList:
    """Learned 1x1 convolutions from the student's feature channels to the teacher's."""
    return nn.ModuleList(nn.Conv2d(s.shape[1], t.shape[1], 1) for s, t in zip(s_feats, t_feats))


def feature_loss(projs: nn.ModuleList, s_feats: List[torch.Tensor], t_feats: List[torch.Tensor]) -> torch.Tensor:
    """Mean over taps of MSE(proj(student), teacher) / mean(teacher^2): scale-free, so taps weigh alike."""
    total = s_feats[0].new_zeros(())
    for proj, s, t in zip(projs, s_feats, t_feats):
        p = proj(s)
        if p.shape[-2:] != t.shape[-2:]:
            p = F.interpolate(p, size=t.shape[-2:], mode="bilinear", align_corners=False)
        total = total + F.mse_loss(p.float(), t.float()) / t.float().pow(2).mean().clamp_min(1e-6)
    return total / max(1, len(projs))


def psnr_db(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB of ``out`` against ``target`` (both in [-1, 1]), differentiable: as a loss (-PSNR/10 =
    log10 of the mean squared error) each image's error counts relative to its own, like the mean PSNR that fidelity
    to the teacher is measured by, where a plain L1 or MSE lets the worst images dominate."""
    mse = (out.float() - target.float()).square().flatten(1).mean(1)
    return 10 * torch.log10(4 / (mse + 1e-8))


# ------------------------------------------------------------------------------------------------------------
# photo augmentation (on top of the random crops and flips of the data stream)

def color_jitter(x: torch.Tensor, strength: float) -> torch.Tensor:
    """Per-sample brightness, contrast and saturation changes of NCHW images in [-1, 1] (torch RNG, so a resumed
    run draws the same ones); teacher and student see the same jittered photo."""
    if strength <= 0:
        return x
    n = x.shape[0]

    def r() -> torch.Tensor:
        return (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) * 2 - 1) * strength

    x = x + r()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * (1 + r()) + mean
    gray = x.mean(dim=1, keepdim=True)
    x = (x - gray) * (1 + r()) + gray
    return x.clamp(-1, 1)


# ------------------------------------------------------------------------------------------------------------
# teacher cache (whole photos; the fast path on CPUs, where the teacher's forward dominates the cost of a step)

class WholePhotoStream:
    """Position -> ``{"A": uint8 CHW photo, "idx": photo index, "flip": 0/1}`` over the first ``n`` photos, a fresh
    permutation per epoch; deterministic in (seed, position) like :class:`~engine.training.data.FolderStream`."""

    def __init__(self, folder, n: int, size: int, seed: int, flip: bool):
        self.folder, self.n, self.size, self.seed, self.flip = folder, min(n, len(folder)), size, seed, flip

    def example(self, g: int) -> Dict[str, torch.Tensor]:
        import numpy as np

        epoch, i = divmod(g, self.n)
        idx = int(np.random.default_rng([self.seed, 7, epoch]).permutation(self.n)[i])
        flip = self.flip and bool(np.random.default_rng([self.seed, 8, g]).random() < 0.5)
        return {"A": self.photo(idx), "idx": torch.tensor(idx), "flip": torch.tensor(int(flip))}

    def photo(self, idx: int) -> torch.Tensor:
        """Photo ``idx`` as the model sees it (uint8 CHW: short side to the size, centre square), not mirrored."""
        from .data import crop_flip, to_chw

        return to_chw(crop_flip([self.folder.image(idx)], self.size, None)[0])

    def batch(self, start: int, size: int) -> Dict[str, torch.Tensor]:
        items = [self.example(start + i) for i in range(size)]
        return {k: torch.stack([it[k] for it in items]) for k in items[0]}


class TeacherCache:
    """The teacher's output for each whole photo (and for its mirror image: the generators are not mirror-symmetric,
    vintagify's output of a mirrored face differs from the mirrored output by 31 dB PSNR), computed the first time it
    is drawn and kept (fp16, CPU).

    With ``folder`` set, each output is also kept on disk as an 8-bit PNG (at most half a level of rounding), named by
    the photo's content (SHA-256 of its file) and the mirror flag, in a folder per teacher file (its SHA-256) and
    image size under the user's cache folder. So a resumed run, or another distillation of the same teacher on the
    same photos, even copied to another folder, does not translate them again (on a 2-core CPU the teacher takes
    about a second per 256 px photo). A changed photo gets a new name; an unreadable cache file is computed again; a
    cache that cannot be written (disk full, read-only) is only kept in memory.

    :meth:`targets_and_features` also keeps the teacher's features of the matched layers (fp16 safetensors beside
    the PNG, ``<name>-feat.safetensors``; about 2 MB per layer of a 256 px ResNet teacher), so that feature
    matching works with whole cached photos. They are read from disk at each use rather than held in memory; without
    a writable cache at most :data:`FEATURE_MEMORY` bytes of them are held, and past that the teacher runs again."""

    #: bytes of teacher features held in memory when the cache folder cannot be written
    FEATURE_MEMORY = 1 << 30

    def __init__(self, folder: Optional[Path] = None, photos: Optional[List[Path]] = None,
                 log: Optional[Callable[[str], None]] = None):
        self.outputs: Dict[int, torch.Tensor] = {}
        self.folder, self.photos, self.log = folder, photos or [], log
        self.feature_memory: Dict[int, List[torch.Tensor]] = {}
        self._digests: Dict[int, str] = {}

    @classmethod
    def on_disk(cls, teacher_file: Path, size: int, photos: List[Path], log=None) -> "TeacherCache":
        from ..fsutil import file_sha256, user_cache_dir

        return cls(user_cache_dir() / "distill" / f"{file_sha256(teacher_file)[:24]}-{size}px", photos, log)

    def _file(self, key: int) -> Optional[Path]:
        if self.folder is None:
            return None
        idx, flip = divmod(key, 2)
        digest = self._content_digest(idx)
        if digest is None:
            return None
        name = hashlib.sha256(f"{digest}|{flip}".encode()).hexdigest()[:32]
        return self.folder / f"{name}.png"

    def _content_digest(self, idx: int) -> Optional[str]:
        """SHA-256 of photo ``idx``'s bytes (read once per run): the cache follows the picture, not its path or
        time, so a copied, moved or re-downloaded folder keeps its translations and an edited photo does not."""
        if idx not in self._digests:
            try:
                from ..fsutil import file_sha256

                self._digests[idx] = file_sha256(self.photos[idx])
            except (IndexError, OSError):
                return None
        return self._digests[idx]

    def _read(self, key: int) -> Optional[torch.Tensor]:
        from ..errors import ImageLoadError
        from ..imageio import load_image

        f = self._file(key)
        if f is None or not f.is_file():
            return None
        try:
            rgb = load_image(f).to_uint8().rgb
        except ImageLoadError:
            return None
        return torch.from_numpy(rgb).permute(2, 0, 1).float().div_(127.5).sub_(1).to(torch.float16)

    def _write(self, key: int, out: torch.Tensor) -> None:
        from ..fsutil import atomic_write_bytes
        from ..imageio import encode_image
        from ..tensors import to_uint8

        f = self._file(key)
        if f is None:
            return
        try:
            f.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(f, encode_image(to_uint8(out[None])[0], None, ".png"))
        except OSError as e:
            self._unwritable(e)

    def _unwritable(self, e: OSError) -> None:
        """The cache folder cannot be written: say so once and keep the rest of this run in memory."""
        if self.log is not None:
            self.log(f"The teacher cache {self.folder} cannot be written ({e.strerror or e}); it is kept in "
                     "memory only for this run.")
        self.folder = None

    def _features_file(self, key: int) -> Optional[Path]:
        f = self._file(key)
        return None if f is None else f.with_name(f"{f.stem}-feat.safetensors")

    def _read_features(self, key: int, n: int) -> Optional[List[torch.Tensor]]:
        if key in self.feature_memory:
            return self.feature_memory[key]
        f = self._features_file(key)
        if f is None or not f.is_file():
            return None
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            got = load_file(str(f))
            if len(got) != n:
                return None  # another number of layers (another choice of layers): computed again
            return [got[str(i)] for i in range(n)]
        except (SafetensorError, OSError, KeyError, ValueError, RuntimeError):
            return None  # damaged: computed again

    def _keep_features(self, key: int, feats: List[torch.Tensor]) -> None:
        from ..fsutil import atomic_write_bytes

        f = self._features_file(key)
        if f is not None:
            from safetensors.torch import save

            try:
                f.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_bytes(f, save({str(i): t.contiguous() for i, t in enumerate(feats)}))
                return
            except OSError as e:
                self._unwritable(e)
        held = sum(t.numel() * t.element_size() for v in self.feature_memory.values() for t in v)
        if held + sum(t.numel() * t.element_size() for t in feats) <= self.FEATURE_MEMORY:
            self.feature_memory[key] = feats

    def targets_and_features(self, teacher: nn.Module, x: torch.Tensor, keys: torch.Tensor,
                             taps: Callable[[], List[torch.Tensor]], n_taps: int
                             ) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """The teacher's outputs for ``keys`` (as :meth:`targets`) and its features at the ``n_taps`` layers that
        ``taps`` returns after each teacher forward (one tensor per layer, batch first). The teacher runs once, on
        the photos that have either missing."""
        ks = [int(k) for k in keys.tolist()]
        feats = {k: self._read_features(k, n_taps) for k in ks}
        need = [j for j, k in enumerate(ks) if feats[k] is None]
        if need:
            with torch.no_grad():
                out = teacher(x[need])
            got = taps()
            if len(got) != n_taps:
                raise RuntimeError(f"the teacher gave {len(got)} feature layers, expected {n_taps}")
            for i, j in enumerate(need):
                k = ks[j]
                if k not in self.outputs:
                    self.outputs[k] = out[i].detach().to("cpu", torch.float16)
                    if (f := self._file(k)) is None or not f.is_file():
                        self._write(k, self.outputs[k])
                feats[k] = [g[i].detach().to("cpu", torch.float16) for g in got]
                self._keep_features(k, feats[k])
        outputs = self.targets(teacher, x, keys)
        taps()  # drop what a teacher forward inside targets() (an unreadable output file) left in the hooks
        layers = [torch.stack([feats[k][t] for k in ks]).to(x.device, x.dtype) for t in range(n_taps)]
        return outputs, layers

    def count_features_on_disk(self, flips: bool) -> int:
        return sum(1 for k in self._keys(flips) if (f := self._features_file(k)) is not None and f.is_file())

    def _keys(self, flips: bool) -> List[int]:
        return [2 * i + f for i in range(len(self.photos)) for f in ((0, 1) if flips else (0,))]

    def targets(self, teacher: nn.Module, x: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        keys = [int(k) for k in keys.tolist()]
        for k in keys:
            if k not in self.outputs:
                got = self._read(k)
                if got is not None and got.shape[-2:] == x.shape[-2:]:
                    self.outputs[k] = got
        missing = [j for j, k in enumerate(keys) if k not in self.outputs]
        if missing:
            with torch.no_grad():
                out = teacher(x[missing])
            for j, o in zip(missing, out):
                self.outputs[keys[j]] = o.detach().to("cpu", torch.float16)
                self._write(keys[j], self.outputs[keys[j]])
        return torch.stack([self.outputs[k] for k in keys]).to(x.device, x.dtype)

    def count_on_disk(self, flips: bool) -> int:
        """How many of the photos' outputs (and their mirror images' with ``flips``) are already on disk."""
        return sum(1 for k in self._keys(flips) if (f := self._file(k)) is not None and f.is_file())

    def __len__(self) -> int:
        return len(self.outputs)


def folder_class(teacher_meta: Dict[str, Any]):
    """The image folder type for a teacher's inputs: photos as they are, or, for a sketch model (``input_kind``
    ``sketch``), photos turned into sketches in the style the teacher was trained with (``meta["sketch"]``)."""
    from ..sketch import SketchStyle, make_sketch, style_from_meta
    from .data import ImageFolder

    if teacher_meta.get("input_kind") != "sketch":
        return ImageFolder
    style = style_from_meta(teacher_meta) or SketchStyle()

    class SketchedFolder(ImageFolder):
        def _decode(self, path):
            res = super()._decode(path)
            return res if isinstance(res, str) else make_sketch(res, style)

    return SketchedFolder
