"""The multi-scale PatchGAN (pix2pixHD): one output tensor, one channel per scale, usable by every image-to-image
family without changes to their losses."""
import pytest
import torch

from engine.jobs import run_inline
from engine.models import get_model
from engine.training import core
from engine.training.config import patch_discriminators
from engine.training.runs import RunFolder


def test_each_scale_has_its_own_weights_and_sees_more_of_the_image():
    assert "multiscale" in patch_discriminators()
    d = get_model("multiscale", ndf=8)
    out = d(torch.rand(2, 3, 128, 128))
    assert out.shape == (2, 2, 14, 14)
    a, b = d.scales
    assert a.model[0].weight.data_ptr() != b.model[0].weight.data_ptr()
    # the second scale's output depends on pixels far apart (the whole 128 px face); the first scale's does not
    # (without normalisation: instance norm's statistics span the whole map at every scale)
    d = get_model("multiscale", ndf=8, norm="none")
    x = torch.zeros(1, 3, 128, 128, requires_grad=True)
    d(x)[0, 0, 7, 7].backward()  # the centre output of the full-size scale: a 70 px window
    assert x.grad[..., :12, :12].abs().sum() == 0 and x.grad[..., 60:68, 60:68].abs().sum() > 0
    x.grad = None
    d(x)[0, 1, 7, 7].backward()  # the half-size scale at the same place reaches the corners
    assert x.grad[..., :12, :12].abs().sum() > 0
    assert get_model("multiscale", ndf=8, input_nc=6, num_D=3)(torch.rand(1, 6, 128, 128)).shape[1] == 3
    with pytest.raises(ValueError):
        get_model("multiscale", num_D=0)


@pytest.mark.parametrize("family,extra", [("cut", {"mode": "fastcut"}), ("cyclegan", {}), ("pix2pix", {})])
def test_families_train_with_it(family, extra, tmp_path, image_factory):
    for d in ("A", "B"):
        (tmp_path / d).mkdir()
        for i in range(4):
            image_factory(f"{d}/{i}.png", w=64, h=64, seed=i + (10 if d == "B" else 0))
    if family == "pix2pix":
        data = dict(data=str(tmp_path / "A"), paired_format="sketch")
    else:
        data = dict(data_a=str(tmp_path / "A"), data_b=str(tmp_path / "B"))
    cfg = core.build_config(family, "tiny", out_dir=str(tmp_path / "run"), device="cpu", steps=3,
                            discriminator="multiscale", diffaug="color,translation", **data, **extra)
    res = run_inline(core.train_task, cfg)
    assert res.step == 3
    last = RunFolder(res.run_dir).read_metrics()[-1]
    assert all(torch.isfinite(torch.tensor(float(v))) for k, v in last.items() if k.startswith("D"))
