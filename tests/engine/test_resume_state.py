"""Compact resume states (``ganstudio runstate``): pack a run into a small fp16 file, unpack it elsewhere, resume;
other formats, older versions, non-finite weights and existing folders are refused before anything is written."""
from __future__ import annotations

import pytest
import torch

from app.cli import main as cli
from engine.checkpoint import load_checkpoint, save_checkpoint
from engine.errors import CheckpointError, DataError
from engine.jobs import run_inline
from engine.training import core, resume_state
from engine.training.runs import RunFolder
from tests.engine.training_helpers import make_folders

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def packed(tmp_path):
    a, b = make_folders(tmp_path / "data", 3)
    cfg = core.build_config("cut", "tiny", data_a=str(a), data_b=str(b), out_dir=str(tmp_path / "run"), device="cpu",
                            steps=2, sample_every=0, checkpoint_every=0, ema_decay=0.9)
    run_inline(core.train_task, cfg)
    return resume_state.pack(tmp_path / "run", tmp_path / "state.safetensors"), a, b


def test_pack_unpack_resume_on_another_machine(packed, tmp_path, capsys):
    state, a, b = packed
    ckpt = load_checkpoint(state)
    assert all(v.dtype == torch.float16 for v in ckpt.tensors.values() if v.is_floating_point())
    assert not any(k.startswith("opt.") for k in ckpt.tensors) and any(k.startswith("net.G_ema.") for k in ckpt.tensors)
    moved_a, moved_b = tmp_path / "elsewhere_a", tmp_path / "elsewhere_b"
    a.rename(moved_a)
    b.rename(moved_b)
    assert cli(["runstate", "unpack", str(state), str(tmp_path / "again"), "--a", str(moved_a), "--b",
                str(moved_b)]) == 0
    assert "at step 2 of 2" in capsys.readouterr().out
    res = run_inline(core.train_task, core.resume_config(tmp_path / "again", steps=4))
    assert res.state == "finished" and res.step == 4
    assert RunFolder(tmp_path / "again").read_status()["state"] == "finished"


def test_a_one_folder_run_moves_with_data_and_the_wrong_flag_is_refused(packed, tmp_path, image_factory):
    """StyleGAN (one folder, ``data``): --data points the unpacked run at this machine's copy; --a on it, or --data
    on a two-folder run, is refused and writes nothing."""
    for i in range(4):
        image_factory(f"faces/{i}.png", w=64, h=64, seed=i)
    cfg = core.build_config("stylegan", "tiny", data=str(tmp_path / "faces"), out_dir=str(tmp_path / "sg"), steps=2)
    run_inline(core.train_task, cfg)
    state = resume_state.pack(tmp_path / "sg", tmp_path / "sg.safetensors")
    (tmp_path / "faces").rename(tmp_path / "moved")
    with pytest.raises(DataError, match="no 'data_a' folder; use --data"):
        resume_state.unpack(state, tmp_path / "bad", data_a=str(tmp_path / "moved"))
    assert not (tmp_path / "bad").exists()
    with pytest.raises(DataError, match="no 'data' folder; use --a and --b"):
        resume_state.unpack(packed[0], tmp_path / "bad2", data=str(tmp_path / "moved"))
    assert not (tmp_path / "bad2").exists()
    assert cli(["runstate", "unpack", str(state), str(tmp_path / "sg2"), "--data", str(tmp_path / "moved")]) == 0
    res = run_inline(core.train_task, core.resume_config(tmp_path / "sg2", steps=4))
    assert res.state == "finished" and res.step == 4


def test_other_formats_and_versions_are_refused_and_nothing_is_written(packed, tmp_path):
    state, _, _ = packed
    ckpt = load_checkpoint(state)
    old = tmp_path / "old.safetensors"
    save_checkpoint(old, ckpt.tensors, dict(ckpt.meta, resume_version=0))
    with pytest.raises(CheckpointError, match="version 0"):
        resume_state.unpack(old, tmp_path / "x")
    with pytest.raises(CheckpointError, match="not a GAN Studio resume state"):
        resume_state.unpack(tmp_path / "run" / "checkpoints" / "latest.safetensors", tmp_path / "x")
    bad = dict(ckpt.tensors)
    key = next(k for k in bad if bad[k].is_floating_point())
    bad[key] = torch.full_like(bad[key], float("nan"))
    nan = tmp_path / "nan.safetensors"
    save_checkpoint(nan, bad, ckpt.meta)
    with pytest.raises(CheckpointError, match="non-finite"):
        resume_state.unpack(nan, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(DataError, match="not empty"):
        resume_state.unpack(state, tmp_path / "run")


def test_pack_never_replaces_a_file_without_overwrite(packed, tmp_path, capsys):
    state, _, _ = packed
    before = state.read_bytes()
    assert cli(["runstate", "pack", str(tmp_path / "run"), str(state)]) == 2
    assert "already exists" in capsys.readouterr().err and state.read_bytes() == before
    assert cli(["runstate", "pack", str(tmp_path / "run"), str(tmp_path / "state.pt")]) == 2


def test_an_optimiser_state_from_an_older_version_restores_the_networks_and_starts_adam_afresh(tmp_path):
    """A checkpoint whose optimiser has another number of parameter groups (the distiller's colour branches got their
    own learning rate later) still resumes: networks restored, Adam's moments fresh, and the log says so."""
    from engine.checkpoint import Checkpoint
    from engine.training import state

    class Trainer:
        def __init__(self, groups: int):
            self.net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 2))
            params = list(self.net.parameters())
            split = [params] if groups == 1 else [params[:2], params[2:]]
            self.nets = {"G": self.net}
            self.opts = {"G": torch.optim.Adam([{"params": p} for p in split], lr=1e-3)}
            self.scheds, self.scaler, self.logged = {}, None, []

        def extra_state(self):
            return {}

        def load_extra_state(self, _):
            pass

        def log(self, msg):
            self.logged.append(msg)

    old = Trainer(1)
    old.net(torch.rand(3, 4)).sum().backward()
    old.opts["G"].step()
    tensors, meta = state.collect(old)
    new = Trainer(2)
    state.restore(new, Checkpoint(tensors, meta, tmp_path / "latest.safetensors"))
    assert all(torch.equal(a, b) for a, b in zip(old.net.state_dict().values(), new.net.state_dict().values()))
    assert not new.opts["G"].state and "start afresh" in new.logged[0] and "latest.safetensors" in new.logged[0]


