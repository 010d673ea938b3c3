"""Checkpoints: atomic save, precise load errors, nested state, no unpickling."""
from __future__ import annotations

import json

import pytest
import torch

from engine.checkpoint import (flatten, load_checkpoint, load_into, read_meta, save_checkpoint, unflatten,
                               FORMAT_VERSION)
from engine.errors import CheckpointError
from engine.models import get_model


def tiny_g():
    torch.manual_seed(0)
    return get_model("resnet_6blocks", ngf=8)


def test_round_trip_with_metadata(tmp_path):
    g = tiny_g()
    p = save_checkpoint(tmp_path / "m.safetensors", g.state_dict(), {"kind": "model", "arch": "resnet_6blocks",
                                                                      "arch_kwargs": {"ngf": 8}, "step": 7})
    meta = read_meta(p)
    assert meta["format"] == "ganstudio.checkpoint" and meta["format_version"] == FORMAT_VERSION
    assert meta["step"] == 7 and meta["created_with"].startswith("ganstudio ")
    ck = load_checkpoint(p)
    g2 = get_model("resnet_6blocks", ngf=8)
    load_into(g2, ck.tensors)
    for k, v in g.state_dict().items():
        assert torch.equal(v, g2.state_dict()[k])


def test_fp16_save_casts_floats_only(tmp_path):
    g = tiny_g()
    p = save_checkpoint(tmp_path / "h.safetensors", g.state_dict(), {}, dtype=torch.float16)
    ck = load_checkpoint(p)
    assert all(t.dtype == torch.float16 for t in ck.tensors.values())
    g2 = get_model("resnet_6blocks", ngf=8)
    load_into(g2, ck.tensors)  # casts back to the module's dtype
    assert next(g2.parameters()).dtype == torch.float32


def test_mismatch_lists_what_differs(tmp_path):
    g = tiny_g()
    sd = g.state_dict()
    sd.pop("model.1.weight")
    sd["extra.weight"] = torch.zeros(1)
    sd["model.4.weight"] = torch.zeros(3, 3)
    with pytest.raises(CheckpointError) as ei:
        load_into(get_model("resnet_6blocks", ngf=8), sd, what="generator")
    msg = str(ei.value)
    assert "Missing (1): model.1.weight" in msg
    assert "Unexpected (1): extra.weight" in msg
    assert "model.4.weight: model (16, 8, 3, 3) vs file (3, 3)" in msg


def test_bad_files_give_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.safetensors")
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(empty)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(CheckpointError, match="not a safetensors"):
        load_checkpoint(junk)
    pth = tmp_path / "model.safetensors"
    torch.save({"a": torch.zeros(2)}, pth)
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(pth)
    good = save_checkpoint(tmp_path / "g.safetensors", tiny_g().state_dict(), {})
    data = good.read_bytes()
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(cut)


def test_header_length_with_low_byte_0x80_is_not_mistaken_for_a_pickle(tmp_path):
    """A safetensors header length like 0x...80 starts with the byte of a pickle opcode; still a model file."""
    import pickle

    state = tiny_g().state_dict()
    for pad in range(400):
        path = save_checkpoint(tmp_path / "m.safetensors", state, {"kind": "model", "note": "x" * pad})
        if path.read_bytes()[0] == 0x80:
            break
    else:
        pytest.fail("no padding gave a header length with low byte 0x80")
    assert read_meta(path)["note"] == "x" * pad and set(load_checkpoint(path).tensors) == set(state)
    legacy = tmp_path / "legacy.safetensors"
    legacy.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(legacy)


def test_newer_format_is_refused(tmp_path):
    from safetensors.torch import save_file

    p = tmp_path / "future.safetensors"
    save_file({"x": torch.zeros(1)}, str(p), metadata={"ganstudio": json.dumps(
        {"format": "ganstudio.checkpoint", "format_version": FORMAT_VERSION + 1, "created_with": "ganstudio 9.0"})})
    with pytest.raises(CheckpointError, match="newer GAN Studio"):
        read_meta(p)


def test_atomic_save_keeps_previous_file_on_failure(tmp_path, monkeypatch):
    p = save_checkpoint(tmp_path / "latest.safetensors", {"w": torch.ones(3)}, {"step": 1})
    import safetensors.torch as st

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(st, "save_file", full_disk)
    with pytest.raises(OSError):
        save_checkpoint(p, {"w": torch.zeros(3)}, {"step": 2})
    monkeypatch.undo()
    assert read_meta(p)["step"] == 1
    assert torch.equal(load_checkpoint(p).tensors["w"], torch.ones(3))
    assert sorted(x.name for x in tmp_path.iterdir()) == ["latest.safetensors"]


def test_flatten_optimizer_and_rng_state(tmp_path):
    g = tiny_g()
    opt = torch.optim.Adam(g.parameters(), 1e-3)
    g(torch.randn(1, 3, 32, 32)).mean().backward()
    opt.step()
    tensors = {}
    state = {"opt": opt.state_dict(), "rng": torch.get_rng_state(), "pool": [torch.ones(2), torch.zeros(1)],
             "step": 5, "py": (1, 2.5, "x")}
    js = flatten(state, "state", tensors)
    text = json.dumps(js)
    p = save_checkpoint(tmp_path / "s.safetensors", tensors, {"state": json.loads(text)})
    ck = load_checkpoint(p)
    back = unflatten(ck.meta["state"], ck.tensors)
    assert back["step"] == 5 and back["py"] == (1, 2.5, "x")
    assert torch.equal(back["rng"], torch.get_rng_state())
    opt2 = torch.optim.Adam(get_model("resnet_6blocks", ngf=8).parameters(), 1e-3)
    opt2.load_state_dict(back["opt"])
    s1, s2 = opt.state_dict()["state"][0]["exp_avg"], opt2.state_dict()["state"][0]["exp_avg"]
    assert torch.equal(s1, s2)
