"""Face-crop data preparation: counts, reuse, bad inputs (empty folder, corrupt files, mostly no faces), the
trainers' face_crop option and the CLI (faces prep, translate --faces/--no-faces, train --face-crop)."""
from __future__ import annotations

import importlib.util
import json
import shutil

import numpy as np
import pytest

from engine.errors import ConfigError, DataError
from engine.imageio import load_image
from engine.jobs import run_inline
from tests.conftest import ROOT, make_image
from tests.engine.training_helpers import F2G

pytestmark = pytest.mark.skipif(importlib.util.find_spec("facenet_pytorch") is None,
                                reason="facenet-pytorch (the MTCNN weights) is not installed")
ASTRONAUT = ROOT / "resources" / "samples" / "astronaut.png"


def _faces_folder(root, n_faces=2, n_plain=1, corrupt=True):
    """``n_faces`` photos with a face (the astronaut, test photos), ``n_plain`` without, optionally a corrupt file."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ASTRONAUT, root / "astronaut.png")
    photos = sorted((F2G / "testA").iterdir())[:max(0, n_faces - 1)] if (F2G / "testA").is_dir() else []
    for i, p in enumerate(photos):
        (root / "sub").mkdir(exist_ok=True)
        shutil.copy(p, root / "sub" / p.name)
    for i in range(n_plain):
        make_image(root / f"plain{i}.png", w=72, h=64, seed=i)
    if corrupt:
        (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return root, 1 + len(photos)


def _plain_folder(root, n=3):
    for i in range(n):
        make_image(root / f"b{i}.png", seed=10 + i)
    return root


def _prep(src, out, **kw):
    from engine.faces.prep import FacePrepConfig, prepare_faces

    return run_inline(prepare_faces, FacePrepConfig(input=str(src), out_dir=str(out), size=64, **kw))


def test_prep_counts_crops_and_reuses(tmp_path):
    src, n_faces = _faces_folder(tmp_path / "photos", n_faces=3, n_plain=1)
    before = {p: p.read_bytes() for p in src.rglob("*") if p.is_file()}
    res = _prep(src, tmp_path / "crops")
    assert (res.images, res.found, res.crops) == (n_faces + 1, n_faces, n_faces)
    assert [p.name for p in res.no_face] == ["plain0.png"]
    assert [p.name for p, _ in res.unreadable] == ["broken.jpg"]
    crops = sorted(p.relative_to(tmp_path / "crops").as_posix() for p in (tmp_path / "crops").rglob("*.png"))
    assert "astronaut.png" in crops and len(crops) == n_faces
    assert all(load_image(tmp_path / "crops" / c).size == (64, 64) for c in crops)
    assert {p: p.read_bytes() for p in src.rglob("*") if p.is_file()} == before  # the photos are untouched
    again = _prep(src, tmp_path / "crops")
    assert again.reused and (again.images, again.found) == (res.images, res.found)
    (tmp_path / "crops" / "notes.png").write_bytes(b"the user's own file")
    (src / "plain0.png").unlink()
    redone = _prep(src, tmp_path / "crops")
    assert not redone.reused and redone.images == n_faces
    assert (tmp_path / "crops" / "notes.png").read_bytes() == b"the user's own file"  # only our crops are redone
    assert len(list((tmp_path / "crops").rglob("*.png"))) == n_faces + 1


def test_prep_bad_inputs(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="has no images"):
        _prep(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(DataError, match="does not exist"):
        _prep(tmp_path / "missing", tmp_path / "out")
    src, _ = _faces_folder(tmp_path / "photos", n_faces=1, n_plain=0, corrupt=False)
    with pytest.raises(DataError, match="inside the photo folder"):
        _prep(src, src / "crops")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep me")
    with pytest.raises(DataError, match="already holds other files"):
        _prep(src, busy)
    assert (busy / "mine.txt").read_text() == "keep me"
    with pytest.raises(ConfigError, match="margin"):
        _prep(src, tmp_path / "out", margin=3.0)


def test_mostly_no_faces_is_reported_with_counts(tmp_path):
    from engine.faces.prep import require_faces

    src, _ = _faces_folder(tmp_path / "photos", n_faces=1, n_plain=3)
    res = _prep(src, tmp_path / "crops")
    with pytest.raises(DataError, match=r"Faces were found in only 1 of 4 readable images of folder A .*"
                                        r"1 files could not be read"):
        require_faces(res, "folder A")


def test_training_with_face_crop_on_a_folder_without_faces_stops_before_training(tmp_path):
    from engine.training import core
    from tests.engine.training_helpers import tiny_config

    a, _ = _faces_folder(tmp_path / "A", n_faces=1, n_plain=3, corrupt=False)
    b, run = _plain_folder(tmp_path / "B"), tmp_path / "run"
    with pytest.raises(DataError, match=r"Faces were found in only 1 of 4 readable images of folder A"):
        run_inline(core.train_task, tiny_config(a, b, run, face_crop=True))
    assert not (run / "models").exists()


def test_face_crop_training_marks_the_model_as_a_face_model(tmp_path):
    from engine.checkpoint import read_meta
    from engine.training import core
    from tests.engine.training_helpers import tiny_config

    a, n = _faces_folder(tmp_path / "A", n_faces=3, n_plain=0, corrupt=False)
    b, run = _plain_folder(tmp_path / "B"), tmp_path / "run"
    res = run_inline(core.train_task, tiny_config(a, b, run, steps=2, checkpoint_every=2, sample_every=0,
                                                  face_crop=True, face_margin=0.1))
    assert res.state == "finished"
    log = (run / "train.log").read_text()
    assert f"Face crop: Faces found in {n} of {n} images" in log
    a2b = read_meta(run / "models" / "G_A2B.safetensors")["model"]
    b2a = read_meta(run / "models" / "G_B2A.safetensors")["model"]
    assert a2b["input"] == "face" and a2b["face_margin"] == 0.1 and a2b["face_size"] == 64
    assert "input" not in b2a  # its input is domain B, which was not face-cropped


def test_face_crop_is_refused_where_a_family_cannot_use_it(tmp_path):
    from engine.training import core

    cfg = core.build_config("pix2pix", "tiny", data=str(tmp_path), out_dir=str(tmp_path / "run"), face_crop=True)
    with pytest.raises(ConfigError, match="Face crop is not available for pix2pix"):
        core.get_trainer("pix2pix")(cfg, None)


# --- CLI (in process: the same main() as the ganstudio script, without a new interpreter per call) -----------

@pytest.fixture
def cli(capsys):
    from types import SimpleNamespace

    from app.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)

    return run

def test_cli_faces_prep_counts_and_exit_codes(tmp_path, cli):
    src, n = _faces_folder(tmp_path / "photos", n_faces=2, n_plain=0, corrupt=False)
    r = cli("faces", "prep", src, tmp_path / "crops", "--size", "64", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["images"], out["found"], out["crops"]) == (n, n, n)
    mostly_plain, _ = _faces_folder(tmp_path / "plain", n_faces=1, n_plain=3)
    r = cli("faces", "prep", mostly_plain, tmp_path / "crops2", "--size", "64")
    assert r.returncode == 3
    assert "Faces found in 1 of 4 images" in r.stdout
    assert "warning: Faces were found in only 1 of 4" in r.stderr and "skipped" in r.stderr
    (tmp_path / "void").mkdir()
    r = cli("faces", "prep", tmp_path / "void", tmp_path / "crops3")
    assert r.returncode == 2 and "has no images" in r.stderr and "Traceback" not in r.stderr


def test_cli_translate_faces_flags(tmp_path, cli):
    from app.cli import build_parser

    ap = build_parser()
    for flags, want in (([], None), (["--faces"], True), (["--no-faces"], False)):
        assert ap.parse_args(["translate", "x.png", "-o", "o", *flags]).faces is want
    plain = make_image(tmp_path / "plain.png", w=64, h=64)
    r = cli("translate", "-m", "face2anime", "-o", tmp_path / "out", plain)
    assert r.returncode == 0, r.stderr
    assert "No face found in plain.png: translated the whole image instead." in r.stderr
    r = cli("translate", "-m", "face2anime", "--no-faces", "-o", tmp_path / "out2", plain)
    assert r.returncode == 0 and "No face found" not in r.stderr
    assert np.array_equal(load_image(tmp_path / "out" / "plain.png").rgb,
                          load_image(tmp_path / "out2" / "plain.png").rgb)  # the fallback is whole-image mode


def test_cli_train_face_crop_flags():
    from app.cli import build_parser
    from app.cli.train import make_config

    args = build_parser().parse_args(["train", "cyclegan", "--a", "A", "--b", "B", "--out", "run", "--face-crop",
                                      "--face-margin", "0.3"])
    cfg = make_config(args)
    assert cfg.face_crop is True and cfg.face_margin == 0.3


def test_a_tampered_manifest_removes_nothing_outside_the_prepared_folder(tmp_path):
    """A prepared folder may come from someone else: its manifest's entries that are absolute, climb out with '..',
    go through a link or name a non-PNG are skipped; only the listed crops inside it (and their emptied folders) go."""
    from engine.faces.prep import MANIFEST, _clear

    outside = tmp_path / "elsewhere" / "deep"
    outside.mkdir(parents=True)
    (outside / "only.png").write_bytes(b"precious")
    (outside / "linked.png").write_bytes(b"precious too")
    out = tmp_path / "prepared"
    (out / "a").mkdir(parents=True)
    (out / "a" / "crop.png").write_bytes(b"crop")
    (out / "mine.txt").write_text("user notes")
    (out / "notes.png").write_bytes(b"not listed")
    (out / "link").symlink_to(outside, target_is_directory=True)
    (out / "alias.png").symlink_to(outside / "only.png")
    files = [str(outside / "only.png"), "../elsewhere/deep/only.png", "link/linked.png", "alias.png", "mine.txt",
             "a/crop.png", 7, None]
    (out / MANIFEST).write_text(json.dumps({"format": "x", "key": "k", "files": files}))
    _clear(out)
    assert (outside / "only.png").read_bytes() == b"precious" and (outside / "linked.png").exists()
    assert (out / "mine.txt").exists() and (out / "notes.png").exists() and (out / "alias.png").is_symlink()
    assert not (out / "a").exists() and not (out / MANIFEST).exists() and out.is_dir()
    (out / MANIFEST).write_text(json.dumps({"files": {"not": "a list"}}))
    _clear(out)  # a manifest of the wrong shape removes nothing and does not crash
    assert (out / "mine.txt").exists()
