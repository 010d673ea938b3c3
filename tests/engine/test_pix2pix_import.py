"""junyanz pix2pix ``latest_net_G.pth`` (unet_256, batch norm, nested ``model.model...`` keys): import round trip,
and eval-mode vs train-mode normalisation at inference."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.errors import CheckpointError
from engine.imageio import LoadedImage
from engine.importers import import_file
from engine.inference import TranslateOptions, Translator
from engine.library import ModelLibrary
from engine.models import get_model

# junyanz key of the innermost down-convolution of unet_256: outermost block -> .1, then six times -> .3
INNERMOST_256 = "model.model.1" + ".model.3" * 6 + ".model.1.weight"


def _trained_unet(arch: str, ngf: int = 8, seed: int = 3) -> torch.nn.Module:
    """A U-Net whose batch-norm running statistics are not the defaults (as after training)."""
    torch.manual_seed(seed)
    net = get_model(arch, ngf=ngf, norm="batch", use_dropout=True)
    side = 256 if arch == "unet_256" else 128
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.rand(2, 3, side, side) * 2 - 1)
    return net.eval()


def _junyanz_file(net: torch.nn.Module, path, *, old_torch: bool = False):
    """What junyanz ``save_networks`` writes: ``net.module.cpu().state_dict()`` (plain keys, BN buffers)."""
    sd = {k: v.clone() for k, v in net.state_dict().items()
          if not (old_torch and k.endswith("num_batches_tracked"))}
    torch.save(sd, path)
    return path


def test_unet_256_round_trip(tmp_path):
    net = _trained_unet("unet_256")
    assert INNERMOST_256 in net.state_dict() and tuple(net.state_dict()[INNERMOST_256].shape) == (64, 64, 4, 4)
    p = _junyanz_file(net, tmp_path / "latest_net_G.pth")
    imp = import_file(p)
    assert (imp.arch, imp.family, imp.source_format) == ("unet_256", "pix2pix", "junyanz-unet")
    assert imp.arch_kwargs == {"input_nc": 3, "output_nc": 3, "ngf": 8, "norm": "batch", "use_dropout": True}
    lib = ModelLibrary()
    info = lib.import_model(p, "facades label2photo")
    assert info.family == "pix2pix" and info.task == "translate" and info.id == "facades-label2photo"
    again = lib.load(lib.resolve(info.id)).module
    x = torch.rand(1, 3, 256, 256) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(net(x), again(x), atol=1e-5)


def test_unet_128_and_old_torch_checkpoint_without_num_batches_tracked(tmp_path):
    net = _trained_unet("unet_128", ngf=4)
    p = _junyanz_file(net, tmp_path / "old_net_G.pth", old_torch=True)
    imp = import_file(p)
    assert imp.arch == "unet_128" and imp.arch_kwargs["ngf"] == 4
    built = imp.build()
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(net(x), built(x), atol=1e-5)


def test_truncated_unet_is_refused_with_the_missing_keys(tmp_path):
    sd = _trained_unet("unet_128", ngf=4).state_dict()
    sd.pop("model.model.1.model.2.running_var")
    p = tmp_path / "broken.pth"
    torch.save(sd, p)
    with pytest.raises(CheckpointError, match="running_var"):
        import_file(p)


def test_eval_and_train_mode_normalisation_at_inference(tmp_path):
    net = _trained_unet("unet_256")
    p = _junyanz_file(net, tmp_path / "latest_net_G.pth")
    lib = ModelLibrary()
    module = lib.load(lib.resolve(str(p))).module
    before = {k: v.clone() for k, v in module.state_dict().items()}
    rng = np.random.default_rng(0)
    img = LoadedImage((rng.random((256, 256, 3)) * 255).astype(np.uint8))
    dev = torch.device("cpu")
    opts = dict(precision="fp32", cpu_bf16=False)
    out_eval = Translator(module, dev, TranslateOptions(norm_mode="eval", **opts)).translate(img).image.rgb
    out_train = Translator(module, dev, TranslateOptions(norm_mode="train", **opts)).translate(img).image.rgb
    # train mode = batch statistics of this one image (junyanz test.py without --eval); dropout stays off
    ref = get_model("unet_256", ngf=8, norm="batch", use_dropout=True)
    ref.load_state_dict(net.state_dict())
    ref.eval()
    for m in ref.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.train()
    with torch.no_grad():
        x = torch.from_numpy(img.float_rgb().transpose(2, 0, 1))[None] * 2 - 1
        want = ((ref(x)[0].clamp(-1, 1) + 1) * 0.5).permute(1, 2, 0).numpy()
    assert np.abs(out_train.astype(float) - np.round(want * 255)).max() <= 1
    assert np.abs(out_eval.astype(float) - out_train.astype(float)).mean() > 1  # the choice matters
    # neither mode changes the (cached, shared) library module: running statistics and mode are untouched
    assert not module.training
    for k, v in module.state_dict().items():
        assert torch.equal(v, before[k]), k
