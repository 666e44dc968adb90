"""request_realtime: the control loop's process gets SCHED_FIFO, its core and locked memory, or says why not."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from dexrl.deploy import RealtimeError, request_realtime

CHILD = """
import json, os, sys
from dexrl.deploy import RealtimeError, request_realtime
core = max(os.sched_getaffinity(0))
try:
    s = request_realtime(priority=10, core=core, required=sys.argv[1] == "required")
except RealtimeError as err:
    print(json.dumps({"error": str(err)})); sys.exit(0)
print(json.dumps({"scheduler": os.sched_getscheduler(0), "priority": os.sched_getparam(0).sched_priority,
                  "affinity": sorted(os.sched_getaffinity(0)), "core": core, "status": str(s),
                  "locked": s.memory_locked, "notes": s.notes}))
"""


def _child(mode: str) -> dict:
    # A separate process: the test runner itself must not become a real-time task.
    out = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not hasattr(os, "sched_setscheduler"), reason="Linux scheduling API")
def test_granted_or_refused_with_the_reason() -> None:
    r = _child("best_effort")
    assert r["affinity"] == [r["core"]]  # pinning needs no privilege
    if os.geteuid() == 0:  # CI runs as root: everything is granted and visible to the kernel's API
        assert r["scheduler"] == os.SCHED_FIFO and r["priority"] == 10, r
        assert r["locked"] and r["notes"] == [], r
        assert "scheduler fifo priority 10" in r["status"]
    else:  # refused, degraded to normal scheduling, and the status says how to allow it
        assert r["scheduler"] == os.SCHED_OTHER and any("rtprio" in n for n in r["notes"]), r
        assert "ulimit -r" in _child("required")["error"]


def test_bad_arguments_are_refused_before_anything_changes() -> None:
    before = (os.sched_getscheduler(0), os.sched_getaffinity(0))
    with pytest.raises(ValueError, match="outside SCHED_FIFO's range 1..99"):
        request_realtime(priority=0)
    allowed = sorted(os.sched_getaffinity(0))
    with pytest.raises(ValueError, match=re.escape(f"is not one this process may run on: allowed cores are {allowed}")):
        request_realtime(core=max(allowed) + 1000)
    with pytest.raises(ValueError, match="core '3' is not one"):
        request_realtime(core="3")  # type: ignore[arg-type]
    assert (os.sched_getscheduler(0), os.sched_getaffinity(0)) == before
    assert issubclass(RealtimeError, RuntimeError)


DEFAULT_CORE = """
import json, os
from dexrl.deploy import request_realtime
allowed = sorted(os.sched_getaffinity(0))
s = request_realtime(priority=10, lock_memory=False)   # no core: the last one this process may use
print(json.dumps({"allowed": allowed, "affinity": sorted(os.sched_getaffinity(0)), "cores": list(s.cores)}))
"""


@pytest.mark.skipif(not hasattr(os, "sched_setscheduler"), reason="Linux scheduling API")
def test_the_default_core_is_one_this_process_may_use() -> None:
    """The README's call (no core) works on any machine, e.g. a 2-core one where core 3 does not exist."""
    out = subprocess.run([sys.executable, "-c", DEFAULT_CORE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["affinity"] == r["cores"] == [max(r["allowed"])]
