"""ganstudio CLI: exit codes, one-line errors without tracebacks, partial batches."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, env=None):
    e = dict(os.environ, **(env or {}))
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "app", *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=e)


def test_models_lists_bundled_with_source():
    r = cli("models", "--json")
    assert r.returncode == 0, r.stderr
    models = json.loads(r.stdout)
    v = next(m for m in models if m["id"] == "vintagify")
    assert v["source"] == "bundled" and v["task"] == "translate"



def test_no_bundled_model_is_labelled_partial():
    """A bundled model is shipped as finished, even when it is a snapshot of a longer run (the run's plan is kept as
    ``planned_steps``): the pages label it "bundled", not "partial, step N of M", and pick it as a default."""
    from engine.library import ModelLibrary

    bundled = [m for m in ModelLibrary().list() if m.source == "bundled"]
    assert len(bundled) >= 8
    assert [m.label for m in bundled if m.partial] == []


def test_no_bundled_model_file_carries_a_path_of_the_machine_it_was_made_on():
    """Shipped metadata names data as dataset/split and runs by name: an absolute path (``/work/...``, ``/home/...``,
    ``C:\\...``) would leak the build machine's layout and mean nothing on a user's."""
    import re

    from engine.checkpoint import read_meta
    from engine.library import ModelLibrary

    def strings(o, where=""):
        if isinstance(o, dict):
            for k, v in o.items():
                yield from strings(v, f"{where}.{k}")
        elif isinstance(o, list):
            for i, v in enumerate(o):
                yield from strings(v, f"{where}[{i}]")
        elif isinstance(o, str):
            yield where, o

    absolute = re.compile(r"(^|[\s\"'(=])(/(work|home|root|tmp|usr|mnt|Users)/|[A-Za-z]:\\)")
    bundled = [m for m in ModelLibrary().list() if m.source == "bundled"]
    leaks = [(m.id, where, s) for m in bundled for where, s in strings(read_meta(m.path)) if absolute.search(s)]
    assert len(bundled) >= 8 and leaks == []


def test_translate_partial_batch_exit_3(tmp_path, image_factory):
    a = image_factory("a.png", w=32, h=32)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    r = cli("translate", "--out", tmp_path / "out", "--json", a, bad)
    assert r.returncode == 3, r.stderr
    summary = json.loads(r.stdout)
    assert len(summary["translated"]) == 1 and summary["skipped"][0]["input"].endswith("bad.jpg")
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("args,fragment", [
    (["translate", "--out", "OUT", "missing.png"], "no images were translated"),
    (["translate", "-q", "--out", "OUT", "missing.png"], "no images were translated ("),
    (["translate", "--model", "no-such-model", "--out", "OUT", "IMG"], "No model called 'no-such-model'"),
    (["translate", "--model", "broken.safetensors", "--out", "OUT", "IMG"], "not a safetensors"),
    (["translate", "--tile", "10", "--out", "OUT", "IMG"], "tile must be"),
    (["import", "missing.pth"], "not found"),
    (["models", "--task", "bogus"], "--task 'bogus' is not a task; choose one of"),
    (["train", "cyclegan", "--gpus", "0", "--a", "OUT", "--b", "OUT", "--out", "OUT"], "--gpus must be 1 or more"),
    (["runstate", "pack", "OUT", "DIR.safetensors"], "is a folder; give the name of the resume file"),
])
def test_bad_input_one_line_no_traceback(tmp_path, image_factory, args, fragment):
    img = image_factory("x.png", w=16, h=16)
    (tmp_path / "broken.safetensors").write_bytes(b"garbage!" * 10)
    (tmp_path / "DIR.safetensors").mkdir()
    args = [str(img) if a == "IMG" else str(tmp_path / "out") if a == "OUT" else
            str(tmp_path / a) if a.endswith((".safetensors", ".pth")) else a for a in args]
    r = cli(*args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    err_lines = [ln for ln in r.stderr.splitlines() if ln.startswith("ganstudio: error")]
    assert len(err_lines) == 1 and fragment in err_lines[0]


def test_translate_then_import_and_use_by_name(tmp_path, image_factory):
    import torch

    from engine.models import get_model

    torch.save(get_model("resnet_6blocks", ngf=4).state_dict(), tmp_path / "g.pth")
    r = cli("import", tmp_path / "g.pth", "--name", "Small one")
    assert r.returncode == 0 and "small-one" in r.stdout, r.stderr
    r = cli("translate", "--model", "small-one", "--out", tmp_path / "o", image_factory("a.png", w=20, h=20))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o" / "a.png").exists()


def test_terminal_progress_eta_counts_only_this_process(monkeypatch):
    """A run resumed at step 5200 of 6000 must not be credited with the 5200 steps an earlier process did."""
    import io

    from app.cli import progress

    clock = iter([100.0, 110.0, 120.0])
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    out = io.StringIO()
    bar = progress.TerminalProgress(stream=out)  # t0 = 100
    bar.update(5200, 6000, "step 5200")  # t = 110: the phase starts here, no rate yet
    bar.update(5210, 6000, "step 5210")  # t = 120: 10 steps in 10 s, 790 left
    lines = out.getvalue().splitlines()
    assert "ETA –" in lines[0]
    assert "ETA 13:10" in lines[1], lines[1]


def test_translate_out_may_name_one_file(tmp_path, image_factory):
    """``--out result.jpg`` with one input writes that file (never over an existing one, never over the input);
    with several inputs, or a format that cannot be written, it is refused before any work and nothing is made."""
    a = image_factory("a.png", w=24, h=24)
    b = image_factory("b.png", w=24, h=24)
    out = tmp_path / "res" / "result.jpg"
    r = cli("translate", "--model", "vintagify-fast", "--out", out, "--json", a)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["translated"][0]["output"] == str(out) and out.is_file()
    first = out.read_bytes()
    r = cli("translate", "--model", "vintagify-fast", "--out", out, "--json", a)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["translated"][0]["output"].endswith("result_1.jpg") and out.read_bytes() == first
    before = a.read_bytes()
    r = cli("translate", "--model", "vintagify-fast", "--out", a, a)  # onto its own input
    assert r.returncode == 0 and a.read_bytes() == before and (a.parent / "a_1.png").is_file(), r.stderr
    assert "wrote " + str(a.parent / "a_1.png") + " (the name was taken)" in r.stdout  # says where it went
    rgba = image_factory("t.png", w=24, h=24, channels=4)
    r = cli("translate", "--model", "vintagify-fast", "--out", tmp_path / "t.jpg", rgba)
    assert "(the name was taken; a JPEG cannot keep the transparency)" in r.stdout and (tmp_path / "t_1.png").is_file()
    r = cli("translate", "--model", "vintagify-fast", "--out", str(tmp_path / "dir.png") + "/", a, b)
    assert r.returncode == 0 and (tmp_path / "dir.png" / "b.png").is_file(), r.stderr  # a trailing / is a folder
    for args, fragment in (([a, b], "inputs hold 2 images"), ([a], "cannot write .gif")):
        dest = tmp_path / "x" / ("x.gif" if fragment.endswith("gif") else "x.png")
        r = cli("translate", "--model", "vintagify-fast", "--out", dest, *args)
        assert r.returncode == 2 and fragment in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert not dest.exists()
