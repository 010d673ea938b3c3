"""Adding a network or a training family is one file: registering it is enough for it to appear in the CLI help and
in the Train page's choices (the lists are read from the registries, never typed by hand)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from app.cli import build_parser
from engine.config import option, options_of
from engine.registry import MODELS, register_model
from engine.training import core
from engine.training.config import TrainConfig


class ToyGenerator(torch.nn.Module):
    size_multiple = 4

    def __init__(self, ngf: int = 8, norm: str = "instance", use_dropout: bool = False):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x):
        return torch.tanh(self.conv(x))


@pytest.fixture
def toy_generator():
    register_model("toy_gen", role="generator", task="translate", size_multiple=4)(ToyGenerator)
    yield "toy_gen"
    MODELS.unregister("toy_gen")


@dataclass
class ToyConfig(TrainConfig):
    family: str = "toy"
    data: str = option("", "folder of toy images")
    wiggle: float = option(0.5, "how much the toy wiggles")


class ToyTrainer(core.Trainer):
    """Toy family: proves that a family plugs in by registering itself."""

    family, config_cls = "toy", ToyConfig
    methods = (("toy", "Toy: wiggles folder A towards folder B", {"wiggle": 2.0}),)

    @classmethod
    def presets(cls):
        return {"tiny": {"steps": 3}}


@pytest.fixture
def toy_family():
    core.register_family(ToyTrainer)
    yield "toy"
    core.FAMILIES.unregister("toy")


def help_of(*argv) -> str:
    parser = build_parser("train")
    action = next(a for a in parser._actions if a.dest == "command").choices["train"]
    for name in argv:
        action = next(a for a in action._actions if a.dest == "family").choices[name]
    return action.format_help()


def test_a_registered_generator_appears_in_the_cli_and_the_config(toy_generator):
    assert "toy_gen" in help_of("cyclegan") and "toy_gen" in help_of("pix2pix")
    cfg = core.build_config("cyclegan", "tiny", generator="toy_gen", data_a="a", data_b="b", out_dir="x")
    assert cfg.generator == "toy_gen"
    assert core.get_trainer("cyclegan").config_cls is type(cfg)


def test_an_unregistered_generator_is_refused_with_the_known_names():
    from engine.errors import ConfigError

    with pytest.raises(ConfigError, match="generator must be one of .*resnet_9blocks"):
        core.build_config("cyclegan", "tiny", generator="toy_gen", data_a="a", data_b="b", out_dir="x")


def test_a_registered_family_appears_in_the_cli_with_options_from_its_config(toy_family):
    families = help_of()
    assert "toy" in families and "Toy family: proves" in families
    text = help_of("toy")
    assert "--wiggle WIGGLE" in text and "how much the toy wiggles (default 0.5)" in text
    assert "--steps" in text and "--gan-loss" in text  # the shared options of the base config
    args = build_parser("train").parse_args(["train", "toy", "--data", "d", "--wiggle", "2", "--out", "o"])
    from app.cli.train import make_config

    cfg = make_config(args)
    assert isinstance(cfg, ToyConfig) and cfg.wiggle == 2.0 and cfg.data == "d"
    assert [o.name for o in options_of(ToyConfig)][-2:] == ["data", "wiggle"]


def test_a_registered_family_appears_in_the_train_pages_methods(toy_family, qtbot):
    from app.widgets.train_settings import TrainSettings, method_presets

    s = TrainSettings(method_presets(), [])
    qtbot.addWidget(s)
    labels = [s.method.itemText(i) for i in range(s.method.count())]
    assert labels[0].startswith("FastCUT") and "Toy: wiggles folder A towards folder B" in labels
    s.method.setCurrentIndex(s.method.findData("toy"))
    assert s.family() == "toy" and s.values()["wiggle"] == 2.0
    assert not s.adv_form.isRowVisible(s.lambda_cyc)  # the toy config has no cycle weight


def toy_metric_fn(data):
    """Toy metric: how many generated images there are."""
    return {"toy_count": float(len(data.fake))}


@pytest.fixture
def toy_metric():
    from engine.registry import METRICS, register_metric

    register_metric("toy", label="Toy count", lower_is_better=False, keys=("toy_count",), quick=True)(toy_metric_fn)
    yield "toy"
    METRICS.unregister("toy")


def eval_help() -> tuple:
    parser = build_parser("eval")
    sub = next(a for a in parser._actions if a.dest == "command").choices["eval"]
    metrics = next(a for a in sub._actions if a.dest == "metrics")
    return sub.format_help(), metrics.default


def test_the_eval_metrics_come_from_the_registry(qtbot):
    """`ganstudio eval` offers every registered metric and computes the quick set (FID, KID) unless told; the
    Evaluate page has a box per metric, all on but IS."""
    from app.widgets.metric_options import MetricOptionsBox
    from engine.metrics import EvalConfig, TrainingEvaluator

    text, default = eval_help()
    assert "comma-separated: fid,kid,is,pr,diversity,mode_collapse" in text and default == "fid,kid"
    assert EvalConfig(fake=("gen",)).metrics == ("fid", "kid", "pr", "diversity", "mode_collapse")
    assert TrainingEvaluator([]).metrics == ("fid", "kid")
    box = MetricOptionsBox()
    qtbot.addWidget(box)
    assert list(box.checks) == ["fid", "kid", "is", "pr", "diversity", "mode_collapse"]
    assert not box.checks["is"].isChecked() and box.checks["fid"].isChecked()


def test_a_registered_metric_appears_in_the_cli_the_evaluate_page_and_the_defaults(toy_metric, qtbot):
    from app.widgets.metric_options import MetricOptionsBox
    from engine.metrics import EvalConfig, TrainingEvaluator

    text, default = eval_help()
    assert "fid,kid,is,pr,diversity,mode_collapse,toy" in text and default == "fid,kid,toy"
    assert EvalConfig(fake=("gen",)).metrics[-1] == "toy" and TrainingEvaluator([]).metrics == ("fid", "kid", "toy")
    box = MetricOptionsBox()
    qtbot.addWidget(box)
    assert box.checks["toy"].text() == "Toy count" and box.checks["toy"].isChecked()
    assert box.checks["toy"].toolTip() == "Toy metric: how many generated images there are."


class ToyMinibatch(torch.nn.Module):
    """A toy minibatch layer: appends the batch mean of the first feature."""

    def __init__(self, in_features: int):
        super().__init__()

    out_extra = 1

    def forward(self, h, context=None):
        ref = h if context is None else context
        return torch.cat([h, ref[:, :1].mean().expand(h.shape[0], 1)], 1)


def test_the_labs_minibatch_layers_come_from_the_registry(qtbot):
    from app.widgets.lab_panel import SideSettings
    from engine.lab.config import LabConfig, minibatch_choices
    from engine.lab.nets import build_pair
    from engine.registry import MINIBATCH_LAYERS, register_minibatch_layer

    assert minibatch_choices() == ("", "discrimination", "stddev")
    register_minibatch_layer("toy_mean", title="toy batch mean")(ToyMinibatch)
    try:
        cfg = LabConfig(minibatch="toy_mean")
        cfg.validate()
        assert cfg.title() == "Non-saturating + toy batch mean"
        _, d = build_pair(cfg, data_dim=2)
        assert isinstance(d.mb, ToyMinibatch) and d(torch.zeros(4, 2)).shape == (4,)
        side = SideSettings()
        qtbot.addWidget(side)
        items = [(side.minibatch.itemText(i), side.minibatch.itemData(i)) for i in range(side.minibatch.count())]
        assert items == [("None", ""), ("Minibatch discrimination", "discrimination"),
                         ("Minibatch std-dev", "stddev"), ("Toy batch mean", "toy_mean")]
        side.minibatch.setCurrentIndex(3)
        assert side.config("ring8").minibatch == "toy_mean"
    finally:
        MINIBATCH_LAYERS.unregister("toy_mean")
    from engine.errors import ConfigError

    with pytest.raises(ConfigError, match="minibatch"):
        LabConfig(minibatch="toy_mean").validate()
