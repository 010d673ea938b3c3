"""Attacks through inputs and settings: the same folder twice, odd file names, links, pipes, bounds, messages."""
from __future__ import annotations

import os
import struct
import zlib

import pytest

from tests.app.conftest import tiny_model_id  # noqa: F401  (a tiny translate model in the user's library)
from tests.engine.training_helpers import make_folders
from tests.hostile.conftest import images, one_error, strays, tree


def test_eval_of_a_folder_with_itself_is_refused(tmp_path, cli):
    real = images(tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(real)
    for fake in (real, link, f"{real}/"):
        code, _, err = cli("eval", real, fake)
        assert code == 2
        one_error(err, "the same", "--allow-same")
    from engine.metrics.api import EvalConfig

    assert EvalConfig(real=(str(real),), fake=(str(link),), allow_same=True).allow_same  # on purpose: allowed


def test_odd_file_names_are_printed_escaped(tmp_path, cli):
    src = tmp_path / "in"
    src.mkdir()
    evil = src / "bad\n\x1b[31mname.png"
    evil.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    ok = images(src, 1)
    code, out, err = cli("translate", src, "--out", tmp_path / "out")
    assert code == 3
    assert "\x1b" not in out + err and "bad\\n\\x1b[31mname.png" in err
    assert len([ln for ln in err.splitlines() if "skipped" in ln]) == 1
    assert (tmp_path / "out" / "img0.png").exists() and ok


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_links_loops_and_pipes_in_folders_are_listed_not_dropped(tmp_path, cli):
    src = images(tmp_path / "in", 1)
    (src / "loop.png").symlink_to(src / "loop.png")
    (src / "dangling.png").symlink_to(tmp_path / "missing.png")
    os.mkfifo(src / "pipe.png")  # reading it would block forever
    code, out, err = cli("translate", src, "--out", tmp_path / "out", "--json")
    assert code == 3
    import json

    reasons = {os.path.basename(s["input"]): s["reason"] for s in json.loads(out)["skipped"]}
    assert reasons == {"loop.png": "symbolic link loop", "dangling.png": "broken symbolic link (its target does not "
                       "exist)", "pipe.png": "named pipe (FIFO), not a file"}


@pytest.mark.parametrize("args,culprit", [
    (["--device", "bogus"], "bogus"), (["--seed", "-1"], "seed"), (["--steps", "10000000000"], "steps"),
    (["--num-workers", "100000"], "num_workers"), (["--threads", "100000"], "--threads"),
])
def test_bad_training_settings_are_bad_input_not_unexpected(tmp_path, cli, args, culprit):
    a, b = make_folders(tmp_path / "data", 2)
    code, _, err = cli("train", "cyclegan", "--a", a, "--b", b, "--out", tmp_path / "run", "--preset", "tiny",
                       "--steps", "1", *args)
    assert code == 2
    one_error(err, culprit)
    assert not (tmp_path / "run").exists()


def test_translate_device_bogus_is_bad_input(tmp_path, cli):
    src = images(tmp_path / "in", 1)
    code, _, err = cli("translate", src, "--out", tmp_path / "out", "--device", "bogus")
    assert code == 2
    one_error(err, "bogus")


def test_run_folder_inside_the_training_data_is_refused(tmp_path, cli):
    a, b = make_folders(tmp_path / "data", 2)
    before = tree(tmp_path)
    code, _, err = cli("train", "cyclegan", "--a", a, "--b", b, "--out", a / "run", "--preset", "tiny")
    assert code == 2
    one_error(err, str(a / "run"), "inside the training data")
    assert tree(tmp_path) == before and not (a / "run").exists()


def _png_header(w: int, h: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


def test_decompression_bomb_is_one_skipped_item(tmp_path, cli):
    src = images(tmp_path / "in", 1)
    (src / "bomb.png").write_bytes(_png_header(100_000, 100_000))
    code, out, err = cli("translate", src, "--out", tmp_path / "out", "--json")
    assert code == 3
    import json

    skipped = json.loads(out)["skipped"]
    assert len(skipped) == 1 and skipped[0]["input"].endswith("bomb.png") and "pixels" in skipped[0]["reason"]
    assert not strays(tmp_path)


def test_a_large_image_reports_progress_per_tile_and_can_be_cancelled(tmp_path, tiny_model_id):
    """(Stands for a 100-megapixel photo: tiles of 64 px on a 192 x 128 px image, with a tiny model.)"""
    from engine.errors import Cancelled
    from engine.inference import TranslateOptions
    from engine.jobs import ProgressReported, run_inline
    from engine.translate import TranslateConfig, translate_task

    src = images(tmp_path / "in", 1, w=192, h=128)
    cfg = TranslateConfig(model=tiny_model_id, inputs=(str(src),), out_dir=str(tmp_path / "out"),
                          options=TranslateOptions(tile=64, tile_overlap=16))
    seen = []
    run_inline(translate_task, cfg,
               on_event=lambda ev: seen.append(ev.progress.message) if isinstance(ev, ProgressReported) else None)
    tiles = [m for m in seen if ": tile " in m]
    assert len(tiles) >= 6 and tiles[-1].endswith(f"tile {len(tiles)} of {len(tiles)}")

    def cancel_at_tile_3(ev):
        if isinstance(ev, ProgressReported) and ": tile 3 of" in ev.progress.message:
            ev.job.cancel()

    with pytest.raises(Cancelled):
        run_inline(translate_task, cfg.replace(out_dir=str(tmp_path / "out2")), on_event=cancel_at_tile_3)
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").iterdir())