def test_pack_refuses_a_file_inside_the_run_folder_even_with_overwrite(packed, tmp_path, capsys):
    """Packing onto the run's own model or checkpoint would replace it with an fp16 state (no optimiser)."""
    run = tmp_path / "run"
    targets = [run / "models" / "G.safetensors", run / "checkpoints" / "latest.safetensors", run / "new.safetensors"]
    before = {p: p.read_bytes() for p in targets if p.exists()}
    for dest in targets:
        assert cli(["runstate", "pack", str(run), str(dest), "--overwrite"]) == 2
        assert "inside the run folder" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in targets if p.exists()} == before and not targets[2].exists()


def test_unpack_checks_the_data_folders_it_is_given(packed, tmp_path):
    state, a, b = packed
    with pytest.raises(DataError, match="does not exist"):
        resume_state.unpack(state, tmp_path / "x", data_a=str(tmp_path / "nowhere"), data_b=str(b))
    assert not (tmp_path / "x").exists()
    with pytest.raises(core.ConfigError, match="inside the training data folder"):
        resume_state.unpack(state, b / "inner", data_a=str(a), data_b=str(b))
    assert not (b / "inner").exists()


def test_a_resumed_run_inside_its_data_is_refused(packed, tmp_path):
    """A run folder moved (or unpacked by hand) into its own data would read its samples as training images."""
    _, a, b = packed
    inner = b / "inner"
    (tmp_path / "run").rename(inner)
    before = sorted(p.name for p in b.rglob("*"))
    with pytest.raises(core.ConfigError, match="inside the training data folder"):
        run_inline(core.train_task, core.resume_config(inner, steps=4))
    assert sorted(p.name for p in b.rglob("*")) == before


def test_a_run_started_with_relative_paths_resumes_from_another_directory(tmp_path, monkeypatch):
    a, b = make_folders(tmp_path / "data", 3)
    monkeypatch.chdir(tmp_path / "data")
    cfg = core.build_config("cut", "tiny", data_a="A", data_b="B", out_dir=str(tmp_path / "run"), device="cpu",
                            steps=2, sample_every=0, checkpoint_every=0)
    run_inline(core.train_task, cfg)
    monkeypatch.chdir(tmp_path)
    resumed = core.resume_config(tmp_path / "run", steps=3)
    assert (resumed.data_a, resumed.data_b) == (str(a.resolve()), str(b.resolve()))
    assert run_inline(core.train_task, resumed).step == 3
    # the same folders given again, as another spelling, are accepted; other existing folders are not
    again = core.resume_config(tmp_path / "run", steps=4, data_a=str(tmp_path / "data" / ".." / "data" / "A"))
    assert again.data_a == str(a.resolve())
    with pytest.raises(core.ConfigError, match="data_a cannot be changed"):
        core.resume_config(tmp_path / "run", steps=4, data_a=str(b))


def test_a_run_stored_with_a_relative_path_can_be_pointed_at_its_data(tmp_path, monkeypatch):
    """Runs of earlier versions kept the paths as typed: from another directory the folder is not found (the
    message says why), and giving it again re-points the run."""
    import json

    a, b = make_folders(tmp_path / "data", 3)
    cfg = core.build_config("cut", "tiny", data_a=str(a), data_b=str(b), out_dir=str(tmp_path / "run"), device="cpu",
                            steps=2, sample_every=0, checkpoint_every=0)
    run_inline(core.train_task, cfg)
    conf = tmp_path / "run" / "config.json"
    conf.write_text(json.dumps(dict(json.loads(conf.read_text()), data_a="A", data_b="B")))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match="relative path"):
        run_inline(core.train_task, core.resume_config(tmp_path / "run", steps=3))
    res = run_inline(core.train_task, core.resume_config(tmp_path / "run", steps=3, data_a=str(a), data_b=str(b)))
    assert res.step == 3


