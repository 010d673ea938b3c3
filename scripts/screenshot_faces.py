"""Screenshot of the Translate page in face mode: face2anime on the astronaut sample, the face translated and blended
back (``xvfb-run -a -s "-screen 0 1366x768x24" python scripts/screenshot_faces.py out.png``)."""
from __future__ import annotations

import sys
import time

from _screenshot_util import ROOT, open_page


def main(out: str) -> int:
    app, win, page = open_page("translate", size=(1366, 740))
    idx = page.model_combo.findData("face2anime")
    page.model_combo.setCurrentIndex(idx)
    page.add_paths([str(ROOT / "resources" / "samples" / "astronaut.png")])
    deadline = time.time() + 120
    while time.time() < deadline:
        app.processEvents()
        entries = page.thumbs.all_entries()
        if entries and entries[0].result is not None:
            break
        time.sleep(0.05)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.05)
    win.grab().save(out)
    print(f"wrote {out}; face toggle visible={page.face_toggle.isVisible()} checked={page.face_toggle.isChecked()}")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "faces.png"))
