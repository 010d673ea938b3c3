"""The one bridge between the Qt front end and the engine's JobManager.

Pages call ``bridge.submit(task, config, ...)`` and get a :class:`JobHandle` whose Qt signals (progress, partial,
finished, failed, cancelled) arrive on the GUI thread. Pages never touch threads or torch directly.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from PySide6.QtCore import QObject, Signal, Slot

from engine.errors import ErrorInfo
from engine.jobs import Job, JobManager, JobState, Progress


class JobHandle(QObject):
    started = Signal()
    progress = Signal(object)  # engine.jobs.Progress
    partial = Signal(object)
    log = Signal(str)
    finished = Signal(object)  # result
    failed = Signal(object)  # ErrorInfo
    cancelled = Signal()
    dropped = Signal()
    ended = Signal(str)  # final state name, after one of the above
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
    """Owns the JobManager; re-emits its worker-thread callbacks as queued Qt signals."""

    _event = Signal(str, object, object)  # emitted from worker threads, delivered on the GUI thread
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
        handle = self._handles.get(job.id)
        if handle is None:
            handle = JobHandle(job, self)
            self._handles[job.id] = handle
        return handle

    def handle(self, job: Job) -> Optional[JobHandle]:
        return self._handles.get(job.id)

    def active_jobs(self):
        return self.manager.jobs(active_only=True)

    def shutdown(self) -> None:
        self.manager.shutdown(cancel=True, timeout=5.0)

    # worker thread -> GUI thread
    def _on_engine_event(self, event: str, job: Job, payload: Any) -> None:
        if job.id not in self._handles:
            # submit() creates the handle right after the 'queued' event; make sure it exists first
            pass
        self._event.emit(event, job, payload)

    @Slot(str, object, object)
    def _dispatch(self, event: str, job: Job, payload: Any) -> None:
        h = self._handles.get(job.id)
        if h is None:
            h = JobHandle(job, self)
            self._handles[job.id] = h
        if event == "started":
            h.started.emit()
        elif event == "progress":
            h.progress.emit(payload if isinstance(payload, Progress) else Progress())
        elif event == "partial":
            h.partial.emit(payload)
        elif event == "log":
            h.log.emit(str(payload))
        elif event == "paused":
            h.paused.emit()
        elif event == "resumed":
            h.resumed.emit()
        elif event == JobState.FINISHED.value:
            h.finished.emit(payload)
        elif event == JobState.FAILED.value:
            err = payload if isinstance(payload, ErrorInfo) else ErrorInfo(str(payload))
            h.failed.emit(err)
            self.jobFailed.emit(job, err)
        elif event == JobState.CANCELLED.value:
            h.cancelled.emit()
        elif event == JobState.DROPPED.value:
            h.dropped.emit()
        if event in ("queued", "started") or event in {s.value for s in JobState if s.done}:
            self.jobsChanged.emit()
        if job.state.done and event == job.state.value:
            h.ended.emit(event)
            self._handles.pop(job.id, None)
            h.deleteLater()
