"""JobManager: progress, partials, errors as data, cancel, pause, one GPU job at a time, stale results dropped."""
from __future__ import annotations

import threading
import time

import pytest

from engine.errors import Cancelled, ImageLoadError
from engine.jobs import JobManager, JobState, run_inline


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
    jm.add_listener(lambda ev, job, p: events.append((ev, p)))
    job = jm.submit(counting, {"n": 5})
    assert job.wait(10)
    assert job.state == JobState.FINISHED and job.result == 50
    assert [p for e, p in events if e == "partial"] == [0, 1, 2, 3, 4]
    final = [p for e, p in events if e == "progress"][-1]
    assert (final.done, final.total, final.message) == (5, 5, "step 4")
    assert events[0][0] == "queued" and events[-1][0] == "finished"


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
    job = jm.submit(counting, {"n": 200, "sleep": 0.002})
    time.sleep(0.05)
    job.pause()
    time.sleep(0.05)
    assert job.state == JobState.PAUSED
    done_at_pause = job.progress.done
    time.sleep(0.1)
    assert job.progress.done <= done_at_pause + 1
    job.resume()
    assert job.wait(10) and job.state == JobState.FINISHED


def test_run_inline_raises_and_reports():
    seen = []
    assert run_inline(counting, {"n": 3}, on_event=lambda e, j, p: seen.append(e)) == 30
    assert seen.count("progress") == 3

    def cancelled(cfg, ctx):
        raise Cancelled()

    with pytest.raises(Cancelled):
        run_inline(cancelled)