def test_a_pack_naming_its_data_by_relative_paths_is_fixed_at_unpack_or_refused(packed, tmp_path, monkeypatch):
    """An older pack kept the paths as typed: unpacked without --a/--b, a later resume from another folder trained
    on whatever 'data/A' was there. Now the path is made absolute at unpack (where it must exist), or refused."""
    state, a, b = packed
    ckpt = load_checkpoint(state)
    rel = tmp_path / "rel.safetensors"
    save_checkpoint(rel, ckpt.tensors, dict(ckpt.meta, config=dict(ckpt.meta["config"], data_a="data/A",
                                                                        data_b="data/B")))
    monkeypatch.chdir(tmp_path / "data")  # here data/A does not exist
    with pytest.raises(DataError, match=r"relative path 'data/A'.*--a"):
        resume_state.unpack(rel, tmp_path / "u1")
    assert not (tmp_path / "u1").exists()
    monkeypatch.chdir(tmp_path)
    rf = resume_state.unpack(rel, tmp_path / "u2")
    monkeypatch.chdir(tmp_path / "data")
    resumed = core.resume_config(rf.root, steps=3)
    assert (resumed.data_a, resumed.data_b) == (str(a.resolve()), str(b.resolve()))


def test_a_pack_with_a_damaged_step_count_is_refused_before_anything_is_written(packed, tmp_path):
    state, _, _ = packed
    ckpt = load_checkpoint(state)
    for step, total in (("abc", 2), (-5, 2), (3, 2), (1, 0), (1.5, 2)):
        bad = tmp_path / "bad.safetensors"
        save_checkpoint(bad, ckpt.tensors, dict(ckpt.meta, step=step, total=total))
        with pytest.raises(CheckpointError, match="damaged"):
            resume_state.unpack(bad, tmp_path / "x")
        assert not (tmp_path / "x").exists()


def test_a_checkpoint_stores_its_data_folders_as_absolute_paths(tmp_path, monkeypatch):
    make_folders(tmp_path / "data", 3)
    monkeypatch.chdir(tmp_path / "data")
    cfg = core.build_config("cut", "tiny", data_a="A", data_b="B", out_dir=str(tmp_path / "run"), device="cpu",
                            steps=1, sample_every=0, checkpoint_every=0)
    run_inline(core.train_task, cfg)
    conf = load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.safetensors").meta["config"]
    assert conf["data_a"] == str(tmp_path / "data" / "A") and conf["data_b"] == str(tmp_path / "data" / "B")


def test_resuming_with_another_family_or_a_setting_the_run_does_not_have_is_refused(packed, tmp_path, capsys):
    """`train stargan --resume <a CUT run> --domains x y` used to carry on as CUT and drop --domains silently."""
    run = tmp_path / "run"
    before = load_checkpoint(run / "checkpoints" / "latest.safetensors").meta["step"]
    assert cli(["train", "stargan", "--resume", str(run), "--steps", "4"]) == 2
    assert "is a cut run; continue it with: ganstudio train cut --resume" in capsys.readouterr().err
    with pytest.raises(core.ConfigError, match="domains: .* has no such setting"):
        core.resume_config(run, steps=4, domains=("x", "y"))
    assert load_checkpoint(run / "checkpoints" / "latest.safetensors").meta["step"] == before


def test_an_edited_pack_a_moved_folder_and_a_file_as_run_get_clear_words(packed, tmp_path, capsys):
    """A helper's pass: an edited pack said "'<=' not supported between instances of 'int' and 'str'"; a moved data
    folder gave no hint of --a/--b; a file given to --resume "does not exist"."""
    state, a, _ = packed
    ckpt = load_checkpoint(state)
    for field, value, words in (("steps", "abc", "steps must be a whole number"), ("lr", "fast", "lr must be a number")):
        bad = tmp_path / "edited.safetensors"
        save_checkpoint(bad, ckpt.tensors, dict(ckpt.meta, config=dict(ckpt.meta["config"], **{field: value})))
        with pytest.raises(DataError, match=f"damaged or was edited.*{words}"):
            resume_state.unpack(bad, tmp_path / "x")
        assert not (tmp_path / "x").exists()
    a.rename(a.with_name("A-moved"))
    assert cli(["train", "cut", "--resume", str(tmp_path / "run"), "--steps", "1"]) == 2  # before any folder is read
    assert "is already at step 2; to extend it" in capsys.readouterr().err
    assert cli(["train", "cut", "--resume", str(tmp_path / "run"), "--steps", "4"]) == 2
    assert "give its new place (when resuming a run: --a/--b or --data)" in capsys.readouterr().err
    (tmp_path / "notarun").write_text("x")
    assert cli(["train", "cut", "--resume", str(tmp_path / "notarun")]) == 2
    assert "is a file, not a training run folder" in capsys.readouterr().err
