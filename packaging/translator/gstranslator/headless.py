"""Scripting without a window: ``NAME --translate IN... --out DIR`` and ``NAME --generate N --out DIR``.

Exit codes as GAN Studio's CLI: 0 done, 1 failure, 2 bad input, 3 partly done (some inputs skipped).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import List, Optional, TextIO

from . import images
from .runtime import ModelEntry, ModelError, OnnxModel

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_PARTIAL = 0, 1, 2, 3


def pick_model(models: List[ModelEntry], ref: str, task: str) -> ModelEntry:
    if ref:
        for m in models:
            if ref in (m.id, m.name):
                return m
        raise ModelError(f"No model called {ref!r} in this app; it has: {', '.join(m.id for m in models)}.")
    for m in models:
        if m.task == task:
            return m
    raise ModelError(f"This app has no model that can {'translate photos' if task == 'translate' else 'generate'}.")


def translate(models: List[ModelEntry], inputs: List[str], out: str, *, model: str = "", suffix: str = "",
              ext: str = "", quiet: bool = False, stream: Optional[TextIO] = None) -> int:
    stream = stream or sys.stderr
    entry = pick_model(models, model, "translate")
    net = OnnxModel(entry.file)
    files, skipped = images.scan(inputs)
    out_dir = Path(out).expanduser()
    out_dir.mkdir(parents=True, exist_ok=True)
    protect = [str(f) for f in files]
    taken: set = set()
    done = 0
    t0 = time.perf_counter()
    for i, f in enumerate(files, 1):
        try:
            rgb, alpha = images.load(f)
        except images.ImageError as e:
            skipped.append((f, e.reason))
            continue
        res = net.translate(rgb)
        dest = images.output_path(f, out_dir, suffix, ext, alpha is not None, protect, taken)
        images.save(dest, res, alpha)
        done += 1
        if not quiet:
            print(f"[{i}/{len(files)}] {f} -> {dest}", file=stream)
    for p, why in skipped:
        print(f"skipped {p}: {why}", file=stream)
    if not quiet:
        print(f"Translated {done} image{'s' if done != 1 else ''} with {net.name} in "
              f"{time.perf_counter() - t0:.1f} s.", file=stream)
    if not done:
        print("error: no images were translated", file=stream)
        return EXIT_BAD_INPUT
    return EXIT_PARTIAL if skipped else EXIT_OK


def generate(models: List[ModelEntry], count: int, out: str, *, model: str = "", seed: int = 0,
             psi: Optional[float] = None, ext: str = ".png", quiet: bool = False,
             stream: Optional[TextIO] = None) -> int:
    stream = stream or sys.stderr
    if count < 1:
        print("error: --generate needs a count of at least 1", file=stream)
        return EXIT_BAD_INPUT
    entry = pick_model(models, model, "generate")
    net = OnnxModel(entry.file)
    out_dir = Path(out).expanduser()
    out_dir.mkdir(parents=True, exist_ok=True)
    taken: set = set()
    for s in range(seed, seed + count):
        img = net.generate([s], psi)[0]
        dest = images.output_path(Path(f"seed{s:05d}.png"), out_dir, "", ext or ".png", taken=taken)
        images.save(dest, img)
        if not quiet:
            print(f"seed {s} -> {dest}", file=stream)
    return EXIT_OK
