"""``ganstudio export onnx|model|app`` from the command line, and the .safetensors + card export."""
from __future__ import annotations

import json

import pytest
import torch

from app.cli import main
from engine.checkpoint import load_checkpoint
from engine.library import ModelLibrary
from tests.export_models import make_library


@pytest.fixture
def user_models(_isolated_home):
    """The tiny models as the CLI sees them: in the user's model folder."""
    lib = make_library(_isolated_home / "staging", ["tiny-resnet", "noisy-gen", "tiny-dcgan"])
    user = _isolated_home / "models"
    for info in lib.list():
        dest = user / info.id / "model.safetensors"
        dest.parent.mkdir(parents=True)
        dest.write_bytes(info.path.read_bytes())
    return ModelLibrary(user=user)


def test_cli_export_onnx_json(user_models, tmp_path, capsys):
    assert main(["export", "onnx", "tiny-dcgan", "--out", str(tmp_path / "g.onnx"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["export"]["exporter"] == "dynamo" and out["export"]["opset"] == 18
    assert out["parity"]["max_abs_diff"] <= 1e-3 and out["io"]["z_dim"] == 6
    assert (tmp_path / "g.onnx").stat().st_size == out["size"] and (tmp_path / "g.md").exists()


def test_cli_errors_and_exit_codes(user_models, tmp_path, capsys):
    assert main(["export", "onnx", "missing-model", "--out", str(tmp_path / "x.onnx")]) == 2
    assert "No model called 'missing-model'" in capsys.readouterr().err
    assert main(["export", "onnx", "noisy-gen", "--out", str(tmp_path / "n.onnx"), "-q"]) == 1
    assert "does not match the torch model" in capsys.readouterr().err and not (tmp_path / "n.onnx").exists()
    assert main(["export", "app", "tiny-resnet", "--name", "bad name", "--out", str(tmp_path / "a")]) == 2
    assert "must start with a letter" in capsys.readouterr().err
    assert main(["export", "app", "tiny-resnet", "--name", "ok", "--out", str(tmp_path / "a"),
                 "--icon", str(tmp_path / "none.png")]) == 2
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "a").exists()


def test_export_model_file_with_card_round_trips(user_models, tmp_path, capsys):
    assert main(["export", "model", "tiny-resnet", "--out", str(tmp_path / "share")]) == 0
    assert "model card tiny-resnet.md" in capsys.readouterr().out
    f = tmp_path / "share" / "tiny-resnet.safetensors"
    card = (tmp_path / "share" / "tiny-resnet.md").read_text()
    assert card.startswith("# Tiny tiny-resnet") and "resnet_6blocks" in card and "Licence" in card
    ckpt = load_checkpoint(f)
    assert ckpt.meta["exported"]["from"].endswith("tiny-resnet/model.safetensors")
    src = load_checkpoint(user_models.resolve("tiny-resnet").path)
    assert all(torch.equal(ckpt.tensors[k], v) for k, v in src.tensors.items())
    other = ModelLibrary(bundled=tmp_path / "nothing", user=tmp_path / "share")  # dropped into a user's models
    info = other.resolve("tiny-resnet")
    assert info.arch == "resnet_6blocks" and info.card == tmp_path / "share" / "tiny-resnet.md"
    assert other.load(info).module is not None
    assert ModelLibrary(bundled=tmp_path / "nothing", user=tmp_path / "u2").import_model(f).arch == "resnet_6blocks"


def test_two_models_whose_ids_give_one_file_name_are_exported_to_two_files(user_models, tmp_path):
    """Two runs called alike ('dup-a2b' and 'dup-a2b@run') were written to one file: the second replaced the
    first, and the page said it wrote 2 files."""
    import dataclasses

    from engine.export.tasks import ExportBatchConfig, existing_targets, export_batch_task
    from engine.jobs import run_inline

    class Twins(ModelLibrary):
        def resolve(self, ref=None, *, direction="AtoB"):
            info = super().resolve("tiny-resnet" if ref in ("one", "two") else ref, direction=direction)
            return dataclasses.replace(info, id={"one": "dup-a2b", "two": "dup-a2b@run"}.get(ref, info.id))

    lib = Twins(user=user_models.user_dir)
    out = tmp_path / "share"
    cfg = ExportBatchConfig(kind="model", models=("one", "two"), out_dir=str(out))
    res = run_inline(lambda c, ctx: export_batch_task(c, ctx, lib), cfg)
    assert sorted(p.name for p in out.iterdir()) == ["dup-a2b-2.md", "dup-a2b-2.safetensors", "dup-a2b.md",
                                                     "dup-a2b.safetensors"]
    assert len(res.results) == 2
    assert sorted(p.name for p in existing_targets(cfg, lib)) == sorted(p.name for p in out.iterdir())
    (tmp_path / "afile").write_text("x")
    with pytest.raises(Exception, match="is a file"):
        run_inline(lambda c, ctx: export_batch_task(c, ctx, lib),
                   ExportBatchConfig(kind="onnx", models=("one",), out_dir=str(tmp_path / "afile")))
