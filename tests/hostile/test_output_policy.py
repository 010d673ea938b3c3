"""Attacks on writers: eval reports over inputs, exports replacing files, racing writers, names escaping --out."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from tests.hostile.conftest import images, one_error, strays, tree


def test_eval_report_over_an_evaluated_image_is_refused_before_any_work(tmp_path, cli):
    real, fake = images(tmp_path / "real"), images(tmp_path / "fake")
    before = tree(tmp_path)
    victim = fake / "img0.png"
    for flag in ("--report", "--details"):
        code, out, err = cli("eval", real, fake, flag, victim)
        assert code == 2
        one_error(err, str(victim), "input")
    assert tree(tmp_path) == before and not strays(tmp_path)


def test_eval_report_never_replaces_an_existing_file_without_overwrite(tmp_path, cli):
    real, fake = images(tmp_path / "real"), images(tmp_path / "fake")
    mine = tmp_path / "mine.html"
    mine.write_text("my own notes")
    code, _, err = cli("eval", real, fake, "--report", mine)
    assert code == 2
    one_error(err, str(mine), "--overwrite")
    assert mine.read_text() == "my own notes" and not strays(tmp_path)


def test_eval_report_empty_name_is_bad_input(tmp_path, cli):
    real, fake = images(tmp_path / "real"), images(tmp_path / "fake")
    code, _, err = cli("eval", real, fake, "--report", "")
    assert code == 2
    one_error(err, "--report", "empty")


def test_export_onnx_never_replaces_the_neighbouring_card(tmp_path, cli):
    mine_md = tmp_path / "mine.md"
    mine_md.write_text("my notes")
    code, _, err = cli("export", "onnx", "vintagify", "--out", tmp_path / "mine.onnx")
    assert code == 2
    one_error(err, str(mine_md), "--overwrite")
    assert mine_md.read_text() == "my notes" and sorted(p.name for p in tmp_path.iterdir()) == ["mine.md"]


def test_export_model_never_replaces_an_existing_card(tmp_path, cli):
    out = tmp_path / "out"
    out.mkdir()
    card = out / "vintagify.md"
    card.write_text("my card")
    code, _, err = cli("export", "model", "vintagify", "--out", out)
    assert code == 2
    one_error(err, str(card), "--overwrite")
    assert card.read_text() == "my card" and sorted(p.name for p in out.iterdir()) == ["vintagify.md"]
    code, _, err = cli("export", "model", "vintagify", "--out", out, "--overwrite")  # asked: replaced, atomically
    assert code == 0, err
    assert card.read_text() != "my card" and (out / "vintagify.safetensors").exists() and not strays(out)


def test_export_app_never_replaces_an_earlier_build_without_overwrite(tmp_path, cli):
    from engine.export.app_builder import MARKER, check_out_dir

    out = tmp_path / "vintage"
    out.mkdir()
    (out / MARKER).write_text('{"name": "vintage"}')
    (out / "vintage").write_text("the program of an earlier build")
    before = tree(tmp_path)
    code, _, err = cli("export", "app", "vintagify", "--name", "vintage", "--out", out)
    assert code == 2
    one_error(err, str(out), "earlier build", "--overwrite")
    assert tree(tmp_path) == before and strays(tmp_path) == [str(out / MARKER)]  # (the earlier build's own marker)
    check_out_dir(out, overwrite=True)  # asked: accepted (and replaced only when the new build has succeeded)


def test_export_onto_the_model_file_itself_is_refused(tmp_path, cli):
    from engine.library import ModelLibrary

    info = ModelLibrary().resolve("vintagify")
    src = tmp_path / "vintagify.safetensors"  # the export's own name for it
    src.write_bytes(Path(info.path).read_bytes())
    before = tree(tmp_path)
    code, _, err = cli("export", "model", src, "--out", tmp_path, "--overwrite")
    assert code == 2
    one_error(err, str(src))
    assert tree(tmp_path) == before


def test_two_writers_racing_for_names_never_share_one(tmp_path):
    """Two writers (translate runs) saving the same names into one folder: every result keeps its own file."""
    from engine.imageio import load_image, save_image

    out = tmp_path / "out"
    n, results = 60, {0: [], 1: []}
    barrier = threading.Barrier(2)

    def writer(k: int) -> None:
        barrier.wait()
        for i in range(n):
            rgb = np.full((8, 8, 3), (k * 100 + i) % 256, np.uint8)
            results[k].append(save_image(out / f"img{i % 5}.png", rgb))

    threads = [threading.Thread(target=writer, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = results[0] + results[1]
    assert len(set(claimed)) == 2 * n  # no name given to two writers
    assert len(list(out.iterdir())) == 2 * n and not strays(out)
    for k in (0, 1):  # and every file holds what its writer wrote
        for i, p in enumerate(results[k]):
            assert load_image(p).rgb[0, 0, 0] == (k * 100 + i) % 256


@pytest.mark.parametrize("suffix", ["/../../X", "..\\..\\X", "_a/b", "\x1b[31m", "x" * 300])
def test_suffix_cannot_escape_out_and_is_refused_before_work(tmp_path, cli, suffix):
    src = images(tmp_path / "in", 1)
    before = tree(tmp_path)
    code, _, err = cli("translate", src, "--out", tmp_path / "a" / "b" / "out", "--suffix", suffix)
    assert code == 2
    one_error(err, "--suffix")
    assert tree(tmp_path) == before and not (tmp_path / "X").exists() and not (tmp_path / "a").exists()


def test_one_unwritable_output_name_is_one_skipped_item(tmp_path, cli):
    src = tmp_path / "in"
    images(src, names=["ok.png", "o" * 236 + ".png"])  # the input name fits; the name with the suffix does not
    out = tmp_path / "out"
    code, stdout, err = cli("translate", src, "--out", out, "--suffix", "_vintage")
    assert code == 3  # partly done, with a summary
    assert "Translated 1 image" in stdout and "skipped 1" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["ok_vintage.png"] and not strays(out)
    assert "too long" in err and "Traceback" not in err


@pytest.mark.parametrize("out", ["", "   "])
def test_empty_out_is_bad_input(tmp_path, cli, out):
    src = images(tmp_path / "in", 1)
    code, _, err = cli("translate", src, "--out", out)
    assert code == 2
    one_error(err, "--out")


def test_ext_gif_is_refused_not_silently_png(tmp_path, cli):
    src = images(tmp_path / "in", 1)
    code, _, err = cli("translate", src, "--out", tmp_path / "out", "--ext", ".GIF")
    assert code == 2
    one_error(err, ".GIF")
    assert not (tmp_path / "out").exists()
    code, _, err = cli("translate", src, "--out", tmp_path / "out", "--ext", ".PNG")  # case does not matter
    assert code == 0, err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["img0.png"]


@pytest.fixture
def tiny_translator(_isolated_home):
    import torch

    from engine.library import model_meta, save_model
    from engine.models import get_model

    torch.manual_seed(0)
    meta = model_meta(id="tiny", name="Tiny", family="cyclegan", task="translate", arch="resnet_6blocks",
                      arch_kwargs={"ngf": 8})
    save_model(_isolated_home / "models" / "tiny" / "model.safetensors", get_model("resnet_6blocks", ngf=8), meta)
    return "tiny"


def test_eval_out_that_overlaps_the_inputs_or_the_real_images_is_refused_before_any_work(tmp_path, cli,
                                                                                       tiny_translator):
    """The second eval of a chain used to clear its own --input (the first eval's --out) and then find nothing."""
    inputs, real = images(tmp_path / "in"), images(tmp_path / "real", names=("r0.png", "r1.png"))
    (tmp_path / "file.png").write_bytes(b"x")
    code, _, err = cli("eval", "--model", tiny_translator, "--input", inputs, "--real", real, "--out",
                       tmp_path / "file.png", "--metrics", "diversity")
    assert code == 2 and "is a file" in one_error(err, str(tmp_path / "file.png"))
    before = tree(tmp_path)
    for out in (inputs, inputs / "gen", tmp_path, real / "gen"):
        code, _, err = cli("eval", "--model", tiny_translator, "--input", inputs, "--real", real, "--out", out,
                           "--metrics", "diversity")
        assert code == 2, err
        one_error(err, "overlaps")
        assert tree(tmp_path) == before and not (inputs / "gen").exists() and not (real / "gen").exists()


def test_eval_into_its_own_earlier_folder_replaces_only_its_images_and_keeps_what_the_user_added(tmp_path, cli,
                                                                                              tiny_translator):
    inputs, real = images(tmp_path / "in", n=4), images(tmp_path / "real", n=4)  # diversity needs 4
    out = tmp_path / "gen"
    args = ("eval", "--model", tiny_translator, "--input", inputs, "--real", real, "--out", out, "--metrics",
            "diversity")
    assert cli(*args)[0] in (0, 3)
    first = sorted(p.name for p in out.iterdir())
    assert len([n for n in first if n.endswith(".png")]) == 4
    assert cli(*args)[0] in (0, 3)  # again: its own images are replaced
    assert sorted(p.name for p in out.iterdir()) == first
    (out / "notes.txt").write_text("mine")
    code, _, err = cli(*args)
    assert code == 2 and "notes.txt" in one_error(err, str(out))
    assert (out / "notes.txt").read_text() == "mine"
    # a tampered marker naming files elsewhere removes nothing outside the folder
    (out / "notes.txt").unlink()
    victim = real / "img0.png"
    keep = victim.read_bytes()
    (out / ".ganstudio-eval-outputs").write_text('{"files": ["%s", "../real/img0.png"]}' % victim)
    assert cli(*args)[0] in (0, 3)
    assert victim.read_bytes() == keep


def test_export_app_refuses_an_existing_archive_and_side_folders_that_are_not_its_own(tmp_path):
    """`--archive` wrote DIR.tar.gz over an existing file, and a build removed whatever was at .DIR.new / .DIR.old."""
    from engine.export import ExportError
    from engine.export.app_builder import MARKER, _replace_dir, check_out_dir
    from engine.export.bundle import make_archive

    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError, match="afile is a file"):  # before the build, not after it
        check_out_dir(tmp_path / "afile" / "ok")
    out = tmp_path / "myapp"
    tar = tmp_path / "myapp.tar.gz"
    tar.write_bytes(b"an archive the user keeps")
    with pytest.raises(ExportError, match="--overwrite"):
        check_out_dir(out, archive=True)
    check_out_dir(out)  # no archive asked for: the file is not in the way
    check_out_dir(out, overwrite=True, archive=True)  # asked: accepted
    src = images(tmp_path / "built")
    with pytest.raises(ExportError, match="already exists"):
        make_archive(src, tar)
    assert tar.read_bytes() == b"an archive the user keeps"
    assert make_archive(src, tar, replace=True) == tar and tar.read_bytes()[:2] == b"\x1f\x8b"

    keep = tmp_path / ".myapp.old"
    keep.mkdir()
    (keep / "keep.txt").write_text("mine")
    before = tree(tmp_path)
    with pytest.raises(ExportError, match=r"\.myapp\.old"):
        check_out_dir(out)
    new = tmp_path / "new-build"
    new.mkdir()
    (new / MARKER).write_text("{}")
    with pytest.raises(ExportError, match="in the way"):
        _replace_dir(new, out)
    assert (keep / "keep.txt").read_text() == "mine" and not out.exists() and tree(tmp_path)["new-build/" + MARKER]
    assert {k: v for k, v in tree(tmp_path).items() if k.startswith(".myapp")} == {
        k: v for k, v in before.items() if k.startswith(".myapp")}
    (keep / "keep.txt").unlink()
    (keep / MARKER).write_text("{}")  # what an interrupted build of ours leaves: removed
    check_out_dir(out)
    _replace_dir(new, out)
    assert (out / MARKER).exists() and not keep.exists()
