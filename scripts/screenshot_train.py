"""Render the Train page while a tiny run trains and save a PNG: ``python scripts/screenshot_train.py A B out.png``.

Uses a throw-away GANSTUDIO_HOME so nothing of the user's is touched; works offscreen (QT_QPA_PLATFORM=offscreen)
or under ``xvfb-run -a``."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _screenshot_util import open_page, poll  # noqa: E402


def main() -> int:
    a, b, out = sys.argv[1:4]
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    from PySide6.QtCore import QTimer

    app, win, page = open_page("train")
    page.box_a.set_folder(a)
    page.box_b.set_folder(b)
    page.settings.select_preset("tiny")
    page.settings.steps.setValue(steps * 4)
    page.settings.name.setText("face2anime-demo")
    state = {"started": False}

    def tick() -> bool:
        if not state["started"] and page.start_btn.isEnabled():
            state["started"] = True
            page.start()
        sample = page.sample_label.pixmap()
        if state["started"] and page.steps_done >= steps and sample is not None and not sample.isNull():
            win.grab().save(out)
            page.cancel(confirm=False)
            QTimer.singleShot(3000, app.quit)
            return True
        return False

    return poll(app, tick, 500, out)


if __name__ == "__main__":
    raise SystemExit(main())
