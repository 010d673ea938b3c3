"""Live translation of the Draw page's canvas: when to send the drawing to the model, and which result to show.

Rules (so the canvas never freezes and the output follows the pen):

- While a stroke goes on, changes are coalesced for ``debounce_ms`` and sent only when no render is running; a
  running render is never superseded (its result is still useful while the pen moves), so the output updates about
  once per render time while drawing.
- When a stroke ends the drawing is sent at once (or as soon as the running render ends).
- Requests go through the job system with ``replace=True``: a request still queued behind other GPU work is dropped
  when a newer one arrives, and a result is shown only if its stamp is newer than the one on screen.
- ``strokeRendered`` reports the time from the end of a stroke to the moment its result is shown (the number
  ``benchmarks/bench_draw.py`` measures).
"""
from __future__ import annotations

import time
from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from engine.draw import LiveTranslator, RenderRequest, RenderResult, render_task


class LiveRender(QObject):
    rendered = Signal(object)  # RenderResult now on screen
    strokeRendered = Signal(float)  # seconds from the end of a stroke to its result on screen
    failed = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, bridge, live: LiveTranslator, snapshot: Callable[[], np.ndarray], debounce_ms: int = 40,
                 parent: Optional[QObject] = None):
        super().__init__(parent)
        self.bridge, self.live, self.snapshot = bridge, live, snapshot
        self.model_id = ""
        self.norm_mode = "eval"
        self.enabled = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._on_timer)
        self._stamp = 0  # stamp of the last request sent
        self._shown = 0  # stamp of the result on screen
        self._dirty = False
        self._handle = None
        self._await: Optional[tuple] = None  # (stroke end time, stamp whose result completes the stroke)

    # --- inputs ------------------------------------------------------------------------------------------
    def set_model(self, model_id: str, norm_mode: str) -> None:
        self.model_id, self.norm_mode = model_id, norm_mode
        self._shown = self._stamp  # results of the previous model are stale
        self.request_now()

    def changed(self) -> None:
        self._dirty = True
        if not self.busy and not self._timer.isActive():
            self._timer.start()

    def stroke_finished(self) -> None:
        now = time.perf_counter()
        if self._dirty:
            self._await = (now, self._stamp + 1)
            if not self.busy:
                self._timer.stop()
                self._submit()
        elif self.busy:
            self._await = (now, self._stamp)
        else:
            self.strokeRendered.emit(0.0)

    def request_now(self) -> None:
        self._dirty = True
        if not self.busy:
            self._timer.stop()
            self._submit()

    @property
    def busy(self) -> bool:
        return self._handle is not None

    @property
    def settled(self) -> bool:
        """The latest request's result is on screen (or its empty state) and nothing is waiting to be sent."""
        return 0 < self._stamp == self._shown and not self.busy and not self._dirty

    # --- requests and results ----------------------------------------------------------------------------
    def _on_timer(self) -> None:
        if self._dirty and not self.busy:
            self._submit()

    def _submit(self) -> None:
        if not self.model_id or not self.enabled or self.bridge.manager.closed:  # (a window closing: no new work)
            return
        self._dirty = False
        self._stamp += 1
        req = RenderRequest(self.model_id, self.snapshot(), self._stamp, self.norm_mode)
        h = self.bridge.submit(render_task, (self.live, req), name="Draw: translate", kind="draw-render",
                               replace=True)
        self._handle = h
        self.busyChanged.emit(True)
        h.returned.connect(self._finished)
        h.failed.connect(lambda err: self.failed.emit(err.message))
        h.finished.connect(lambda state, h=h: self._ended(h))

    def _finished(self, res: RenderResult) -> None:
        if res.stamp <= self._shown or res.model != self.model_id:
            return  # stale: a newer result is on screen, or another model was chosen meanwhile
        self._shown = res.stamp
        self.rendered.emit(res)
        if self._await is not None and res.stamp >= self._await[1]:
            t_end = self._await[0]
            self._await = None
            self.strokeRendered.emit(time.perf_counter() - t_end)

    def _ended(self, h) -> None:
        if h is not self._handle:
            return
        self._handle = None
        self.busyChanged.emit(False)
        if self._dirty:
            self._submit()

    def shutdown(self) -> None:
        self.enabled = False
        self._timer.stop()
        if self._handle is not None:
            self._handle.cancel()
