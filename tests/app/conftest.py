"""GUI fixtures: a main window on an isolated library with a tiny, fast model."""
from __future__ import annotations

import pytest
import torch

from engine.library import ModelLibrary, model_meta, save_model
from engine.models import get_model


@pytest.fixture
def tiny_model_id(_isolated_home):
    torch.manual_seed(0)
    net = get_model("resnet_6blocks", ngf=8)
    meta = model_meta(id="tiny", name="Tiny test model", family="cyclegan", task="translate", arch="resnet_6blocks",
                      arch_kwargs={"ngf": 8}, description="a small random generator for tests")
    save_model(_isolated_home / "models" / "tiny" / "model.safetensors", net, meta)
    return "tiny"


@pytest.fixture
def window(qtbot, _isolated_home):
    from app.main_window import MainWindow

    win = MainWindow(library=ModelLibrary())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


@pytest.fixture
def open_window(qtbot, _isolated_home):
    """A factory for main windows on the same profile: close one and open another to test what a restart keeps."""
    from app.main_window import MainWindow

    def _open():
        win = MainWindow(library=ModelLibrary())
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        return win

    return _open
