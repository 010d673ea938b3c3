"""CUT / FastCUT family and the data-efficiency switches of every family (DiffAugment, EMA, lazy R1): tiny runs on
CPU, exact resume, the PatchNCE maths, the anti-aliased generator, and what a model file records."""
from __future__ import annotations

import math

import pytest
import torch

from engine.errors import Cancelled, ConfigError
from engine.checkpoint import load_checkpoint
from engine.jobs import ProgressReported, run_inline
from engine.library import ModelLibrary
from engine.models.networks import ResnetGenerator
from engine.training import core
from engine.training.cut import PatchSampleF, patch_nce
from engine.training.ema import ramped_decay
from engine.training.runs import RunFolder
from tests.engine.training_helpers import make_folders, same_weights, weights

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def folders(tmp_path):
    return make_folders(tmp_path / "data", 4)


def cut_config(a, b, out, **kw):
    values = dict(data_a=str(a), data_b=str(b), out_dir=str(out), device="cpu", steps=4, log_every=1,
                  sample_every=2, checkpoint_every=2)
    values.update(kw)
    return core.build_config("cut", "tiny", **values)


def test_patch_nce_prefers_matching_patches():
    torch.manual_seed(0)
    k = torch.nn.functional.normalize(torch.randn(2 * 16, 8), dim=1)
    same = patch_nce(k.clone().requires_grad_(True), k, batch=2, tau=0.07)
    shuffled = patch_nce(k[torch.randperm(32)], k, batch=2, tau=0.07)
    assert same.item() < 0.01 < shuffled.item()
    # uniform logits: log(number of candidates)
    # all-equal features: the positive, 15 equal negatives and the masked self-pair (-10)
    flat = patch_nce(torch.zeros(32, 8), torch.zeros(32, 8), batch=2, tau=1.0)
    assert flat.item() == pytest.approx(math.log(16 + math.exp(-10)), rel=1e-5)


def test_patch_sampler_uses_the_same_positions_for_query_and_key():
    f = PatchSampleF([3, 5], nc=4)
    feats = [torch.randn(2, 3, 8, 8), torch.randn(2, 5, 4, 4)]
    out, ids = f(feats, 10)
    assert [o.shape for o in out] == [(20, 4), (20, 4)] and ids[1].numel() == 10
    again, ids2 = f(feats, 10, ids)
    assert all(torch.allclose(a, b) for a, b in zip(out, again)) and all(torch.equal(a, b) for a, b in zip(ids, ids2))
    assert torch.allclose(out[0].norm(dim=1), torch.ones(20))


def test_antialiased_generator_taps_are_cuts_and_sizes_are_kept():
    g = ResnetGenerator(ngf=4, n_blocks=9, antialias=True)
    assert g.nce_layers() == [0, 4, 8, 12, 16]
    x = torch.randn(1, 3, 36, 44)
    assert g(x).shape == x.shape
    feats = g.encode(x, [0, 4, 8, 12, 16])
    assert [f.shape[1] for f in feats] == [3, 8, 16, 16, 16]
    # no transposed convolutions with learned weights (the checkerboard source), no extra state-dict keys
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules())
    assert not any("filt" in k for k in g.state_dict())


@pytest.mark.parametrize("mode", ["cut", "fastcut"])
def test_tiny_cut_run_exports_a_model_the_library_translates_with(folders, tmp_path, mode):
    a, b = folders
    run = tmp_path / f"run_{mode}"
    res = run_inline(core.train_task, cut_config(a, b, run, mode=mode, diffaug="color,translation,cutout",
                                                 ema_decay=0.9, r1_gamma=1.0, r1_every=2))
    assert res.state == "finished" and res.step == 4
    rf = RunFolder(run)
    rows = rf.read_metrics()
    assert {"G", "D", "NCE", "G_gan"} <= set(rows[0]) and all(math.isfinite(r["NCE"]) for r in rows)
    model = ModelLibrary().resolve(str(run))
    assert model.family == "cut" and model.task == "translate" and model.direction == "AtoB"
    training = model.meta["training"]
    assert training["mode"] == mode and training["lambda_nce"] == (10.0 if mode == "fastcut" else 1.0)
    assert training["recipe"] == {"diffaug": "color,translation,cutout", "ema_decay": 0.9, "r1_gamma": 1.0,
                                  "r1_every": 2}
    # the EMA copy is what was saved as the model
    ckpt = load_checkpoint(rf.latest)
    saved = load_checkpoint(model.path).tensors
    ema = {k[len("net.G_ema."):]: v for k, v in ckpt.tensors.items() if k.startswith("net.G_ema.")}
    raw = {k[len("net.G."):]: v for k, v in ckpt.tensors.items() if k.startswith("net.G.")}
    assert ema and all(torch.equal(saved[k].float(), ema[k].float()) for k in saved)
    assert any(not torch.equal(raw[k], ema[k]) for k in raw)
    from engine.imageio import load_image
    from engine.translate import TranslateConfig, translate_task

    img = sorted(a.iterdir())[0]
    summary = run_inline(translate_task, TranslateConfig(model=str(run), inputs=(str(img),),
                                                         out_dir=str(tmp_path / "out")))
    assert load_image(summary.translated[0].output).size == load_image(img).size
    if mode == "fastcut":  # exports like the others: ONNX with parity against torch
        from engine.export.onnx import OnnxExportConfig, export_onnx_task

        res = run_inline(export_onnx_task, OnnxExportConfig(model=str(model.path), out=str(tmp_path / "cut.onnx")))
        assert res.parity["max_abs_diff"] <= 1e-3 and (tmp_path / "cut.onnx").exists()


