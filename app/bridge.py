"""The one bridge between the Qt front end and the engine's JobManager.

Pages call ``bridge.submit(task, config, ...)`` and get a :class:`JobHandle` whose Qt signals (progress, partial,
returned, failed, cancelled, finished) arrive on the GUI thread. Pages never touch threads or torch directly.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from PySide6.QtCore import QObject, Signal, Slot

from engine.errors import ErrorInfo
from engine.jobs import Job, JobEvent, JobManager, JobState, LogMessage, PartialResult, ProgressReported, StateChanged


class JobHandle(QObject):
    """A job seen from the GUI thread. Signal names follow superqt's workers: ``returned(result)`` on success,
    ``failed(ErrorInfo)``, ``cancelled``, ``dropped`` (superseded), then ``finished(state name)`` always, last."""

    started = Signal()
    progress = Signal(object)  # engine.jobs.Progress
    partial = Signal(object)
    log = Signal(str)
    returned = Signal(object)  # the task's result
    failed = Signal(object)  # ErrorInfo
    cancelled = Signal()
    dropped = Signal()
    finished = Signal(str)  # final state name, after one of the above
    paused = Signal()
    resumed = Signal()

    def __init__(self, job: Job, parent: Optional[QObject] = None):
        super().__init__(parent)
        self.job = job

    def cancel(self) -> None:
        self.job.cancel()

    def pause(self) -> None:
        self.job.pause()

    def resume(self) -> None:
        self.job.resume()

    @property
    def done(self) -> bool:
        return self.job.state.done


class EngineBridge(QObject):
    """Owns the JobManager; re-emits its worker-thread events as queued Qt signals."""

    _event = Signal(object)  # a JobEvent, emitted from worker threads, delivered on the GUI thread
    jobsChanged = Signal()  # a job was queued, started or ended: refresh queue indicators
    jobFailed = Signal(object, object)  # job, ErrorInfo (for a global error log)

    def __init__(self, parent: Optional[QObject] = None, manager: Optional[JobManager] = None):
        super().__init__(parent)
        self.manager = manager or JobManager()
        self._handles: Dict[int, JobHandle] = {}
        self._event.connect(self._dispatch)
        self.manager.add_listener(self._on_engine_event)

    def submit(self, task, config: Any = None, *, name: str = "", kind: str = "", lane: str = "gpu",
               replace: bool = False) -> JobHandle:
        job = self.manager.submit(task, config, name=name, kind=kind, lane=lane, replace=replace)
        return self._handle_for(job)

    def handle(self, job: Job) -> Optional[JobHandle]:
        return self._handles.get(job.id)

    def shutdown(self) -> None:
        self.manager.shutdown(cancel=True, timeout=5.0)

    def _on_engine_event(self, ev: JobEvent) -> None:
        """Worker thread -> GUI thread. A method, not the bound signal: once the window is gone, a late event from a
        job still stopping raises a Python error here (the manager logs it) instead of reaching a deleted C++
        object."""
        self._event.emit(ev)

    def _handle_for(self, job: Job) -> JobHandle:
        h = self._handles.get(job.id)
        if h is None:
            h = self._handles[job.id] = JobHandle(job, self)
        return h

    @Slot(object)
    def _dispatch(self, ev: JobEvent) -> None:
        job = ev.job
        h = self._handle_for(job)
        if isinstance(ev, ProgressReported):
            h.progress.emit(ev.progress)
        elif isinstance(ev, PartialResult):
            h.partial.emit(ev.value)
        elif isinstance(ev, LogMessage):
            h.log.emit(ev.message)
        elif isinstance(ev, StateChanged):
            self._state_changed(h, ev)

    def _state_changed(self, h: JobHandle, ev: StateChanged) -> None:
        state, job = ev.state, ev.job
        if state is JobState.RUNNING:
            (h.resumed if ev.previous is JobState.PAUSED else h.started).emit()
        elif state is JobState.PAUSED:
            h.paused.emit()
        elif state is JobState.FINISHED:
            h.returned.emit(job.result)
        elif state is JobState.FAILED:
            err = job.error if isinstance(job.error, ErrorInfo) else ErrorInfo(str(job.error))
            h.failed.emit(err)
            self.jobFailed.emit(job, err)
        elif state is JobState.CANCELLED:
            h.cancelled.emit()
        elif state is JobState.DROPPED:
            h.dropped.emit()
        if state in (JobState.QUEUED, JobState.RUNNING) and ev.previous is not JobState.PAUSED or state.done:
            self.jobsChanged.emit()
        if state.done:
            h.finished.emit(state.value)
            self._handles.pop(job.id, None)
            h.deleteLater()
