"""JobManager: progress, partials, errors as data, cancel, pause, one GPU job at a time, stale results dropped."""
from __future__ import annotations

import threading
import time

import pytest

from engine.errors import Cancelled, ImageLoadError
from engine.jobs import (JobManager, JobState, LogMessage, PartialResult, ProgressReported, StateChanged,
                         StopOnSignals, run_inline, span)


@pytest.fixture
def jm():
    m = JobManager()
    yield m
    m.shutdown()


def counting(cfg, ctx):
    for i in range(cfg["n"]):
        ctx.check_cancel()
        ctx.partial(i)
        ctx.progress(i + 1, cfg["n"], f"step {i}")
        time.sleep(cfg.get("sleep", 0))
    return cfg["n"] * 10


def test_result_progress_and_partials(jm):
    events = []
    jm.add_listener(events.append)
    job = jm.submit(counting, {"n": 5})
    assert job.wait(10)
    assert job.state == JobState.FINISHED and job.result == 50
    assert [e.value for e in events if isinstance(e, PartialResult)] == [0, 1, 2, 3, 4]
    final = [e.progress for e in events if isinstance(e, ProgressReported)][-1]
    assert (final.done, final.total, final.message) == (5, 5, "step 4")
    states = [e.state for e in events if isinstance(e, StateChanged)]
    assert states == [JobState.QUEUED, JobState.RUNNING, JobState.FINISHED]
    assert all(e.job is job for e in events)


def test_errors_become_data_with_user_message(jm):
    def bad(cfg, ctx):
        raise ImageLoadError("/x/photo.png", "truncated PNG file")

    job = jm.submit(bad)
    job.wait(10)
    assert job.state == JobState.FAILED
    assert job.error.message == "/x/photo.png: truncated PNG file" and job.error.kind == "image"
    assert "Traceback" in job.error.detail

    def disk(cfg, ctx):
        raise OSError(28, "No space left on device", "/out/a.png")

    j2 = jm.submit(disk)
    j2.wait(10)
    assert "disk is full" in j2.error.message and "/out/a.png" in j2.error.message

    def oom(cfg, ctx):
        import torch

        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    j3 = jm.submit(oom)
    j3.wait(10)
    assert j3.error.kind == "oom" and "smaller batch" in j3.error.message


def test_cancel_running_and_queued(jm):
    running = jm.submit(counting, {"n": 1000, "sleep": 0.01})
    queued = jm.submit(counting, {"n": 3})
    deadline = time.monotonic() + 5
    while running.state != JobState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.005)
    assert [j.id for j in jm.queued("gpu")] == [queued.id]
    time.sleep(0.05)
    queued.cancel()
    running.cancel()
    assert running.wait(5) and queued.wait(5)
    assert running.state == JobState.CANCELLED and queued.state == JobState.CANCELLED
    assert queued.started is None  # never ran
    assert running.progress.done < 1000


def test_one_gpu_job_at_a_time_io_lane_runs_beside(jm):
    active = []
    peak = [0]
    lock = threading.Lock()

    def heavy(cfg, ctx):
        with lock:
            active.append(1)
            peak[0] = max(peak[0], len(active))
        time.sleep(0.05)
        with lock:
            active.pop()

    jobs = [jm.submit(heavy) for _ in range(4)]
    io_job = jm.submit(counting, {"n": 2}, lane="io")
    assert io_job.wait(5) and io_job.state == JobState.FINISHED
    assert all(j.wait(5) for j in jobs)
    assert peak[0] == 1


def test_newer_request_of_same_kind_drops_stale(jm):
    started = threading.Event()

    def slow(cfg, ctx):
        started.set()
        for _ in range(200):
            time.sleep(0.005)
            ctx.check_cancel()
        return cfg

    first = jm.submit(slow, "first", kind="render", replace=True)
    started.wait(5)
    second = jm.submit(slow, "second", kind="render", replace=True)
    third = jm.submit(slow, "third", kind="render", replace=True)
    assert third.wait(10)
    assert first.state == JobState.DROPPED and first.result is None
    assert second.state == JobState.DROPPED and second.started is None  # never ran
    assert third.state == JobState.FINISHED and third.result == "third"


def test_stale_result_is_dropped_even_if_task_ignores_cancel(jm):
    gate = threading.Event()

    def stubborn(cfg, ctx):
        gate.wait(5)
        return cfg

    a = jm.submit(stubborn, "a", kind="k", replace=True)
    time.sleep(0.05)
    b = jm.submit(stubborn, "b", kind="k", replace=True)
    gate.set()
    assert b.wait(5)
    assert a.state == JobState.DROPPED and a.result is None and b.result == "b"


