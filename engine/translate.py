"""The translation task: files/folders in, translated images out (or kept in memory for the GUI).

``translate_task(cfg, ctx)`` is used by the Translate page (through the job system), the CLI and tests. It streams:
one ``ctx.partial`` per image (the result, where it was saved, or why it was skipped), progress, and cancel between
images. Bad files are skipped with their reason; the rest are translated.
"""
from __future__ import annotations

import errno
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Mapping, Optional, Tuple

from . import devices
from .config import Config, check, check_choice
from .errors import ConfigError, ImageLoadError
from .imageio import SAVE_EXTS, LoadedImage, load_image, output_name, save_image, scan_inputs
from .sketch import looks_like_line_drawing
from .outputs import check_inside, check_name
from .inference import TranslateOptions, Translator
from .jobs import JobContext
from .library import ModelInfo, ModelLibrary
from .multidomain import domain_label, for_domain
from .faces.translator import FACE_MODES, FaceTranslator, use_faces


@dataclass
class TranslateConfig(Config):
    model: str = ""  # id, name, file or run folder; "" = the default model
    inputs: Tuple[str, ...] = ()
    out_dir: str = ""  # "" = keep results in memory (GUI)
    out_file: str = ""  # one input image -> this file (its extension picks the format); instead of out_dir
    suffix: str = ""  # appended to output file names, e.g. "_vintage"
    ext: str = ""  # ".png", ".jpg" ...; "" = keep the input's format
    direction: str = "AtoB"
    domain: str = ""  # target domain of a multi-domain (StarGAN) model: a name; "" = its default
    device: str = "auto"
    keep_images: bool = False  # include the translated pixels in partial results (GUI)
    faces: str = "auto"  # auto: crop, translate and blend back each face for models whose input is "face"; on; off
    options: TranslateOptions = field(default_factory=TranslateOptions)

    def validate(self) -> None:
        check_choice("direction", self.direction, ("AtoB", "BtoA"))
        check(not self.ext or self.ext.startswith("."), "ext must start with a dot, like .png")
        check_choice("faces", self.faces, FACE_MODES)
        check(not self.ext or self.ext.lower() in SAVE_EXTS,
              f"cannot write {self.ext} files; the output format (--ext) must be one of {', '.join(sorted(SAVE_EXTS))}")
        check_name(self.suffix, "output suffix (--suffix)")
        if self.out_file:
            check(not self.out_dir, "give an output folder or an output file, not both")
            check(Path(self.out_file).suffix.lower() in SAVE_EXTS,
                  f"cannot write {Path(self.out_file).suffix or 'files without an extension'}; an output file must "
                  f"end in one of {', '.join(sorted(SAVE_EXTS))}")
            check(not Path(self.out_file).expanduser().is_dir(), f"{self.out_file} is a folder, not a file name")


# A plain record: its field list looks like other records' (ImageFolder, the standalone translator's Entry) by shape only (deliberate).
@dataclass
class ItemResult:
    index: int
    source: Path
    output: Optional[Path] = None
    image: Optional[LoadedImage] = None
    error: str = ""
    notes: List[str] = field(default_factory=list)
    seconds: float = 0.0


