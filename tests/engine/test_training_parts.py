"""Trainer building blocks: the losses CycleGAN uses (vs hand-computed values), the image pool, LR schedules,
DiffAugment, and the data layer (validation, corrupt files, deterministic stream)."""
from __future__ import annotations

import importlib.util
import random

import numpy as np
import pytest
import torch

from engine import losses as L
from engine.errors import ConfigError, DataError
from engine.training.augment import DiffAugment
from engine.training.data import FolderStream, ImageFolder, check_folder_paths, check_usable, crop_flip
from engine.training.pool import ImagePool
from engine.training.schedule import LRSchedule, make_factor
from tests.conftest import SHARED, make_image


# --- losses ------------------------------------------------------------------------------------------------

def test_lsgan_losses_match_hand_computed_values():
    real = torch.tensor([[0.5, 1.5], [1.0, 0.0]])
    fake = torch.tensor([[0.2, -0.4], [0.0, 1.0]])
    gan = L.get_loss("lsgan")
    # D: mean((real-1)^2) + mean(fake^2) = (0.25+0.25+0+1)/4 + (0.04+0.16+0+1)/4 = 0.375 + 0.3
    assert gan.d_loss(real, fake).item() == pytest.approx(0.675)
    # G: mean((fake-1)^2) = (0.64+1.96+1+0)/4 = 0.9
    assert gan.g_loss(fake).item() == pytest.approx(0.9)
    # junyanz halves each discriminator's loss: 0.5 * (MSE(real, 1) + MSE(fake, 0))
    assert (gan.d_loss(real, fake) * 0.5).item() == pytest.approx(0.3375)


def test_other_gan_losses_match_hand_computed_values():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -0.5])
    sp = lambda x: np.log1p(np.exp(x))  # noqa: E731 softplus
    bce = L.get_loss("bce")
    assert bce.d_loss(real, fake).item() == pytest.approx((sp(-2) + sp(1)) / 2 + (sp(0.5) + sp(-0.5)) / 2, rel=1e-6)
    assert bce.g_loss(fake).item() == pytest.approx(-(sp(0.5) + sp(-0.5)) / 2, rel=1e-6)
    assert L.get_loss("nonsaturating").g_loss(fake).item() == pytest.approx((sp(-0.5) + sp(0.5)) / 2, rel=1e-6)
    hinge = L.get_loss("hinge")
    assert hinge.d_loss(real, fake).item() == pytest.approx((0 + 2) / 2 + (1.5 + 0.5) / 2)
    wgan = L.get_loss("wgan")
    assert wgan.d_loss(real, fake).item() == pytest.approx(-0.5 + 0.0)
    assert wgan.needs == "clip" and L.get_loss("wgan_gp").needs == "gp"


def test_cycle_identity_l1_and_gradient_penalty_values():
    a = torch.zeros(1, 3, 2, 2)
    b = torch.full((1, 3, 2, 2), 0.5)
    assert (L.l1(a, b) * 10).item() == pytest.approx(5.0)
    # a linear critic D(x) = sum(w * x) has gradient w everywhere: penalty = weight * (||w|| - 1)^2
    w = torch.full((1, 3, 2, 2), 0.5)  # ||w|| = sqrt(12 * 0.25) = sqrt(3)
    gp = L.gradient_penalty(lambda x: (x * w).flatten(1).sum(1), b, a, weight=10.0)
    assert gp.item() == pytest.approx(10 * (3 ** 0.5 - 1) ** 2, rel=1e-5)
    net = torch.nn.Linear(2, 2)
    with torch.no_grad():
        net.weight.fill_(5.0)
    L.clip_weights(net, 0.01)
    assert net.weight.abs().max().item() == pytest.approx(0.01)


# --- image pool ------------------------------------------------------------------------------------------

