"""JobManager: run tasks off the GUI thread with progress, partial results, pause, cancel and errors as data.

A task is a plain function ``task(config, ctx) -> result`` that calls ``ctx.progress(done, total, msg)``,
``ctx.partial(obj)`` and ``ctx.check_cancel()`` at safe points. The same task runs from the GUI (through
``app/bridge.py``), the CLI (:func:`run_inline`) and tests.

Jobs run in *lanes*: the ``gpu`` lane has one worker, so at most one GPU-heavy job runs at a time and the others
wait, visibly queued; the ``io`` lane runs light work (folder scans, thumbnails) beside it. Submitting with
``replace=True`` makes a newer request of the same ``kind`` supersede older ones: queued ones are dropped without
running, a running one is asked to stop and its result is dropped (the stamp idea of StyleGAN3's AsyncRenderer).

Listeners get typed events: :class:`StateChanged` (queued, running, paused, and the final state), then
:class:`ProgressReported`, :class:`PartialResult`, :class:`LogMessage` in between. ``ctx.sub(a, b)`` gives a
:class:`Span` for a sub-step; spans nest, so the overall progress never runs backwards.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Deque, Dict, List, Optional

from .errors import Cancelled, ErrorInfo, describe_exception

Task = Callable[[Any, "JobContext"], Any]


class JobState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DROPPED = "dropped"  # superseded by a newer request of the same kind; result discarded

    @property
    def done(self) -> bool:
        return self in (JobState.FINISHED, JobState.FAILED, JobState.CANCELLED, JobState.DROPPED)


@dataclass
class Progress:
    done: float = 0
    total: float = 0
    message: str = ""

    @property
    def fraction(self) -> Optional[float]:
        return (self.done / self.total) if self.total else None


# --- events: what listeners get, one typed object each ------------------------------------------------------

@dataclass(frozen=True)
class JobEvent:
    job: "Job"


@dataclass(frozen=True)
class StateChanged(JobEvent):
    """The job entered ``state`` (from ``previous``; None when it was just queued). A state whose ``done`` is true
    is the last event of the job: ``job.result`` / ``job.error`` hold the outcome."""

    state: JobState
    previous: Optional[JobState] = None


@dataclass(frozen=True)
class ProgressReported(JobEvent):
    progress: Progress


@dataclass(frozen=True)
class PartialResult(JobEvent):
    value: Any


@dataclass(frozen=True)
class LogMessage(JobEvent):
    message: str


Listener = Callable[[JobEvent], None]


@dataclass(eq=False)
class Job:
    id: int
    name: str
    kind: str
    lane: str
    task: Optional[Task]
    config: Any
    state: JobState = JobState.QUEUED
    progress: Progress = field(default_factory=Progress)
    result: Any = None
    error: Optional[ErrorInfo] = None
    created: float = field(default_factory=time.monotonic)
    started: Optional[float] = None
    ended: Optional[float] = None

    def __post_init__(self) -> None:
        self._cancel = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._done = threading.Event()
        self._stale = False
        self._manager: Optional["JobManager"] = None

    # --- control, safe from any thread -------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the job to stop. A queued job never starts; a running one stops at its next ``check_cancel``."""
        self._cancel.set()
        self._resume.set()
        if self._manager is not None:
            self._manager._cancel_queued(self)

    def pause(self) -> None:
        if self.state is JobState.RUNNING:
            self._resume.clear()
            self._set_state(JobState.PAUSED)

    def resume(self) -> None:
        if self.state is JobState.PAUSED:
            self._resume.set()
            self._set_state(JobState.RUNNING)

    @property
    def paused(self) -> bool:
        return self.state is JobState.PAUSED

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def stale(self) -> bool:
        return self._stale

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Block until the job has ended; True if it did within ``timeout``."""
        return self._done.wait(timeout)

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    def _set_state(self, state: JobState) -> None:
        previous, self.state = self.state, state
        if self._manager is not None:
            self._manager._emit(StateChanged(self, state, previous))


class JobContext:
    """What a task sees: report progress and partial results, honour cancel and pause."""

    def __init__(self, job: Job, emit: Listener, min_interval: float = 0.05):
        self._job = job
        self._emit = emit
        self._min_interval = min_interval
        self._last_progress = 0.0

    @property
    def job(self) -> Job:
        return self._job

    def progress(self, done: float, total: float = 0, message: str = "") -> None:
        p = self._job.progress
        p.done, p.total = done, total
        if message:
            p.message = message
        now = time.monotonic()
        final = total and done >= total
        if final or now - self._last_progress >= self._min_interval:
            self._last_progress = now
            self._emit(ProgressReported(self._job, Progress(done, total, p.message)))

    def partial(self, obj: Any) -> None:
        self._emit(PartialResult(self._job, obj))

    def log(self, message: str) -> None:
        self._emit(LogMessage(self._job, message))

    def check_cancel(self) -> None:
        """Raise :class:`Cancelled` if cancel was requested; block here while the job is paused."""
        if not self._job._resume.is_set():
            self._job._resume.wait()
        if self._job._cancel.is_set():
            raise Cancelled()

    @property
    def cancelled(self) -> bool:
        return self._job._cancel.is_set()

    @property
    def paused(self) -> bool:
        return self._job.paused

    def sub(self, start: float, stop: float) -> "Span":
        """A view that maps progress 0..1 of a sub-step onto ``start..stop`` of this job (StyleGAN3's sub-ranges)."""
        return Span(self, start, stop)


class Span:
    """Progress of a sub-step mapped onto ``start..stop`` (fractions) of its parent, a :class:`JobContext` or another
    span: a span of a span maps into its parent's range, so nested steps never move the bar backwards. Everything
    else (log, partial, check_cancel, cancelled, paused) is the parent's."""

    def __init__(self, parent: Any, start: float, stop: float):
        self._parent, self._start, self._stop = parent, start, stop

    def progress(self, done: float, total: float = 0, message: str = "") -> None:
        frac = min(1.0, max(0.0, done / total)) if total else 0.0
        self._parent.progress(self._start + (self._stop - self._start) * frac, 1.0, message)

    def sub(self, start: float, stop: float) -> "Span":
        return Span(self, start, stop)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parent, name)


