"""ONNX export: parity with torch, dynamic batch and size, the card inside the file, and clear errors."""
from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from engine.errors import CheckpointError, ModelNotFound
from engine.export import ExportError, ParityError
from engine.export.card import read_card
from engine.export.onnx import OnnxExportConfig, export_onnx_task
from engine.jobs import run_inline
from tests.export_models import load_net, make_library


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return make_library(tmp_path_factory.mktemp("models"))


def export(library, model, out, **kw):
    cfg = OnnxExportConfig(model=model, out=str(out), **kw)
    return run_inline(lambda c, ctx: export_onnx_task(c, ctx, library), cfg)


def run_ort(path, feeds):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess, sess.run(None, feeds)[0]


def test_resnet_export_parity_dynamic_batch_and_size(library, tmp_path):
    res = export(library, "tiny-resnet", tmp_path / "r.onnx")
    card = read_card(tmp_path / "r.onnx")
    assert card["export"]["exporter"] == "dynamo" and card["export"]["opset"] == 18
    assert card["io"]["size_multiple"] == 4 and card["io"]["dynamic_hw"] is True
    assert card["model"]["id"] == "tiny-resnet" and card["arch"] == "resnet_6blocks"
    assert res.parity["max_abs_diff"] <= 1e-3 and len(res.parity["cases"]) == 2
    # a batch size and a shape the parity check did not use: the graph is really dynamic
    x = np.random.default_rng(5).uniform(-1, 1, (3, 3, 4 * 17, 4 * 23)).astype(np.float32)
    sess, y = run_ort(tmp_path / "r.onnx", {"image": x})
    with torch.no_grad():
        ref = load_net(library, "tiny-resnet")(torch.from_numpy(x)).numpy()
    assert y.shape == ref.shape == (3, 3, 68, 92)
    assert np.abs(y - ref).max() < 1e-4
    assert [i.name for i in sess.get_inputs()] == ["image"]
    md = (tmp_path / "r.md").read_text()
    assert "opset | 18" in md and "Parity" in md and "multiples of 4" in md


def test_unet_exports_with_its_size_multiple(library, tmp_path):
    res = export(library, "Tiny tiny-unet", tmp_path / "u.onnx")
    assert res.card["io"]["size_multiple"] == 128
    x = np.random.default_rng(1).uniform(-1, 1, (1, 3, 256, 128)).astype(np.float32)
    _, y = run_ort(res.path, {"image": x})
    with torch.no_grad():
        ref = load_net(library, "tiny-unet")(torch.from_numpy(x)).numpy()
    assert np.abs(y - ref).max() < 1e-4


def test_stylegan_like_generator_gets_a_psi_input(library, tmp_path):
    res = export(library, "tiny-style", tmp_path / "s.onnx", psi=0.5)
    io = res.card["io"]
    assert io["task"] == "generate" and io["z_dim"] == 8 and io["psi_input"] == "psi" and io["psi"] == 0.5
    z = np.random.default_rng(2).standard_normal((4, 8)).astype(np.float32)
    sess, y = run_ort(res.path, {"z": z, "psi": np.array([0.7], np.float32)})
    assert [i.name for i in sess.get_inputs()] == ["z", "psi"] and y.shape == (4, 3, 16, 16)
    with torch.no_grad():
        ref = load_net(library, "tiny-style")(torch.from_numpy(z), truncation_psi=0.7, noise_mode="const").numpy()
    assert np.abs(y - ref).max() < 1e-4
    _, avg = run_ort(res.path, {"z": z, "psi": np.array([0.0], np.float32)})
    assert np.abs(avg - avg[:1]).max() < 1e-6  # psi 0: every z gives the average image
    assert np.abs(y - y[:1]).max() > 1e-3


def test_z_only_generator(library, tmp_path):
    res = export(library, "tiny-dcgan", tmp_path / "d.onnx")
    assert res.card["io"]["psi_input"] is None and res.card["io"]["outputs"]["image"] == ["batch", 3, 8, 8]
    sess, y = run_ort(res.path, {"z": np.zeros((5, 6), np.float32)})
    assert [i.name for i in sess.get_inputs()] == ["z"] and y.shape == (5, 3, 8, 8)


def test_random_network_fails_parity_and_writes_nothing(library, tmp_path):
    out = tmp_path / "n.onnx"
    with pytest.raises(ParityError, match=r"maximum absolute difference .* \(tolerance 0\.001\)"):
        export(library, "noisy-gen", out)
    assert not out.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("model, error, text", [
    ("multi", ExportError, "'translate_multi' model; ONNX export supports"),
    ("no-zdim", ExportError, "no positive integer 'z_dim'"),
    ("patch-d", ExportError, "not a same-size RGB image translator"),
    ("no-such-model", ModelNotFound, "No model called 'no-such-model'"),
])
def test_unsupported_models_give_clear_errors(library, tmp_path, model, error, text):
    with pytest.raises(error, match=text.replace("(", r"\(").replace(")", r"\)")):
        export(library, model, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_corrupt_model_files(library, tmp_path):
    good = library.resolve("tiny-resnet").path
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="truncated"):
        export(library, str(cut), tmp_path / "a.onnx")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError, match="not a safetensors"):
        export(library, str(junk), tmp_path / "b.onnx")
    with pytest.raises(ExportError, match="should end in .onnx"):
        export(library, "tiny-resnet", tmp_path / "c.bin")


def test_card_of_a_foreign_onnx_file_is_refused(tmp_path):
    import onnx

    onnx.save(onnx.helper.make_model(onnx.helper.make_graph([], "g", [], [])), str(tmp_path / "f.onnx"))
    with pytest.raises(ExportError, match="not exported by GAN Studio"):
        read_card(tmp_path / "f.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"nonsense")
    with pytest.raises(ExportError, match="not a readable ONNX"):
        read_card(tmp_path / "bad.onnx")


def test_torchscript_exporter_on_request(library, tmp_path):
    res = export(library, "tiny-dcgan", tmp_path / "t.onnx", exporter="torchscript")
    card = json.loads({p.key: p.value for p in __import__("onnx").load(str(res.path)).metadata_props}["ganstudio"])
    assert card["export"]["exporter"] == "torchscript" and res.parity["max_abs_diff"] <= 1e-3
