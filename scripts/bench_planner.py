#!/usr/bin/env python
"""Subgoal plans before and after the plan search (issue 13), on one core.

Two parts:

- random scrambles (25 moves, seeded), each from a random start pose as cube_solve draws it:
  kociemba's first answer (budget 0) against the planner at `--budget-s`; flips, rotations,
  subgoals and cost (mean and p90), search time (p50 / p99);
- the fair scramble of [R] at each of `--fair-budgets`, the start face chosen by the planner as
  the original system chose it ([R]: 43 subgoals = 26 rotations + 17 flips).

Every plan is checked independently of the planner: its subgoals are replayed pose by pose
(each turn of the face on top, each flip one horizontal-axis roll) and the turns they make are
applied to kociemba's own cubie model (`kociemba.pykociemba`), which must end solved.

`--clock cpu` (the default) counts budgets in CPU seconds of the planner and its kociemba child,
so the plans hardly depend on the load of a shared machine; wall times are reported too.

    nice -n 19 python scripts/bench_planner.py --scrambles 1000 --budget-s 0.25 --json
    nice -n 19 python scripts/bench_planner.py --scrambles 0 --fair-budgets 0.25,1,3,10,30,60 --json
    nice -n 19 python scripts/bench_planner.py --scrambles 1000 --budget-s 2 --max-calls 8 --json

(README Benchmarks has the figures.) The last line is one JSON object with `--json`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from typing import Any

from kociemba.pykociemba.cubiecube import moveCube
from kociemba.pykociemba.facecube import FaceCube

from dexrl.solver import (
    CubePlanner,
    CubeState,
    FlipSubgoal,
    Plan,
    PlannerSettings,
    RotateSubgoal,
    all_orientations,
    random_scramble,
)
from dexrl.solver.geometry import FACES

FAIR_SCRAMBLE = "L2 U2 R2 B D2 B2 D2 L2 F' D' R B F L U' F D' L2"
# [R]'s execution of the fair scramble (docs/references.md "Rubik's subgoals").
ORIGINAL = {"rotations": 26, "flips": 17, "subgoals": 43}
SOLVED = CubeState.solved()


def pin_one_core() -> None:
    """One core for this process and its kociemba child (which inherits the affinity)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def check_plan(state: CubeState, plan: Plan) -> dict[str, int]:
    """Replay the subgoals without the planner; raise AssertionError if they do not solve.

    Returns the flips and rotations counted from the subgoals themselves.
    """
    pose, flips, rotations = plan.start, 0, 0
    cubie = FaceCube(state.facelets).toCubieCube()
    for goal in plan.subgoals:
        if isinstance(goal, FlipSubgoal):
            assert goal.axis[2] == 0, "a flip about a vertical axis"
            pose = pose.rotated(goal.axis, goal.quarter_turns)
            assert pose == goal.orientation and pose.up_face == goal.face, "flip lands elsewhere"
            flips += 1
        else:
            assert isinstance(goal, RotateSubgoal) and goal.direction in (1, -1)
            assert goal.face == pose.up_face, f"turns {goal.face}, but {pose.up_face} is on top"
            for _ in range(1 if goal.direction == 1 else 3):  # one clockwise or three
                cubie.multiply(moveCube[FACES.index(goal.face)])
            rotations += 1
    assert cubie.toFaceCube().to_String() == SOLVED.facelets, "the plan does not solve the cube"
    return {"flips": flips, "rotations": rotations}


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank), e.g. q = 0.9 for p90."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "p50": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "p99": percentile(values, 0.99),
        "max": max(values),
    }


