"""The single owner of the ADR state in a distributed run (docs/architecture.md §3).

One Ray actor holds the ranges and boundary buffers; workers ask it for episode assignments and
report boundary results. It is checkpointed with the run (its JSON goes into the checkpoint).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class ADRStateActor:
    """Ray actor wrapping `dexrl.adr.algorithm.ADRState`."""

    def __init__(self, cfg: Any, state_json: str | None = None) -> None:
        from dexrl.adr.algorithm import ADRState

        self.state = ADRState.from_json(json.loads(state_json), cfg) if state_json else ADRState(cfg)
        self._events_logged = self.state.param_events()  # moves already in an earlier row

    def set_nominals(self, nominals: dict[str, float]) -> None:
        self.state.set_nominals(nominals)

    def sample_episodes(self, n: int) -> list[Any]:
        return [self.state.sample_episode() for _ in range(n)]

    def report(self, results: list[tuple[Any, float, bool]]) -> None:
        """(assignment, performance, healthy) per finished episode."""
        for assignment, performance, healthy in results:
            if healthy:
                self.state.report(assignment, performance)
            else:
                self.state.report_invalid(assignment)

    def metrics(self) -> dict[str, float]:
        return self.state.metrics()

    def iteration_metrics(self) -> dict[str, float]:
        """`metrics()` plus the boundary moves since the previous call, per parameter:
        `adr/widen/<name>` and `adr/narrow/<name>` (the trainer calls it once per iteration, so
        these are per-iteration counts; a resumed run counts from its checkpoint's state)."""
        out = self.state.metrics()
        events = self.state.param_events()
        logged = self._events_logged
        out.update({f"adr/{k}": float(v - logged.get(k, 0)) for k, v in events.items()})
        self._events_logged = events
        return out

    def to_json(self) -> dict[str, Any]:
        return self.state.to_json()


def make_adr_components(adr_cfg: Any, checkpoint: dict[str, Any] | None) -> tuple[Any, Callable[[int], Any]]:
    """(ADR actor handle or None, worker index -> randomizer for that worker or None)."""
    if adr_cfg is None:
        return None, lambda _w: None
    import ray

    state_json = checkpoint.get("adr") if checkpoint else None
    actor = ray.remote(num_cpus=0)(ADRStateActor).remote(adr_cfg, state_json)
    from dexrl.adr.randomizer import EpisodeRandomizer

    return actor, lambda w: EpisodeRandomizer(adr_cfg, actor, seed=w)
