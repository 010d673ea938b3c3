"""Tiny CycleGAN runs on CPU, in process: train -> checkpoint -> resume -> translate; exact resume; bad inputs;
full disk, unwritable folder, out of memory; fine-tuning from a model."""
from __future__ import annotations

import errno
import json

import pytest
import torch

from engine.checkpoint import load_checkpoint
from engine.errors import Cancelled, CheckpointError, ConfigError, DataError, DiskError, OutOfMemory
from engine.jobs import PartialResult, ProgressReported, run_inline
from engine.library import ModelLibrary, model_meta, save_model
from engine.training import core
from engine.training.runs import RunFolder, list_runs
from tests.engine.training_helpers import make_folders, same_weights, tiny_config, weights


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture
def folders(tmp_path):
    return make_folders(tmp_path / "data", 5)


def cancel_at(step):
    def listener(event):
        p = event.progress if isinstance(event, ProgressReported) else None
        if p is not None and p.total and p.done >= step and "step" in p.message:
            raise Cancelled()
    return listener


def test_tiny_run_end_to_end_then_translate_both_ways(folders, _isolated_home, tmp_path):
    a, b = folders
    run = _isolated_home / "runs" / "faces"
    events = []
    res = run_inline(core.train_task, tiny_config(a, b, run), on_event=events.append)
    assert res.state == "finished" and res.step == 4
    rf = RunFolder(run)
    assert rf.latest.exists() and rf.best.exists() and rf.config_path.exists()
    assert [r["step"] for r in rf.read_metrics()] == [1, 2, 3, 4]
    assert {"G", "D", "cycle", "idt"} <= set(rf.read_metrics()[0])
    assert len(list(rf.samples.glob("step_*.jpg"))) == 2
    assert rf.read_status()["state"] == "finished"
    partials = [e.value for e in events if isinstance(e, PartialResult)]
    assert any(p["event"] == "sample" and p["sample"].ndim == 3 for p in partials)
    assert any(p["event"] == "log" and p["steps_per_s"] > 0 and "eta_s" in p for p in partials)
    # the library lists both generators; translate with the run folder in both directions
    listed = {m.direction: m for m in ModelLibrary().list(task="translate") if m.source == "run"}
    assert set(listed) == {"AtoB", "BtoA"} and listed["AtoB"].family == "cyclegan"
    from engine.imageio import load_image
    from engine.translate import TranslateConfig, translate_task

    for direction, src in (("AtoB", a), ("BtoA", b)):
        img = sorted(src.iterdir())[0]
        out = tmp_path / f"out_{direction}"
        summary = run_inline(translate_task, TranslateConfig(model=str(run), inputs=(str(img),), out_dir=str(out),
                                                             direction=direction))
        assert len(summary.translated) == 1
        got = load_image(summary.translated[0].output)
        assert got.size == load_image(img).size
    info = list_runs()[0]
    assert info.name == "faces" and info.state == "finished" and info.resumable and not info.unfinished


def test_cancel_then_resume_gives_exactly_the_uninterrupted_run(folders, tmp_path):
    a, b = folders
    straight = tmp_path / "straight"
    run_inline(core.train_task, tiny_config(a, b, straight, steps=6))
    broken = tmp_path / "broken"
    with pytest.raises(Cancelled):
        run_inline(core.train_task, tiny_config(a, b, broken, steps=6), on_event=cancel_at(3))
    rf = RunFolder(broken)
    st = rf.read_status()
    assert st["state"] == "cancelled" and st["step"] == 3
    assert json.loads(rf.config_path.read_text())["steps"] == 6
    res = run_inline(core.train_task, core.resume_config(broken))
    assert res.step == 6 and res.state == "finished"
    assert same_weights(weights(RunFolder(straight).latest), weights(rf.latest))
    steps = [r["step"] for r in rf.read_metrics()]
    assert steps == sorted(set(steps)) and steps[-1] == 6
    assert "Resuming CycleGAN at step 3 of 6" in rf.log_path.read_text()
    # extend the finished run; settings that define the run cannot change
    res = run_inline(core.train_task, core.resume_config(broken, steps=8))
    assert res.step == 8
    with pytest.raises(ConfigError, match="image_size cannot be changed"):
        core.resume_config(broken, image_size=128)
    with pytest.raises(DataError, match="already holds a training run"):
        run_inline(core.train_task, tiny_config(a, b, broken))


