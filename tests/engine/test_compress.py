"""Compressed generators: mobile networks, MACs, student planning, the distillation family (tiny runs on CPU, resume,
refusals before any work, the teacher cache), fast/full pairing and what `ganstudio models` shows."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import json

import cv2
import pytest
import numpy as np
import torch
import torch.nn as nn

from engine.errors import Cancelled, ConfigError, DataError
from engine.jobs import ProgressReported, run_inline
from engine.library import ModelLibrary, model_meta, save_model
from engine.models.macs import arch_macs, count_macs, format_macs, parse_macs
from engine.models.mobile import FastInstanceNorm2d, feature_layers
from engine.models import get_model
from engine.registry import MODELS
from engine.training import core
from engine.training.runs import RunFolder
from tests.engine.training_helpers import same_weights, weights

pytestmark = pytest.mark.usefixtures("one_thread")


# --- networks and MACs --------------------------------------------------------------------------------------

def test_macs_of_the_cyclegan_generator_match_the_layer_by_layer_sum():
    # stem 7x7, two stride-2 convs, 18 3x3 convs at 64x64x256, two transposed convs (counted per input pixel), head
    hand = (256 * 256 * 64 * 3 * 49 + 128 * 128 * 128 * 64 * 9 + 64 * 64 * 256 * 128 * 9
            + 18 * 64 * 64 * 256 * 256 * 9 + 64 * 64 * 256 * 128 * 9 + 128 * 128 * 128 * 64 * 9
            + 256 * 256 * 3 * 64 * 49)
    assert arch_macs("resnet_9blocks") == hand
    assert format_macs(hand) == "49.55 G"


def test_mobile_resnet_is_a_tenth_of_the_teacher_and_registered_as_compressed():
    assert {"mobile_resnet", "mobile_unet"} <= set(MODELS.names(compressed=True))
    teacher = arch_macs("resnet_9blocks")
    student = arch_macs("mobile_resnet", {"ngf": 32, "head_kernel": 3})
    assert student < teacher / 10
    assert arch_macs("mobile_unet", {"ngf": 16, "num_downs": 7}) < arch_macs("unet_128", {"ngf": 32}) / 5
    assert arch_macs("dcgan_g") is None  # not an image-to-image network


@pytest.mark.parametrize("arch,kw,size", [("mobile_resnet", {"ngf": 8, "n_blocks": 2}, 64),
                                          ("mobile_resnet", {"ngf": 8, "norm": "instance_affine", "head_kernel": 3}, 36),
                                          ("mobile_unet", {"ngf": 8, "num_downs": 6}, 64)])
def test_mobile_networks_keep_size_and_range(arch, kw, size):
    torch.manual_seed(0)
    net = get_model(arch, **kw).eval()
    x = torch.rand(2, 3, size, size) * 2 - 1
    with torch.no_grad():
        y = net(x)
    assert y.shape == x.shape and y.abs().max() <= 1
    assert count_macs(net, size) > 0 and len(feature_layers(net)) >= 2


def test_fast_instance_norm_equals_torch_instance_norm_and_keeps_its_keys():
    torch.manual_seed(0)
    x = (torch.randn(2, 6, 9, 7) * 3 + 1).contiguous(memory_format=torch.channels_last)
    for affine in (False, True):
        ref = nn.InstanceNorm2d(6, affine=affine)
        ours = FastInstanceNorm2d(6, affine=affine)
        if affine:
            ref.weight.data.normal_()
            ref.bias.data.normal_()
            ours.load_state_dict(ref.state_dict())
        assert torch.allclose(ours(x), ref(x), atol=1e-4)


@pytest.mark.parametrize("text,value", [("3G", 3_000_000_000), ("2.5 G", 2_500_000_000), ("800M", 800_000_000),
                                        ("1.2GMACs", 1_200_000_000)])
def test_parse_macs(text, value):
    assert parse_macs(text) == value


@pytest.mark.parametrize("bad", ["fast", "-1G", "0"])
def test_parse_macs_refuses_nonsense(bad):
    with pytest.raises(ConfigError, match="MACs target"):
        parse_macs(bad)


# --- a tiny teacher and photos -----------------------------------------------------------------------------

def _teacher(home, arch="resnet_6blocks", ngf=8, mid="tiny-teacher", **kw) -> str:
    torch.manual_seed(1)
    net = get_model(arch, ngf=ngf, **kw)
    if getattr(net, "calib", None) is not None:  # a fitted calibration (not the zeros it starts with)
        net.calib.weight.normal_(std=0.05)
    meta = model_meta(id=mid, name="Tiny teacher", family="cyclegan", task="translate", arch=arch,
                      arch_kwargs=dict(ngf=ngf, **kw), direction="AtoB", description="a tiny test teacher",
                      license="CC0")
    path = home / "models" / mid / "model.safetensors"
    save_model(path, net, meta)
    return mid


@pytest.fixture
def photos(tmp_path, image_factory):
    d = tmp_path / "photos"
    d.mkdir()
    for i in range(16):
        image_factory(f"photos/p{i:02d}.png", w=72, h=64, seed=i)
    return d


def _cfg(teacher, photos, out, **kw):
    values = dict(teacher=teacher, data=str(photos), out_dir=str(out), device="cpu", student_ngf=8, steps=4,
                  log_every=1, sample_every=2, checkpoint_every=2, n_taps=2)
    values.update(kw)
    return core.build_config("distill", "tiny", **values)


# --- the distillation family --------------------------------------------------------------------------------

def test_distill_end_to_end_student_is_standalone_and_names_its_teacher(_isolated_home, photos, image_factory):
    from engine.fastmodels import facts, versions
    from engine.imageio import load_image
    from engine.inference import TranslateOptions, Translator

    teacher = _teacher(_isolated_home)
    res = run_inline(core.train_task, _cfg(teacher, photos, _isolated_home / "runs" / "fast"))
    assert res.state == "finished" and res.step == 4
    rf = RunFolder(res.run_dir)
    assert "feat" in rf.read_metrics()[-1] and rf.latest_sample() is not None
    lib = ModelLibrary()
    student = lib.resolve(str(res.run_dir))
    assert student.arch == "mobile_resnet" and student.meta["distilled_from"]["id"] == teacher
    assert student.meta["license"] == "CC0" and student.meta["macs_256"] < arch_macs("resnet_6blocks", {"ngf": 8})
    pair = [v for v in versions(lib.list()) if v.full.id == teacher][0]
    assert pair.fast.path == student.path and pair.pick("fast") is pair.fast and pair.pick("full") is pair.full
    # the teacher is re-trained under the same id and file: the fast version is of the earlier weights, so it is not
    # offered as this model's fast version, and its card says so
    teacher_path = lib.resolve(teacher).path
    old_bytes = teacher_path.read_bytes()
    torch.manual_seed(2)
    save_model(teacher_path, get_model("resnet_6blocks", ngf=8), lib.resolve(teacher).meta)
    lib = ModelLibrary()
    assert [v.fast for v in versions(lib.list()) if v.full.id == teacher] == [None]
    text = "\n".join(facts(lib.resolve(str(res.run_dir)), lib.list()))
    assert "an earlier version of the model now under that id" in text
    teacher_path.write_bytes(old_bytes)
    assert [v.fast.path for v in versions(ModelLibrary().list()) if v.full.id == teacher] == [student.path]
    # the teacher is deleted: the fast model still translates and its card names the teacher
    lib.resolve(teacher).path.unlink()
    lib = ModelLibrary()
    student = lib.resolve(str(res.run_dir))
    assert [v.fast for v in versions(lib.list()) if v.full.path == student.path] == [None]
    text = "\n".join(facts(student, lib.list()))
    assert "Tiny teacher" in text and "no longer in the library" in text
    out = Translator(lib.load(student).module, torch.device("cpu"), TranslateOptions()).translate(
        load_image(image_factory("odd.png", w=52, h=40)))
    assert out.image.rgb.shape == (40, 52, 3)


def test_distill_cancel_then_resume_gives_the_uninterrupted_weights(_isolated_home, photos, tmp_path):
    teacher = _teacher(_isolated_home)
    straight = run_inline(core.train_task, _cfg(teacher, photos, tmp_path / "straight", ema_decay=0.9))

    def cancel_at_3(event):
        p = event.progress if isinstance(event, ProgressReported) else None
        if p is not None and p.total and p.done >= 3 and "step" in p.message:
            raise Cancelled()

    broken = tmp_path / "broken"
    with pytest.raises(Cancelled):
        run_inline(core.train_task, _cfg(teacher, photos, broken, ema_decay=0.9), on_event=cancel_at_3)
    res = run_inline(core.train_task, core.resume_config(broken))
    assert res.step == 4
    w = weights(RunFolder(broken).latest)
    assert same_weights(weights(RunFolder(straight.run_dir).latest), w) and any("G_ema" in k for k in w)


def test_teacher_cache_translates_each_photo_once(_isolated_home, photos, tmp_path, monkeypatch):
    from engine.training import _distill_parts as P

    teacher = _teacher(_isolated_home)
    calls = []
    real = P.TeacherCache.targets

    def counting(self, t, x, keys):
        before = len(self.outputs)
        out = real(self, t, x, keys)
        calls.append(len(self.outputs) - before)
        return out

    monkeypatch.setattr(P.TeacherCache, "targets", counting)
    cfg = _cfg(teacher, photos, tmp_path / "run", teacher_cache=3, flip=False, steps=8, batch_size=1)
    res = run_inline(core.train_task, cfg)
    # 8 steps, then the colour calibration reads the 3 photos' outputs again (none is translated twice)
    assert res.step == 8 and sum(calls) == 3 and len(calls) == 8 + 3
    assert RunFolder(res.run_dir).read_metrics()[-1]["feat"] == 0.0
    # kept on disk: another run on the same teacher and photos translates none of them again ...
    monkeypatch.setattr(P.TeacherCache, "targets", lambda self, t, x, keys: real(self, _no_teacher, x, keys))
    run_inline(core.train_task, cfg.replace(out_dir=str(tmp_path / "run2")))
    assert "already translated: 3 of 3" in (tmp_path / "run2" / "train.log").read_text()
    # ... nor after the folder was copied elsewhere (new paths and times: the names come from the photos' bytes) ...
    copy = tmp_path / "photos-copy"
    shutil.copytree(photos, copy)
    for f in copy.iterdir():
        os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    run_inline(core.train_task, cfg.replace(data=str(copy), out_dir=str(tmp_path / "run2b")))
    assert "already translated: 3 of 3" in (tmp_path / "run2b" / "train.log").read_text()
    # ... and an edited photo is translated again
    monkeypatch.setattr(P.TeacherCache, "targets", real)
    first = sorted(photos.iterdir())[0]
    img = cv2.imread(str(first))
    img[:8, :8] = 255 - img[:8, :8]
    cv2.imwrite(str(first), img)
    run_inline(core.train_task, cfg.replace(out_dir=str(tmp_path / "run3")))
    assert "already translated: 2 of 3" in (tmp_path / "run3" / "train.log").read_text()


def _no_teacher(x):
    raise AssertionError("the teacher ran although its output was on disk")


def test_teacher_cache_keeps_features_so_cached_runs_match_them(_isolated_home, photos, tmp_path, monkeypatch):
    """--cache-features: feature matching with whole cached photos; a second run reads outputs and features from
    disk and never runs the teacher; a damaged features file is computed again."""
    from engine.training import _distill_parts as P

    teacher = _teacher(_isolated_home)
    cfg = _cfg(teacher, photos, tmp_path / "run", teacher_cache=3, flip=False, steps=6, batch_size=1,
               cache_features=True, lambda_feat=1.0)
    res = run_inline(core.train_task, cfg)
    feats = [m["feat"] for m in RunFolder(res.run_dir).read_metrics() if "feat" in m]
    assert res.step == 6 and feats and all(f > 0 for f in feats)
    log = (tmp_path / "run" / "train.log").read_text()
    assert "features at the matched layers are kept too" in log
    files = sorted(Path(P.TeacherCache.on_disk(ModelLibrary().resolve(teacher).path, 64, []).folder)
                   .glob("*-feat.safetensors"))
    assert len(files) == 3
    real = P.TeacherCache.targets_and_features
    monkeypatch.setattr(P.TeacherCache, "targets_and_features",
                        lambda self, t, x, keys, taps, n: real(self, _no_teacher, x, keys, taps, n))
    res2 = run_inline(core.train_task, cfg.replace(out_dir=str(tmp_path / "run2")))
    assert "already translated: 3 of 3, with their features: 3" in (tmp_path / "run2" / "train.log").read_text()
    assert all(m["feat"] > 0 for m in RunFolder(res2.run_dir).read_metrics() if "feat" in m)
    files[0].write_bytes(b"not a safetensors file")
    monkeypatch.setattr(P.TeacherCache, "targets_and_features", real)
    run_inline(core.train_task, cfg.replace(out_dir=str(tmp_path / "run3")))
    assert "with their features: 3" in (tmp_path / "run3" / "train.log").read_text()
    assert files[0].stat().st_size > 100  # rewritten
    # without the flag a cached run still skips feature matching
    res4 = run_inline(core.train_task, cfg.replace(out_dir=str(tmp_path / "run4"), cache_features=False))
    assert RunFolder(res4.run_dir).read_metrics()[-1]["feat"] == 0.0


def test_feature_cache_that_cannot_be_written_is_held_in_memory_up_to_a_bound(tmp_path, monkeypatch):
    from engine.training import _distill_parts as P

    photo = tmp_path / "p.png"
    photo.write_bytes(b"x")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    cache = P.TeacherCache(blocker / "cache", [photo, photo], [].append)
    taps = P.FeatureTaps([])
    seen = []

    def teacher(x):
        seen.append(x.shape[0])
        return -x

    x = torch.rand(1, 3, 8, 8) * 2 - 1
    layer = [torch.ones(1, 4, 2, 2)]
    out, f = cache.targets_and_features(teacher, x, torch.tensor([0]), lambda: list(layer), 1)
    assert torch.allclose(out, -x, atol=1e-3) and f[0].shape == (1, 4, 2, 2) and cache.folder is None
    cache.targets_and_features(_no_teacher, x, torch.tensor([0]), lambda: list(layer), 1)  # held in memory
    monkeypatch.setattr(P.TeacherCache, "FEATURE_MEMORY", 40)  # one 32-byte fp16 entry fits, a second does not
    cache.targets_and_features(teacher, x, torch.tensor([2]), lambda: list(layer), 1)
    assert sorted(cache.feature_memory) == [0] and seen == [1, 1]
    cache.targets_and_features(teacher, x, torch.tensor([2]), lambda: list(layer), 1)  # not kept: runs again
    assert seen == [1, 1, 1]
    with pytest.raises(RuntimeError, match="feature layers"):
        cache.targets_and_features(teacher, x, torch.tensor([3]), lambda: [], 1)
    taps.close()


def test_teacher_cache_that_cannot_be_written_stays_in_memory(tmp_path):
    from engine.training import _distill_parts as P

    photo = tmp_path / "p.png"
    photo.write_bytes(b"x")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    logs = []
    cache = P.TeacherCache(blocker / "cache", [photo], logs.append)
    x = torch.rand(1, 3, 8, 8) * 2 - 1
    out = cache.targets(lambda t: -t, x, torch.tensor([0]))
    assert torch.allclose(out, -x, atol=1e-3) and len(cache) == 1 and cache.folder is None
    assert "kept in memory only" in logs[0]
    assert torch.equal(cache.targets(_no_teacher, x, torch.tensor([0])), out)


def test_bad_distillations_are_refused_before_any_work(_isolated_home, photos, tmp_path, image_factory):
    teacher = _teacher(_isolated_home)
    few = tmp_path / "few"
    few.mkdir()
    for i in range(15):
        image_factory(f"few/p{i}.png", seed=i)
    cases = [
        (_cfg(teacher, few, tmp_path / "r1"), DataError, "has 15 usable photos; a fast version needs at least 16"),
        (_cfg(teacher, photos, tmp_path / "r2", student_ngf=64), ConfigError, "would not be smaller than its teacher"),
        (_cfg(teacher, photos, _isolated_home / "models" / teacher), ConfigError, "into itself would overwrite"),
        (_cfg("no-such-model", photos, tmp_path / "r3"), Exception, "No model called 'no-such-model'"),
        (_cfg(teacher, photos, tmp_path / "r4", student_ngf=0, target_macs="1M"), ConfigError, "No mobile_resnet "
                                                                                               "student fits"),
    ]
    for cfg, err, msg in cases:
        with pytest.raises(err, match=msg):
            run_inline(core.train_task, cfg)
        assert not RunFolder(cfg.out_dir).config_path.exists()
    # a fast model distilled into the same network again
    fast = _teacher(_isolated_home, arch="mobile_resnet", ngf=8, mid="tiny-fast", head_kernel=3)
    with pytest.raises(ConfigError, match="already a mobile_resnet .*same network"):
        run_inline(core.train_task, _cfg(fast, photos, tmp_path / "r5"))
    with pytest.raises(ConfigError, match="generate model"):
        from engine.training._distill_parts import plan_student

        info = ModelLibrary().resolve("dcgan-faces")
        plan_student(info)


def test_unet_teacher_gets_a_mobile_unet_and_sketch_teachers_learn_from_sketched_photos(_isolated_home, photos,
                                                                                          tmp_path):
    from engine.training._distill_parts import folder_class, plan_student

    mid = _teacher(_isolated_home, arch="unet_128", ngf=8, mid="tiny-unet", norm="batch")
    info = ModelLibrary().resolve(mid)
    plan = plan_student(info, ngf=8)
    assert plan.arch == "mobile_unet" and plan.kwargs["num_downs"] == 7 and plan.macs < plan.teacher_macs
    res = run_inline(core.train_task, _cfg(mid, photos, tmp_path / "run", image_size=128, steps=2))
    assert res.state == "finished"
    folder = folder_class({"input_kind": "sketch", "sketch": {"style": "canny"}}).open(
        photos, "photos", preprocess="resize", load_size=64, crop_size=64)
    img = folder.image(0)
    assert (img[..., 0] == img[..., 1]).all() and set(img.reshape(-1).tolist()) <= {0, 255}


def test_models_cli_shows_macs_and_the_teacher(_isolated_home, capsys):
    from app.cli import main

    _teacher(_isolated_home)
    assert main(["models", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["vintagify"]["macs_256"] == arch_macs("resnet_9blocks")
    assert rows["tiny-teacher"]["macs_256"] == arch_macs("resnet_6blocks", {"ngf": 8})
    assert rows["dcgan-faces"]["macs_256"] is None
    assert main(["models"]) == 0
    assert "49.55 GMACs" in capsys.readouterr().out


def test_distill_cli_bad_input_exit_code(_isolated_home, photos, tmp_path, capsys):
    from app.cli import main

    assert main(["distill", "--data", str(photos), "--out", str(tmp_path / "r")]) == 2
    assert "name the model to make a fast version of" in capsys.readouterr().err
    assert main(["distill", "vintagify", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "r")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_psnr_and_ssim():
    import numpy as np

    from engine.metrics.fidelity import psnr, ssim

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + 10, 0, 255).astype(np.uint8)
    assert psnr(a, a) == float("inf") and ssim(a, a) == pytest.approx(1.0)
    mse = np.mean((a.astype(float) - b) ** 2)
    assert psnr(a, b) == pytest.approx(10 * np.log10(255 ** 2 / mse))
    noisy = np.clip(a + rng.normal(0, 40, a.shape), 0, 255).astype(np.uint8)
    assert 0 < ssim(a, noisy) < ssim(a, b) < 1
    with pytest.raises(ValueError, match="differ in size"):
        psnr(a, b[:10])


def test_fast_model_exports_to_onnx_with_parity(_isolated_home, tmp_path):
    import numpy as np
    import onnxruntime as ort

    from engine.export.onnx import OnnxExportConfig, export_onnx_task

    mid = _teacher(_isolated_home, arch="mobile_resnet", ngf=8, mid="tiny-fast", head_kernel=3, n_blocks=2,
                   norm="instance_affine", residual=True, global_color=True, global_affine=True, calibration=True)
    res = run_inline(export_onnx_task, OnnxExportConfig(model=mid, out=str(tmp_path / "f.onnx")))
    assert res.parity["max_abs_diff"] <= 1e-3
    x = np.random.default_rng(1).uniform(-1, 1, (1, 3, 36, 44)).astype(np.float32)
    y = ort.InferenceSession(str(tmp_path / "f.onnx"), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    with torch.no_grad():
        ref = ModelLibrary().load(ModelLibrary().resolve(mid)).module(torch.from_numpy(x)).numpy()
    assert np.abs(y - ref).max() < 1e-4
    import onnx

    ops = [n.op_type for n in onnx.load(str(tmp_path / "f.onnx")).graph.node]
    net = ModelLibrary().load(ModelLibrary().resolve(mid)).module
    n_norms = sum(isinstance(m, FastInstanceNorm2d) for m in net.modules())
    assert ops.count("InstanceNormalization") == n_norms  # onnxruntime's own kernel, 2x faster here
    assert ops.count("ReduceMean") <= 20  # only the colour branches' statistics, not every norm's


def test_tiles_of_a_mobile_net_share_the_whole_image_statistics(samples):
    """The mobile networks' FastInstanceNorm2d is frozen like nn.InstanceNorm2d while a large image runs in tiles
    (the bundled vintagify-fast; an untrained net is too chaotic for this comparison)."""
    import engine.inference as inference
    from engine.imageio import LoadedImage, load_image
    from engine.inference import TranslateOptions, Translator, frozen_instance_norm

    lib = ModelLibrary()
    net = lib.load(lib.resolve("vintagify-fast")).module.float()
    tr = Translator(net, torch.device("cpu"), TranslateOptions(precision="fp32"))
    with frozen_instance_norm(tr, torch.zeros(1, 3, 32, 32)) as frozen:
        n_norms = sum(isinstance(m, FastInstanceNorm2d) for m in net.modules())
        assert n_norms > 0 and len(frozen.layers) == n_norms + 3  # and the colour shift, transform and calibration
    src = load_image(samples / "chelsea.png")
    src = LoadedImage(np.ascontiguousarray(src.rgb[40:200, 100:340]))
    whole = tr.translate(src).image.rgb.astype(int)
    opts = TranslateOptions(precision="fp32", tile=96, tile_overlap=16)
    err = np.abs(whole - Translator(net, torch.device("cpu"), opts).translate(src).image.rgb.astype(int)).mean()
    with pytest.MonkeyPatch.context() as mp:  # per-tile statistics, as before the fix
        mp.setattr(inference, "FastInstanceNorm2d", type("NotANorm", (), {}))
        naive = np.abs(whole - Translator(net, torch.device("cpu"), opts).translate(src).image.rgb.astype(int)).mean()
    assert err < 2.0 and err < naive / 2, (err, naive)


def test_residual_student_starts_as_the_identity():
    torch.manual_seed(0)
    net = get_model("mobile_resnet", ngf=8, n_blocks=2, head_kernel=3, residual=True).eval()
    nn.init.zeros_([m for m in net.modules() if isinstance(m, nn.Conv2d)][-1].weight)
    nn.init.zeros_([m for m in net.modules() if isinstance(m, nn.Conv2d)][-1].bias)
    x = torch.rand(1, 3, 32, 32) * 1.8 - 0.9
    with torch.no_grad():
        assert torch.allclose(net(x), x, atol=1e-5)
    with pytest.raises(ConfigError, match="as many output channels"):
        get_model("mobile_resnet", ngf=8, output_nc=1, residual=True)


def test_global_color_branch_starts_at_zero_and_learns_a_colour_shift():
    from engine.models.mobile import GlobalColor

    torch.manual_seed(0)
    kw = dict(ngf=8, n_blocks=2, head_kernel=3, residual=True, norm="instance_affine")
    plain, colour = get_model("mobile_resnet", **kw).eval(), get_model("mobile_resnet", global_color=True, **kw)
    colour.load_state_dict(dict(plain.state_dict(), **{f"color.{k}": v for k, v in colour.color.state_dict().items()}))
    x = torch.rand(2, 3, 32, 40) * 1.8 - 0.9
    with torch.no_grad():
        assert torch.equal(plain(x), colour.eval()(x))  # the branch's last layer is zero: nothing changes at first
    # the branch alone can follow an image-dependent shift that instance norms remove (brighter in, darker out)
    branch = GlobalColor(3, 3)
    opt = torch.optim.Adam(branch.parameters(), 1e-2)
    for _ in range(300):
        xs = torch.rand(8, 3, 16, 16) * 0.5 + torch.rand(8, 1, 1, 1)
        target = -0.5 * xs.mean(dim=(1, 2, 3)).view(8, 1, 1, 1).expand(8, 3, 1, 1)
        loss = (branch(xs, torch.zeros_like(xs)) - target).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    with pytest.raises(ConfigError, match="residual"):
        get_model("mobile_resnet", ngf=8, global_color=True)


def test_students_get_the_colour_branch_and_start_from_an_older_student(_isolated_home, photos, tmp_path):
    """A student from before the branch (same width) is a valid start: its weights load, the branch starts at 0."""
    from engine.training._distill_parts import plan_student

    teacher = _teacher(_isolated_home, arch="resnet_6blocks", ngf=8)
    lib = ModelLibrary()
    plan = plan_student(lib.resolve(teacher), ngf=8)
    branches = ("global_color", "global_affine", "calibration")
    assert all(plan.kwargs[b] is True for b in branches)
    old_kw = {k: v for k, v in plan.kwargs.items() if k not in branches}
    old = _teacher(_isolated_home, arch="mobile_resnet", mid="old-student", **old_kw)
    run_inline(core.train_task, _cfg(teacher, photos, tmp_path / "run", init_from=old, steps=2))
    assert "The student starts from 'Tiny teacher'" in (tmp_path / "run" / "train.log").read_text()
    student = lib.load(lib.resolve(str(tmp_path / "run"))).module
    assert student.color is not None and student.affine is not None and student.calib is not None


def test_a_wider_student_starts_from_a_narrower_one_with_its_outputs(_isolated_home, photos, tmp_path):
    """``--init FAST --student-ngf W`` with W above the fast model's width: the student is the fast model widened
    (same pictures at step 0), not a fresh network; a narrower width or another architecture is refused before work."""
    from engine.training._distill_parts import plan_student

    teacher = _teacher(_isolated_home, arch="resnet_6blocks", ngf=8)
    lib = ModelLibrary()
    kw = {k: v for k, v in plan_student(lib.resolve(teacher), ngf=8).kwargs.items() if k != "ngf"}
    narrow = _teacher(_isolated_home, arch="mobile_resnet", mid="narrow-student", ngf=8, **kw)
    run_inline(core.train_task, _cfg(teacher, photos, tmp_path / "wide", init_from=narrow, student_ngf=12, steps=1,
                                     lr=1e-12, lambda_gan=0))
    assert "widened from ngf 8 to 12" in (tmp_path / "wide" / "train.log").read_text()
    wide = lib.load(lib.resolve(str(tmp_path / "wide"))).module.eval()
    small = lib.load(lib.resolve(narrow)).module.eval()
    assert wide.model[1].out_channels == 12
    wide.calib = small.calib = None  # refitted when a run ends (here: left off, too few photos)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert (wide(x) - small(x)).abs().max() < 0.05
    with pytest.raises(ConfigError, match=r"is wider \(ngf 8\) than the planned student \(ngf 6\).*--student-ngf 8"):
        run_inline(core.train_task, _cfg(teacher, photos, tmp_path / "narrower", init_from=narrow, student_ngf=6,
                                         steps=1))
    assert not (tmp_path / "narrower").exists()


def test_tiles_freeze_the_colour_shift_of_the_whole_image():
    from engine.imageio import LoadedImage
    from engine.inference import TranslateOptions, Translator, frozen_instance_norm

    torch.manual_seed(0)
    net = get_model("mobile_resnet", ngf=8, n_blocks=2, head_kernel=3, residual=True, global_color=True,
                    global_affine=True, calibration=True, norm="instance_affine").eval()
    net.calib.weight.normal_(std=0.05)
    torch.nn.init.normal_(net.color.mlp[-1].weight, std=0.5)
    torch.nn.init.normal_(net.affine.mlp[-1].weight, std=0.1)
    tr = Translator(net, torch.device("cpu"), TranslateOptions(precision="fp32", tile=64, tile_overlap=16))
    x = torch.rand(1, 3, 96, 96) * 2 - 1
    seen = []
    hook = net.affine.register_forward_hook(lambda m, args, out: seen.append(out))
    with torch.no_grad():
        net(x)
    hook.remove()
    with frozen_instance_norm(tr, x) as frozen:
        assert tr.net.color in frozen.layers and frozen.stats[tr.net.color].shape == (1, 3, 1, 1)
        assert tr.net.affine in frozen.layers and frozen.stats[tr.net.affine].shape == (1, 12)
        # the tiles get the whole image's colour transform, not their own
        assert torch.allclose(frozen.stats[tr.net.affine], seen[0], atol=1e-5)
        assert torch.equal(tr.net.affine(x[..., :32, :32], x[..., :32, :32]), frozen.stats[tr.net.affine])
        assert tr.net.calib in frozen.layers and frozen.stats[tr.net.calib].shape == (1, 12)
    rgb = np.random.default_rng(0).integers(0, 256, (100, 150, 3), dtype=np.uint8)
    out = tr.translate(LoadedImage(rgb)).image.rgb
    assert out.shape == (100, 150, 3) and all("forward" not in m.__dict__ for m in tr.net.modules())


def test_global_affine_branch_starts_at_zero_and_learns_a_colour_matrix():
    """The teacher's colours are close to a per-image colour transform of the photo (vintagify: 32.5 dB PSNR for the
    best one): the branch starts as no change and learns a transform that depends on the image's statistics."""
    from engine.models.mobile import GlobalAffine

    torch.manual_seed(0)
    kw = dict(ngf=8, n_blocks=2, head_kernel=3, residual=True, norm="instance_affine", global_color=True)
    plain, both = get_model("mobile_resnet", **kw).eval(), get_model("mobile_resnet", global_affine=True, **kw)
    both.load_state_dict(dict(plain.state_dict(), **{f"affine.{k}": v for k, v in both.affine.state_dict().items()}))
    x = torch.rand(2, 3, 32, 40) * 1.8 - 0.9
    with torch.no_grad():
        assert torch.equal(plain(x), both.eval()(x))
    branch = GlobalAffine(3, 3)
    assert sum(p.numel() for p in branch.parameters()) < 2500
    grey = torch.tensor([[0.3, 0.59, 0.11]] * 3)
    opt = torch.optim.Adam(branch.parameters(), 1e-2)
    for _ in range(400):  # the darker the image, the greyer it is made
        xs = torch.rand(8, 3, 12, 12) * 0.6 - 0.3 + torch.rand(8, 1, 1, 1) - 0.5
        amount = (0.5 - xs.mean(dim=(1, 2, 3))).clamp(0, 1).view(8, 1, 1, 1)
        target = amount * (torch.einsum("oi,bihw->bohw", grey, xs) - xs)
        loss = (branch.transform(branch(xs, torch.zeros_like(xs)), xs) - target).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * target.abs().mean().item()
    with pytest.raises(ConfigError, match="residual"):
        get_model("mobile_resnet", ngf=8, global_affine=True)


