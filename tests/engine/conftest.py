"""Engine test fixtures."""
from __future__ import annotations

import pytest


@pytest.fixture
def one_thread():
    """One torch thread for the duration of a test (tiny networks train faster so on this 2-core machine, and the Lab
    runs its networks single-threaded: engine/lab/_threads.py). Use with ``pytest.mark.usefixtures``."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
