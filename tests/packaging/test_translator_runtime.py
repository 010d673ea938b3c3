"""The standalone translator from source: its numpy/onnxruntime runtime matches the engine, headless mode."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.imageio import LoadedImage, load_image
from engine.inference import TranslateOptions, Translator
from tests.conftest import make_image
from tests.export_models import load_net


@pytest.fixture
def resnet_model(source_bundle):
    from gstranslator.runtime import OnnxModel

    return OnnxModel(source_bundle / "models" / "tiny-resnet.onnx")


FP32 = TranslateOptions(precision="fp32")  # the exported graph is float32; the studio may pick bf16 on some CPUs


def engine_translate(library, rgb):
    tr = Translator(load_net(library, "tiny-resnet"), torch.device("cpu"), FP32)
    return tr.translate(LoadedImage(rgb)).image.rgb


@pytest.mark.parametrize("w, h", [(64, 48), (45, 31), (10, 9), (3, 70)])
def test_runtime_matches_engine_at_any_size(resnet_model, tiny_library, w, h):
    rgb = np.random.default_rng(w * h).integers(0, 256, (h, w, 3), dtype=np.uint8)
    got = resnet_model.translate(rgb)
    ref = engine_translate(tiny_library, rgb)
    assert got.shape == ref.shape == (h, w, 3) and got.dtype == np.uint8
    diff = np.abs(got.astype(int) - ref.astype(int))
    assert diff.max() <= 1 and diff.mean() < 1e-2  # only rounding flips at .5 boundaries


def test_tiles_blend_like_the_engine(resnet_model, tiny_library):
    """Same tile grid and overlap ramps as the engine. (The studio also freezes instance-norm statistics from a
    whole-image pass while tiling; a plain ONNX graph cannot, so the app normalises per tile: compared here with the
    engine's tiling itself.)"""
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 100, 90)).astype(np.float32)
    got = resnet_model.forward_tiled(x, 64, 16)
    tr = Translator(load_net(tiny_library, "tiny-resnet"), torch.device("cpu"), FP32)
    ref = tr._tiles(torch.from_numpy(x), 64, 16).numpy()
    assert np.abs(got - ref).max() < 1e-4


def test_bilinear_resize_matches_torch():
    from gstranslator.runtime import resize_bilinear

    x = np.random.default_rng(1).uniform(-1, 1, (1, 3, 37, 53)).astype(np.float32)
    for size in ((64, 64), (20, 30)):
        ref = F.interpolate(torch.from_numpy(x), size=size, mode="bilinear", align_corners=False).numpy()
        assert np.abs(resize_bilinear(x, size) - ref).max() < 1e-5


def test_generator_model_follows_nvlabs_seeds(source_bundle, tiny_library):
    from gstranslator.runtime import OnnxModel

    m = OnnxModel(source_bundle / "models" / "tiny-style.onnx")
    assert m.task == "generate" and m.has_psi
    imgs = m.generate([3, 4], psi=0.6)
    z = torch.from_numpy(np.stack([np.random.RandomState(s).randn(8) for s in (3, 4)]).astype(np.float32))
    with torch.no_grad():
        ref = load_net(tiny_library, "tiny-style")(z, truncation_psi=0.6, noise_mode="const")
    ref = np.round(((ref.clamp(-1, 1) + 1) * 0.5).permute(0, 2, 3, 1).numpy() * 255).astype(np.uint8)
    assert np.abs(np.stack(imgs).astype(int) - ref.astype(int)).max() <= 1
    with pytest.raises(Exception, match="does not translate"):
        m.translate(np.zeros((8, 8, 3), np.uint8))


def test_headless_translate_folder(bundle_env, tmp_path, qapp, tiny_library, capsys):
    from gstranslator.main import main

    src = tmp_path / "in"
    make_image(src / "a.png", 40, 30, seed=1)
    make_image(src / "sub" / "b.png", 33, 21, seed=2)
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    code = main(["--translate", str(src), "--out", str(tmp_path / "out"), "--suffix", "_t", "--quiet"])
    assert code == 3  # partly done: one unreadable file
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_t.png", "b_t.png"]
    err = capsys.readouterr().err
    assert "skipped" in err and "broken.png: not a readable image" in err
    got = load_image(tmp_path / "out" / "a_t.png").rgb
    ref = engine_translate(tiny_library, load_image(src / "a.png").rgb)
    assert np.abs(got.astype(int) - ref.astype(int)).max() <= 1
    # the same again: nothing is overwritten
    assert main(["--translate", str(src / "a.png"), "--out", str(tmp_path / "out"), "--suffix", "_t", "-q"]) == 0
    assert (tmp_path / "out" / "a_t_1.png").exists()


def test_headless_bad_input(bundle_env, tmp_path, qapp, capsys):
    from gstranslator.main import main

    assert main(["--translate", str(tmp_path / "missing.png"), "--out", str(tmp_path / "o")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["--translate", str(tmp_path), "--model", "nope", "--out", str(tmp_path / "o")]) == 2
    assert "No model called 'nope'" in capsys.readouterr().err
    assert main(["--translate", str(tmp_path)]) == 2
    assert "--out DIR is required" in capsys.readouterr().err


def test_headless_generate_and_list(bundle_env, tmp_path, qapp, capsys):
    from gstranslator.main import main

    assert main(["--list-models"]) == 0
    out = capsys.readouterr().out
    assert "tiny-resnet\ttranslate" in out and "tiny-style\tgenerate" in out
    assert main(["--generate", "3", "--seed", "7", "--out", str(tmp_path), "-q"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["seed00007.png", "seed00008.png", "seed00009.png"]
    assert load_image(tmp_path / names[0]).size == (16, 16)