def test_cut_cancel_then_resume_gives_exactly_the_uninterrupted_run(folders, tmp_path):
    a, b = folders
    kw = dict(mode="fastcut", steps=6, ema_decay=0.9, diffaug="color,translation")
    straight = tmp_path / "straight"
    run_inline(core.train_task, cut_config(a, b, straight, **kw))
    broken = tmp_path / "broken"

    def cancel_at_3(event):
        p = event.progress if isinstance(event, ProgressReported) else None
        if p is not None and p.total and p.done >= 3 and "step" in p.message:
            raise Cancelled()

    with pytest.raises(Cancelled):
        run_inline(core.train_task, cut_config(a, b, broken, **kw), on_event=cancel_at_3)
    run_inline(core.train_task, core.resume_config(broken))
    assert same_weights(weights(RunFolder(straight).latest), weights(RunFolder(broken).latest))


@pytest.mark.parametrize("bad, message", [
    (dict(mode="slow"), "mode"),
    (dict(ema_decay=1.0), "EMA decay"),
    (dict(diffaug="colour"), "DiffAugment"),
    (dict(nce_layers="0,x"), "nce_layers"),
    (dict(generator="unet_256"), "generator"),
])
def test_bad_cut_settings_are_refused_before_any_work(folders, tmp_path, bad, message):
    a, b = folders
    with pytest.raises(ConfigError, match=message):
        cut_config(a, b, tmp_path / "r", **bad).validate()
    assert not (tmp_path / "r").exists()


def test_nce_layer_beyond_the_generator_is_a_clear_error(folders, tmp_path):
    a, b = folders
    with pytest.raises(ConfigError, match="has .* layers"):
        run_inline(core.train_task, cut_config(a, b, tmp_path / "r", nce_layers="0,99"))
    assert not (tmp_path / "r").exists()


def test_ema_decay_ramps_up_from_the_start():
    assert ramped_decay(0.999, 0) == pytest.approx(0.1)
    assert ramped_decay(0.999, 10**6) == 0.999


def test_the_average_of_a_fine_tune_starts_from_the_start_model(folders, tmp_path):
    """With ``--init``, the EMA copy (what the run saves) averages from the start model's weights, not from the
    random weights the network was built with before the start model was loaded into it."""
    a, b = folders
    # a large step, so that the start model is far from the random weights the same seed builds
    run_inline(core.train_task, cut_config(a, b, tmp_path / "first", steps=2, ema_decay=0, lr=0.01))
    first = load_checkpoint(tmp_path / "first" / "models" / "G.safetensors").tensors
    run_inline(core.train_task, cut_config(a, b, tmp_path / "tune", steps=1, ema_decay=0.999, lr=1e-9,
                                           init_from=str(tmp_path / "first")))
    tuned = load_checkpoint(tmp_path / "tune" / "models" / "G.safetensors").tensors
    assert set(first) == set(tuned)
    assert max((first[k].float() - tuned[k].float()).abs().max().item() for k in first) < 1e-5


