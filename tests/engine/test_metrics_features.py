"""The FID Inception network and feature pipeline: weights conversion and cache, agreement with the TorchScript
original, identical preprocessing for files and arrays, feature cache invalidation, bad files, too few images, IS."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from engine.errors import DataError
from engine.metrics import MetricOptions, compute_metrics, image_set, quantize, weights
from engine.metrics.features import FeatureExtractor
from tests.metrics_support import _fid_cache_file, fid_extractor, fid_weights, make_folder  # noqa: F401


def test_converted_weights_are_a_plain_state_dict_loaded_weights_only(fid_weights):
    blob = torch.load(str(fid_weights), map_location="cpu", weights_only=True)
    assert blob["format"] == weights.CACHE_FORMAT and blob["source_sha256"] == weights.FID_ARCHIVE_SHA256
    state = blob["state_dict"]
    assert sum(1 for k in state if k.endswith(".conv.weight")) == 94
    assert sum(v.numel() for k, v in state.items() if not k.endswith(("bn.weight", "num_batches_tracked"))) \
        == 21_802_784  # the archive's parameter count
    assert torch.equal(state["Mixed_7c.branch_pool.bn.weight"], torch.ones(192))  # TF batch norm has no scale
    assert weights.fid_state_dict().keys() == state.keys()  # served from the cache


def test_a_wrong_archive_is_refused_with_a_clear_message(tmp_path):
    bogus = tmp_path / "default_1.pt"
    bogus.write_bytes(b"not the archive")
    with pytest.raises(weights.WeightsUnavailable, match="not the expected FID Inception archive"):
        weights.convert_archive(bogus)


def test_features_match_the_torchscript_original(fid_extractor):
    """Our network (batch norm folded, channels_last) against the archive's own TorchScript forward."""
    import warnings

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(2, 299, 299, 3), dtype=np.uint8)
    ours, _ = fid_extractor.forward(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jit = torch.jit.load(str(weights.locate_fid_archive()), map_location="cpu").eval()
    with torch.inference_mode():
        ref = jit((torch.from_numpy(x).permute(0, 3, 1, 2).float() - 128) / 128).numpy()
    assert ours.shape == (2, 2048)
    assert np.abs(ours - ref).max() < 1e-4 * max(1.0, np.abs(ref).max())
    assert np.abs(ours - ref).mean() < 1e-6 * 10


def test_files_and_arrays_get_identical_preprocessing(tmp_path, fid_extractor):
    folder = make_folder(tmp_path / "imgs", 4, "circles", seed=1, size=80)
    from_files = fid_extractor.extract(image_set(folder)).features
    arr = np.stack([image_set(folder).load_raw(i) for i in range(4)])
    from_array = fid_extractor.extract(image_set(arr)).features
    np.testing.assert_array_equal(from_files, from_array)
    # generator output: float in [-1, 1] -> quantised like a saved PNG
    t = torch.from_numpy(arr).permute(0, 3, 1, 2).float() / 127.5 - 1
    np.testing.assert_array_equal(quantize(t), arr)
    with pytest.raises(DataError, match="quantize"):
        image_set(arr.astype(np.float32))


def test_real_folder_features_are_cached_and_invalidated_when_files_change(tmp_path, fid_extractor):
    import cv2

    from engine.metrics import cache
    from engine.metrics.api import features_for

    real = make_folder(tmp_path / "real", 3, "circles", seed=2)
    first = features_for(fid_extractor, image_set(real))
    again = features_for(fid_extractor, image_set(real))
    assert not first.from_cache and again.from_cache
    np.testing.assert_array_equal(first.features, again.features)
    assert len(list(cache.cache_dir().glob("*.npz"))) == 1
    # overwrite one image with another picture: a different content hash, so features are recomputed
    victim = sorted(real.glob("*.png"))[0]
    cv2.imwrite(str(victim), np.full((64, 64, 3), 200, np.uint8))
    changed = features_for(fid_extractor, image_set(real))
    assert not changed.from_cache
    assert not np.array_equal(changed.features[0], first.features[0])
    np.testing.assert_allclose(changed.features[1:], first.features[1:], rtol=1e-5, atol=1e-5)
    assert len(list(cache.cache_dir().glob("*.npz"))) == 1  # the stale entry was removed
    shutil.copy(victim, real / "added.png")  # a new file also invalidates
    assert not features_for(fid_extractor, image_set(real)).from_cache
    assert features_for(fid_extractor, image_set(real)).from_cache


def test_too_few_images_gives_a_message_and_advises_kid(tmp_path, fid_extractor):
    real = make_folder(tmp_path / "real", 10, "circles", seed=3)
    fake = make_folder(tmp_path / "fake", 10, "boxes", seed=4)
    res = compute_metrics(real, fake, ("fid", "kid", "pr"), extractor=fid_extractor, options=None)
    assert "fid" not in res
    msg = res["messages"]["fid"]
    assert "at least 50 images" in msg and "real: 10, generated: 10" in msg and "Use KID" in msg
    assert res["kid"] > 0 and res["kid_std"] >= 0 and res["n_real"] == 10 and res["n_fake"] == 10
    assert 0 <= res["precision"] <= 1 and 0 <= res["recall"] <= 1
    assert "Inception-v3" in res["extractor"] and "bicubic" in res["resize"]
    tiny = compute_metrics(real, np.stack([image_set(fake).load_raw(i) for i in range(3)]), ("kid", "diversity"),
                           extractor=fid_extractor)  # real features now come from the cache
    assert "kid" not in tiny and "at least 10 images" in tiny["messages"]["kid"]
    assert "at least 4 images" in tiny["messages"]["diversity"] and tiny["real_features_cached"]


def test_a_corrupt_file_is_skipped_and_reported(tmp_path, fid_extractor):
    fake = make_folder(tmp_path / "fake", 5, "boxes", seed=6)
    good = sorted(fake.glob("*.png"))[0].read_bytes()
    (fake / "truncated.png").write_bytes(good[: len(good) // 2])
    (fake / "notes.png").write_text("this is not a picture")
    res = compute_metrics(None, fake, ("diversity",), extractor=fid_extractor)
    assert res["n_fake"] == 5 and res["diversity_fake"] > 0
    reasons = {s["path"].rsplit("/", 1)[-1]: s["reason"] for s in res["skipped"]}
    assert "truncated" in reasons["truncated.png"] and "not an image" in reasons["notes.png"]


def test_inception_score_is_unavailable_without_the_full_weights(tmp_path, fid_extractor, monkeypatch):
    real = make_folder(tmp_path / "real", 2, "circles", seed=7)
    res = compute_metrics(real, real, ("is",), extractor=fid_extractor)
    assert "is" not in res and "pt_inception-2015-12-05" in res["messages"]["is"]
    bogus = tmp_path / weights.IS_WEIGHTS_NAME
    torch.save({"fc.weight": torch.zeros(3)}, bogus)
    monkeypatch.setenv(weights.IS_WEIGHTS_ENV, str(bogus))
    net, status = weights.build_network(torch.device("cpu"))
    assert net.fc is None and "sha256 starts with" in status


def test_inception_score_with_verified_full_weights(tmp_path, fid_weights, monkeypatch):
    """A file with the right shapes whose checksum the test declares expected: logits are used, IS is a number."""
    state = dict(weights.fid_state_dict())
    g = torch.Generator().manual_seed(0)
    state["fc.weight"] = torch.randn(1008, 2048, generator=g) * 0.05
    state["fc.bias"] = torch.zeros(1008)
    f = tmp_path / "full.pth"
    torch.save(state, f)
    monkeypatch.setattr(weights, "IS_WEIGHTS_SHA256_PREFIX", weights.sha256_of(f)[:8])
    ex = FeatureExtractor("cpu", is_weights=str(f), batch_size=8)
    assert ex.is_status == "" and ex.has_logits
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(10, 40, 40, 3), dtype=np.uint8)
    res = compute_metrics(None, imgs, ("is",), extractor=ex, options=MetricOptions(is_splits=1))
    assert res["is"] >= 1.0 and res["is_std"] >= 0
    wrong = dict(state, **{"fc.weight": torch.zeros(10, 2048)})
    torch.save(wrong, f)
    monkeypatch.setattr(weights, "IS_WEIGHTS_SHA256_PREFIX", weights.sha256_of(f)[:8])
    with pytest.raises(Exception, match="shapes"):
        weights.load_is_weights(f)


def test_domain_classifier_from_folders_gives_labelled_diversity_scores(tmp_path, fid_extractor):
    from types import SimpleNamespace

    from engine.metrics.classifier import ClassifierConfig, train_classifier_task

    a = make_folder(tmp_path / "trainA", 4, "circles", seed=8)
    b = make_folder(tmp_path / "trainB", 4, "boxes", seed=9)
    cfg = ClassifierConfig(folders={"photos": str(a), "drawings": str(b)}, out=str(tmp_path / "clf.safetensors"),
                           name="A vs B")
    out = train_classifier_task(cfg, None, SimpleNamespace(get=lambda device=None, is_weights="": fid_extractor))
    assert (tmp_path / "clf.safetensors").is_file() and "A vs B (2 classes: photos, drawings" in out["label"]
    res = compute_metrics(None, b, ("diversity",), extractor=fid_extractor,
                          options=MetricOptions(classifier=out["path"]))
    assert res["classifier"] == out["label"] and "logistic regression on Inception features" in res["classifier"]
    assert 0 <= res["classifier_class_entropy"] <= res["classifier_max_entropy"] == pytest.approx(np.log(2))
    assert 1.0 <= res["classifier_score"] <= 2.0
