"""GAN Lab engine: remedies, measurements, data, the trainer and the job task."""
from __future__ import annotations

import copy

import pytest
import torch

from engine.errors import Cancelled, ConfigError
from engine.jobs import PartialResult, run_inline
from engine.lab import LabConfig, LabRun
from engine.lab.data import TOY_DATASETS, VIEW_EXTENT, load_digits_data, make_toy
from engine.lab.metrics import digit_modes, toy_modes, train_classifier
from engine.lab.nets import MinibatchDiscrimination, MinibatchStdDev, MLPDiscriminator
from engine.lab.task import lab_task, sample_digits_task, train_lab
from engine.lab.trainer import LabTrainer, shift_digits
from engine.lab.unrolled import call_with, unroll
from engine.lab.views import generate_class
from engine.guard import MAX_BAD_STEPS


@pytest.fixture(scope="module")
def digits():
    return load_digits_data()


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


# --- remedies ---------------------------------------------------------------------------------------------

def test_minibatch_discrimination_shapes_and_values():
    torch.manual_seed(0)
    mbd = MinibatchDiscrimination(32, kernels=8, kernel_dim=4)
    h = torch.randn(10, 32)
    assert mbd(h).shape == (10, 40)
    assert mbd(h, context=torch.randn(6, 32)).shape == (10, 40)
    same = mbd(torch.ones(5, 32))[:, 32:]  # identical samples: every other sample is at distance 0
    assert torch.allclose(same, torch.full((5, 8), 4.0))
    assert MinibatchStdDev()(h).shape == (10, 33)
    assert float(MinibatchStdDev()(torch.ones(4, 3))[0, 3]) == pytest.approx(1e-4, abs=1e-4)


@pytest.mark.parametrize("minibatch", ["", "discrimination", "stddev"])
def test_discriminator_outputs_one_value_per_sample(minibatch):
    d = MLPDiscriminator(2, 16, 2, minibatch=minibatch, spectral=True, n_classes=3)
    out = d(torch.randn(7, 2), torch.randint(0, 3, (7,)))
    assert out.shape == (7,)
    assert d(torch.randn(9, 2), torch.zeros(9, dtype=torch.long), context=torch.randn(4, 2)).shape == (9,)


def _d_loss_after_training(cfg: LabConfig, steps: int = 300) -> float:
    """Train only D to tell the ring from the same ring pushed 15 % (0.3) outwards; return its final BCE loss."""
    tr = LabTrainer(cfg)
    g = torch.Generator().manual_seed(5)
    for _ in range(steps):
        real = tr.data.sample(128, g)
        loss = tr.loss.d_loss(tr.D(real), tr.D(real * 1.15))
        tr.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        tr.opt_d.step()
    return float(loss.detach())


def test_spectral_norm_discriminator_can_resolve_the_ring_scale():
    """Regression: SN makes every D layer 1-Lipschitz; on the 2-D toys (sigma 0.05) that alone kept D at chance
    (loss 2 log 2 = 1.386), G never reached the data (0 modes, 0 % HQ). The default output gain fixes it."""
    assert LabConfig(spectral_norm=True).spectral_gain == 10.0
    assert LabConfig(data="digits", spectral_norm=True).spectral_gain == 1.0  # images in [-1, 1]: as in the paper
    assert MLPDiscriminator(2, 8, 1, spectral=False, sn_gain=10.0).gain == 1.0  # the gain belongs to SN only
    assert LabConfig(spectral_norm=True, sn_gain=3).title() == "Non-saturating + spectral norm (gain 3)"
    assert _d_loss_after_training(LabConfig(spectral_norm=True, hidden=32, sn_gain=1.0)) > 1.25
    assert _d_loss_after_training(LabConfig(spectral_norm=True, hidden=32)) < 1.1
    tr = train_lab(LabConfig(spectral_norm=True, hidden=64, seed=0), steps=600)
    assert tr.measure(1000).hq_share > 0.04  # gain 1: 0 %
    with pytest.raises(ConfigError, match="sn_gain"):
        LabConfig(sn_gain=-1)


