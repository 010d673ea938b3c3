"""Attacks through model files: malformed metadata, memory bombs in arch_kwargs, pickles through every load path."""
from __future__ import annotations

import json
import pickle
import zipfile

import pytest
import torch

from tests.hostile.conftest import images, one_error, tree

GOOD = {"format": "ganstudio.checkpoint", "format_version": 1, "kind": "model", "arch": "resnet_6blocks",
        "arch_kwargs": {"ngf": 4}, "model": {"id": "x", "name": "x", "task": "translate"}}


def _raw_model(path, meta_text: str, tensors=None) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors or {"w": torch.zeros(2)}, str(path), metadata={"ganstudio": meta_text})


MALFORMED = {
    "deeply nested": json.dumps(dict(GOOD, extra=None))[:-1] + ', "deep": ' + "[" * 50000 + "]" * 50000 + "}",
    "model is not an object": json.dumps(dict(GOOD, model="x")),
    "string version": json.dumps(dict(GOOD, format_version="1")),
    "not an object": json.dumps([1, 2, 3]),
    "arch is a number": json.dumps(dict(GOOD, arch=5)),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_one_malformed_model_file_is_one_listed_problem(tmp_path, cli, case, monkeypatch):
    from engine.fsutil import user_data_dir

    bad = user_data_dir() / "models" / "bad" / "model.safetensors"
    _raw_model(bad, MALFORMED[case])
    code, out, err = cli("models")
    assert code == 0 and "Traceback" not in err and "Unexpected error" not in out + err
    assert "vintagify" in out  # every other model keeps working
    problems = [ln for ln in out.splitlines() if ln.startswith("(unreadable")]
    assert len(problems) == 1 and str(bad) in problems[0]
    # the default translate works for everyone
    src = images(tmp_path / "in", 1, w=32, h=32)
    code, _, err = cli("translate", src, "--out", tmp_path / "out")
    assert code == 0, err
    # and naming the file itself gives exactly one message that names it
    code, _, err = cli("translate", src, "--model", bad, "--out", tmp_path / "out2")
    assert code == 2
    one_error(err, str(bad))
    assert not (tmp_path / "out2").exists()


def test_arch_kwargs_memory_bomb_is_refused_before_building(tmp_path, cli):
    from engine.checkpoint import save_checkpoint
    from engine.models import get_model

    small = get_model("resnet_6blocks", ngf=4).state_dict()
    bomb = tmp_path / "bomb.safetensors"
    save_checkpoint(bomb, small, dict(GOOD, arch="resnet_9blocks", arch_kwargs={"ngf": 1500}))
    assert bomb.stat().st_size < 4 * 2**20
    src = images(tmp_path / "in", 1, w=32, h=32)
    code, _, err = cli("translate", src, "--model", bomb, "--out", tmp_path / "out")
    assert code == 2
    one_error(err, str(bomb), "parameters")
    # shapes that do not match the architecture are refused before building too
    lying = tmp_path / "lying.safetensors"
    save_checkpoint(lying, small, dict(GOOD, arch_kwargs={"ngf": 64}))
    code, _, err = cli("translate", src, "--model", lying, "--out", tmp_path / "out")
    assert code == 2
    one_error(err, str(lying), "Shape mismatch")


class _Boom:
    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')",))


def _pickles(tmp_path):
    """A legacy pickle, a torch zip whose data.pkl runs code, and a .safetensors that is really a pickle."""
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(pickle.dumps({"state_dict": _Boom()}, protocol=2))
    zipped = tmp_path / "zipped.pth"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"w": _Boom()}, protocol=2))
        z.writestr("archive/version", "3\n")
    disguised = tmp_path / "disguised.safetensors"
    disguised.write_bytes(legacy.read_bytes())
    return [legacy, zipped, disguised]


def test_pickle_payloads_never_run_through_any_load_path(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = images(tmp_path / "in", 1, w=32, h=32)
    before = tree(tmp_path / "in")
    for payload in _pickles(tmp_path):
        for args in (["translate", src, "--model", payload, "--out", tmp_path / "out"], ["import", payload],
                     ["export", "model", payload, "--out", tmp_path / "exp"],
                     ["eval", "--model", payload, "--input", src, "--real", src]):
            code, _, err = cli(*args)
            assert code == 2, (args, err)
            line = one_error(err, str(payload))
            assert "…" not in line and not line.endswith(("(", ":")), line  # a whole sentence, not torch's text cut
        assert not (tmp_path / "PWNED").exists()
    assert tree(tmp_path / "in") == before


def _forge(path, header: dict, data: bytes = b"\0" * 64, length=None) -> None:
    raw = json.dumps(header).encode()
    n = len(raw) if length is None else length
    path.write_bytes(n.to_bytes(8, "little") + raw + data)


META = {"ganstudio": json.dumps(GOOD)}
FORGED = {
    "header length past the end": dict(header={"__metadata__": META}, length=2**40),
    "offsets past the end": dict(header={"__metadata__": META, "w": {"dtype": "F32", "shape": [1000],
                                                                     "data_offsets": [0, 4000]}}),
    "negative offsets": dict(header={"__metadata__": META, "w": {"dtype": "F32", "shape": [2],
                                                                 "data_offsets": [-8, 0]}}),
    "shape and offsets disagree": dict(header={"__metadata__": META, "w": {"dtype": "F32", "shape": [64, 64],
                                                                           "data_offsets": [0, 64]}}),
    "unknown dtype": dict(header={"__metadata__": META, "w": {"dtype": "Q77", "shape": [2],
                                                              "data_offsets": [0, 8]}}),
    "metadata not text": dict(header={"__metadata__": {"ganstudio": {"format": 1}}}),
}


@pytest.mark.parametrize("case", sorted(FORGED))
def test_forged_safetensors_are_refused_naming_the_file(tmp_path, cli, case):
    forged = tmp_path / "forged.safetensors"
    _forge(forged, **FORGED[case])
    src = images(tmp_path / "in", 1, w=32, h=32)
    code, _, err = cli("translate", src, "--model", forged, "--out", tmp_path / "out")
    assert code == 2
    one_error(err, str(forged))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