def test_psnr_loss_is_the_per_image_psnr_of_the_metrics():
    import numpy as np

    from engine.metrics.fidelity import psnr
    from engine.training._distill_parts import psnr_db

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (2, 16, 16, 3)).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    t = lambda v: torch.from_numpy(v).permute(0, 3, 1, 2).double() / 127.5 - 1  # noqa: E731
    got = psnr_db(t(a), t(b))
    assert got.shape == (2,)
    assert got.tolist() == pytest.approx([psnr(a[i], b[i]) for i in range(2)], abs=1e-3)


def test_distill_with_the_psnr_loss_logs_it(_isolated_home, photos, tmp_path):
    teacher = _teacher(_isolated_home)
    res = run_inline(core.train_task, _cfg(teacher, photos, tmp_path / "run", lambda_psnr=1.0, lambda_pixel=0.0))
    assert res.state == "finished"
    last = RunFolder(res.run_dir).read_metrics()[-1]
    assert 0 < last["psnr"] < 100
    with pytest.raises(ConfigError, match="positive weight"):
        _cfg(teacher, photos, tmp_path / "r2", lambda_psnr=0.0, lambda_pixel=0.0, lambda_feat=0.0).validate()


def test_calibration_is_solved_in_closed_form_and_guarded():
    """Targets whose colour cast is linear in the images' statistics: the fitted calibration removes most of the
    error. Too few photos, bad targets, or casts it cannot predict (no gain on the held-out half) leave it off."""
    from engine.training import calibrate as C

    torch.manual_seed(0)
    net = get_model("mobile_resnet", ngf=8, n_blocks=2, head_kernel=3, residual=True, calibration=True).eval()
    last = [m for m in net.modules() if isinstance(m, nn.Conv2d)][-1]
    nn.init.zeros_(last.weight), nn.init.zeros_(last.bias)  # the identity, as a student starts: flat in, flat out
    true_w = torch.zeros_like(net.calib.weight)
    true_w[0, 9:] = torch.tensor([0.3, 0.1, -0.2])  # offset grows with the input's red mean
    true_w[-1, 0], true_w[-1, 4] = 0.1, -0.1  # a fixed change of the matrix
    pairs, noise = [], []
    for i in range(60):
        x = (torch.rand(1, 3, 24, 24) * 0.8 - 0.4 + torch.rand(1, 3, 1, 1) - 0.5).clamp(-1, 1)
        with torch.no_grad():
            out = net(x)
            pairs.append((x, net.calib.transform(net.calib.stats(x, out) @ true_w, out)))
            noise.append((x, out + torch.randn(1, 3, 1, 1) * 0.05))  # a cast unrelated to the photo
    err = lambda: sum((net(x) - t).square().mean().item() for x, t in pairs)  # noqa: E731
    before = err()
    n, message = C.fit_calibration(net, pairs)
    assert n == 60 and "fitted on 60 photos" in message and "dB" in message
    assert err() < 0.01 * before
    n, message = C.fit_calibration(net, pairs[:C.MIN_PHOTOS - 1])
    assert n == 0 and "at least" in message and not net.calib.weight.any()
    assert C.fit_calibration(net, [(x, t * float("nan")) for x, t in pairs])[0] == 0  # bad targets are skipped
    flat = [(torch.full_like(x, 0.3), t) for x, t in pairs]  # a single colour says nothing about a correction
    assert C.fit_calibration(net, flat)[0] == 0 and not net.calib.weight.any()
    n, message = C.fit_calibration(net, noise)
    assert n == 0 and "did not bring" in message and not net.calib.weight.any()
    assert C.fit_calibration(get_model("mobile_resnet", ngf=8, n_blocks=2, residual=True), pairs)[0] == 0


