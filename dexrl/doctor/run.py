"""Runs the doctor's groups in the checklist's order and collects their rows."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import torch

from dexrl.doctor.common import Collector, DoctorSetup, clone_learner, make_learner
from dexrl.doctor.report import Check

GROUPS = ("runs", "overfit", "signs", "env")
"""The default run, in order; "ladder" is its own long command (`experiment=ladder`)."""
ALIASES = {"1": "runs", "2": "overfit", "3": "signs", "4": "env", "5": "ladder",
           "environment": "env"}  # fmt: skip


def resolve_groups(only: str | None) -> tuple[str, ...]:
    """`--only` value (a name or 1-5, comma-separated) -> group names; ValueError names the bad one."""
    if only is None:
        return GROUPS
    names = []
    for item in only.split(","):
        name = ALIASES.get(item.strip(), item.strip())
        if name not in (*GROUPS, "ladder"):
            raise ValueError(f"--only {item!r} is not a group; choose from {', '.join((*GROUPS, 'ladder'))} (or 1-5)")
        names.append(name)
    return tuple(names)


def run_doctor(
    setup: DoctorSetup,
    groups: Sequence[str] = GROUPS,
    progress: Callable[[str], None] | None = None,
) -> list[Check]:
    """Every check of `groups` (in the checklist's order); one rollout is shared by 2 and 3."""
    say = progress or (lambda _msg: None)
    checks: list[Check] = []
    threads = torch.get_num_threads()
    # One thread: the doctor's networks and batches are small, and on shared cores torch's second
    # thread spins against the other processes (measured: one critic step on 256 samples took
    # 7 ms of CPU on 1 thread and 59 ms on 2 with the machine loaded).
    torch.set_num_threads(1)
    try:
        shared: dict[str, object] = {}
        for group in (g for g in GROUPS if g in groups):
            start, cpu = time.perf_counter(), time.process_time()
            checks.extend(_run_group(group, setup, shared))
            # CPU time too: on a shared machine the wall time measures the neighbours' load.
            say(f"[doctor] {group}: {time.perf_counter() - start:.1f} s "
                f"({time.process_time() - cpu:.1f} s CPU in this process)")  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    return checks


def _first_rollout(setup: DoctorSetup, shared: dict[str, object]) -> tuple[Collector, object, object]:
    if "collector" not in shared:
        collector = Collector(setup)
        task = collector.task
        fresh = make_learner(setup, task.obs_dim, task.critic_obs_dim, task.action_dim)
        shared.update(collector=collector, fresh=fresh, first=collector.rollout(fresh))
    return shared["collector"], shared["fresh"], shared["first"]  # type: ignore[return-value]


def _run_group(group: str, setup: DoctorSetup, shared: dict[str, object]) -> list[Check]:
    if group == "runs":
        from dexrl.doctor.runs import check_runs

        return check_runs(setup)
    if group == "env":
        from dexrl.doctor.environment import check_environment

        return check_environment(setup)
    collector, fresh, first = _first_rollout(setup, shared)
    if group == "overfit":
        from dexrl.doctor.overfit import check_overfit

        return check_overfit(setup, clone_learner(fresh), first.batch)  # type: ignore[arg-type,attr-defined]
    from dexrl.doctor.signs import check_signs

    warmed = clone_learner(fresh)  # type: ignore[arg-type]
    warmed.update(first.batch)  # type: ignore[attr-defined]
    second = collector.rollout(warmed)
    return check_signs(fresh, first, warmed, second)  # type: ignore[arg-type]
