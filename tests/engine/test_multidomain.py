"""StarGAN models in translation: the target domain conditions the generator; wrong domains are clear errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.imageio import load_image
from engine.jobs import run_inline
from engine.library import ModelLibrary
from engine.multidomain import domain_names, resolve_domain
from engine.translate import TranslateConfig, translate_task
from tests.lab_models import DOMAINS, save_tiny_stargan

from .test_cli import cli


@pytest.fixture
def star(_isolated_home):
    return save_tiny_stargan(_isolated_home / "models")


def translate(model, img, out, domain=""):
    cfg = TranslateConfig(model=model, inputs=(str(img),), out_dir=str(out), domain=domain)
    return run_inline(translate_task, cfg)


def test_two_domains_give_different_outputs(star, image_factory, tmp_path):
    img = image_factory("a.png", w=40, h=28)
    s1 = translate(star, img, tmp_path / "monet", "monet")
    s2 = translate(star, img, tmp_path / "vangogh", "VanGogh")  # names are case-insensitive
    a = load_image(s1.translated[0].output).rgb.astype(int)
    b = load_image(s2.translated[0].output).rgb.astype(int)
    assert a.shape == b.shape == (28, 40, 3)
    assert np.abs(a - b).mean() > 0.5
    assert "'monet'" in s1.model and "'vangogh'" in s2.model
    again = translate(star, img, tmp_path / "again", "monet")  # deterministic
    assert np.array_equal(load_image(again.translated[0].output).rgb.astype(int), a)


def test_default_domain_and_names(star):
    info = ModelLibrary().resolve(star)
    assert info.task == "translate_multi" and domain_names(info.meta) == list(DOMAINS)
    assert resolve_domain(info, "") == 1  # the second domain: the first folder is usually the source photos
    assert resolve_domain(info, "3") == 2  # 1-based numbers work too


def test_unknown_domain_lists_valid_ones(star, image_factory, tmp_path):
    with pytest.raises(ConfigError, match="no domain called 'cezanne'.*'photo', 'monet', 'vangogh'"):
        translate(star, image_factory("a.png"), tmp_path / "o", "cezanne")


def test_domain_for_single_domain_model_is_an_error(tiny_translate_model, image_factory, tmp_path):
    with pytest.raises(ConfigError, match="takes no target domain"):
        translate(tiny_translate_model, image_factory("a.png"), tmp_path / "o", "monet")


@pytest.fixture
def tiny_translate_model(_isolated_home):
    from engine.library import model_meta, save_model
    from engine.models import get_model

    net = get_model("resnet_6blocks", ngf=4)
    meta = model_meta(id="plain", name="Plain", family="cyclegan", task="translate", arch="resnet_6blocks",
                      arch_kwargs={"ngf": 4})
    save_model(_isolated_home / "models" / "plain" / "model.safetensors", net, meta)
    return "plain"


def test_cli_domain(star, tiny_translate_model, image_factory, tmp_path):
    img = image_factory("a.png", w=32, h=32)
    r = cli("translate", "--model", star, "--domain", "monet", "--out", tmp_path / "o", "--json", img)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert "'monet'" in out["model"] and len(out["translated"]) == 1
    r = cli("translate", "--model", star, "--out", tmp_path / "d", img)  # default domain
    assert r.returncode == 0, r.stderr
    assert "'monet'" in r.stdout
    r = cli("translate", "--model", star, "--domain", "cezanne", "--out", tmp_path / "x", img)
    assert r.returncode == 2 and "Valid domains: 'photo', 'monet', 'vangogh'" in r.stderr
    assert "Traceback" not in r.stderr
    r = cli("translate", "--model", tiny_translate_model, "--domain", "monet", "--out", tmp_path / "y", img)
    assert r.returncode == 2 and "takes no target domain" in r.stderr
