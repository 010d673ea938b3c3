"""Render the Draw page with a sketch made from a sample photo plus a few drawn strokes, and save a PNG.

    python scripts/screenshot_draw.py out.png [--model ID] [--sample astronaut] [--size 1400x900]

Uses a throw-away GANSTUDIO_HOME (the bundled models stay visible); works offscreen (QT_QPA_PLATFORM=offscreen) or
under ``xvfb-run -a``. The strokes are real synthesized mouse events on the canvas."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _screenshot_util import ROOT, open_page, poll  # noqa: E402


def strokes(page, qtest) -> None:
    """Two strokes drawn with synthesized mouse events (press, moves, release)."""
    from PySide6.QtCore import QPointF, Qt

    c = page.canvas
    n = c.canvas_size
    lines = [[(0.30, 0.18), (0.40, 0.12), (0.55, 0.11), (0.68, 0.17)], [(0.40, 0.80), (0.50, 0.84), (0.60, 0.80)]]
    for line in lines:
        pts = [c.to_widget(QPointF(fx * n, fy * n)).toPoint() for fx, fy in line]
        qtest.mousePress(c, Qt.LeftButton, Qt.NoModifier, pts[0])
        for p in pts[1:]:
            qtest.mouseMove(c, p, 20)
        qtest.mouseRelease(c, Qt.LeftButton, Qt.NoModifier, pts[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--model", default="")
    ap.add_argument("--sample", default="astronaut")
    ap.add_argument("--size", default="1400x900")
    a = ap.parse_args()
    from PySide6.QtCore import QTimer
    from PySide6.QtTest import QTest

    w, h = (int(v) for v in a.size.split("x"))
    app, win, page = open_page("draw", size=(w, h), threads=2, keep_home=True)
    if a.model:
        page.select_model(a.model)
    state = {"phase": 0}

    def tick() -> bool:
        r = page.renderer
        if state["phase"] == 0 and page.result is not None and not r.busy:
            sample = next((ROOT / "resources" / "samples").glob(f"{a.sample}.*"))
            page.sketch_from_path(str(sample))
            state["phase"] = 1
        elif state["phase"] == 1 and not page.canvas.is_blank() and not r.busy and page.result is not None:
            strokes(page, QTest)
            state["phase"] = 2
        elif state["phase"] == 2 and not r.busy and not r._dirty:
            state["phase"] = 3
            QTimer.singleShot(300, lambda: (win.grab().save(a.out), app.quit()))
            return True
        return False

    return poll(app, tick, 200, a.out, first_ms=300)


if __name__ == "__main__":
    raise SystemExit(main())
