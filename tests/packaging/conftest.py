"""Fixtures for the standalone translator: its sources on sys.path, a bundle folder made from tiny exported models
(what the app builder puts in ``_internal``), and one real PyInstaller build per test session."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRANSLATOR = ROOT / "packaging" / "translator"
if str(TRANSLATOR) not in sys.path:
    sys.path.insert(0, str(TRANSLATOR))


def stage_bundle(dest: Path, library, ids) -> Path:
    """models/*.onnx + index.json + app.json + icon, as the app builder stages them."""
    from engine.export.app_builder import BuildAppConfig, stage_models, write_app_data, default_icon
    from engine.jobs import run_inline

    cfg = BuildAppConfig(models=tuple(ids), name="testapp", out_dir=str(dest), title="Test App")
    run_inline(lambda c, ctx: stage_models([library.resolve(i) for i in ids], library, dest / "models", c, ctx),
               cfg)
    write_app_data(dest, cfg, default_icon(), json.loads((dest / "models" / "index.json").read_text()))
    return dest


@pytest.fixture(scope="session")
def tiny_library(tmp_path_factory):
    from tests.export_models import make_library

    return make_library(tmp_path_factory.mktemp("pkg-models"), ["tiny-resnet", "tiny-style"])


@pytest.fixture(scope="session")
def source_bundle(tmp_path_factory, tiny_library):
    return stage_bundle(tmp_path_factory.mktemp("bundle"), tiny_library, ["tiny-resnet", "tiny-style"])


@pytest.fixture
def bundle_env(source_bundle, monkeypatch):
    monkeypatch.setenv("GSTRANSLATOR_BUNDLE", str(source_bundle))
    return source_bundle


def build_venv_for_tests() -> Path:
    """Reused across test sessions on one machine (created on first use, about half a minute)."""
    env = os.environ.get("GANSTUDIO_TEST_BUILD_VENV")
    return Path(env) if env else Path(tempfile.gettempdir()) / f"ganstudio-test-build-venv-{os.getuid()}"