def test_a_folder_that_is_not_a_run_is_never_written_into(folders, tmp_path):
    """--out on a folder of someone's files (an old run whose config and checkpoints were pruned, another run's
    data): refused before anything is written, so its models and samples are not replaced. The leftovers of a run
    that failed before its first checkpoint, and hidden files, do not count."""
    a, b = folders
    old = tmp_path / "old"
    (old / "models").mkdir(parents=True)
    (old / "models" / "G.safetensors").write_bytes(b"mine")
    with pytest.raises(DataError, match="not empty and is not a training run .*models"):
        run_inline(core.train_task, tiny_config(a, b, old))
    assert sorted(p.name for p in old.rglob("*")) == ["G.safetensors", "models"]
    assert (old / "models" / "G.safetensors").read_bytes() == b"mine"
    with pytest.raises(DataError, match="is a file"):
        run_inline(core.train_task, tiny_config(a, b, old / "models" / "G.safetensors"))
    retry = tmp_path / "retry"
    retry.mkdir()
    for name in ("status.json", "train.log", ".DS_Store"):
        (retry / name).write_text("{}")
    assert run_inline(core.train_task, tiny_config(a, b, retry, steps=2)).step == 2


def test_full_disk_stops_with_clear_message_and_keeps_previous_checkpoint(folders, tmp_path, monkeypatch):
    import safetensors.torch as st

    a, b = folders
    run = tmp_path / "run"
    real_save = st.save_file
    calls = {"n": 0}

    def failing_save(tensors, filename, metadata=None):
        calls["n"] += 1
        if calls["n"] > 4:  # step-2 checkpoint: latest + best + 2 models; then the disk fills up
            with open(filename, "wb") as fh:
                fh.write(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device", filename)
        return real_save(tensors, filename, metadata=metadata)

    monkeypatch.setattr(st, "save_file", failing_save)
    with pytest.raises(DiskError) as ei:
        run_inline(core.train_task, tiny_config(a, b, run, steps=6))
    msg = str(ei.value)
    assert "disk is full" in msg and "step 2" in msg and "intact" in msg and "--resume" in msg
    rf = RunFolder(run)
    from engine.checkpoint import read_meta

    assert read_meta(rf.latest)["step"] == 2
    assert not list(run.rglob("*.part"))
    assert rf.read_status()["state"] == "failed" and "disk is full" in rf.read_status()["message"]
    monkeypatch.setattr(st, "save_file", real_save)
    assert run_inline(core.train_task, core.resume_config(run)).step == 6


def test_unwritable_output_folder_is_reported_before_any_work(folders, tmp_path, monkeypatch):
    a, b = folders
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DiskError, match="Could not write to the output folder .*Choose another output folder"):
        run_inline(core.train_task, tiny_config(a, b, blocker / "run"))
    import pathlib

    def denied(self, data):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "write_bytes", denied)
    with pytest.raises(DiskError, match="permission denied"):
        run_inline(core.train_task, tiny_config(a, b, tmp_path / "run2"))


def test_out_of_memory_is_a_clear_message_and_the_run_stays_resumable(folders, tmp_path, monkeypatch):
    from engine.training.cyclegan import CycleGANTrainer

    a, b = folders
    run = tmp_path / "run"
    real_step = CycleGANTrainer.train_step

    def oom_at_3(self, batch):
        if self.step == 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_step(self, batch)

    monkeypatch.setattr(CycleGANTrainer, "train_step", oom_at_3)
    with pytest.raises(OutOfMemory, match=r"Out of GPU memory at step 2 .*smaller batch or image size.*saved at step 2"):
        run_inline(core.train_task, tiny_config(a, b, run, steps=5))
    assert RunFolder(run).read_status()["state"] == "failed"
    monkeypatch.setattr(CycleGANTrainer, "train_step", real_step)
    assert run_inline(core.train_task, core.resume_config(run)).step == 5


