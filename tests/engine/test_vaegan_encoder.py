"""VAE-GAN in latent editing: the decoder is a z-space generator, its encoder embeds photos in one pass."""
from __future__ import annotations

import numpy as np
import pytest

from engine.editing.projection import ProjectConfig
from engine.editing.session import LatentSession, ViewState
from engine.errors import ConfigError
from engine.imageio import load_image
from engine.library import ModelLibrary
from tests.lab_models import VAE_KW, save_tiny_vaegan


@pytest.fixture
def vae(_isolated_home):
    return save_tiny_vaegan(_isolated_home / "models")


def photo(image_factory):
    return load_image(image_factory("face.png", w=48, h=40)).to_uint8().rgb


def test_encoder_embedding_is_instant_and_deterministic(vae, image_factory):
    session = LatentSession.open(ModelLibrary(), vae[0])
    assert session.encoder is not None and session.encoder_problem == ""
    assert not session.model.has_w and session.model.resolution == VAE_KW["image_size"]
    rgb = photo(image_factory)
    res = session.embed(rgb, "photo face.png")
    assert res.method == "encoder" and res.losses == []
    assert res.latent.code.shape == (1, VAE_KW["z_dim"]) and not res.latent.truncate
    assert res.reconstruction.shape == res.target.shape == (32, 32, 3)
    assert 0 < res.mse < 1 and res.psnr > 0
    again = session.embed(rgb)
    assert np.array_equal(again.latent.code.numpy(), res.latent.code.numpy())
    shown = session.render(ViewState(res.latent, psi=0.5))  # truncation does not move an embedded photo
    assert np.array_equal(shown, res.reconstruction)
    other = session.embed(np.ascontiguousarray(rgb[::-1, ::-1]))
    assert not np.array_equal(other.latent.code.numpy(), res.latent.code.numpy())


def test_projection_starts_from_the_encoder(vae, image_factory):
    session = LatentSession.open(ModelLibrary(), vae[0])
    rgb = photo(image_factory)
    inst = session.embed(rgb)
    proj = session.project(rgb, ProjectConfig(steps=10, use_features=False, lr=0.05))
    assert proj.method == "optimisation" and len(proj.losses) == 10
    assert proj.mse <= inst.mse * 1.05  # refining the encoder's guess does not make it worse


def test_missing_encoder_is_reported_and_embedding_refused(vae, _isolated_home, image_factory):
    (_isolated_home / "models" / "tinyvae" / "encoder.safetensors").unlink()
    session = LatentSession.open(ModelLibrary(), vae[0])
    assert session.encoder is None and "could not be found" in session.encoder_problem
    with pytest.raises(ConfigError, match="could not be found"):
        session.embed(photo(image_factory))


def test_generator_without_partner_has_no_encoder(_isolated_home, image_factory):
    from tests.export_models import make_library

    lib = make_library(_isolated_home / "lib", ids=["tiny-dcgan"])
    session = LatentSession.open(lib, "tiny-dcgan")
    assert session.encoder is None and session.encoder_problem == ""
    with pytest.raises(ConfigError, match="has no encoder"):
        session.embed(photo(image_factory))


def test_encoder_of_another_size_is_refused(_isolated_home):
    from engine.editing.encoder import PhotoEncoder
    from engine.models import get_model

    session = LatentSession.open(ModelLibrary(), save_tiny_vaegan(_isolated_home / "models")[0])
    with pytest.raises(ConfigError, match="do not belong together"):
        PhotoEncoder(get_model("vaegan_encoder", image_size=32, z_dim=5, width=8), session.model, "odd")


@pytest.mark.parametrize("method", ["sefa", "ganspace"])
def test_directions_edit_an_embedded_photo(vae, image_factory, method):
    session = LatentSession.open(ModelLibrary(), vae[0])
    res = session.embed(photo(image_factory))
    ds = session.compute_directions(method, k=4)
    assert len(ds) == 4 and ds.space == "z"
    base = session.render(ViewState(res.latent, alphas=[0.0] * 4))
    edited = session.render(ViewState(res.latent, alphas=[2.0, 0, 0, 0]))
    assert np.array_equal(base, res.reconstruction)
    assert np.abs(edited.astype(int) - base).mean() > 0.5
