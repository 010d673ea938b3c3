"""Networks at their published sizes; importers for junyanz and vintagify weights (round trip)."""
from __future__ import annotations

import pytest
import torch

from engine.errors import CheckpointError
from engine.importers import import_file
from engine.library import ModelLibrary, build_model
from engine.models.networks import count_params
from engine.models import get_model
from engine.registry import MODELS


def test_published_parameter_counts():
    assert count_params(get_model("resnet_9blocks")) == 11_378_179
    assert round(count_params(get_model("unet_256")) / 1e6, 3) == 54.414
    assert round(count_params(get_model("basic")) / 1e6, 3) == 2.765
    assert {"resnet_9blocks", "resnet_6blocks", "unet_128", "unet_256", "basic", "n_layers", "pixel"} <= set(MODELS)


def test_patchgan_receptive_output_shape():
    d = get_model("basic", ndf=8)
    assert d(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)


def _junyanz_state(net):
    """What junyanz saves: DataParallel 'module.' prefix, and InstanceNorm running stats from old torch versions."""
    sd = {f"module.{k}": v.clone() for k, v in net.state_dict().items()}
    sd["module.model.2.running_mean"] = torch.zeros(8)
    sd["module.model.2.running_var"] = torch.ones(8)
    return sd


def test_junyanz_resnet_import_round_trip(tmp_path):
    torch.manual_seed(1)
    net = get_model("resnet_9blocks", ngf=8).eval()
    p = tmp_path / "latest_net_G_A.pth"
    torch.save(_junyanz_state(net), p)
    imp = import_file(p)
    assert imp.arch == "resnet_9blocks" and imp.arch_kwargs["ngf"] == 8 and imp.arch_kwargs["norm"] == "instance"
    lib = ModelLibrary()
    info = lib.import_model(p, "My horse2zebra")
    assert info.source == "user" and info.id == "my-horse2zebra"
    again = lib.load(lib.resolve("my-horse2zebra")).module
    x = torch.rand(1, 3, 36, 44) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(net(x), again(x), atol=1e-6)
    assert [m.id for m in lib.list()].count("my-horse2zebra") == 1


def test_import_never_replaces_a_file_in_a_library_folder_it_cannot_read(tmp_path):
    """A damaged model (listed as unreadable) or anything else in a folder of the user's library keeps its folder:
    the import takes the next free name."""
    net = get_model("resnet_6blocks", ngf=4)
    p = tmp_path / "g.pth"
    torch.save(net.state_dict(), p)
    lib = ModelLibrary()
    broken = lib.user_dir / "mine" / "model.safetensors"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"\x00" * 7)  # truncated
    (lib.user_dir / "mine-2").mkdir()
    (lib.user_dir / "mine-2" / "notes.txt").write_text("precious")
    info = lib.import_model(p, "mine")
    assert info.id == "mine-3" and info.path == lib.user_dir / "mine-3" / "model.safetensors"
    assert broken.read_bytes() == b"\x00" * 7 and (lib.user_dir / "mine-2" / "notes.txt").read_text() == "precious"


def test_junyanz_resnet_with_dropout_and_6_blocks(tmp_path):
    net = get_model("resnet_6blocks", ngf=4, use_dropout=True)
    p = tmp_path / "g.pth"
    torch.save(net.state_dict(), p)
    imp = import_file(p)
    assert imp.arch == "resnet_6blocks" and imp.arch_kwargs["use_dropout"] is True


def test_vintagify_import_matches_original_layout(shared):
    imp = import_file(shared / "weights" / "cyclegan_vintagify_G_A2B" / "G_A2B_epoch33.pth")
    assert imp.arch == "resnet_9blocks" and imp.arch_kwargs["norm"] == "instance_affine"
    net = imp.build()
    assert count_params(net) == 11_388_675
    with torch.no_grad():
        y = net(torch.zeros(1, 3, 64, 64))
    assert y.shape == (1, 3, 64, 64) and float(y.abs().max()) <= 1


def test_bundled_vintagify_equals_imported_original(shared):
    lib = ModelLibrary()
    info = lib.default()
    assert info.id == "vintagify" and info.source == "bundled" and info.card is not None
    bundled = lib.load(info).module
    orig = import_file(shared / "weights" / "cyclegan_vintagify_G_A2B" / "G_A2B_epoch33.pth").build()
    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        assert float((bundled(x) - orig(x)).abs().max()) < 2e-2  # fp16 weights


def test_unsupported_and_unsafe_files(tmp_path):
    p = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, p)
    with pytest.raises(CheckpointError, match="not a generator GAN Studio can import"):
        import_file(p)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "evil.pth"
    torch.save({"x": Evil()}, bad)
    with pytest.raises(CheckpointError, match="refuses"):
        import_file(bad)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="not a readable PyTorch"):
        import_file(garbage)


def test_mismatched_shapes_in_foreign_file(tmp_path):
    sd = get_model("resnet_9blocks", ngf=8).state_dict()
    sd["model.10.conv_block.1.weight"] = torch.zeros(16, 16, 3, 3)
    p = tmp_path / "g.pth"
    torch.save(sd, p)
    with pytest.raises(CheckpointError, match="Shape mismatch"):
        import_file(p)


def test_build_model_requires_arch():
    with pytest.raises(CheckpointError, match="architecture"):
        build_model({}, {})
