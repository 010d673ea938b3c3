"""Training through the real command line, in separate processes: kill -9 mid-run then resume; two-process DDP
(gloo on CPU) where both ranks must end with identical weights; CLI errors and exit codes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from app.cli import main as cli_main
from engine.checkpoint import read_meta
from engine.training.runs import RunFolder, run_info
from tests.engine.training_helpers import make_folders, subprocess_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def train_cmd(*args):
    return [sys.executable, "-m", "app", "train", "cyclegan", "--preset", "tiny", "--device", "cpu", "--threads", "1",
            *args]


@pytest.fixture
def folders(tmp_path):
    return make_folders(tmp_path / "data", 4)


def start_training(folders, run, checkpoint_every: int, ready) -> subprocess.Popen:
    """A 500-step tiny run in a child process, returned once ``ready(RunFolder)`` holds (or the process ended, or
    180 s passed: the caller asserts it is still running)."""
    a, b = folders
    rf = RunFolder(run)
    proc = subprocess.Popen(train_cmd("--a", str(a), "--b", str(b), "--out", str(run), "--steps", "500",
                                      "--checkpoint-every", str(checkpoint_every), "--log-every", "1",
                                      "--sample-every", "0", "-q"),
                            cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None and not ready(rf):
            time.sleep(0.2)
    except BaseException:
        proc.kill()
        raise
    return proc


@pytest.mark.slow
def test_kill_9_mid_training_then_resume_loses_only_steps_since_last_checkpoint(folders, tmp_path):
    run = tmp_path / "run"
    rf = RunFolder(run)
    proc = start_training(folders, run, 3,
                          lambda f: f.read_status().get("checkpoint_step", 0) >= 3 and len(f.read_metrics()) >= 4)
    try:
        assert proc.poll() is None, proc.stdout.read().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    saved = read_meta(rf.latest)["step"]
    logged = max(r["step"] for r in rf.read_metrics())
    assert saved >= 3 and saved % 3 == 0
    info = run_info(run)
    assert info.state == "interrupted" and info.resumable and info.unfinished
    target = saved + 2
    out = subprocess.run(train_cmd("--resume", str(run), "--steps", str(target), "--json"), cwd=ROOT,
                         env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["step"] == target and summary["state"] == "finished"
    assert f"Resuming CycleGAN at step {saved} of {target}" in rf.log_path.read_text()
    steps = [r["step"] for r in rf.read_metrics()]
    assert steps == list(range(1, target + 1)), (steps, logged)  # lost steps were trained and logged again once
    assert read_meta(rf.latest)["step"] == target


def test_sigterm_stops_gracefully_with_a_checkpoint_at_the_current_step(folders, tmp_path):
    run = tmp_path / "run"
    rf = RunFolder(run)
    proc = start_training(folders, run, 1000, lambda f: len(f.read_metrics()) >= 2)
    try:
        assert proc.poll() is None, proc.stdout.read().decode()
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=120)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out
    assert "Stopping after this step and saving a checkpoint" in out and "--resume" in out
    saved = read_meta(rf.latest)["step"]
    assert saved >= 2 and saved == max(r["step"] for r in rf.read_metrics())  # nothing trained was lost
    assert run_info(run).state == "cancelled" and run_info(run).resumable


@pytest.mark.slow
def test_two_process_ddp_on_cpu_ranks_agree(folders, tmp_path):
    a, b = folders
    run = tmp_path / "ddp"
    out = subprocess.run(train_cmd("--a", str(a), "--b", str(b), "--out", str(run), "--steps", "3", "--gpus", "2",
                                   "--log-every", "1", "-q"),
                         cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    st = RunFolder(run).read_status()
    assert st["state"] == "finished" and st["step"] == 3
    ddp = st["ddp"]
    assert ddp["world_size"] == 2 and ddp["backend"] == "gloo" and ddp["agree"] is True
    assert ddp["fingerprints"][0] == ddp["fingerprints"][1] and len(ddp["fingerprints"][0]) == 4
    log = RunFolder(run).log_path.read_text()
    assert "2 processes (gloo)" in log and "parameters agree" in log
    assert (run / "models" / "G_A2B.safetensors").exists()


def test_cli_reports_bad_input_with_exit_code_2(folders, tmp_path, capsys):
    a, b = folders
    code = cli_main(["train", "cyclegan", "--preset", "tiny", "--a", str(a), "--b", str(a), "--out",
                     str(tmp_path / "r")])
    assert code == 2 and "same folder" in capsys.readouterr().err
    code = cli_main(["train", "cyclegan", "--preset", "tiny", "--a", str(a), "--b", str(b)])
    assert code == 2 and "--out RUN_DIR" in capsys.readouterr().err
    code = cli_main(["train", "cyclegan", "--resume", str(tmp_path / "missing")])
    assert code == 2 and "does not exist" in capsys.readouterr().err
    code = cli_main(["train", "cyclegan", "--preset", "tiny", "--a", str(a), "--b", str(b), "--out",
                     str(tmp_path / "r"), "--init", "no-such-model"])
    assert code == 2 and "No model called 'no-such-model'" in capsys.readouterr().err


def test_cli_trains_and_resume_refuses_to_change_the_run(folders, tmp_path, capsys):
    import torch

    torch.set_num_threads(1)
    a, b = folders
    run = tmp_path / "r"
    assert cli_main(["train", "cyclegan", "--preset", "tiny", "--a", str(a), "--b", str(b), "--out", str(run),
                     "--steps", "2", "--device", "cpu", "--quiet"]) == 0
    assert cli_main(["train", "cyclegan", "--resume", str(run), "--size", "128"]) == 2
    assert "image_size cannot be changed" in capsys.readouterr().err
    assert cli_main(["train", "cyclegan", "--resume", str(run), "--steps", "3", "--device", "cpu", "-q"]) == 0
    assert read_meta(RunFolder(run).latest)["step"] == 3
