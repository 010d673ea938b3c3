"""Shared benchmark helpers: load the reference recipe, describe the machine, append to RESULTS.md."""
from __future__ import annotations

import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_reference():
    """Import ../shared/bench/reference_cyclegan.py as a module (same process, same machine)."""
    path = Path(os.environ.get("GANSTUDIO_REFERENCE", ROOT.parent / "shared" / "bench" / "reference_cyclegan.py"))
    if not path.exists():
        raise SystemExit(f"reference not found: {path} (set GANSTUDIO_REFERENCE)")
    spec = importlib.util.spec_from_file_location("reference_cyclegan", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def isolated_home(name: str) -> Path:
    """A fresh temporary GANSTUDIO_HOME (and settings file) for a benchmark, so it never touches the user's library,
    settings or caches; Qt offscreen unless the caller set a platform. Returns the folder."""
    import tempfile

    home = Path(tempfile.mkdtemp(prefix=f"ganstudio-bench-{name}-"))
    os.environ["GANSTUDIO_HOME"] = str(home)
    os.environ["GANSTUDIO_SETTINGS"] = str(home / "settings.ini")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return home


def machine() -> str:
    import torch

    from engine import devices

    dev = devices.pick_device()
    info = devices.describe(dev)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{info.name}; {os.cpu_count()} cores, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), Python {platform.python_version()}, load avg {load:.1f}")


def append_results(section: str, text: str) -> Path:
    """Append a dated section to benchmarks/RESULTS.md."""
    path = ROOT / "benchmarks" / "RESULTS.md"
    if not path.exists():
        path.write_text("# Benchmark results\n\nEvery number here was measured in this tree, side by side with "
                        "`../shared/bench/reference_cyclegan.py` in the same process where a ratio is given.\n")
    stamp = time.strftime("%Y-%m-%d %H:%M")
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"\n## {section} ({stamp})\n\n{text.rstrip()}\n")
    return path


def timeit(fn, iters: int, sync=None) -> float:
    """Mean seconds per call after one warm-up call."""
    fn()
    if sync:
        sync()
    t = time.perf_counter()
    for _ in range(iters):
        fn()
    if sync:
        sync()
    return (time.perf_counter() - t) / iters
