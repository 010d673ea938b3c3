"""Render the Latent page with a bundled generator and save a PNG:
``python scripts/screenshot_latent.py out.png [model-id] [photo] [steps]``.

Opens the model, finds SeFa directions, moves two sliders, projects the photo (default: the astronaut sample) and
saves the window. Uses a throw-away GANSTUDIO_HOME; works offscreen (QT_QPA_PLATFORM=offscreen) or under xvfb-run.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _screenshot_util import ROOT, open_page, poll  # noqa: E402


def main() -> int:
    out = sys.argv[1]
    model = sys.argv[2] if len(sys.argv) > 2 else "dcgan-faces"
    photo = sys.argv[3] if len(sys.argv) > 3 else str(ROOT / "resources" / "samples" / "astronaut.png")
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 80
    from PySide6.QtCore import QTimer

    app, win, page = open_page("latent")
    page.picker.select(model)
    state = {"phase": 0}

    def tick() -> bool:
        p = state["phase"]
        if p == 0 and page.session is not None and page.last_render is not None:
            page.edit_panel.method.setCurrentIndex(1)
            page.compute_directions("sefa", 8)
            state["phase"] = 1
        elif p == 1 and len(page.edit_panel.sliders) == 8:
            page.photo_panel.steps.setValue(steps)
            page.tabs.setCurrentWidget(page.photo_panel)
            page.load_photo(photo, project=True)
            state["phase"] = 2
        elif p == 2 and page.project_job is None and getattr(page, "projection", None) is not None:
            page.edit_panel.sliders[0].setValue(12)
            page.edit_panel.sliders[2].setValue(-8)
            state["phase"], state["n"] = 3, page.renders
        elif p == 3 and page.renders > state["n"]:
            page.tabs.setCurrentWidget(page.edit_panel)
            QTimer.singleShot(1500, lambda: (win.grab().save(out), app.quit()))
            return True
        return False

    return poll(app, tick, 300, out)


if __name__ == "__main__":
    raise SystemExit(main())
