"""Shared set-up for the rl tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run each test on one intra-op thread: the networks here are tiny, and on a busy 2-core
    machine torch's thread pool spends more time waiting for a core than computing."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
