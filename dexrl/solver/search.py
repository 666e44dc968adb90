"""The cheapest subgoal plan a time budget can find (issue 13).

A plan is scored by its subgoals, flips dearer than face turns (`dexrl.solver.cost`: the cost,
`PlannerSettings`, `score`; re-exported here).

kociemba's first answer (the plain plan, `budget_s = 0`) is rarely the cheapest. Within the
budget the search also solves 95 more problems through the kociemba child process (a hard time
limit, see `kociemba_process`): the cube under each of the other 47 whole-cube symmetries and
the inverse cube under all 48 (`dexrl.solver.symmetry`), each answer mapped back to the cube.
kociemba's phase 1 aims at a different subgroup for each axis and tries faces in a different
order, so the answers differ. Problems are taken from the six axis/inverse classes in turn,
each class in an order drawn from `seed`.

The search runs in rounds. The first is the breadth pass: every problem once at kociemba's
max_depth 24, at most `BREADTH_LIMIT_S` per call. Those answers come in milliseconds, and with a
small budget many of them beat fewer, deeper ones (measured: 1,000 scrambles at 0.25 s). Each
later round asks every open problem again for a shorter answer (max_depth one less than its
last, largest depth first, never more than a plan that could still beat the best one:
`PlannerSettings.longest_useful`) with twice the time per call, since small depths take much
longer (0.2 s at 20, 42 s at 19 on the fair scramble: docs/references.md "Solver timings"). A
problem is done when kociemba has nothing within its depth.

With `max_calls = N` the search is a fixed amount of work instead: the first N problems at
max_depth 24, nothing else, so that a plan does not depend on the machine's speed.

A search for a given start pose scores a solution by that pose's top face; without a pose the
plan starts with the first move's face on top (saving a flip). Every candidate is replayed on
the symbolic cube before it is kept, and the returned subgoals are replayed once more.

Deterministic for a seed: the problems are always tried in the same order and a plan replaces
the best one only when strictly cheaper, so the answer depends only on how far the search got
within the budget. It is the same on every run when the search ends before its budget (with
`max_calls`, or when every problem ran out of shorter answers: short scrambles). Otherwise the last call may or may not
finish in time: a budget in CPU seconds (`clock="cpu"`) moves that point far less than a
wall-clock budget on a loaded machine.

`budget_s` bounds the whole search, kociemba's first answer included, except that the first
answer is always waited for (it is the plan of last resort; 8 ms median, docs/references.md
"Solver timings").
"""

from __future__ import annotations

import itertools
import random
from collections import OrderedDict
from dataclasses import dataclass, field

from dexrl.solver.cost import Candidate as Candidate  # re-exported: the cost model lives there
from dexrl.solver.cost import PlannerSettings as PlannerSettings
from dexrl.solver.cost import score as score
from dexrl.solver.cube import CubeState, Move, invert_moves, parse_moves
from dexrl.solver.geometry import FACES
from dexrl.solver.kociemba_process import KociembaProcess, SearchTimeout
from dexrl.solver.orientation import CubeOrientation
from dexrl.solver.planner import (
    Subgoal,
    apply_subgoal,
    count_subgoals,
    flip_to_top,
    plan_subgoals,
)
from dexrl.solver.symmetry import SYMMETRIES, Symmetry, inverse_state
from dexrl.solver.two_phase import SolverError, solve
from dexrl.solver.validate import standardize_colours, validate

BREADTH_LIMIT_S = 0.25
"""Longest kociemba call of the breadth pass (seconds); a problem that takes longer is asked
again in the depth rounds. Most answer in milliseconds (p99 74 ms at max_depth 24,
docs/references.md "Solver timings")."""


@dataclass(frozen=True)
class Plan:
    """A verified subgoal plan and how it was found.

    Attributes:
        moves: face turns, in the order the subgoals carry them out.
        start: the cube pose the subgoals start from (given, or chosen with moves[0] on top).
        subgoals: flip / rotate subgoals (`dexrl.solver.planner`).
        cost, flips, rotations: the plan's cost and subgoal counts.
        search_time_s: seconds spent searching (0 for a cached plan).
        source: which problem gave the moves, e.g. "kociemba" or
            "inverse, symmetry U->R R->D D->L L->U mirror, max_depth 20".
        solutions: solutions found by the search (all verified).
        cached: True when the plan came from the cache of an earlier search.
    """

    moves: tuple[Move, ...]
    start: CubeOrientation
    subgoals: tuple[Subgoal, ...]
    cost: float
    flips: int
    rotations: int
    search_time_s: float
    source: str
    solutions: int
    cached: bool = False

    @property
    def num_subgoals(self) -> int:
        return self.flips + self.rotations


