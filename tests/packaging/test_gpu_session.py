"""scripts/gpu_session.sh: what a GPU session brings back through $OUT (16 MiB a file) joins into a run folder."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu_session.sh"


def sh(*args, env=None):
    e = dict(os.environ, **(env or {}))
    return subprocess.run(["bash", str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=e, timeout=60)


def test_collect_splits_big_models_and_join_restores_them(tmp_path):
    run = tmp_path / "run"
    (run / "models").mkdir(parents=True)
    (run / "samples").mkdir()
    big = os.urandom(2_500_000)
    (run / "models" / "G_A2B.safetensors").write_bytes(big)
    (run / "models" / "G_B2A.safetensors").write_bytes(b"small")
    (run / "config.json").write_text(json.dumps({"family": "cyclegan"}))
    (run / "status.json").write_text("{}")
    (run / "samples" / "step_0000002.jpg").write_bytes(b"jpg")
    (run / "samples" / "step_0000010.jpg").write_bytes(b"jpg")
    out = tmp_path / "out"
    r = sh("collect", run, out / "face2anime", env={"GS_SPLIT_MB": "1", "OUT": str(out)})
    assert r.returncode == 0, r.stderr
    brought = out / "face2anime"
    parts = sorted(p.name for p in (brought / "models").iterdir())
    assert parts == ["G_A2B.safetensors.part00", "G_A2B.safetensors.part01", "G_A2B.safetensors.part02",
                     "G_B2A.safetensors"]
    assert max(p.stat().st_size for p in (brought / "models").iterdir()) <= 1 << 20
    assert [p.name for p in (brought / "samples").iterdir()] == ["step_0000010.jpg"]  # only the latest grid

    joined = tmp_path / "joined"
    r = sh("join", brought, joined)
    assert r.returncode == 0 and "checksums OK" in r.stdout, (r.stdout, r.stderr)
    got = (joined / "models" / "G_A2B.safetensors").read_bytes()
    assert hashlib.sha256(got).digest() == hashlib.sha256(big).digest()
    assert not list((joined / "models").glob("*.part*"))
    assert json.loads((joined / "config.json").read_text())["family"] == "cyclegan"


def test_join_detects_a_missing_piece(tmp_path):
    run = tmp_path / "run"
    (run / "models").mkdir(parents=True)
    (run / "models" / "G.safetensors").write_bytes(os.urandom(2_200_000))
    out = tmp_path / "out"
    assert sh("collect", run, out / "k", env={"GS_SPLIT_MB": "1"}).returncode == 0
    (out / "k" / "models" / "G.safetensors.part01").unlink()  # a piece that did not come back
    r = sh("join", out / "k", tmp_path / "joined")
    assert r.returncode != 0
    assert "FAILED" in r.stdout + r.stderr


def test_unknown_kind_is_a_clear_error(tmp_path):
    r = sh("train", "no-such-kind", "1", env={"OUT": str(tmp_path)})
    assert r.returncode == 2 and "unknown kind" in r.stderr
