"""Fixtures for the apply / randomizer tests: a task whose envs run chosen λs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from dexrl.adr import PARAM_NAMES, ADRConfig, EpisodeAssignment, ParamConfig
from dexrl.adr.randomizer import EpisodeRandomizer
from dexrl.tasks.registry import make_task


class ScriptedState:
    """Stands in for ADRState: hands out the given λs in turn and records the reports."""

    def __init__(self, per_episode: Sequence[Mapping[str, float]]) -> None:
        self.per_episode = list(per_episode)
        self.sampled = 0
        self.reports: list[tuple[EpisodeAssignment, float]] = []
        self.invalid: list[EpisodeAssignment] = []

    def sample_episode(self) -> EpisodeAssignment:
        lambdas = dict.fromkeys(PARAM_NAMES, 0.0)
        lambdas.update(self.per_episode[self.sampled % len(self.per_episode)])
        self.sampled += 1
        return EpisodeAssignment(lambdas)

    def report(self, assignment: EpisodeAssignment, performance: float) -> None:
        self.reports.append((assignment, performance))

    def report_invalid(self, assignment: EpisodeAssignment) -> None:
        self.invalid.append(assignment)


def manual_config(names: Sequence[str]) -> ADRConfig:
    """Mode "manual" with `names` randomized (their ranges only mark them active here)."""
    return ADRConfig(mode="manual", params={n: ParamConfig(manual_range=[0.0, 0.0]) for n in names})


def pinned(
    lambdas: Mapping[str, float] | Sequence[Mapping[str, float]],
    num_envs: int = 1,
    env: str = "cube_rotate",
    seed: int = 0,
    **overrides: Any,
) -> tuple[Any, EpisodeRandomizer, ScriptedState]:
    """A reset task whose episodes run `lambdas` (one dict, or one per episode in reset order:
    `task.reset()` resets env 0, 1, ... so entry i goes to env i first)."""
    per_episode = [lambdas] if isinstance(lambdas, Mapping) else list(lambdas)
    names = sorted({n for lam in per_episode for n in lam})
    state = ScriptedState(per_episode)
    task = make_task(env, num_envs=num_envs, seed=seed, overrides=overrides)
    randomizer = EpisodeRandomizer(manual_config(names), state=state)
    randomizer.attach(task)
    task.reset()
    return task, randomizer, state


@pytest.fixture
def pinned_task() -> Callable[..., tuple[Any, EpisodeRandomizer, ScriptedState]]:
    return pinned