@pytest.mark.parametrize("kw", [{}, {"spectral_norm": True, "minibatch": "discrimination"}, {"loss": "wgan_gp"},
                                {"data": "digits", "conditional": True}])
def test_unrolled_step_leaves_the_real_discriminator_unchanged(kw):
    tr = LabTrainer(LabConfig(unrolled_steps=3, hidden=32, batch_size=32, **kw))
    for _ in range(3):
        tr.step()
    before = copy.deepcopy(tr.D.state_dict())
    opt_state = copy.deepcopy(tr.opt_d.state_dict())
    real, y = tr.real_batch(32)
    fake = tr.G(tr.z(32), y)
    params, buffers = unroll(tr.D, tr.opt_d, tr.loss, 3, real, fake, real_y=y, fake_y=y, gp_weight=1.0)
    tr.loss.g_loss(call_with(tr.D, params, buffers, fake, y)).backward()
    after = tr.D.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # parameters and spectral-norm buffers
    assert str(tr.opt_d.state_dict()["state"]) == str(opt_state["state"])
    moved = max(float((params[n] - p).detach().abs().max()) for n, p in tr.D.named_parameters())
    assert moved > 1e-4  # the unrolled copy did move
    assert sum(float(p.grad.abs().sum()) for p in tr.G.parameters()) > 0  # and G gets a gradient through it


def test_one_unrolled_step_is_exactly_one_adam_step_of_the_real_optimizer():
    tr = LabTrainer(LabConfig(hidden=16, batch_size=16, seed=3))
    for _ in range(2):
        tr.step()
    real, _ = tr.real_batch(16)
    fake = tr.G(tr.z(16)).detach()
    params, _ = unroll(tr.D, tr.opt_d, tr.loss, 1, real, fake)
    tr.opt_d.zero_grad()
    tr.loss.d_loss(tr.D(real), tr.D(fake)).backward()
    tr.opt_d.step()
    for n, p in tr.D.named_parameters():
        assert torch.allclose(params[n], p, atol=1e-6), n


# --- measurements and data --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TOY_DATASETS)
def test_real_toy_data_scores_full_marks(name):
    data = make_toy(name)
    x = data.sample(4000, torch.Generator().manual_seed(0))
    assert float(x.abs().max()) < VIEW_EXTENT
    stats = toy_modes(x, data)
    assert stats.modes_covered == stats.n_modes == data.n_modes
    assert stats.hq_share > 0.97  # 98.9 % of a 2-D Gaussian lies within 3 sigma
    assert stats.kl_uniform < 0.05


def test_toy_measures_detect_collapse_and_garbage():
    data = make_toy("ring8")
    one_mode = data.ref[2].repeat(500, 1) + 0.01 * torch.randn(500, 2)
    s = toy_modes(one_mode, data)
    assert (s.modes_covered, s.hq_share, s.histogram[2]) == (1, 1.0, 500)
    s = toy_modes(torch.zeros(300, 2), data)
    assert (s.modes_covered, s.hq_share) == (0, 0.0)
    assert make_toy("grid25").n_modes == 25 and make_toy("moons").n_modes == 6
    with pytest.raises(ConfigError, match="Unknown toy data set"):
        make_toy("ring9")


def test_digits_classifier_is_accurate_and_sees_ten_classes_in_real_digits(digits):
    model, acc = train_classifier(digits, epochs=200, holdout=0.2)
    assert acc > 0.93
    stats = digit_modes(digits.x[:1000], model, digits.y[:1000])
    assert stats.modes_covered == 10 and stats.class_accuracy > 0.95


