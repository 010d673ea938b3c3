"""HYPE human evaluation: real and generated images one at a time, "Real" or "Fake" (keys R and F).

HYPE-∞ leaves each image up until the rater answers; HYPE-time shows it for the staircase's exposure and then
covers it with a noise mask. Every answer is saved at once (``engine.metrics.hype``), so a session can be closed
and resumed; "Merge sessions…" scores several raters' files together with a bootstrap confidence interval.
Display timing follows the Qt event loop (about one frame of jitter), which the report states.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

from app.settings import settings
from app.widgets.images import to_pixmap
from engine.errors import GanStudioError, describe_exception
from engine.fsutil import slug
from engine.imageio import load_image, scan_inputs
from engine.metrics import hype as H

STAGE = 448


class HypeView(QWidget):
    def __init__(self, page=None):
        super().__init__(page)
        self.page = page
        self.session: Optional[H.Session] = None
        self.last_score: Optional[H.HypeScore] = None
        self._clock = QElapsedTimer()
        self._mask_timer = QTimer(self)
        self._mask_timer.setSingleShot(True)
        self._mask_timer.timeout.connect(self._mask)
        self._build()
        self._set_answering(False)

    def _build(self) -> None:
        g = QGridLayout()
        self.real_edit = QLineEdit(settings().get("hype/real", "") or "")
        self.fake_edit = QLineEdit(settings().get("hype/fake", "") or "")
        self.real_edit.setToolTip("A folder of real pictures shown to the rater")
        self.fake_edit.setToolTip("A folder of generated pictures shown to the rater, mixed with the real ones")
        for row, (label, edit) in enumerate((("Real images:", self.real_edit), ("Generated images:", self.fake_edit))):
            g.addWidget(QLabel(label), row, 0)
            g.addWidget(edit, row, 1)
            b = QPushButton("…", toolTip="Choose the folder")
            b.clicked.connect(lambda _=False, e=edit: self._pick(e))
            g.addWidget(b, row, 2)
        self.mode_combo = QComboBox()
        self.mode_combo.addItem("HYPE-∞ (unlimited time, score = error rate)", "inf")
        self.mode_combo.addItem("HYPE-time (adaptive exposure, score = threshold in ms)", "time")
        self.mode_combo.setToolTip("HYPE-∞: take your time, the score is how often you are fooled. HYPE-time: "
                                   "pictures flash for shorter and shorter times")
        self.rater_edit = QLineEdit(settings().get("hype/rater", "") or "")
        self.rater_edit.setPlaceholderText("rater name")
        self.rater_edit.setToolTip("Who rates: sessions of several raters can be merged")
        self.count_spin = QSpinBox()
        self.count_spin.setRange(5, 500)
        self.count_spin.setValue(50)
        self.count_spin.setSuffix(" of each")
        self.count_spin.setToolTip("How many real and how many generated pictures the session shows")
        opts = QHBoxLayout()
        for w in (self.mode_combo, self.rater_edit, self.count_spin):
            opts.addWidget(w)
        g.addLayout(opts, 2, 0, 1, 3)
        buttons = QHBoxLayout()
        for text, slot, tip in (("Start", self.start, "Start a rating session"),
                                ("Resume…", self.resume_dialog, "Go on with a session saved earlier"),
                                ("Merge sessions…", self.merge, "Combine the sessions of several raters into one "
                                                                "score")):
            b = QPushButton(text, toolTip=tip)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        g.addLayout(buttons, 3, 0, 1, 3)
        self.stage = QLabel("Start a session: images appear here one at a time.")
        self.stage.setAlignment(Qt.AlignCenter)
        self.stage.setMinimumSize(STAGE, STAGE)
        self.stage.setStyleSheet("background: #202020; color: #ddd;")
        self.stage.setFocusPolicy(Qt.StrongFocus)  # so R and F answer as soon as a session starts
        self.counter = QLabel("")
        self.real_btn = QPushButton("Real  (R)", toolTip="The picture shown is a real one (key R)")
        self.fake_btn = QPushButton("Fake  (F)", toolTip="The picture shown is generated (key F)")
        self.real_btn.clicked.connect(lambda: self.answer(True))
        self.fake_btn.clicked.connect(lambda: self.answer(False))
        for key, val in (("R", True), ("F", False)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.WidgetWithChildrenShortcut)
            sc.activated.connect(lambda v=val: self.answer(v) if self.real_btn.isEnabled() else None)
        ans = QHBoxLayout()
        ans.addWidget(self.real_btn)
        ans.addWidget(self.counter, 1, Qt.AlignCenter)
        ans.addWidget(self.fake_btn)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.addLayout(g)
        lay.addWidget(self.stage, 1)
        lay.addLayout(ans)
        lay.addWidget(self.result)

    def _pick(self, edit: QLineEdit) -> None:
        d = QFileDialog.getExistingDirectory(self, "Folder of images", edit.text() or settings().last_dir("eval"))
        if d:
            edit.setText(d)

    # --- sessions ----------------------------------------------------------------------------------------
    def start(self) -> Optional[H.Session]:
        real = self.real_edit.text().strip() or (self.page.real_edit.text().strip() if self.page else "")
        fake = self.fake_edit.text().strip()
        rater = self.rater_edit.text().strip() or "rater"
        settings().set("hype/real", real)
        settings().set("hype/fake", fake)
        settings().set("hype/rater", rater)
        try:
            s = H.new_session(scan_inputs([real]).files if real else [], scan_inputs([fake]).files if fake else [],
                              mode=self.mode_combo.currentData(), rater=rater, n_each=self.count_spin.value(),
                              readable=H.decodes)
            stem = f"{slug(rater, 'rater', lower=False)}-{s.mode}-{time.strftime('%Y%m%d-%H%M%S')}"
            s.save_new(H.sessions_dir(), stem)  # a rater called ../x stays in the sessions folder
        except GanStudioError as e:
            self.result.setText(str(e))
            return None
        except OSError as e:  # the sessions folder cannot be written
            self.result.setText(describe_exception(e).message)
            return None
        return self.open_session(s)

    def resume_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Resume a HYPE session", str(H.sessions_dir()), "JSON (*.json)")
        if path:
            self.resume(path)

    def resume(self, path) -> Optional[H.Session]:
        try:
            return self.open_session(H.Session.load(path))
        except GanStudioError as e:
            self.result.setText(str(e))
            return None

    def open_session(self, s: H.Session) -> H.Session:
        self.session = s
        left_out = (f" Left out {len(s.skipped)} unreadable file{'s' if len(s.skipped) != 1 else ''}: "
                    + ", ".join(Path(p).name for p in s.skipped[:5]) + ("…" if len(s.skipped) > 5 else "") + "."
                    if s.skipped else "")
        self.result.setText(f"Session of {s.rater} ({'HYPE-∞' if s.mode == 'inf' else 'HYPE-time'}), saved to "
                            f"{s.path}.{left_out} Answer with the buttons or the keys R and F.")
        self.stage.setFocus()
        self.show_next()
        return s

    def show_next(self) -> None:
        s = self.session
        if s is None:
            return
        self.counter.setText(f"{s.position} / {len(s.order)}")
        if s.finished:
            self._set_answering(False)
            self.stage.clear()
            self.stage.setText("Session finished. Thank you!")
            self.show_score([s])
            return
        item = s.current()
        try:
            rgb = load_image(item["path"]).on_white()
        except GanStudioError as e:
            self.stage.setText(f"Cannot show {Path(item['path']).name}: {e}")
            rgb = np.full((64, 64, 3), 128, np.uint8)
        self.stage.setPixmap(to_pixmap(rgb).scaled(STAGE, STAGE, Qt.KeepAspectRatio, Qt.SmoothTransformation))
        exposure = s.exposure_ms()
        if exposure is None:
            self._set_answering(True)
        else:
            self._set_answering(False)
            self._mask_timer.start(int(round(exposure)))

    def _mask(self) -> None:
        noise = np.random.default_rng().integers(0, 256, size=(STAGE // 8, STAGE // 8, 3), dtype=np.uint8)
        self.stage.setPixmap(to_pixmap(noise).scaled(STAGE, STAGE))
        self._set_answering(True)

    def _set_answering(self, on: bool) -> None:
        self.real_btn.setEnabled(on)
        self.fake_btn.setEnabled(on)
        if on:
            self._clock.start()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        # the R/F shortcuts cover the usual case; this catches keys sent straight to the stage (no active window)
        said = {Qt.Key_R: True, Qt.Key_F: False}.get(event.key())
        if said is not None and self.real_btn.isEnabled():
            self.answer(said)
            return
        super().keyPressEvent(event)

    def answer(self, said_real: bool) -> None:
        if self.session is None or self.session.finished:
            return
        self.session.answer(said_real, float(self._clock.elapsed()) if self._clock.isValid() else None)
        self.show_next()

    # --- scores ------------------------------------------------------------------------------------------
    def show_score(self, sessions: List[H.Session]) -> Optional[H.HypeScore]:
        try:
            sc = H.score(sessions)
        except GanStudioError as e:
            self.result.setText(str(e))
            return None
        self.last_score = sc
        per = ", ".join(f"{r}: {v:.1f}" for r, v in sc.per_rater.items()) if len(sc.per_rater) > 1 else ""
        self.result.setText(sc.text() + (f"\nPer rater: {per}" if per else ""))
        return sc

    def merge(self, paths: Optional[List[str]] = None) -> Optional[H.HypeScore]:
        if not paths:
            paths, _ = QFileDialog.getOpenFileNames(self, "HYPE sessions to merge", str(H.sessions_dir()),
                                                    "JSON (*.json)")
        if not paths:
            return None
        try:
            sessions = [H.Session.load(p) for p in paths]
        except GanStudioError as e:
            self.result.setText(str(e))
            return None
        return self.show_score(sessions)

    def score_lines(self) -> List[str]:
        return [self.last_score.text()] if self.last_score else []

    def shutdown(self) -> None:
        self._mask_timer.stop()
