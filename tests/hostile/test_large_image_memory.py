"""Attack 13: a 100-megapixel photo took 5.6 GB and minutes of silence. Large images are now streamed a band of
tiles at a time from their integer pixels: memory stays near the input and output pixels plus one band."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent("""
    import json, resource, sys
    import numpy as np, torch
    torch.set_num_threads(1)
    from engine.imageio import LoadedImage
    from engine.inference import Translator
    from engine.models import get_model

    torch.manual_seed(0)
    net = get_model("resnet_6blocks", ngf=8).eval()
    h, w = int(sys.argv[1]), int(sys.argv[2])
    rgb = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    t = Translator(net, torch.device("cpu"))
    ticks = []
    t.on_tile = lambda k, n: ticks.append((k, n))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res = t.translate(LoadedImage(rgb))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    print(json.dumps({"peak_mb": peak / 1024, "shape": list(res.image.rgb.shape), "dtype": str(res.image.rgb.dtype),
                      "ticks": ticks, "notes": res.notes}))
""")


def test_a_large_photo_is_translated_within_a_bounded_memory():
    h, w = 4000, 4000  # 16 megapixels: big enough to be streamed (over 6), small enough for a test
    proc = subprocess.run([sys.executable, "-c", PROBE, str(h), str(w)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["shape"] == [h, w, 3] and got["dtype"] == "uint8"
    float_copy_mb = h * w * 3 * 4 / 2**20  # one float32 copy of the image: 183 MB; the old path held five or more
    assert got["peak_mb"] < 2.5 * float_copy_mb, got["peak_mb"]
    ks = [k for k, _ in got["ticks"]]
    assert ks == list(range(1, len(ks) + 1)) and len(ks) >= 64 and got["ticks"][-1][1] == len(ks)  # progress per tile
    assert any("translated in 512 px tiles" in n for n in got["notes"])