def span(ctx: Any, start: float, stop: float) -> Any:
    """``ctx.sub(start, stop)``, or None when there is no context (tasks called without a job)."""
    return None if ctx is None else ctx.sub(start, stop)


class JobManager:
    """Runs jobs in lanes of worker threads. Listeners get one :class:`JobEvent` at a time, on the worker thread.

    The manager holds only jobs that have not ended: a finished job is forgotten (whoever holds the :class:`Job`
    keeps its result), so a long session does not accumulate results, images and configs."""

    DEFAULT_LANES = {"gpu": 1, "io": 2}

    def __init__(self, lanes: Optional[Dict[str, int]] = None, listener: Optional[Listener] = None):
        self._lanes = dict(lanes or self.DEFAULT_LANES)
        self._queues: Dict[str, Deque[Job]] = {name: deque() for name in self._lanes}
        self._cv = threading.Condition()
        self._jobs: Dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._listeners: List[Listener] = [listener] if listener else []
        self._closed = False
        self._threads: List[threading.Thread] = []
        for name, n in self._lanes.items():
            for i in range(n):
                t = threading.Thread(target=self._worker, args=(name,), name=f"ganstudio-{name}-{i}", daemon=True)
                t.start()
                self._threads.append(t)

    # --- public ------------------------------------------------------------------------------------------
    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def submit(self, task: Task, config: Any = None, *, name: str = "", kind: str = "", lane: str = "gpu",
               replace: bool = False) -> Job:
        if lane not in self._queues:
            raise ValueError(f"unknown lane {lane!r}")
        job = Job(next(self._ids), name or getattr(task, "__name__", "job"), kind or getattr(task, "__name__", ""),
                  lane, task, config)
        job._manager = self
        superseded: List[Job] = []
        with self._cv:
            if self._closed:
                raise RuntimeError("JobManager is shut down")
            if replace:
                superseded = [j for j in self._jobs.values() if j.kind == job.kind]
            self._jobs[job.id] = job
            self._queues[lane].append(job)
            self._cv.notify_all()
        for old in superseded:
            old._stale = True
            old.cancel()
        self._emit(StateChanged(job, JobState.QUEUED))
        return job

    def jobs(self) -> List[Job]:
        """The jobs that are queued, running or paused (ended ones are forgotten)."""
        with self._cv:
            return list(self._jobs.values())

    def queued(self, lane: Optional[str] = None) -> List[Job]:
        with self._cv:
            lanes = [lane] if lane else list(self._queues)
            return [j for ln in lanes for j in self._queues[ln]]

    def running(self) -> List[Job]:
        return [j for j in self.jobs() if j.state in (JobState.RUNNING, JobState.PAUSED)]

    def cancel_all(self) -> None:
        for j in self.jobs():
            j.cancel()

    def wait_all(self, timeout: Optional[float] = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        for j in self.jobs():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not j.wait(left):
                return False
        return True

    @property
    def closed(self) -> bool:
        """True once shutdown() began: submit() refuses new work."""
        return self._closed

    def shutdown(self, cancel: bool = True, timeout: float = 10.0) -> None:
        if cancel:
            self.cancel_all()
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        for t in self._threads:
            t.join(timeout)

    # --- internals ---------------------------------------------------------------------------------------
    def _emit(self, event: JobEvent) -> None:
        for fn in list(self._listeners):
            try:
                fn(event)
            except Exception:  # a broken listener must not kill a worker
                logging.getLogger(__name__).exception("job listener failed")

    def _cancel_queued(self, job: Job) -> None:
        with self._cv:
            q = self._queues.get(job.lane)
            if q is None or job not in q:
                return
            q.remove(job)
        self._finish(job, JobState.DROPPED if job._stale else JobState.CANCELLED)

    def _worker(self, lane: str) -> None:
        q = self._queues[lane]
        while True:
            with self._cv:
                while not q and not self._closed:
                    self._cv.wait()
                if self._closed and not q:
                    return
                job = q.popleft()
            self._run(job)
            del job  # an idle worker must not keep its last job (and its result) alive

    def _run(self, job: Job) -> None:
        if job._cancel.is_set():
            self._finish(job, JobState.DROPPED if job._stale else JobState.CANCELLED)
            return
        job.started = time.monotonic()
        job._set_state(JobState.RUNNING)
        ctx = JobContext(job, self._emit)
        try:
            result = job.task(job.config, ctx)
        except Cancelled:
            self._finish(job, JobState.DROPPED if job._stale else JobState.CANCELLED)
        except Exception as exc:  # errors become data
            if job._stale:
                self._finish(job, JobState.DROPPED)
            else:
                job.error = describe_exception(exc)
                self._finish(job, JobState.FAILED)
        else:
            if job._stale:
                self._finish(job, JobState.DROPPED)
            else:
                job.result = result
                self._finish(job, JobState.FINISHED)
        finally:  # SystemExit / KeyboardInterrupt stop the worker, but the job still ends for whoever waits
            self._finish(job, JobState.CANCELLED)

    def _finish(self, job: Job, state: JobState) -> None:
        with self._cv:
            if job._done.is_set():
                return
            job._done.set()
            self._jobs.pop(job.id, None)
        job.ended = time.monotonic()
        job.task = job.config = None  # the job may outlive the manager's interest (a page keeps its handle)
        previous, job.state = job.state, state
        self._emit(StateChanged(job, state, previous))


class StopOnSignals:
    """While its ``with`` block runs, the first Ctrl+C or SIGTERM asks for a stop and a second one aborts at once;
    on leaving the block the handlers that were there before come back.

    Bound to a foreground job (``run_inline(..., on_start=stop.bind)``), the first signal cancels it after the current
    step, which for a training writes a checkpoint (the task then raises :class:`Cancelled`). A loop that is not a
    job checks :attr:`asked` between its steps instead. Without it, SIGTERM (``kill``, ``pkill``, a session's end)
    loses every step since the last checkpoint. Outside the block a signal acts as before, so a process that goes on
    to other work (an evaluation after a training) is not left with a handler that cancels a job that has ended."""

    def __init__(self):
        self.asked = False
        self._job: Optional["Job"] = None
        self._old: dict = {}

    def bind(self, job: "Job") -> None:
        self._job = job

    def _on_signal(self, signum, frame) -> None:
        import sys

        if self.asked:
            raise KeyboardInterrupt
        self.asked = True
        print("\nStopping after this step and saving a checkpoint (Ctrl+C again to abort)...", file=sys.stderr)
        if self._job is not None:
            self._job.cancel()

    def __enter__(self) -> "StopOnSignals":
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                if signal.getsignal(sig) is not signal.SIG_IGN:
                    self._old[sig] = signal.signal(sig, self._on_signal)
            except ValueError:  # not the main thread (tests calling main() from a worker)
                pass
        return self

    def __exit__(self, *exc) -> None:
        import signal

        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()


def run_inline(task: Task, config: Any = None, *, on_event: Optional[Listener] = None, name: str = "",
               on_start: Optional[Callable[["Job"], None]] = None) -> Any:
    """Run a task synchronously in this thread (CLI, tests). Raises the task's exception unchanged.
    ``on_event(event)`` gets every :class:`JobEvent`; ``on_start(job)`` gets the job first, e.g. to cancel it from a
    signal handler."""
    job = Job(0, name or getattr(task, "__name__", "job"), "", "inline", task, config)
    if on_start:
        on_start(job)
    job.state = JobState.RUNNING
    job.started = time.monotonic()
    ctx = JobContext(job, on_event or (lambda event: None), min_interval=0.0)
    result = task(config, ctx)
    job.state = JobState.FINISHED
    job.result = result
    return result
