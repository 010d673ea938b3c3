"""Start the GUI: ``python -m app.main [--screenshot FILE] [paths...]``."""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional


def make_app(argv: Optional[List[str]] = None):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("GAN Studio")
    app.setOrganizationName("GANStudio")
    app.setDesktopFileName("ganstudio")
    return app


def run_gui(paths: Optional[List[str]] = None, screenshot: Optional[str] = None, delay_ms: int = 1500) -> int:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and \
            os.environ.get("QT_QPA_PLATFORM") not in ("offscreen", "minimal", "vnc"):
        print("ganstudio: no display found. Run it inside a desktop session, over 'ssh -X', under "
              "'xvfb-run -a ganstudio', or render a screenshot with 'make screenshot'.", file=sys.stderr)
        return 2
    app = make_app()
    from PySide6.QtCore import QTimer

    from app.main_window import MainWindow

    win = MainWindow()
    win.show()
    if not screenshot:
        QTimer.singleShot(300, win.maybe_start_tour)  # the first run: a short, skippable tour
    if paths:
        QTimer.singleShot(0, lambda: win.open_paths(paths))
    if screenshot:
        def grab() -> None:
            win.grab().save(screenshot)
            win.close()
            app.quit()

        QTimer.singleShot(delay_ms, grab)
    code = app.exec()
    # the window's close cancelled every job and waited 5 s; a job still inside a long torch call (a big image on a
    # busy CPU) must end before the interpreter does, or its daemon thread aborts the process at exit
    win.bridge.manager.shutdown(cancel=True, timeout=120.0)
    return code


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m app.main")
    ap.add_argument("paths", nargs="*")
    ap.add_argument("--screenshot", help="save a PNG of the window after start-up and quit")
    ap.add_argument("--delay", type=int, default=4000, help="ms to wait before the screenshot")
    a = ap.parse_args()
    return run_gui(a.paths, a.screenshot, a.delay)


if __name__ == "__main__":
    raise SystemExit(main())