def test_pause_and_resume(jm):
    events = []
    jm.add_listener(lambda e: events.append((e.state, e.previous)) if isinstance(e, StateChanged) else None)
    job = jm.submit(counting, {"n": 200, "sleep": 0.002})
    time.sleep(0.05)
    job.pause()
    time.sleep(0.05)
    assert job.state == JobState.PAUSED and job.paused
    done_at_pause = job.progress.done
    time.sleep(0.1)
    assert job.progress.done <= done_at_pause + 1
    job.resume()
    assert job.wait(10) and job.state == JobState.FINISHED and not job.paused
    assert (JobState.PAUSED, JobState.RUNNING) in events and (JobState.RUNNING, JobState.PAUSED) in events


def test_run_inline_raises_and_reports():
    seen = []
    assert run_inline(counting, {"n": 3}, on_event=seen.append) == 30
    assert sum(isinstance(e, ProgressReported) for e in seen) == 3

    def cancelled(cfg, ctx):
        raise Cancelled()

    with pytest.raises(Cancelled):
        run_inline(cancelled)


def test_sigterm_stops_a_foreground_job_after_its_step_and_the_old_handler_comes_back_after_the_block():
    """The first SIGTERM cancels the bound job at its next check (a training checkpoints there), a second one aborts,
    and once the block ends a signal goes to the handler that was there before: a process that goes on to evaluate
    after a training is not left with a handler that only 'cancels' a job that has ended."""
    import os
    import signal

    got = []
    before = signal.signal(signal.SIGTERM, lambda *_: got.append("old"))
    try:
        def task(cfg, ctx):
            for i in range(1000):
                if i == 3:
                    os.kill(os.getpid(), signal.SIGTERM)
                ctx.check_cancel()
                ctx.progress(i + 1, 1000, f"step {i}")
            return "ran to the end"

        with StopOnSignals() as stop:
            with pytest.raises(Cancelled):
                run_inline(task, on_start=stop.bind)
            assert stop.asked and got == []
            with pytest.raises(KeyboardInterrupt):  # a second signal: abort at once
                os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        assert got == ["old"]
    finally:
        signal.signal(signal.SIGTERM, before)


def test_finished_jobs_are_dropped_and_memory_does_not_grow(jm):
    """500 finished jobs, each with a 1 MB result and a 1 MB partial: the manager keeps none of them alive."""
    import gc
    import tracemalloc

    def megabyte(cfg, ctx):
        ctx.partial(bytearray(1 << 20))
        return bytearray(1 << 20)

    def batch(n):
        for _ in range(n):
            job = jm.submit(megabyte, lane="io")
            assert job.wait(10) and job.state == JobState.FINISHED
        gc.collect()

    batch(20)  # warm up: threads, first allocations
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        batch(500)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert jm.jobs() == [] and jm.queued() == []
    assert grown < (1 << 20), f"memory grew by {grown / 2**20:.1f} MB over 500 finished 1 MB jobs"


def test_ended_job_releases_its_task_and_config(jm):
    import weakref

    class Big:
        pass

    cfg = Big()
    ref = weakref.ref(cfg)
    job = jm.submit(lambda c, ctx: 1, cfg)
    del cfg
    assert job.wait(10) and job.result == 1
    import gc

    gc.collect()
    assert ref() is None and job.config is None


def test_nested_progress_never_decreases():
    """A span of a span maps into its parent's range: the job's bar only moves forward."""
    def task(cfg, ctx):
        ctx.progress(0.1, 1.0, "start")
        outer = ctx.sub(0.2, 0.8)
        for i in range(3):
            inner = outer.sub(i / 3, (i + 1) / 3)
            for k in range(5):  # the first half of this part
                inner.progress(k + 1, 10, f"part {i} step {k}")
            deep = span(inner, 0.5, 1.0)  # the second half: a span of a span of a span
            deep.progress(1, 2, "deep")
            deep.progress(2, 2, "deep")
        ctx.progress(1.0, 1.0, "done")

    seen = []
    run_inline(task, on_event=lambda e: seen.append(e.progress.done / e.progress.total)
               if isinstance(e, ProgressReported) else None)
    assert len(seen) == 1 + 3 * 7 + 1
    assert all(b >= a - 1e-12 for a, b in zip(seen, seen[1:])), seen
    assert seen[0] == 0.1 and seen[-1] == 1.0 and abs(seen[-2] - 0.8) < 1e-9


def test_span_of_no_context_is_none_and_logs_reach_listeners():
    assert span(None, 0, 1) is None
    seen = []

    def task(cfg, ctx):
        ctx.sub(0, 0.5).log("hello")

    run_inline(task, on_event=seen.append)
    assert [e.message for e in seen if isinstance(e, LogMessage)] == ["hello"]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the worker ends, as meant
def test_worker_catches_exceptions_not_system_exit(jm):
    """Errors become data; SystemExit is not a task error: the job still ends (cancelled) for whoever waits."""
    def exits(cfg, ctx):
        raise SystemExit(3)

    job = jm.submit(exits, lane="io")
    assert job.wait(10) and job.state == JobState.CANCELLED and job.error is None