@dataclass
class _Best:
    """The cheapest candidate found for each possible top face (None: free choice)."""

    settings: PlannerSettings
    by_top: dict[str | None, Candidate] = field(default_factory=dict)
    solutions: int = 0

    def cost(self, top: str | None) -> float:
        return self.by_top[top].cost

    def add(self, moves: tuple[Move, ...], source: str) -> None:
        self.solutions += 1
        for top in (None, *FACES):
            candidate = score(moves, top, self.settings, source)
            best = self.by_top.get(top)
            if best is None or candidate.cost < best.cost - 1e-9:
                self.by_top[top] = candidate


@dataclass
class _Problem:
    """The cube under one symmetry (and maybe inverted), solved by kociemba, mapped back."""

    symmetry: Symmetry
    inverse: bool
    facelets: str
    depth: int  # max_depth of its next call (0: done, nothing shorter exists)

    def describe(self) -> str:
        """E.g. "inverse, symmetry U->F F->D D->B B->U, max_depth 20"."""
        parts = ["inverse"] if self.inverse else []
        if not self.symmetry.is_identity:
            parts.append(f"symmetry {self.symmetry}")
        return ", ".join([*parts, f"max_depth {self.depth}"])

    def to_solution(self, answer: str) -> tuple[Move, ...]:
        moves = self.symmetry.map_back(parse_moves(answer))
        return invert_moves(moves) if self.inverse else moves


def _axis_class(symmetry: Symmetry) -> int:
    """The cube axis that becomes the problem's U/D axis (0 U/D, 1 R/L, 2 F/B): kociemba's
    phase 1 works on that axis, so problems of different classes get the most different answers.
    """
    onto_up = FACES[symmetry.faces.index("U")]
    return {"U": 0, "D": 0, "R": 1, "L": 1, "F": 2, "B": 2}[onto_up]


def problem_order(seed: int) -> list[tuple[Symmetry, bool]]:
    """The 95 problems besides the plain cube: classes (axis x inverse) in turn, shuffled."""
    rng = random.Random(seed)
    classes: dict[tuple[int, bool], list[tuple[Symmetry, bool]]] = {}
    for symmetry, inverse in itertools.product(SYMMETRIES, (False, True)):
        if symmetry.is_identity and not inverse:
            continue  # the plain cube: kociemba's first answer
        classes.setdefault((_axis_class(symmetry), inverse), []).append((symmetry, inverse))
    groups = [classes[key] for key in sorted(classes)]
    for group in groups:
        rng.shuffle(group)
    order: list[tuple[Symmetry, bool]] = []
    for column in itertools.zip_longest(*groups):
        order.extend(item for item in column if item is not None)
    return order


