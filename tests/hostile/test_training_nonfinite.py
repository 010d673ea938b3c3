"""Attacks on training: infinite hyper-parameters, a diverging run, a bit-flipped checkpoint, stale temp files."""
from __future__ import annotations

import json

import pytest
import torch

from tests.engine.training_helpers import make_folders
from tests.hostile.conftest import one_error, strays

TINY = ["--preset", "tiny", "--size", "32", "--device", "cpu", "--log-every", "1", "--sample-every", "0", "--ngf", "4",
        "--ndf", "4", "--lambda-identity", "0"]


@pytest.fixture
def data(tmp_path):
    return make_folders(tmp_path / "data", 2)


@pytest.mark.parametrize("value,shown", [("inf", "inf"), ("nan", "nan"), ("1e400", "inf"), ("-inf", "-inf")])
def test_non_finite_hyper_parameters_are_refused(tmp_path, cli, data, value, shown):
    a, b = data
    code, _, err = cli("train", "cyclegan", "--a", a, "--b", b, "--out", tmp_path / "run", *TINY, f"--lr={value}")
    assert code == 2
    one_error(err, "lr must be a finite number", f"got {shown}")
    assert not (tmp_path / "run").exists()


def test_non_finite_family_settings_are_refused_too(tmp_path, cli, data):
    a, b = data
    code, _, err = cli("train", "cyclegan", "--a", a, "--b", b, "--out", tmp_path / "run", *TINY, "--lambda-a", "inf")
    assert code == 2
    one_error(err, "lambda a must be a finite number")
    assert not (tmp_path / "run").exists()


def test_diverging_run_stops_and_keeps_the_last_good_checkpoint(tmp_path, cli, data, monkeypatch):
    from engine.checkpoint import load_checkpoint, nonfinite_tensors
    from engine import guard as _guard

    monkeypatch.setattr(_guard, "MAX_BAD_STEPS", 3)
    a, b = data
    run = tmp_path / "run"
    # a learning rate this large is finite (accepted) but blows the weights up after the first step
    code, _, err = cli("train", "cyclegan", "--a", a, "--b", b, "--out", run, *TINY, "--lr", "1e10", "--steps", "12",
                       "--checkpoint-every", "1")
    assert code == 1
    line = one_error(err, "diverged at step", "last good checkpoint kept (step 1)")
    step = int(line.split("diverged at step ")[1].split(":")[0])
    assert 1 < step < 12
    latest = load_checkpoint(run / "checkpoints" / "latest.safetensors")
    assert latest.meta["step"] == 1 and not nonfinite_tensors(latest.tensors.items())
    for model in (run / "models").glob("*.safetensors"):  # the exported generators are the good ones too
        assert load_checkpoint(model).meta["step"] if "step" in load_checkpoint(model).meta else True
        assert not nonfinite_tensors(load_checkpoint(model).tensors.items())
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "failed" and status["diverged_at"] == step and status["checkpoint_kept"] == 1
    assert "diverged at step" in status["message"] and not strays(run)


def _flip(path, offset_from_end: int = 4096) -> None:
    data = bytearray(path.read_bytes())
    for i in range(16):  # a 4 KB-ish region of tensor data, well past the header
        data[len(data) - offset_from_end + i * 97] ^= 0xFF
    path.write_bytes(bytes(data))


def test_bit_flipped_latest_is_detected_and_resume_falls_back(tmp_path, cli, data):
    a, b = data
    run = tmp_path / "run"
    code, _, err = cli("train", "cyclegan", "--a", a, "--b", b, "--out", run, *TINY, "--steps", "2",
                       "--checkpoint-every", "1")
    assert code == 0, err
    ckpts = run / "checkpoints"
    assert (ckpts / "previous.safetensors").exists()
    _flip(ckpts / "latest.safetensors")
    # a damaged model file is named wherever it is loaded, and nothing is translated with it
    model = tmp_path / "G.safetensors"
    model.write_bytes((run / "models" / "G_A2B.safetensors").read_bytes())
    _flip(model, 2048)
    code, _, err = cli("translate", a, "--model", model, "--out", tmp_path / "out")
    assert code == 2
    one_error(err, str(model), "damaged")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    # an interrupted write left a temp file of ours (and the user keeps a file that merely ends in .part)
    stale = ckpts / ".latest.safetensors.k2j3h4.safetensors.part"
    stale.write_bytes(b"\0" * 1000)
    mine = run / "notes.part"
    mine.write_text("mine")
    code, out, err = cli("train", "cyclegan", "--resume", run, "--steps", "3", "--device", "cpu")
    assert code == 0, err
    assert "latest.safetensors is damaged" in err and "Resuming from previous.safetensors (step 1)" in err
    assert err.count("is damaged") == 1
    from engine.checkpoint import load_checkpoint, nonfinite_tensors

    final = load_checkpoint(ckpts / "latest.safetensors")
    assert final.meta["step"] == 3 and not nonfinite_tensors(final.tensors.items())
    assert not stale.exists() and mine.read_text() == "mine" and not strays(run)
    # 'previous' rotates on from intact checkpoints only (never the damaged file, which is kept aside)
    assert load_checkpoint(ckpts / "previous.safetensors").meta["step"] == 2
    assert (ckpts / "latest.damaged.safetensors").exists()
    assert "kept as latest.damaged.safetensors" in err


@pytest.mark.parametrize("fused", [False, True])  # fused: the GPU path (found_inf, no host sync), run on the CPU
def test_guard_skips_a_nan_step_without_touching_the_weights(fused):
    from engine.guard import NonFiniteGuard

    net = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(net.parameters(), lr=0.1, fused=fused)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    guard = NonFiniteGuard(limit=2)
    loss = net(torch.full((1, 3), float("nan"))).sum()
    loss.backward()
    guard.step(opt, loss)
    assert bool(guard.end_step())
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert float(opt.state[net.weight].get("step", 0)) == 0  # Adam's step count is not advanced either
    opt.zero_grad()
    loss = net(torch.ones(1, 3)).sum()
    loss.backward()
    guard.step(opt, loss)
    assert not bool(guard.end_step())
    assert not torch.equal(before["weight"], net.weight)
    guard.check(2, 0, "RUN", lambda m: None)  # one bad step, then a good one: no divergence


def test_fastcut_diverging_stops_too_and_saves_nothing_bad(tmp_path, cli, data, monkeypatch):
    """Every family gets the guard through Trainer.optimize (here the CUT family, in its FastCUT mode)."""
    from engine.checkpoint import load_checkpoint, nonfinite_tensors
    from engine import guard as _guard

    monkeypatch.setattr(_guard, "MAX_BAD_STEPS", 3)
    a, b = data
    run = tmp_path / "run"
    code, _, err = cli("train", "cut", "--mode", "fastcut", "--a", a, "--b", b, "--out", run, "--preset", "tiny",
                       "--size", "32", "--device", "cpu", "--log-every", "1", "--sample-every", "0", "--lr", "1e10",
                       "--steps", "12", "--checkpoint-every", "1")
    assert code == 1
    one_error(err, "diverged at step")
    for f in list(run.glob("checkpoints/*.safetensors")) + list(run.glob("models/*.safetensors")):
        assert not nonfinite_tensors(load_checkpoint(f).tensors.items()), f
    assert not strays(run)
