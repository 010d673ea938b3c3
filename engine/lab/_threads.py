"""Run the Lab's tiny networks on one intra-op thread.

For 128-wide MLPs, torch's intra-op threads only add synchronisation: on a loaded 2-core machine two threads made a
training step ~15x slower than one. ``torch.set_num_threads`` changes the calling thread's OpenMP team (and the
default for threads started later), so the previous value is restored when the block ends.
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
