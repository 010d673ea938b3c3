"""Crashes and full disks: kill -9 while a checkpoint is being written, a disk that fills up during training and
during a batch translation. Nothing written before is lost, no temp file stays, one message says what happened."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.engine.training_helpers import make_folders, subprocess_env
from tests.hostile.conftest import images, one_error, strays, tree

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--preset", "tiny", "--size", "32", "--device", "cpu", "--ngf", "4", "--ndf", "4", "--lambda-identity", "0",
        "--log-every", "1", "--sample-every", "0"]


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs (we are root on the test machines); skipped with the reason where it cannot be mounted."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("a small tmpfs for disk-full tests needs root")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip() or r.returncode}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(folder: Path, leave: int) -> None:
    """Fill the file system of ``folder`` up, then free ``leave`` bytes."""
    chunk, i = b"\0" * 16384, 0
    try:
        while True:
            with open(folder / f"filler{i:05d}", "wb") as fh:
                fh.write(chunk)
            i += 1
    except OSError:
        pass
    for j in range(i - 1, max(-1, i - 1 - leave // 16384), -1):
        (folder / f"filler{j:05d}").unlink()


def test_disk_full_during_training_keeps_the_last_checkpoint(tmp_path, cli, small_disk):
    from engine.checkpoint import load_checkpoint

    a, b = make_folders(tmp_path / "data", 2)
    run = small_disk / "run"
    code, _, err = cli("train", "cyclegan", "--a", a, "--b", b, "--out", run, *TINY, "--steps", "1",
                       "--checkpoint-every", "1")
    assert code == 0, err
    before = tree(run / "checkpoints")
    fill(small_disk, leave=64 * 1024)  # room for logs and the status, not for a checkpoint
    code, _, err = cli("train", "cyclegan", "--resume", run, "--steps", "2", "--device", "cpu")
    assert code == 1
    one_error(err, "the disk is full", "step 1")
    assert "SafetensorError" not in err
    after = tree(run / "checkpoints")
    assert {k: after[k] for k in before} == before  # nothing that was saved changed
    assert set(after) - set(before) <= {"previous.safetensors"}  # (latest kept as previous before the write)
    assert load_checkpoint(run / "checkpoints" / "latest.safetensors").meta["step"] == 1
    assert not strays(run)


def test_disk_full_during_translation_stops_with_one_message(tmp_path, cli, small_disk):
    src = images(tmp_path / "in", 3, w=256, h=256)
    out = small_disk / "out"
    out.mkdir()
    fill(small_disk, leave=0)
    code, _, err = cli("translate", src, "--out", out)
    assert code == 1
    one_error(err, "disk is full")
    assert not list(out.iterdir())  # no half-written image, no temp file


def test_kill_9_during_a_checkpoint_write_loses_nothing_saved(tmp_path):
    from engine.checkpoint import load_checkpoint

    a, b = make_folders(tmp_path / "data", 2)
    run = tmp_path / "run"
    ckpts = run / "checkpoints"
    cmd = [sys.executable, "-m", "app", "train", "cyclegan", "--a", str(a), "--b", str(b), "--out", str(run), *TINY,
           "--steps", "400", "--checkpoint-every", "1", "--threads", "1", "-q"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rng = random.Random(19)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not (ckpts / "latest.safetensors").exists():
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.5))  # a random moment after the first checkpoint ...
        caught = time.monotonic() + 10
        while time.monotonic() < caught and not any(p.name.endswith(".part") for p in ckpts.iterdir()):
            pass  # ... preferably while a checkpoint is being written
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    saved = load_checkpoint(ckpts / "latest.safetensors").meta["step"]  # intact: the checksum verifies
    assert saved >= 1
    r = subprocess.run([sys.executable, "-m", "app", "train", "cyclegan", "--resume", str(run), "--steps",
                        str(saved + 1), "--device", "cpu", "--threads", "1", "-q"], cwd=ROOT, env=subprocess_env(),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert load_checkpoint(ckpts / "latest.safetensors").meta["step"] == saved + 1
    assert not strays(run)  # the temp file the kill left was removed on resume
