"""StyleGAN-style generator/discriminator, DCGAN import, and the StyleGAN training family on the trainer core."""
from __future__ import annotations

import json

import pytest
import torch

from engine.checkpoint import load_checkpoint
from engine.errors import CheckpointError, ConfigError
from engine.importers import import_file, import_state
from engine.library import ModelLibrary, build_model, model_meta, save_model
from engine.models import get_model

TINY = dict(z_dim=16, w_dim=16, resolution=64, channel_base=256, channel_max=16, mapping_layers=2)


def tiny_g(**kw):
    torch.manual_seed(0)
    return get_model("stylegan_g", **{**TINY, **kw}).eval()


@pytest.mark.parametrize("mode", ["modulated", "adain"])
def test_generator_shapes_and_determinism(mode):
    G = tiny_g(style_mode=mode)
    assert G.num_ws == 10 and G.z_dim == 16
    z = torch.randn(3, 16)
    ws = G.mapping(z)
    assert ws.shape == (3, 10, 16)
    img = G.synthesis(ws)
    assert img.shape == (3, 3, 64, 64)
    # forward(z): stored psi + stored constant noise -> deterministic
    assert torch.equal(G(z), G(z))
    # random noise changes the picture once noise strengths are non-zero
    for layer in G.noise_layers():
        layer.strength.data.fill_(0.5)
    assert not torch.equal(G.synthesis(ws, noise_mode="random"), G.synthesis(ws, noise_mode="random"))
    assert torch.equal(G.synthesis(ws, noise_mode="const"), G.synthesis(ws, noise_mode="const"))


def test_bad_ws_shape_is_a_clear_error():
    G = tiny_g()
    with pytest.raises(ConfigError, match="ws must have shape"):
        G.synthesis(torch.zeros(1, 3, 16))
    with pytest.raises(ConfigError, match="resolution"):
        get_model("stylegan_g", **{**TINY, "resolution": 100})