class CubePlanner:
    """Finds cheap plans within a budget; remembers them per cube (LRU of `cache_size`).

    Holds a kociemba child process while searching: `close()` it (or use `with`).
    """

    def __init__(self, settings: PlannerSettings | None = None, cache_size: int = 256) -> None:
        self.settings = settings or PlannerSettings()
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, float], tuple[_Best, float]] = OrderedDict()
        self._process: KociembaProcess | None = None

    def plan(
        self,
        cube: CubeState | str,
        start: CubeOrientation | None = None,
        budget_s: float | None = None,
    ) -> Plan:
        """The cheapest verified plan found for `cube` within the budget.

        Args:
            cube: a CubeState or facelet string (any whole-cube orientation, as `solve`).
            start: the cube's pose when the plan starts; None lets the planner choose it.
            budget_s: overrides settings.budget_s for this call.

        Raises:
            InvalidCubeError: not a reachable cube. SolverError: kociemba failed (should not).
        """
        budget = self.settings.budget_s if budget_s is None else budget_s
        facelets = cube.facelets if isinstance(cube, CubeState) else cube
        validate(facelets)
        state = CubeState(standardize_colours(facelets))
        top = None if start is None else start.up_face
        if budget <= 0:  # the plain plan, as before this search existed
            moves = solve(state, max_depth=self.settings.max_depth)
            pose = start or CubeOrientation.identity()
            candidate = score(moves, pose.up_face, self.settings, "kociemba", reorder=False)
            return self._verified(state, candidate, pose, 0.0, 1, cached=False)
        key = (state.facelets, budget)
        cached = key in self._cache
        if cached:
            self._cache.move_to_end(key)
            best, elapsed = self._cache[key]
        else:
            process = self._child_process()
            t0 = process.now()
            best = self._search(state, top, t0 + budget)
            elapsed = process.now() - t0
            process.start()  # a child killed at the deadline is replaced off the clock
            self._cache[key] = (best, elapsed)
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        candidate = best.by_top[top]
        pose = start or _pose_with_on_top(candidate.moves[0].face if candidate.moves else "U")
        return self._verified(
            state, candidate, pose, 0.0 if cached else elapsed, best.solutions, cached
        )

    def warm_up(self, wait: bool = False) -> None:
        """Start the kociemba child before the first search (which would otherwise pay for its
        start, ~25 ms); with `wait`, return once it is ready. Nothing to do for budget 0."""
        if self.settings.budget_s > 0:
            self._child_process().start(wait)

    def _child_process(self) -> KociembaProcess:
        if self._process is None:
            self._process = KociembaProcess(self.settings.clock)
        return self._process

    def _search(self, state: CubeState, top: str | None, deadline: float) -> _Best:
        """Breadth then depth rounds until the deadline (or nothing is left to try)."""
        settings = self.settings
        self._child_process().start()  # it loads kociemba while the first answer is found here
        best = _Best(settings)
        best.add(solve(state, max_depth=settings.max_depth), "kociemba")
        if state.is_solved:
            return best
        inverse = inverse_state(state)
        problems = [
            _Problem(
                symmetry,
                inv,
                symmetry.transform(inverse if inv else state).facelets,
                settings.max_depth,
            )
            for symmetry, inv in problem_order(settings.seed)
        ]
        try:
            if settings.max_calls:
                for problem in problems[: settings.max_calls]:
                    self._try(state, problem, top, best, deadline)
            else:
                self._rounds(state, problems, top, best, deadline)
        except SearchTimeout:
            pass
        return best

    def _try(
        self,
        state: CubeState,
        problem: _Problem,
        top: str | None,
        best: _Best,
        deadline: float,
        limit_s: float | None = None,
    ) -> None:
        """One kociemba call on `problem` at its depth; a verified answer is kept and the
        problem's next depth is one less. SearchTimeout: the limit (or the deadline) passed."""
        answer = self._child_process().solve(problem.facelets, problem.depth, deadline, limit_s)
        if answer is None:  # nothing within this depth: a smaller one cannot succeed either
            problem.depth = 0
            return
        moves = problem.to_solution(answer)
        description = problem.describe()
        if not state.apply(moves).is_solved:
            raise SolverError(f"{description}: {answer!r} maps to a non-solution")
        best.add(moves, description)
        problem.depth = len(moves) - 1

    def _rounds(
        self,
        state: CubeState,
        problems: list[_Problem],
        top: str | None,
        best: _Best,
        deadline: float,
    ) -> None:
        """Ask every open problem in turn, the largest depth first, each round with twice the
        time per call; the first round is the breadth pass (max_depth 24). Ends when no problem
        is open; SearchTimeout at the deadline."""
        limit_s = BREADTH_LIMIT_S
        breadth = True
        while True:
            for problem in sorted(problems, key=lambda p: -p.depth):  # stable: problem order
                if not breadth:  # never longer than a plan that could still beat the best one
                    useful = self.settings.longest_useful(best.cost(top))
                    problem.depth = min(problem.depth, useful)
                if problem.depth < 1:
                    continue
                try:
                    self._try(state, problem, top, best, deadline, limit_s)
                except SearchTimeout:
                    if self._child_process().now() >= deadline:
                        raise
            if not any(p.depth > 0 for p in problems):
                return
            limit_s *= 2
            breadth = False

    def _verified(
        self,
        state: CubeState,
        candidate: Candidate,
        pose: CubeOrientation,
        elapsed: float,
        solutions: int,
        cached: bool,
    ) -> Plan:
        """Subgoals for the candidate, replayed on the symbolic cube before anyone uses them."""
        subgoals = plan_subgoals(candidate.moves, pose, self.settings.turn_direction)
        replay, orientation = state, pose
        for goal in subgoals:
            replay, orientation = apply_subgoal(replay, orientation, goal)
        counts = count_subgoals(subgoals)
        if not replay.is_solved or (counts["flips"], counts["rotations"]) != (
            candidate.flips,
            candidate.rotations,
        ):
            raise SolverError(f"plan from {candidate.source} does not solve {state.facelets}")
        return Plan(
            candidate.moves,
            pose,
            subgoals,
            candidate.cost,
            candidate.flips,
            candidate.rotations,
            elapsed,
            candidate.source,
            solutions,
            cached,
        )

    def close(self) -> None:
        """Stop the kociemba child process (a later search starts a new one)."""
        if self._process is not None:
            self._process.close()
            self._process = None

    def __enter__(self) -> CubePlanner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pose_with_on_top(face: str) -> CubeOrientation:
    """The pose one flip from the identity that has `face` on top (the identity for U)."""
    flip = flip_to_top(CubeOrientation.identity(), face)
    return CubeOrientation.identity() if flip is None else flip.orientation