def test_bad_inputs_fail_before_any_work_and_leave_no_run_folder(folders, tmp_path):
    a, b = folders
    run = tmp_path / "run"
    with pytest.raises(DataError, match="same folder"):
        run_inline(core.train_task, tiny_config(a, a, run))
    few = tmp_path / "few"
    few.mkdir()
    (few / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    import shutil

    src = sorted(b.iterdir())[0]
    shutil.copy(src, few / ("one" + src.suffix))
    with pytest.raises(DataError, match=r"Folder B .* has 1 usable image \(.*skipped 1.*\); training needs at least 2"):
        run_inline(core.train_task, tiny_config(a, few, run))
    assert not run.exists()
    with pytest.raises(DataError, match="nothing to resume"):
        run.mkdir()
        RunFolder(run).config_path.write_text(tiny_config(a, b, run).to_json())
        run_inline(core.train_task, core.resume_config(run))


def test_fine_tune_from_a_run_and_mismatched_init_models(folders, tmp_path, _isolated_home):
    adopt_init_architecture = core.get_trainer("cyclegan").adopt_init_architecture

    a, b = folders
    base = tmp_path / "base"
    run_inline(core.train_task, tiny_config(a, b, base, steps=2))
    cfg = adopt_init_architecture(tiny_config(a, b, tmp_path / "ft", steps=2, init_from=str(base)))
    run_inline(core.train_task, cfg)
    log = RunFolder(tmp_path / "ft").log_path.read_text()
    assert "the A->B generator starts from" in log and "the B->A generator starts from" in log
    # the fine-tuned model records its history: what it started from, and the steps and seconds behind that
    tr = load_checkpoint(next((tmp_path / "ft" / "models").glob("*.safetensors"))).meta["training"]
    assert tr["step"] == 2 and tr["train_seconds"] > 0
    assert tr["init"]["steps_before"] == 2 and tr["init"]["seconds_before"] > 0
    cfg2 = adopt_init_architecture(tiny_config(a, b, tmp_path / "ft2", steps=1, init_from=str(tmp_path / "ft")))
    run_inline(core.train_task, cfg2)
    tr2 = load_checkpoint(next((tmp_path / "ft2" / "models").glob("*.safetensors"))).meta["training"]
    assert tr2["init"]["steps_before"] == 4  # two runs of 2 steps before this one
    with pytest.raises(CheckpointError, match="ngf is 8 in the model but 16 here"):
        run_inline(core.train_task, tiny_config(a, b, tmp_path / "bad", init_from=str(base), ngf=16))
    assert not (tmp_path / "bad").exists()
    odd = _isolated_home / "models" / "latent" / "model.safetensors"
    net = torch.nn.Conv2d(3, 3, 1)
    save_model(odd, net, model_meta(id="latent-toy", name="latent toy", family="dcgan", task="generate",
                                    arch="basic", arch_kwargs={}))
    with pytest.raises(CheckpointError, match="is a generate model, not an image-to-image generator"):
        run_inline(core.train_task, tiny_config(a, b, tmp_path / "bad2", init_from="latent-toy"))


def test_fine_tune_from_the_bundled_model_adopts_its_architecture(folders, tmp_path):
    adopt_init_architecture = core.get_trainer("cyclegan").adopt_init_architecture

    a, b = folders
    cfg = adopt_init_architecture(tiny_config(a, b, tmp_path / "ft", steps=1, init_from="vintagify",
                                              sample_every=0, image_size=32))
    assert (cfg.generator, cfg.ngf, cfg.norm) == ("resnet_9blocks", 64, "instance_affine")
    run_inline(core.train_task, cfg)
    log = RunFolder(tmp_path / "ft").log_path.read_text()
    assert "the A->B generator starts from 'Vintage photo'" in log
    assert "has no B->A partner; the B->A generator starts from random weights" in log


def test_resume_refuses_a_run_another_process_is_training_and_a_shrinking_step_count(folders, tmp_path):
    a, b = folders
    run = tmp_path / "run"
    run_inline(core.train_task, tiny_config(a, b, run, steps=2))
    rf = RunFolder(run)
    st = rf.read_status()
    rf.write_status("running")
    data = json.loads(rf.status_path.read_text())
    data["pid"] = 1  # a live process that is not this one
    rf.status_path.write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"being trained right now by another process \(pid 1\)"):
        run_inline(core.train_task, core.resume_config(run, steps=3))
    rf.write_status(st["state"])
    with pytest.raises(ConfigError, match="already at step 2; to extend it, ask for more steps"):
        run_inline(core.train_task, core.resume_config(run, steps=1))