def test_digit_shift_augmentation_moves_pixels_and_keeps_gradients(digits):
    x = digits.x[:64].clone().requires_grad_(True)
    y = shift_digits(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and not torch.equal(y, x)
    y.sum().backward()
    assert x.grad is not None


def test_config_errors_are_sentences():
    with pytest.raises(ConfigError, match="conditional GAN needs class labels"):
        LabConfig(data="ring8", conditional=True)
    with pytest.raises(ConfigError, match="loss must be one of"):
        LabConfig(loss="wasserstein")
    run = LabRun.from_dict({"left": {"loss": "hinge"}, "right": {"data": "digits"}, "steps": 10})
    assert run.right.data == "digits" and run.left.loss == "hinge"


# --- training ---------------------------------------------------------------------------------------------

def test_conditional_gan_learns_to_draw_the_requested_digit(digits):
    tr = train_lab(LabConfig(data="digits", conditional=True, seed=0), steps=600)
    stats = tr.measure(1000)
    assert stats.class_accuracy > 0.5  # chance is 0.1
    assert stats.modes_covered >= 8
    gen = tr.generator_state()
    picks = [run_inline(sample_digits_task, {"generator": gen, "label": k, "n": 24, "seed": 1}) for k in range(10)]
    assert all(p["grid"].shape == (1 + 3 * 9, 1 + 8 * 9) for p in picks)  # 24 digits, 8 per row
    assert sum(p["recognised"] for p in picks) / 10 > 0.5  # the picker draws the digit asked for
    with torch.no_grad():
        x = generate_class(gen, 4, 24, seed=1)
        expected = float((tr.classifier()(x).argmax(1) == 4).float().mean())
    assert picks[4]["recognised"] == pytest.approx(expected)


def test_lab_task_trains_two_configurations_in_lockstep_with_snapshots():
    run = LabRun(left=LabConfig(hidden=32), right=LabConfig(hidden=32, loss="wgan_gp", spectral_norm=True),
                 steps=120, snapshot_every_s=0.01, eval_samples=500)
    partials = []
    res = run_inline(lab_task, run, on_event=lambda e: partials.append(e.value) if isinstance(e, PartialResult) else None)
    assert len(partials) >= 2 and partials[-1] is res and res["final"]
    a, b = res["sides"]
    assert a["step"] == b["step"] == 120
    assert a["title"] == "Non-saturating" and b["title"] == "WGAN-GP + spectral norm"
    assert a["surface"].shape == (72, 72) and a["surface_kind"] == "prob" and b["surface_kind"] == "score"
    assert a["field"].shape == a["field_points"].shape == (19 * 19, 2)
    assert a["fake"].shape == (600, 2) and len(a["losses"]["d"]) == len(a["losses"]["step"]) > 10
    assert a["stats"]["n_modes"] == 8 and len(a["metric_history"]["step"]) == len(partials)


def test_lab_task_stops_when_cancelled():
    def cancel_after_first(event):
        if isinstance(event, PartialResult):
            event.job.cancel()

    with pytest.raises(Cancelled):
        run_inline(lab_task, LabRun(left=LabConfig(hidden=16), steps=100000, snapshot_every_s=0.01),
                   on_event=cancel_after_first)


def test_a_diverging_configuration_is_reported_not_crashed():
    tr = LabTrainer(LabConfig(hidden=16, lr_d=1e-3, lr_g=1e-3))
    with torch.no_grad():
        for p in tr.G.parameters():
            p.fill_(float("nan"))
    d_before = {k: v.clone() for k, v in tr.D.state_dict().items()}
    for i in range(12):
        tr.step(record=True)
    assert f"diverged at step {MAX_BAD_STEPS}" in tr.diverged and tr.step_count == MAX_BAD_STEPS
    assert "last good weights are kept" in tr.diverged and tr.history["step"] == []
    assert all(torch.equal(v, tr.D.state_dict()[k]) for k, v in d_before.items())  # D never took a NaN update


def test_one_non_finite_step_is_skipped_and_training_goes_on(monkeypatch):
    tr = LabTrainer(LabConfig(hidden=16))
    real_batch = tr.real_batch
    calls = {"n": 0}

    def poisoned(n):  # the third real batch holds a NaN (a corrupt sample)
        calls["n"] += 1
        x, y = real_batch(n)
        if calls["n"] == 3:
            x = x.clone()
            x[0, 0] = float("nan")
        return x, y

    monkeypatch.setattr(tr, "real_batch", poisoned)
    for _ in range(6):
        tr.step(record=True)
    assert not tr.diverged and tr.step_count == 6 and tr.guard.bad_in_a_row() == 0
    assert len(tr.history["step"]) == 5  # the bad step is not plotted
    assert all(torch.isfinite(p).all() for net in (tr.G, tr.D) for p in net.parameters())