def test_pool_stores_until_full_then_swaps_half_the_time():
    random.seed(0)
    pool = ImagePool(3)
    first = torch.arange(3.0).view(3, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # not full yet: returned as is and stored
    assert len(pool) == 3
    returned_old = 0
    for i in range(40):
        new = torch.full((1, 1, 1, 1), 100.0 + i)
        out = pool.query(new)
        assert out.shape == new.shape
        if out.item() != new.item():
            returned_old += 1
            assert out.item() in [0.0, 1.0, 2.0] + [100.0 + j for j in range(i)]
        assert len(pool) == 3
    assert 10 < returned_old < 30  # p = 0.5
    assert ImagePool(0).query(first) is first


def test_pool_state_round_trip_and_matches_reference_pool():
    pool = ImagePool(4)
    random.seed(1)
    xs = [torch.randn(2, 3, 4, 4) for _ in range(6)]
    outs = [pool.query(x) for x in xs]
    st = pool.state_dict()
    other = ImagePool(4)
    other.load_state_dict(st)
    assert all(torch.equal(p, q) for p, q in zip(pool.images, other.images))
    ref_path = SHARED / "bench" / "reference_cyclegan.py"
    if not ref_path.exists():
        pytest.skip("reference script not available")
    spec = importlib.util.spec_from_file_location("ref_cg", ref_path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    random.seed(1)
    rpool = ref.Pool(4)
    ref_outs = [rpool.query(x) for x in xs]
    assert all(torch.equal(a, b) for a, b in zip(outs, ref_outs))  # same junyanz semantics, same random draws


# --- schedules ---------------------------------------------------------------------------------------------

def test_linear_schedule_is_constant_then_decays_to_zero():
    f = make_factor("linear", 100, decay_start=0.5)
    assert [f(s) for s in (0, 25, 49)] == [1.0, 1.0, 1.0]
    assert 0.95 < f(50) < 1.0 and f(75) == pytest.approx(1 - 26 / 51)
    assert 0 <= f(99) < 0.03
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=2e-4)
    sched = LRSchedule(opt, f)
    sched.set_step(75)
    assert opt.param_groups[0]["lr"] == pytest.approx(2e-4 * f(75))
    assert make_factor("cosine", 10, 0.0)(5) == pytest.approx(0.5)
    with pytest.raises(ConfigError):
        make_factor("exotic", 10)


# --- DiffAugment -------------------------------------------------------------------------------------------

def test_diffaugment_changes_images_keeps_shape_and_gradients():
    torch.manual_seed(0)
    x = (torch.rand(2, 3, 16, 16) * 2 - 1).requires_grad_(True)
    aug = DiffAugment("color,translation,cutout")
    y = aug(x)
    assert y.shape == x.shape and not torch.allclose(y, x)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert DiffAugment("")(x) is x
    with pytest.raises(ConfigError, match="Unknown DiffAugment"):
        DiffAugment("color,zoom")


# --- data --------------------------------------------------------------------------------------------------

def _folder(tmp_path, name, n, corrupt=0):
    d = tmp_path / name
    for i in range(n):
        make_image(d / f"{name}{i}.png", w=40 + i, h=36, seed=i)
    for i in range(corrupt):
        (d / f"broken{i}.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (d / "notes.txt").write_text("not an image")
    return d


def test_corrupt_files_are_skipped_and_reported_once(tmp_path):
    d = _folder(tmp_path, "A", 3, corrupt=2)
    f = ImageFolder.open(d, "A", preprocess="resize_and_crop", load_size=36, crop_size=32)
    assert len(f) == 3
    reasons = dict((p.name, r) for p, r in f.skipped)
    assert set(reasons) == {"broken0.jpg", "broken1.jpg", "notes.txt"}
    assert "skipped 3" in f.summary()
    assert f.image(0).shape == (36, 36, 3)


def test_bad_folders_are_clear_errors_before_any_work(tmp_path):
    a = _folder(tmp_path, "A", 2)
    with pytest.raises(DataError, match="same folder"):
        check_folder_paths({"A": str(a), "B": str(a) + "/"})
    with pytest.raises(DataError, match="does not exist"):
        check_folder_paths({"A": str(a), "B": str(tmp_path / "nope")})
    inner = a / "sub"
    inner.mkdir()
    with pytest.raises(DataError, match="inside folder A"):
        check_folder_paths({"A": str(a), "B": str(inner)})
    one = _folder(tmp_path, "B", 1, corrupt=1)
    f = ImageFolder.open(one, "B", preprocess="resize_and_crop", load_size=36, crop_size=32)
    with pytest.raises(DataError, match=r"has 1 usable image .*at least 2"):
        check_usable(f, 2)


def test_stream_is_deterministic_and_paired_crops_match(tmp_path):
    a = ImageFolder.open(_folder(tmp_path, "A", 4), "A", preprocess="resize_and_crop", load_size=40, crop_size=32)
    b = ImageFolder.open(_folder(tmp_path, "B", 3), "B", preprocess="resize_and_crop", load_size=40, crop_size=32)
    s1 = FolderStream({"A": a, "B": b}, 32, seed=3)
    s2 = FolderStream({"A": a, "B": b}, 32, seed=3)
    for pos in (0, 5, 11):
        e1, e2 = s1.example(pos), s2.example(pos)
        assert all(torch.equal(e1[k], e2[k]) for k in e1)
    batch = s1.batch(0, 2)
    assert batch["A"].shape == (2, 3, 32, 32) and batch["A"].dtype == torch.uint8
    # rank 1 of 2 sees other positions than rank 0
    r1 = FolderStream({"A": a, "B": b}, 32, seed=3, rank=1, world=2)
    assert torch.equal(r1.example(0)["A"], s1.example(1)["A"])
    # paired: one crop for all images
    img = np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    c1, c2 = crop_flip([img, img.copy()], 32, np.random.default_rng(5))
    assert np.array_equal(c1, c2)


def test_training_clock_does_not_count_a_suspension(monkeypatch):
    """A run stopped with SIGSTOP / Ctrl+Z, or a laptop asleep, is not training time: a long interval in which the
    process used almost no CPU counts only its CPU time; a busy interval, however long, counts in full."""
    from types import SimpleNamespace

    from engine.training import loop as L

    clock = {"wall": 1000.0, "cpu": 50.0}
    monkeypatch.setattr(L.time, "perf_counter", lambda: clock["wall"])
    monkeypatch.setattr(L.time, "process_time", lambda: clock["cpu"])
    tl = L.TrainLoop(SimpleNamespace(run_folder=None, cfg=None))
    tl._t_run, tl._cpu_run = clock["wall"], clock["cpu"]

    def tick(wall, cpu):
        clock["wall"] += wall
        clock["cpu"] += cpu
        tl._clock()
        return tl.train_seconds

    assert tick(30, 29) == 30  # an ordinary interval
    assert tick(600, 300) == 630  # long and slow (a starved, nice-19 process): still training
    assert tick(3600, 2) == 632  # an hour stopped: 2 s of CPU counted, not the hour
    assert tick(60, 0.5) == 692  # short intervals always count in full
    tl.t = SimpleNamespace(device=torch.device("cuda", 0))  # a GPU run may wait on the device with its CPU idle
    assert tick(600, 1) == 1292
