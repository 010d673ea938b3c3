"""Render the Train page while a tiny run trains and save a PNG: ``python scripts/screenshot_train.py A B out.png``.

Uses a throw-away GANSTUDIO_HOME so nothing of the user's is touched; works offscreen (QT_QPA_PLATFORM=offscreen)
or under ``xvfb-run -a``."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    a, b, out = sys.argv[1:4]
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    home = tempfile.mkdtemp(prefix="ganstudio-shot-")
    os.environ["GANSTUDIO_HOME"] = home
    os.environ["GANSTUDIO_SETTINGS"] = str(Path(home) / "settings.ini")
    import torch

    torch.set_num_threads(1)
    from PySide6.QtCore import QTimer

    from app.main import make_app
    from app.main_window import MainWindow

    app = make_app()
    win = MainWindow()
    win.resize(1400, 900)
    win.show()
    page = win.show_page("train")
    page.box_a.set_folder(a)
    page.box_b.set_folder(b)
    page.settings.select_preset("tiny")
    page.settings.steps.setValue(steps * 4)
    page.settings.name.setText("face2anime-demo")
    state = {"started": False}

    def tick() -> None:
        if not state["started"] and page.start_btn.isEnabled():
            state["started"] = True
            page.start()
        sample = page.sample_label.pixmap()
        if state["started"] and page.steps_done >= steps and sample is not None and not sample.isNull():
            win.grab().save(out)
            page.cancel()
            QTimer.singleShot(3000, app.quit)
            return
        QTimer.singleShot(500, tick)

    QTimer.singleShot(500, tick)
    app.exec()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