# A plain record: its field list looks like other records' (ImageFolder) by shape only (deliberate).
@dataclass
class TranslateSummary:
    model: str
    device: str
    translated: List[ItemResult] = field(default_factory=list)
    skipped: List[Tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.skipped

    def message(self) -> str:
        n = len(self.translated)
        msg = f"Translated {n} image{'s' if n != 1 else ''} with {self.model} in {self.seconds:.1f} s"
        if self.skipped:
            msg += f"; skipped {len(self.skipped)}"
        return msg


def translate_task(cfg: TranslateConfig, ctx: JobContext, library: Optional[ModelLibrary] = None, *,
                   info: Optional[ModelInfo] = None,
                   loaded: Optional[Mapping[str, LoadedImage]] = None) -> TranslateSummary:
    """``info``: the model, already resolved (the GUI passes it: no re-reading of the library per preview);
    ``loaded``: images already decoded, by path (the GUI's shown image is not decoded again)."""
    t0 = time.perf_counter()
    library = library or ModelLibrary()
    ctx.progress(0, 0, "Finding images")
    out_folder = str(Path(cfg.out_file).expanduser().parent) if cfg.out_file else cfg.out_dir
    scan = scan_inputs(cfg.inputs, exclude=[cfg.out_dir] if cfg.out_dir else [])  # earlier outputs are not inputs
    ctx.progress(0, 0, "Loading model")
    info = info or library.resolve(cfg.model or None, direction=cfg.direction, task="translate")
    target = domain_label(info, cfg.domain)  # a wrong domain fails before the model is loaded
    device = devices.pick_device(None if cfg.device == "auto" else cfg.device)
    module = for_domain(library.load(info, device).module, info, cfg.domain)
    translator = _translator(module, device, cfg.options, info.meta, cfg.faces)
    wants_sketch = (info.meta or {}).get("input_kind") == "sketch"
    summary = TranslateSummary(model=f"{info.name} to {target!r}" if target else info.name,
                               device=devices.describe(device).status_text())
    for path, reason in scan.skipped:
        summary.skipped.append((path, reason))
        ctx.partial(ItemResult(-1, path, error=reason))
    files = scan.files
    inputs = {str(p) for p in files}
    if cfg.out_file and len(files) + len(scan.skipped) != 1:
        raise ConfigError(f"The output {cfg.out_file} is one file, but the inputs hold {len(files) + len(scan.skipped)}"
                          " images; give an output folder instead.")
    out_dir = _prepare_out_dir(out_folder)
    total = len(files)
    ctx.progress(0, total, f"Translating {total} image{'s' if total != 1 else ''}")
    bs = max(1, cfg.options.batch_size if device.type != "cpu" else 1)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ganstudio-decode") as pool:
        batches = [list(range(i, min(i + bs, total))) for i in range(0, total, bs)]
        pending = pool.submit(_load_batch, files, batches[0], loaded) if batches else None
        for b, idx in enumerate(batches):
            ctx.check_cancel()
            loaded_imgs = pending.result()
            pending = pool.submit(_load_batch, files, batches[b + 1], loaded) if b + 1 < len(batches) else None
            good = [(i, im) for i, im in zip(idx, loaded_imgs) if isinstance(im, LoadedImage)]
            for i, im in zip(idx, loaded_imgs):
                if not isinstance(im, LoadedImage):
                    summary.skipped.append((files[i], str(im)))
                    ctx.partial(ItemResult(i, files[i], error=str(im)))
            if good:
                ts = time.perf_counter()
                _report_tiles(translator, ctx, idx[0], total, files[idx[0]].name)
                outs = translator.translate_many([im for _, im in good])
                dt = (time.perf_counter() - ts) / len(good)
                for (i, im), res in zip(good, outs):
                    item = ItemResult(i, files[i], notes=res.notes, seconds=dt)
                    if wants_sketch and not looks_like_line_drawing(im.rgb):
                        item.notes.append(f"{files[i].name} looks like a photo, and {info.name} turns line sketches "
                                          "into pictures: draw one, or make one on the Draw page (Sketch from "
                                          "photo).")
                    if out_dir is not None:
                        try:
                            item.output = _save_one(out_dir, files[i], res.image, cfg, inputs)
                        except (ConfigError, OSError) as e:  # one unwritable name is one skipped item
                            if isinstance(e, OSError) and e.errno in _STOP_ERRNOS:
                                raise
                            reason = f"could not write the output ({_why(e)})"
                            summary.skipped.append((files[i], reason))
                            ctx.partial(ItemResult(i, files[i], error=reason))
                            continue
                    if cfg.keep_images:
                        item.image = res.image
                    summary.translated.append(item)
                    ctx.partial(item)
            ctx.progress(idx[-1] + 1, total, f"{idx[-1] + 1} / {total}")
    summary.seconds = time.perf_counter() - t0
    return summary


def _translator(module, device, options, meta, faces: str):
    """The whole-image Translator, wrapped in a FaceTranslator when face mode applies to this model."""
    translator = Translator(module, device, options)
    if use_faces(faces, meta):
        from .faces.detect import FaceDetector

        return FaceTranslator.for_model(translator, meta, FaceDetector(device))
    return translator


def _report_tiles(translator, ctx: JobContext, done: int, total: int, name: str) -> None:
    """A large image is translated in tiles: report each tile (and let the user cancel between them)."""
    def on_tile(k: int, n: int) -> None:
        ctx.check_cancel()
        ctx.progress(done + k / n, total, f"{name}: tile {k} of {n}")

    inner = getattr(translator, "translator", translator)  # a FaceTranslator wraps the whole-image one
    if hasattr(inner, "on_tile"):
        inner.on_tile = on_tile


#: write errors that would fail every item alike: stop the batch instead of skipping each one
_STOP_ERRNOS = (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT)


def _prepare_out_dir(out_dir: str) -> Optional[Path]:
    if not out_dir:
        return None
    path = Path(out_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"The output folder {path} is a file; choose a folder.")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _save_one(out_dir: Path, src: Path, image: LoadedImage, cfg: TranslateConfig, inputs) -> Path:
    if cfg.out_file:  # its format is the one its extension names; a transparent image is refused by JPEG's encoder
        name = Path(cfg.out_file).name
        if image.alpha is not None and Path(name).suffix.lower() in (".jpg", ".jpeg"):
            name = Path(name).stem + ".png"
        return save_image(out_dir / name, image.rgb, image.alpha, protect=inputs)
    name = check_name(output_name(src, cfg.suffix, cfg.ext or None, image.alpha is not None), "output file name")
    dest = check_inside(out_dir / name, out_dir)
    return save_image(dest, image.rgb, image.alpha, protect=inputs)


def _why(e: BaseException) -> str:
    if isinstance(e, OSError):
        return "the file name is too long" if e.errno == errno.ENAMETOOLONG else (e.strerror or str(e))
    return str(e)


def _load_batch(files: List[Path], idx: List[int], loaded: Optional[Mapping[str, LoadedImage]] = None) -> List[Any]:
    out: List[Any] = []
    for i in idx:
        if loaded and str(files[i]) in loaded:
            out.append(loaded[str(files[i])])
            continue
        try:
            out.append(load_image(files[i]))
        except ImageLoadError as e:
            out.append(e.reason)
    return out


# ------------------------------------------------------------------------------------------------------------
# light tasks for the GUI's io lane

def scan_task(inputs, ctx: JobContext):
    """Expand dropped files/folders/globs (``inputs``: a sequence of paths) into a :class:`ScanResult`."""
    ctx.progress(0, 0, "Scanning")
    return scan_inputs(list(inputs))


def thumbnails_task(paths, ctx: JobContext, max_side: int = 160):
    """Decode each file and report ``{"path", "thumb", "size", "mode", "error"}`` as a partial result."""
    from .imageio import thumbnail

    paths = list(paths)
    for i, p in enumerate(paths):
        ctx.check_cancel()
        try:
            img = load_image(p)
            ctx.partial({"path": Path(p), "thumb": thumbnail(img, max_side), "size": img.size,
                         "mode": f"{img.source_mode}, {img.bit_depth}-bit", "error": ""})
        except ImageLoadError as e:
            ctx.partial({"path": Path(p), "thumb": None, "size": None, "mode": "", "error": e.reason})
        ctx.progress(i + 1, len(paths), "Reading images")
    return len(paths)


def load_task(path, ctx: JobContext) -> LoadedImage:
    return load_image(path)


def save_results_task(items, ctx: JobContext):
    """Save already translated images: ``items`` = [(source_path, LoadedImage, dest_path[, overwrite])], never over
    an input; an existing file is replaced only where ``overwrite`` is given (the user confirmed), else a free name
    is picked."""
    items = [tuple(it) + (False,) * (4 - len(it)) for it in items]
    protect = {str(it[0]) for it in items}
    written = []
    for i, (src, img, dest, overwrite) in enumerate(items):
        ctx.check_cancel()
        written.append(save_image(dest, img.rgb, img.alpha, protect=protect, overwrite=bool(overwrite)))
        ctx.progress(i + 1, len(items), "Saving")
    return written
