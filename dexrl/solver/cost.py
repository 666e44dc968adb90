"""What a subgoal plan costs (issue 13): `PlannerSettings`, `Candidate` and `score`.

Every subgoal is a chance to drop the cube, and flips fail more often than face turns ([R]),
so a plan is scored by its subgoals, not its face turns:

    cost = flips * flip_cost + quarter turns * rotate_cost      (a half turn: two quarter turns,
                                                                 or `half_turn_cost` if set)

On a hand that turns one way only (`turn_direction` ±1) a quarter turn the other way is three
quarter turns (U' = U U U), so such a plan prefers solutions with fewer of them.

A move needs a flip unless its face is already on top, and two moves in a row never turn one
face, so flips = moves - 1 when the first move's face starts on top, else moves
(`dexrl.solver.planner`). Two first moves of opposite faces commute and may be swapped.

`PlannerSettings` also holds how long and how the search for a cheaper plan runs; the search is
`dexrl.solver.search.CubePlanner`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dexrl.solver.cube import Move
from dexrl.solver.geometry import OPPOSITE
from dexrl.solver.planner import TURN_DIRECTIONS, quarter_turns


@dataclass(frozen=True)
class PlannerSettings:
    """What a plan costs and how long to look for a cheaper one (configs/env/cube_solve.yaml)."""

    # Seconds to search, kociemba's first answer included (a hard limit, except that the first
    # answer is always waited for); 0 returns the first answer's plan unchanged.
    budget_s: float = 3.0
    # Cost of one flip subgoal; dearer than a turn by default ([R]: flips fail more often).
    flip_cost: float = 2.0
    # Cost of one quarter-turn subgoal of the top face.
    rotate_cost: float = 1.0
    # Cost of a half turn (still carried out as two quarter-turn subgoals); None: 2 * rotate_cost.
    half_turn_cost: float | None = None
    # Order in which the symmetric and inverse problems are tried.
    seed: int = 0
    # 0: search until the budget. N > 0: a fixed amount of work instead, kociemba's answers for
    # the first N problems at max_depth (no deeper rounds, no per-call limit): the same plan on
    # every run and machine unless the budget cuts it short (cube_solve: reproducible episodes).
    max_calls: int = 0
    # kociemba's max_depth for the first answer and the breadth pass (face turns).
    max_depth: int = 24
    # What the budget counts: "wall" seconds, or "cpu" seconds of the planner and its kociemba
    # child (for measurements on a shared machine; Linux).
    clock: str = "wall"
    # The hand's turn direction: 0 either way; +1 clockwise only (U' becomes U U U), -1
    # counter-clockwise only (dexrl.solver.planner.quarter_turns).
    turn_direction: int = 0

    def __post_init__(self) -> None:
        if self.budget_s < 0 or not math.isfinite(self.budget_s):
            raise ValueError(f"budget_s must be a finite number >= 0 (got {self.budget_s})")
        costs = (self.flip_cost, self.rotate_cost, self.half_turn_cost_value)
        if min(costs) <= 0:
            raise ValueError(f"flip, rotate and half-turn costs must be > 0 (got {costs})")
        if not 1 <= self.max_depth <= 30:
            raise ValueError(f"max_depth must be in [1, 30] face turns (got {self.max_depth})")
        if self.max_calls < 0:
            raise ValueError(f"max_calls must be >= 0 (got {self.max_calls})")
        if self.clock not in ("wall", "cpu"):
            raise ValueError(f"clock must be 'wall' or 'cpu' (got {self.clock!r})")
        if self.turn_direction not in TURN_DIRECTIONS:
            raise ValueError(
                f"turn_direction must be -1, 0 (either way) or 1 (got {self.turn_direction!r})"
            )

    @property
    def half_turn_cost_value(self) -> float:
        """The cost of a half turn (default: its two quarter-turn subgoals)."""
        return 2 * self.rotate_cost if self.half_turn_cost is None else self.half_turn_cost

    def cost(self, flips: int, quarter_turns: int, half_turns: int) -> float:
        """flips * flip_cost + each quarter / half turn at its cost."""
        singles = quarter_turns - 2 * half_turns
        return (
            flips * self.flip_cost
            + singles * self.rotate_cost
            + half_turns * self.half_turn_cost_value
        )

    def longest_useful(self, best_cost: float) -> int:
        """Most face turns a solution may have and still cost less than `best_cost`.

        Every move but the first needs a flip and every move is at least one turn subgoal, so
        n moves cost at least (n - 1) * flip_cost + n * min(rotate, half turn)."""
        cheapest_turn = min(self.rotate_cost, self.half_turn_cost_value)
        n = self.max_depth
        while n > 0 and (n - 1) * self.flip_cost + n * cheapest_turn >= best_cost - 1e-9:
            n -= 1
        return n


@dataclass(frozen=True)
class Candidate:
    """One solution, in the order it is carried out from a given top face, and its cost."""

    moves: tuple[Move, ...]
    flips: int
    rotations: int
    cost: float
    source: str


def score(
    moves: Sequence[Move],
    top: str | None,
    settings: PlannerSettings,
    source: str = "",
    reorder: bool = True,
) -> Candidate:
    """The cost of carrying out `moves` with `top` on top at the start (None: any face).

    When the first two moves turn opposite faces they commute; with `reorder` the one on top
    goes first.
    """
    ordered = tuple(moves)
    if (
        reorder
        and top is not None
        and len(ordered) >= 2
        and ordered[1].face == top
        and OPPOSITE[ordered[0].face] == top
    ):
        ordered = (ordered[1], ordered[0], *ordered[2:])
    free_first = bool(ordered) and (top is None or ordered[0].face == top)
    flips = len(ordered) - free_first
    halves = sum(m.turns == 2 for m in ordered)
    rotations = sum(quarter_turns(m, settings.turn_direction)[1] for m in ordered)
    return Candidate(ordered, flips, rotations, settings.cost(flips, rotations, halves), source)