def test_truncation_zero_is_the_average_and_mapping_tracks_w_avg():
    G = tiny_g()
    G.train()
    before = G.w_avg.clone()
    G.mapping(torch.randn(64, 16), update_w_avg=True)
    assert not torch.equal(before, G.w_avg)
    G.eval()
    a = G.synthesis(G.mapping(torch.randn(2, 16), psi=0.0))
    avg = G.synthesis(G.w_avg.reshape(1, 1, -1).repeat(1, G.num_ws, 1))
    torch.testing.assert_close(a[0], avg[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(a[1], avg[0], atol=1e-5, rtol=0)


def test_progressive_stage_and_discriminator():
    G = tiny_g()
    D = get_model("stylegan_d", resolution=64, channel_base=256, channel_max=16, progressive=True)
    G.set_stage(16, 0.5)
    ws = G.mapping(torch.randn(4, 16))
    img = G.synthesis(ws)
    assert img.shape == (4, 3, 16, 16)
    D.alpha = 0.5
    assert D(img).shape == (4, 1)
    G.set_stage(64)
    assert D(G.synthesis(ws)).shape == (4, 1)
    D2 = get_model("stylegan_d", resolution=64, channel_base=256, channel_max=16)
    with pytest.raises(ConfigError, match="cannot take 16x16"):
        D2(img)


def test_model_file_round_trip(tmp_path):
    G = tiny_g()
    meta = model_meta(id="t", name="t", family="stylegan", task="generate", arch="stylegan_g", arch_kwargs=TINY)
    save_model(tmp_path / "g.safetensors", G, meta)
    ck = load_checkpoint(tmp_path / "g.safetensors")
    G2 = build_model(ck.meta, ck.tensors)
    z = torch.randn(2, 16)
    torch.testing.assert_close(G(z), G2(z))


def test_dcgan_import_strict_and_range(shared):
    path = shared / "weights" / "dcgan_digiface1m_64" / "weights.tar"
    imp = import_file(path)
    assert imp.arch == "dcgan_g" and imp.task == "generate"
    assert imp.arch_kwargs == {"nz": 100, "ngf": 64, "nc": 3, "n_layers": 5}
    net = imp.build()  # strict load inside
    assert net.z_dim == 100
    with torch.no_grad():
        out = net(torch.randn(8, 100))
    assert out.shape == (8, 3, 64, 64)
    assert float(out.min()) >= -1.0 and float(out.max()) <= 1.0
    assert float(out.std()) > 0.1  # a real picture, not a constant
    # a damaged state dict is refused with a message naming what is wrong
    state = dict(imp.state)
    state.pop("main.4.running_var")
    with pytest.raises(CheckpointError, match="Missing"):
        import_state(state, "broken.pth")


def test_library_lists_imported_dcgan_as_generator(shared, tmp_path):
    lib = ModelLibrary(bundled=tmp_path / "none", user=tmp_path / "user", runs=tmp_path / "runs")
    info = lib.import_model(shared / "weights" / "dcgan_digiface1m_64" / "weights.tar", name="faces", fp16=True)
    assert info.task == "generate" and info.family == "dcgan"
    assert [m.id for m in lib.list(task="generate")] == [info.id]
    net = lib.load(info).module
    assert net(torch.randn(1, 100)).shape == (1, 3, 64, 64)


@pytest.mark.slow
def test_tiny_training_run_end_to_end_and_resume(tmp_path, image_factory):
    from engine.jobs import run_inline
    from engine.training.core import build_config, resume_config, train_task

    data = tmp_path / "faces"
    for i in range(6):
        image_factory(f"faces/{i}.png", w=80, h=72, seed=i)
    cfg = build_config("stylegan", "tiny", data=str(data), out_dir=str(tmp_path / "run"))
    res = run_inline(train_task, cfg)
    assert res.state == "finished" and res.step == 4
    model = tmp_path / "run" / "models" / "G_ema.safetensors"
    ck = load_checkpoint(model)
    assert ck.meta["model"]["task"] == "generate" and ck.meta["arch"] == "stylegan_g"
    G = build_model(ck.meta, ck.tensors)
    assert G(torch.randn(2, G.z_dim)).shape == (2, 3, 64, 64)
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert {"G", "D", "r1"} <= set(lines[-1])
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir())
    # resume extends the run and the EMA generator travels in the checkpoint
    res2 = run_inline(train_task, resume_config(tmp_path / "run", steps=6))
    assert res2.step == 6
    ck2 = load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.safetensors")
    assert any(k.startswith("net.G_ema.") for k in ck2.tensors)


def test_progressive_schedule_and_bad_config(tmp_path):
    from engine.training.core import build_config, get_trainer

    cfg = build_config("stylegan", "tiny", data=str(tmp_path), out_dir=str(tmp_path / "r"), progressive=True,
                       start_res=16, phase_steps=10)
    t = get_trainer("stylegan")(cfg, None)
    assert t.stage_at(0) == (16, 1.0)
    assert t.stage_at(15) == (32, 0.5)
    assert t.stage_at(25) == (32, 1.0)
    assert t.stage_at(35) == (64, 0.5)
    assert t.stage_at(1000) == (64, 1.0)
    with pytest.raises(ConfigError, match="image size"):
        build_config("stylegan", "tiny", data=str(tmp_path), out_dir=str(tmp_path / "r"), image_size=96)
    with pytest.raises(ConfigError, match="gan loss"):
        build_config("stylegan", "tiny", data=str(tmp_path), out_dir=str(tmp_path / "r"), gan_loss="nope")


def test_generator_learning_rate_ttur(tmp_path):
    from engine.training.core import build_config, get_trainer

    cfg = build_config("stylegan", "tiny", data=str(tmp_path), out_dir=str(tmp_path / "r"), g_lr=0.0005, lr=0.002)
    t = get_trainer("stylegan")(cfg, None)
    t.setup_device()
    t.build()
    assert t.opts["G"].param_groups[0]["lr"] == pytest.approx(0.0005)
    assert t.opts["D"].param_groups[0]["lr"] == pytest.approx(0.002 * 2 / 3)  # lazy R1 every 2 steps (tiny preset)
    with pytest.raises(ConfigError, match="g_lr"):
        build_config("stylegan", "tiny", data=str(tmp_path), out_dir=str(tmp_path / "r"), g_lr=-1.0)