def test_every_family_has_the_switches_and_pix2pix_uses_them(tmp_path):
    import dataclasses

    for fam, cls in core.discover_families().items():
        names = {f.name for f in dataclasses.fields(cls.config_cls)}
        assert {"diffaug", "ema_decay", "r1_gamma", "r1_every"} <= names, fam
    from tests.engine.test_pix2pix_training import make_ab

    data = make_ab(tmp_path / "ab", n=3, w=72, h=64)
    cfg = core.build_config("pix2pix", "tiny", data=str(data), paired_format="ab", out_dir=str(tmp_path / "run"),
                            device="cpu", norm="instance", generator="resnet_6blocks", image_size=64, steps=3,
                            sample_every=0, checkpoint_every=0, diffaug="color,translation,cutout", ema_decay=0.9,
                            r1_gamma=1.0, r1_every=1)
    res = run_inline(core.train_task, cfg)
    assert res.state == "finished" and all(math.isfinite(v) for v in res.last_losses.values())
    ckpt = load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.safetensors")
    assert any(k.startswith("net.G_ema.") for k in ckpt.tensors)
    meta = load_checkpoint(tmp_path / "run" / "models" / "G.safetensors").meta
    assert meta["training"]["recipe"]["ema_decay"] == 0.9


def test_stylegan_keeps_its_own_ema():
    with pytest.raises(ConfigError, match="ema_kimg"):
        core.build_config("stylegan", "", ema_decay=0.99).validate()


@pytest.mark.parametrize("family", ["cut", "cyclegan"])
def test_a_folder_too_small_for_the_preset_is_reported_with_counts_before_training(folders, tmp_path, family):
    a, b = folders
    cfg = core.build_config(family, "quick", data_a=str(a), data_b=str(b), out_dir=str(tmp_path / "r"), device="cpu")
    from engine.errors import DataError

    with pytest.raises(DataError, match=r"has 4 usable images; the 'quick' preset needs at least 20 per folder"):
        run_inline(core.train_task, cfg)
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_cut_trains_under_ddp_and_the_ranks_agree(folders, tmp_path):
    import subprocess
    import sys

    from tests.engine.training_helpers import subprocess_env

    a, b = folders
    run = tmp_path / "ddp"
    root = str(__import__("pathlib").Path(__file__).resolve().parents[2])
    out = subprocess.run([sys.executable, "-m", "app", "train", "cut", "--preset", "tiny", "--mode", "fastcut",
                          "--device", "cpu", "--threads", "1", "--a", str(a), "--b", str(b), "--out", str(run),
                          "--steps", "3", "--gpus", "2", "--ema", "0.9", "--diffaug", "color,translation", "-q"],
                         cwd=root, env=subprocess_env(), capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    st = RunFolder(run).read_status()
    assert st["state"] == "finished" and st["ddp"]["agree"] is True and st["ddp"]["world_size"] == 2
    assert len(st["ddp"]["fingerprints"][0]) == 4  # G, D, F and the EMA copy
    assert (run / "models" / "G.safetensors").exists()


@pytest.mark.parametrize("family", ["cut", "pix2pix"])
def test_eval_fakes_are_the_targets_and_each_input_translated_alone(folders, tmp_path, family):
    """Training-time evaluation of an A -> B family (Trainer.translate_fixed): the real side is the first B images,
    the fake side G of each of the first A images translated on its own, both uint8 NHWC at the training size."""
    import contextlib
    from types import SimpleNamespace

    from engine.tensors import to_uint8
    from engine.training.data import to_model_input
    from engine.training.pix2pix import batchnorm_mode

    if family == "cut":
        cfg = cut_config(*folders, tmp_path / "run")
    else:
        from tests.engine.test_pix2pix_training import make_ab

        cfg = core.build_config("pix2pix", "tiny", data=str(make_ab(tmp_path / "ab", n=3, w=72, h=64)),
                                paired_format="ab", out_dir=str(tmp_path / "run"), device="cpu", image_size=64,
                                generator="resnet_6blocks", norm="batch", batch_size=1)  # batch norm on the image
    ctx = SimpleNamespace(log=lambda *a: None, progress=lambda *a: None, check_cancel=lambda: None)
    t = core.get_trainer(family)(cfg, ctx)
    (tmp_path / "run").mkdir()  # the run folder (train.log), as the training loop makes it
    t.setup_device()
    t.make_data()
    t.build()
    real, fake = t.eval_fakes(2)
    size = cfg.image_size
    assert real.shape == fake.shape == (2, size, size, 3) and real.dtype == fake.dtype == "uint8"
    fixed = t.stream.fixed(2)
    assert (real == fixed["B"].permute(0, 2, 3, 1).numpy()).all()
    G = t.out_net("G")
    mode = batchnorm_mode(G, cfg.inference_norm) if family == "pix2pix" else contextlib.nullcontext()
    with torch.no_grad(), mode:
        alone = to_uint8(G(to_model_input(fixed["A"][1:2])))[0]
    assert (abs(alone.astype(int) - fake[1].astype(int)) <= 1).all()
