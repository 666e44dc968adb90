"""What the scripts/bench_*.py share: the clock a timing reads and pinning to one core.

On a shared machine a benchmark pinned to one core and single-threaded measures one thing; its
CPU time (`--clock cpu`) is then its running time minus the waits for the core, which the other
load does not inflate. Speed targets are ratios against a baseline measured in the same run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


class BenchClock:
    """`clock()` reads wall time (perf_counter) until `use("cpu")` switches it to process CPU time."""

    def __init__(self) -> None:
        self._read = CLOCKS["wall"]

    def use(self, name: str) -> None:
        if name not in CLOCKS:
            raise ValueError(f"clock {name!r}: expected one of {sorted(CLOCKS)}")
        self._read = CLOCKS[name]

    def __call__(self) -> float:
        return self._read()


def pin_one_core(core: int | None = None, torch_threads: bool = False) -> int:
    """Run this process on `core` (None: the first it may use) with one OpenMP (and torch) thread."""
    os.environ["OMP_NUM_THREADS"] = "1"
    if torch_threads:
        import torch

        torch.set_num_threads(1)
    if not hasattr(os, "sched_setaffinity"):
        return -1
    allowed = sorted(os.sched_getaffinity(0))
    core = allowed[0] if core is None else core
    if core not in allowed:
        raise ValueError(f"core {core} is not one this process may run on: {allowed}")
    os.sched_setaffinity(0, {core})
    return core


def proc_kib(pid: int, field: str) -> float | None:
    """A `field:  <n> kB` line of /proc/<pid>/status in KiB, e.g. "VmRSS" (None once the
    process is gone, or off Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None
