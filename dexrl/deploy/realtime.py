"""Real-time scheduling for the control loop's process (Linux): what a hand controller asks for.

A control step takes well under a millisecond of CPU, but on a computer that also runs other
work the scheduler may preempt it for several milliseconds: the wall-clock tail then measures the
neighbours, not the policy. Robot controllers therefore run their loop on a chosen core under a
real-time policy (SCHED_FIFO preempts every normal task on that core) with their memory locked
(no page faults mid-step); ros2_control and real-hand drivers do the same. The kernel's RT
throttling (/proc/sys/kernel/sched_rt_runtime_us, 0.95 s per 1 s by default) still leaves the
rest of the system 5% of the core if the loop ever spins.

    from dexrl.deploy import request_realtime
    status = request_realtime(priority=50)   # before running the ControlLoop; core: the last allowed
    print(status)   # what was granted; required=True raises instead of degrading

Needs CAP_SYS_NICE (root, or `ulimit -r` / a limits.conf rtprio entry for the user).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from dataclasses import dataclass, field
from typing import Literal

_MCL_CURRENT, _MCL_FUTURE = 1, 2  # <sys/mman.h>


class RealtimeError(RuntimeError):
    """Real-time scheduling was required but the system refused it."""


@dataclass
class RealtimeStatus:
    """What the process got: scheduler name, priority, cores, memory lock; refusals in `notes`."""

    scheduler: str = "other"
    priority: int = 0
    cores: tuple[int, ...] = ()
    memory_locked: bool = False
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        granted = (f"scheduler {self.scheduler} priority {self.priority}, cores {list(self.cores)}, "
                   f"memory {'locked' if self.memory_locked else 'not locked'}")  # fmt: skip
        return granted + "".join(f"; {n}" for n in self.notes)


def request_realtime(priority: int = 50, core: int | Literal["auto"] | None = "auto",
                     lock_memory: bool = True, required: bool = False) -> RealtimeStatus:
    """Pin this process to `core`, run it SCHED_FIFO at `priority`, lock memory.

    core: "auto" (default) the highest-numbered core this process may use (os.sched_getaffinity;
    core 0 usually takes most interrupts); an int: that core (ValueError naming the allowed cores
    when it is not one of them); None: leave the affinity as it is. Each refusal is recorded in
    the returned status (the loop still runs, with normal scheduling); `required=True` raises
    RealtimeError naming what was refused and how to allow it.
    """
    if not hasattr(os, "sched_setscheduler"):
        raise RealtimeError("real-time scheduling needs Linux (os.sched_setscheduler is missing here)")
    low, high = os.sched_get_priority_min(os.SCHED_FIFO), os.sched_get_priority_max(os.SCHED_FIFO)
    if not low <= priority <= high:
        raise ValueError(f"priority {priority} is outside SCHED_FIFO's range {low}..{high}; "
                         "50 is the usual choice for a control loop (above most driver threads' 1-49)")
    allowed = sorted(os.sched_getaffinity(0))
    if core == "auto":
        core = max(allowed)
    elif core is not None and (isinstance(core, bool) or not isinstance(core, int) or core not in allowed):
        raise ValueError(f"core {core!r} is not one this process may run on: allowed cores are {allowed} "
                         f"(os.sched_getaffinity); leave core out to use {max(allowed)}")  # fmt: skip
    status = RealtimeStatus()
    if core is not None:
        os.sched_setaffinity(0, {core})
    status.cores = tuple(sorted(os.sched_getaffinity(0)))
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        status.scheduler, status.priority = "fifo", priority
    except PermissionError:
        status.notes.append("SCHED_FIFO refused: run as root or grant rtprio (e.g. `ulimit -r 50`, "
                            "or 'USER - rtprio 50' in /etc/security/limits.conf)")
    if lock_memory:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.mlockall(_MCL_CURRENT | _MCL_FUTURE) == 0:
            status.memory_locked = True
        else:
            status.notes.append(f"mlockall refused ({os.strerror(ctypes.get_errno())}): raise "
                                "`ulimit -l` or run with CAP_IPC_LOCK")
    if required and status.notes:
        raise RealtimeError("real-time scheduling was required but: " + "; ".join(status.notes))
    return status
