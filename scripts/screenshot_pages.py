"""Screenshots of every page at 1366×768 (a laptop screen), for docs/screenshots/:

    xvfb-run -a -s "-screen 0 1366x768x24" python scripts/screenshot_pages.py docs/screenshots [--shared ../shared]

Each page is shown doing something real: Translate with a photo and its translation, Draw with strokes on the
canvas, Latent with a generated face, Train with a smoke-test run on face2genshin (its state, speed and sample grid),
the Lab training, Evaluate with the results of two folders (FID, KID, precision / recall), Export with a model
ticked; then the Train page's guide (F1) and the first step of the tour. The whole screen is grabbed, so dialogs beside the window are in the picture. A throw-away
GANSTUDIO_HOME keeps the user's models, runs and settings out of it."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _screenshot_util import ROOT, open_page  # noqa: E402

SCREEN = (1366, 768)


def steps(win, shared: Path):
    """(file name, set-up, ready, seconds to wait at most) for each picture, in order."""
    f2g = shared / "datasets" / "face2genshin"
    pages = win.pages

    def translate():
        win.show_page("translate").accept_paths([str(ROOT / "resources" / "samples" / "chelsea.png")])

    def translated():
        e = pages["translate"].thumbs.current_entry()
        return e is not None and e.result is not None

    def draw():
        from PySide6.QtTest import QTest
        from screenshot_draw import strokes

        strokes(win.show_page("draw"), QTest)

    def train():
        page = win.show_page("train")
        page.box_a.set_folder(str(f2g / "trainA"))
        page.box_b.set_folder(str(f2g / "trainB"))
        page.settings.select_preset("tiny")
        page.settings.steps.setValue(400)  # a sample grid every 10 steps
        page.settings.name.setText("face2genshin-smoke")

    def trained():
        page = pages["train"]
        if page.handle is None and page.start_btn.isEnabled():
            page.start()
        pm = page.sample_label.pixmap()
        return page.run.state == "running" and page.steps_done >= 20 and pm is not None and not pm.isNull() \
            and bool(page.eta_label.text())

    def lab():
        win.show_page("lab").start()

    def evaluate():
        page = win.show_page("evaluate")
        page.set_real(str(f2g / "testB"))
        page.add_folder(str(f2g / "testA"))
        page.metrics_box.set_selected(["fid", "kid", "pr"])
        page.run()

    def evaluated():
        page = pages["evaluate"]
        return not page.busy and page.results.table.rowCount() > 0

    def guide():
        win.show_page("train")
        win.show_guide()  # where the app puts it (MainWindow.place_aside)

    def tour():
        win.guide.close()
        win.start_tour()

    return [("translate.png", translate, translated, 60),
            ("draw.png", draw, lambda: bool(pages["draw"].latency_label.text()), 60),  # the strokes rendered
            ("latent.png", lambda: win.show_page("latent"), lambda: False, 8),
            ("train.png", train, trained, 240),
            ("lab.png", lab, lambda: pages["lab"].snapshots >= 20, 40),
            ("evaluate.png", evaluate, evaluated, 240),
            ("export.png", lambda: win.show_page("export").set_checked(["vintagify"]), lambda: False, 3),
            ("guide.png", guide, lambda: False, 2),
            ("tour.png", tour, lambda: False, 2)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    a = ap.parse_args()
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QTimer

    app, win, _ = open_page("translate", size=SCREEN, threads=2)
    win.setGeometry(0, 0, *SCREEN)  # as a maximised window on a 1366×768 laptop
    todo = steps(win, Path(a.shared))
    state = {"i": -1, "t0": 0.0}

    def tick() -> None:
        i = state["i"]
        if i >= 0:
            name, _setup, ready, limit = todo[i]
            if not ready() and time.monotonic() - state["t0"] < limit:
                QTimer.singleShot(300, tick)
                return
            shot = app.primaryScreen().grabWindow(0, 0, 0, *SCREEN)
            shot.save(str(out / name))
            print(f"wrote {out / name} ({shot.width()}x{shot.height()}, window {win.width()}x{win.height()})")
            if name == "train.png":
                win.pages["train"].cancel(confirm=False)
            if name == "lab.png":
                win.pages["lab"].stop()
        state["i"] = i = i + 1
        if i >= len(todo):
            win.close()
            QTimer.singleShot(2000, app.quit)
            return
        todo[i][1]()
        state["t0"] = time.monotonic()
        QTimer.singleShot(600, tick)

    QTimer.singleShot(1500, tick)
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
