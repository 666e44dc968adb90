"""Where the driver's time goes in one iteration, stage by stage.

The trainer wraps each stage of an iteration in `clock.stage(name)`; `lap()` returns the seconds
per stage since the previous lap and starts the next iteration. Stages (in order): `broadcast`
(the learner's weights as arrays + `ray.put`), `launch` (one `rollout` call per worker), `wait`
(until every worker's rollout is ready: the workers' stepping, not the driver's), `fetch`
(`ray.get` of the batches: deserialisation on the driver), `learner` (the PPO update, which
takes the list of the workers' batches and copies each into its device tensors: no join on the
driver), `metrics` (episode statistics, ADR metrics from its actor), `log`
(metrics.jsonl / wandb / console) and `checkpoint`. `scripts/bench_driver.py` reads them to
split the driver's overhead by stage as the worker count grows; every metrics.jsonl row has them
as `time/<stage>_s` (the `log` of the row before, since a row cannot time its own writing).

Beside the wall seconds, each stage's CPU seconds of the driver process (all its threads, Ray's
own included: `time.process_time`) are kept (`StageClock.last_cpu` after a lap). On a machine
where the workers share the driver's cores, a stage's wall time also holds the time the driver
waited for a core; its CPU time is the work the driver itself did, what a head node with cores
of its own pays (README "Running on a cluster").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

STAGES = ("broadcast", "launch", "wait", "fetch", "learner", "metrics", "log", "checkpoint")
# The driver's own work: everything but waiting for the workers and the PPO update itself.
OVERHEAD_STAGES = tuple(s for s in STAGES if s not in ("wait", "learner"))


class StageClock:
    """Accumulates wall (and driver CPU) seconds per named stage until `lap()`."""

    def __init__(self) -> None:
        self.current: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.current_cpu: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.last_cpu: dict[str, float] = dict.fromkeys(STAGES, 0.0)  # the CPU seconds of the last lap

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if name not in self.current:
            raise KeyError(f"unknown stage {name!r}; stages: {', '.join(STAGES)}")
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.current[name] += time.perf_counter() - t0
            self.current_cpu[name] += time.process_time() - c0

    def lap(self) -> dict[str, float]:
        """The wall seconds per stage since the last lap (their CPU seconds: `last_cpu`); the
        clock starts again from zero."""
        done, self.current = self.current, dict.fromkeys(STAGES, 0.0)
        self.last_cpu, self.current_cpu = self.current_cpu, dict.fromkeys(STAGES, 0.0)
        return done
