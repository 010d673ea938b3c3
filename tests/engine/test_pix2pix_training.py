"""pix2pix on the shared trainer core: a tiny CPU run end to end through the CLI (sketch pairs), resume, the
exported model's metadata, the other data forms and GAN losses, and configuration errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from app.cli import main as cli
from engine.checkpoint import read_meta
from engine.errors import ConfigError
from engine.imageio import load_image, save_image
from engine.jobs import run_inline
from engine.library import ModelLibrary
from engine.training import core
from engine.training.runs import RunFolder
from tests.engine.test_pix2pix_data import make_ab, photo


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture
def photos(tmp_path):
    d = tmp_path / "photos"
    for i in range(4):
        save_image(d / f"{i}.png", photo(i, 140, 150), overwrite=True)  # portrait: not AB pairs
    return d


def test_tiny_sketch_run_end_to_end_then_resume_and_translate(photos, _isolated_home, tmp_path, capsys):
    run = _isolated_home / "runs" / "sketches"
    args = ["train", "pix2pix", "--data", str(photos), "--paired-format", "sketch", "--sketch-style", "canny",
            "--sketch", "low=20,high=70,thickness=2", "--out", str(run), "--preset", "tiny", "--device", "cpu",
            "--json"]
    assert cli(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["state"] == "finished" and out["step"] == 8 and out["family"] == "pix2pix"
    rf = RunFolder(run)
    metrics = rf.read_metrics()
    assert [r["step"] for r in metrics] == [2, 4, 6, 8]
    assert {"G", "D", "L1", "G_gan"} <= set(metrics[0]) and all(np.isfinite(r["L1"]) for r in metrics)
    samples = sorted(rf.samples.glob("step_*.jpg"))
    assert len(samples) == 2
    grid = load_image(samples[-1]).rgb
    assert grid.shape[0] == 2 * 128 + 4 and grid.shape[1] >= 3 * 128  # rows of input, output, target
    meta = read_meta(run / "models" / "G.safetensors")
    assert meta["model"]["family"] == "pix2pix" and meta["model"]["task"] == "translate"
    assert meta["arch"] == "unet_128" and meta["arch_kwargs"]["norm"] == "batch"
    assert meta["input_kind"] == "sketch" and meta["image_size"] == 128 and meta["norm_mode"] == "train"
    assert meta["sketch"]["style"] == "canny" and (meta["sketch"]["low"], meta["sketch"]["high"]) == (20, 70)
    assert meta["sketch"]["thickness"] == 2 and meta["training"]["pairs"] == 4
    assert "Data: photos with automatic sketches" in (run / "train.log").read_text()
    # resume to a longer run: continues at step 8
    assert cli(["train", "pix2pix", "--resume", str(run), "--steps", "10", "--quiet"]) == 0
    assert [r["step"] for r in rf.read_metrics()][-1] == 10 and rf.read_status()["state"] == "finished"
    assert "Resuming pix2pix at step 8 of 10" in (run / "train.log").read_text()
    # the library lists it; the Draw page's spec follows the metadata; translate with the run folder
    info = next(m for m in ModelLibrary().list(task="translate") if m.source == "run")
    from engine.draw import draw_spec

    spec = draw_spec(info)
    assert spec.input_kind == "sketch" and spec.size == 128 and spec.sketch.style == "canny"
    assert spec.sketch.thickness == 2 and spec.norm_mode == "train"
    res = tmp_path / "translated"
    assert cli(["translate", str(photos / "0.png"), "--model", str(run), "--out", str(res), "-q"]) == 0
    assert load_image(next(res.iterdir())).size == (140, 150)


@pytest.mark.parametrize("loss", ["lsgan", "wgan_gp"])
def test_ab_run_with_other_gan_losses(tmp_path, loss):
    data = make_ab(tmp_path / "ab", n=3, w=72, h=64)
    cfg = core.build_config("pix2pix", "tiny", data=str(data), paired_format="ab", direction="BtoA",
                            out_dir=str(tmp_path / "run"), device="cpu", gan_loss=loss, norm="instance",
                            generator="resnet_6blocks", image_size=64, steps=2, sample_every=0, checkpoint_every=0)
    res = run_inline(core.train_task, cfg)
    assert res.state == "finished" and all(np.isfinite(v) for v in res.last_losses.values())
    meta = read_meta(tmp_path / "run" / "models" / "G.safetensors")
    assert meta["input_kind"] == "image" and meta["norm_mode"] == "eval" and meta["arch"] == "resnet_6blocks"
    assert meta["training"]["direction"] == "BtoA" and "right half → left half" in meta["model"]["name"]


def test_two_folders_run_and_label_palette(tmp_path):
    a, b = tmp_path / "A", tmp_path / "B"
    colors = np.array([[10, 20, 160], [200, 30, 30], [30, 200, 60]], np.uint8)
    for i in range(3):
        lab = np.zeros((64, 64), int)
        lab[:, 20 + 5 * i:] = 1
        lab[40:, :30] = 2
        save_image(a / f"f{i}.png", colors[lab], overwrite=True)
        save_image(b / f"f{i}.png", photo(i), overwrite=True)
    cfg = core.build_config("pix2pix", "tiny", data=str(a), data_b=str(b), paired_format="folders",
                            out_dir=str(tmp_path / "run"), device="cpu", generator="resnet_6blocks", image_size=64,
                            steps=2, sample_every=2, checkpoint_every=0, preprocess="resize")
    assert run_inline(core.train_task, cfg).state == "finished"
    meta = read_meta(tmp_path / "run" / "models" / "G.safetensors")
    assert meta["input_kind"] == "label"
    assert sorted(map(tuple, meta["palette"])) == sorted(map(tuple, colors.tolist()))


def test_configuration_errors(tmp_path, photos, capsys):
    with pytest.raises(ConfigError, match="multiple of 256 for unet_256"):
        core.build_config("pix2pix", "", data=str(photos), image_size=128, out_dir=str(tmp_path / "r"))
    with pytest.raises(ConfigError, match="paired format"):
        core.build_config("pix2pix", "", paired_format="pairs", out_dir=str(tmp_path / "r"))
    assert cli(["train", "pix2pix", "--data", str(photos), "--paired-format", "sketch", "--sketch", "lo=3",
                "--out", str(tmp_path / "r")]) == 2
    assert "--sketch takes KEY=VALUE pairs" in capsys.readouterr().err
    assert cli(["train", "pix2pix", "--data", str(photos), "--paired-format", "ab", "--out", str(tmp_path / "r2"),
                "--preset", "tiny", "--device", "cpu", "-q"]) == 2
    err = capsys.readouterr().err
    assert "narrower than tall" in err and "Traceback" not in err
    assert not (tmp_path / "r2").exists()  # nothing left behind by a run that could not start