def random_part(planner: CubePlanner, count: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    poses = all_orientations()
    rows: dict[str, list[float]] = {}
    for i in range(count):
        state = SOLVED.apply(random_scramble(rng, 25))
        start = rng.choice(poses)
        before = planner.plan(state, start, budget_s=0)
        wall = time.perf_counter()
        after = planner.plan(state, start)
        wall = time.perf_counter() - wall
        for name, plan in (("before", before), ("after", after)):
            counts = check_plan(state, plan)
            assert counts == {"flips": plan.flips, "rotations": plan.rotations}
            for key, value in (
                *counts.items(),
                ("subgoals", plan.num_subgoals),
                ("cost", plan.cost),
            ):
                rows.setdefault(f"{name}_{key}", []).append(value)
        rows.setdefault("search_s", []).append(after.search_time_s)
        rows.setdefault("wall_s", []).append(wall)
        if (i + 1) % 100 == 0:
            print(
                f"{i + 1}/{count} scrambles, mean cost {statistics.fmean(rows['after_cost']):.2f}"
            )
    return {"scrambles": count, "verified": count, **{k: summary(v) for k, v in rows.items()}}


def fair_part(settings: PlannerSettings, budgets: list[float]) -> list[dict[str, Any]]:
    state = SOLVED.apply(FAIR_SCRAMBLE)
    results = []
    for budget in budgets:
        with CubePlanner(settings) as planner:  # a fresh planner: no cached plan
            planner.warm_up(wait=True)  # as cube_solve's: its kociemba child already loaded
            wall = time.perf_counter()
            plan = planner.plan(state, None, budget_s=budget)
            wall = time.perf_counter() - wall
        check_plan(state, plan)
        results.append(
            {
                "budget_s": budget,
                "subgoals": plan.num_subgoals,
                "rotations": plan.rotations,
                "flips": plan.flips,
                "cost": plan.cost,
                "num_moves": len(plan.moves),
                "moves": " ".join(str(m) for m in plan.moves),
                "start_up": plan.start.up_face,
                "search_s": plan.search_time_s,
                "wall_s": wall,
                "solutions": plan.solutions,
                "source": plan.source,
                "meets_target": plan.num_subgoals <= 43 and plan.flips <= 17,
            }
        )
        print(
            f"fair scramble, budget {budget:g} s: {plan.rotations} rotations + {plan.flips} flips"
            f" = {plan.num_subgoals} subgoals ({len(plan.moves)} moves, cost {plan.cost:g}; "
            f"search {plan.search_time_s:.2f} s, wall {wall:.2f} s; original 26 + 17 = 43)"
        )
    return results


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--scrambles", type=int, default=1000, help="random scrambles (0: none)")
    p.add_argument("--budget-s", type=float, default=0.25, help="budget per random scramble")
    p.add_argument("--fair-budgets", default="", help="comma-separated budgets, e.g. 1,5,60")
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    p.add_argument(
        "--max-calls", type=int, default=0, help="fixed work per scramble (cube_solve's mode)"
    )
    p.add_argument("--seed", type=int, default=2024, help="scrambles and start poses")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = p.parse_args()
    pin_one_core()
    settings = PlannerSettings(budget_s=args.budget_s, clock=args.clock, max_calls=args.max_calls)
    result: dict[str, Any] = {
        "cores": 1,
        "clock": args.clock,
        "max_calls": args.max_calls,
        "flip_cost": settings.flip_cost,
        "rotate_cost": settings.rotate_cost,
        "original": ORIGINAL,
    }
    if args.scrambles > 0:
        with CubePlanner(settings) as planner:
            planner.warm_up(wait=True)
            part = random_part(planner, args.scrambles, args.seed)
        result["random"] = {"budget_s": args.budget_s, "seed": args.seed, **part}
        for key in ("flips", "rotations", "subgoals", "cost"):
            b, a = part[f"before_{key}"], part[f"after_{key}"]
            print(
                f"{key}: mean {b['mean']:.2f} -> {a['mean']:.2f}, p90 {b['p90']:g} -> {a['p90']:g}"
            )
        s, w = part["search_s"], part["wall_s"]
        print(
            f"search time ({args.clock}) p50 {s['p50']:.3f} s, p99 {s['p99']:.3f} s; "
            f"wall p50 {w['p50']:.3f} s, p99 {w['p99']:.3f} s; {part['verified']} plans verified"
        )
    if args.fair_budgets:
        budgets = [float(b) for b in args.fair_budgets.split(",")]
        result["fair"] = fair_part(settings, budgets)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
