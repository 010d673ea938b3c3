"""Fuzz worker (run in a child process by ``test_fuzz.py`` so that a hang or a crash is caught too).

``python -m tests.hostile._fuzz_worker SEED CASES BUDGET_S FOLDER`` mutates a valid model file and valid PNG/JPEG
files at random (seeded) and loads each mutant through the paths the CLI and the GUI use. Every outcome must be a
result or a :class:`~engine.errors.GanStudioError` (what the CLI prints as one line); anything else is reported. The
last line of stdout is a JSON summary."""
from __future__ import annotations

import json
import random
import sys
import time
import traceback
from pathlib import Path


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    kind = rng.choice(["flip", "flip", "truncate", "insert", "zero", "header", "splice"])
    if kind == "flip":
        for _ in range(rng.randint(1, 16)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == "truncate":
        del b[rng.randrange(1, len(b)):]
    elif kind == "insert":
        pos = rng.randrange(len(b))
        b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == "zero":
        pos = rng.randrange(len(b))
        b[pos:pos + rng.randint(1, 4096)] = b"\0" * len(b[pos:pos + rng.randint(1, 4096)])
    elif kind == "header":  # the first bytes: safetensors' header length, PNG/JPEG signatures and sizes
        for _ in range(rng.randint(1, 4)):
            b[rng.randrange(min(64, len(b)))] = rng.randrange(256)
    else:  # copy a random span over another place
        n = rng.randint(1, 256)
        src, dst = rng.randrange(len(b)), rng.randrange(len(b))
        b[dst:dst + n] = b[src:src + n]
    return bytes(b)


def main() -> int:
    seed, cases, budget, folder = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4])
    import torch

    torch.set_num_threads(1)
    from engine.errors import GanStudioError
    from engine.imageio import load_image
    from engine.library import ModelLibrary

    lib = ModelLibrary()
    seeds = {p: p.read_bytes() for p in sorted(folder.glob("seed.*"))}

    def load_model(p: Path) -> None:
        lib.clear_cache()
        lib.load(lib.resolve(str(p)))

    rng = random.Random(seed)
    t0, done, bad, outcomes = time.monotonic(), 0, [], {"ok": 0, "refused": 0}
    while done < cases and time.monotonic() - t0 < budget:
        src = rng.choice(sorted(seeds))
        dest = folder / f"case{done:04d}{src.suffix}"
        dest.write_bytes(mutate(seeds[src], rng))
        try:
            (load_model if src.suffix == ".safetensors" else load_image)(dest)
            outcomes["ok"] += 1
        except GanStudioError as e:
            outcomes["refused"] += 1
            if "Unexpected error" in str(e) or str(dest) not in str(e):
                bad.append({"case": dest.name, "message": str(e)})
        except Exception:  # noqa: BLE001 - this is what the fuzz test looks for
            bad.append({"case": dest.name, "traceback": traceback.format_exc()[-2000:]})
        dest.unlink()
        done += 1
    print(json.dumps({"cases": done, "bad": bad, **outcomes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
