"""Shared set-up of the screenshot scripts: a main window on a throw-away home, showing one page."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def open_page(name: str, *, size: Tuple[int, int] = (1400, 900), threads: int = 1, keep_home: bool = False):
    """(app, window, page) with the main window shown on page ``name``. The models, runs and settings live in a new
    temporary GANSTUDIO_HOME, so nothing of the user's is touched (``keep_home``: an existing $GANSTUDIO_HOME is used
    for models and runs; the settings file is still a temporary one)."""
    home = tempfile.mkdtemp(prefix="ganstudio-shot-")
    if keep_home:
        os.environ.setdefault("GANSTUDIO_HOME", home)
    else:
        os.environ["GANSTUDIO_HOME"] = home
    os.environ["GANSTUDIO_SETTINGS"] = str(Path(home) / "settings.ini")
    import torch

    torch.set_num_threads(threads)
    from app.main import make_app
    from app.main_window import MainWindow

    app = make_app()
    win = MainWindow()
    win.resize(*size)
    win.show()
    return app, win, win.show_page(name)


def poll(app, step: Callable[[], bool], every_ms: int, out, first_ms: Optional[int] = None) -> int:
    """Runs ``app``, calling ``step()`` every ``every_ms`` ms (the first time after ``first_ms``) until it returns True
    (it has then saved the window and quits the app); says where the screenshot went. The exit status (0)."""
    from PySide6.QtCore import QTimer

    def tick() -> None:
        if not step():
            QTimer.singleShot(every_ms, tick)

    QTimer.singleShot(every_ms if first_ms is None else first_ms, tick)
    app.exec()
    print(f"wrote {out}")
    return 0