def test_calibration_is_bounded_on_photos_unlike_its_fitting_set():
    from engine.models.mobile import OutputCalibration

    net = get_model("mobile_resnet", ngf=8, n_blocks=2, head_kernel=3, residual=True, calibration=True).eval()
    net.calib.weight.fill_(1e5)  # as if fitted on photos with nearly the same statistics
    with torch.no_grad():
        params = net.calib(torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))
        out = net(torch.rand(1, 3, 16, 16) * 2 - 1)
    assert params.abs().max() <= OutputCalibration.LIMIT and out.abs().max() <= 1


def test_distill_fits_the_calibration_for_the_models_a_run_ends_with(_isolated_home, photos, tmp_path, monkeypatch):
    from engine.checkpoint import load_checkpoint
    from engine.training import distill

    fits = []

    def recording(net, pairs):
        pairs = list(pairs)
        net.calib.weight.normal_()  # stands for a fit: the wiring is what is tested here
        fits.append((len(pairs), net.calib.weight.clone()))
        return len(pairs), "Colour calibration fitted (test)."

    monkeypatch.setattr(distill, "fit_calibration", recording)
    teacher = _teacher(_isolated_home)
    res = run_inline(core.train_task, _cfg(teacher, photos, tmp_path / "run", teacher_cache=16, flip=False,
                                           steps=4, checkpoint_every=2, batch_size=1))
    assert [n for n, _ in fits] == [16]  # the last export only, not step 2's, on every cached photo
    assert (tmp_path / "run" / "train.log").read_text().count("Colour calibration fitted (test).") == 1
    student = ModelLibrary().load(ModelLibrary().resolve(str(res.run_dir))).module
    assert torch.equal(student.calib.weight, fits[0][1])
    state = load_checkpoint(RunFolder(res.run_dir).latest).tensors
    assert not any(v.any() for k, v in state.items() if k.endswith("calib.weight"))  # training nets untouched


def test_every_bundled_fast_model_is_the_fast_version_of_its_bundled_teacher():
    """A bundled teacher re-trained without distilling its fast model again would lose its Fast choice (the weights'
    checksums differ): every fast model shipped in resources/ must pair with the teacher shipped beside it."""
    from engine.fastmodels import is_fast, versions

    bundled = [m for m in ModelLibrary().list() if m.source == "bundled"]
    fast = {m.id for m in bundled if is_fast(m)}
    assert {"vintagify-fast", "face2anime-fast", "anime2face-fast", "sketch2face-fast", "sketch2anime-fast"} <= fast
    pairs = {v.full.id: v.fast.id for v in versions(bundled) if v.fast is not None}
    assert pairs == {m.meta["distilled_from"]["id"]: m.id for m in bundled if m.id in fast}
