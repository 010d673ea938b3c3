"""The first-run tour: a small non-modal window that walks through the pages (each page is shown behind it while its
step is on screen). Next / Back / Skip tour; skipping or finishing it is remembered (``tour/done``), and Help ▸ Take
the tour starts it again."""
from __future__ import annotations

from typing import List, Tuple

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from app.help import FLOAT_STYLE, GUIDES
from app.settings import settings

DONE_KEY = "tour/done"
WELCOME = ("Welcome to GAN Studio",
           "<p>GAN Studio turns photos into other styles, trains your own models from two folders of images, and "
           "lets you explore and measure generative models, all on this computer.</p><p>This short tour shows each "
           "page in a sentence. <b>Skip tour</b> ends it at any time; Help ▸ Take the tour brings it back, and "
           "F1 shows the guide of the page you are on.</p>")


def steps(pages: List[str]) -> List[Tuple[str, str, str]]:
    """(page name or "", title, html) for each step: the welcome, then one per page that has a guide."""
    out = [("", *WELCOME)]
    for name in pages:
        g = GUIDES.get(name)
        if g:
            out.append((name, g.title, f"<p>{g.what}</p><p><b>Try:</b> {g.tries[0]}</p>"))
    return out


def tour_wanted() -> bool:
    return not settings().get(DONE_KEY, False, bool)


class Tour(QDialog):
    ended = Signal(str)  # "finished" or "skipped"

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.setObjectName("tour")
        self.setModal(False)
        self.setStyleSheet(FLOAT_STYLE)
        self.setWindowFlag(Qt.WindowContextHelpButtonHint, False)
        self.steps = steps(list(window.pages))
        self.index = 0
        lay = QVBoxLayout(self)
        self.counter = QLabel()
        self.counter.setStyleSheet("color: palette(mid);")
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.RichText)
        self.body.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        for w in (self.counter, self.title):
            lay.addWidget(w)
        lay.addWidget(self.body, 1)
        row = QHBoxLayout()
        self.skip_btn = QPushButton("Skip tour", toolTip="End the tour now (Help ▸ Take the tour shows it again)")
        self.back_btn = QPushButton("Back", toolTip="The previous step")
        self.next_btn = QPushButton("Next", toolTip="The next step")
        self.skip_btn.clicked.connect(self.skip)
        self.back_btn.clicked.connect(lambda: self.go(self.index - 1))
        self.next_btn.clicked.connect(self.next)
        row.addWidget(self.skip_btn)
        row.addStretch(1)
        row.addWidget(self.back_btn)
        row.addWidget(self.next_btn)
        lay.addLayout(row)
        self.resize(460, 300)
        self.go(0)

    def go(self, i: int) -> None:
        self.index = max(0, min(i, len(self.steps) - 1))
        page, title, html = self.steps[self.index]
        if page:
            self.window_.show_page(page)
        self.setWindowTitle(f"Tour: {title}")
        self.counter.setText(f"Step {self.index + 1} of {len(self.steps)}")
        self.title.setText(title)
        self.body.setText(html)
        self.back_btn.setEnabled(self.index > 0)
        last = self.index == len(self.steps) - 1
        self.next_btn.setText("Finish" if last else "Next")
        self.next_btn.setDefault(True)

    def next(self) -> None:
        if self.index >= len(self.steps) - 1:
            self._end("finished")
        else:
            self.go(self.index + 1)

    def skip(self) -> None:
        self._end("skipped")

    def reject(self) -> None:  # Esc or the window's close button: the same as Skip
        self._end("skipped")

    def _end(self, how: str) -> None:
        settings().set(DONE_KEY, True)
        self.hide()
        self.ended.emit(how)
