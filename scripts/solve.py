"""Solve a Rubik's cube and print the hand's subgoal plan.

Usage:
    python scripts/solve.py "<54 facelets in URFDLB order>"
    python scripts/solve.py --scramble "R U R' U'" [--budget-s 3] [--up U] [--turn-direction cw]

The planner (`dexrl.solver.CubePlanner`) looks for the cheapest plan within `--budget-s`
seconds (cost = flips x flip cost + quarter turns x rotate cost; `--budget-s 0` is kociemba's
first answer, as before). Without `--up` it also chooses which face starts on top. For a hand
that turns a face one way only, `--turn-direction cw` (or `ccw`) writes every turn that way
(U' as U U U) and prices the plan so.

Prints readable lines, then ONE JSON object as the last line:
    {"facelets": ..., "moves": [...], "subgoals": [...], "rotations": n, "flips": m,
     "cost": c, "search_time_s": t, "kociemba": {...first answer's counts...}, ...}
so other programs can read `lines[-1]`. Invalid input exits non-zero (1 for a bad
cube or move, 2 for bad arguments) with a one-line `error: ...` on stderr. A small argparse CLI
rather than Hydra: it has no config to compose.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import NoReturn

from dexrl.solver import (
    CubeOrientation,
    CubePlanner,
    CubeState,
    FlipSubgoal,
    InvalidCubeError,
    Plan,
    PlannerSettings,
    SolverError,
    cube_from_facelets,
    format_moves,
)


class _OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but usage errors are one `error: ...` line like every other failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see --help)\n")


_TURN_DIRECTIONS = {"cw": 1, "ccw": -1, "either": 0}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = PlannerSettings()
    parser = _OneLineErrorParser(description="Solve a Rubik's cube and print the subgoal plan.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("facelets", nargs="?", help="54 facelets, URFDLB order (kociemba)")
    source.add_argument("--scramble", help="moves applied to a solved cube, e.g. \"R U R' U'\"")
    parser.add_argument(
        "--up", default=None, help="cube face on top at the start (default: the planner chooses)"
    )
    parser.add_argument(
        "--toward-y", default=None, help="cube face towards world +y at the start (needs --up)"
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=defaults.budget_s,
        help=f"seconds to search for a cheaper plan (default {defaults.budget_s}; 0: kociemba's "
        "first answer)",
    )
    parser.add_argument("--flip-cost", type=float, default=defaults.flip_cost)
    parser.add_argument("--rotate-cost", type=float, default=defaults.rotate_cost)
    parser.add_argument(
        "--half-turn-cost", type=float, default=None, help="default: two quarter turns"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="search order")
    parser.add_argument(
        "--turn-direction",
        choices=sorted(_TURN_DIRECTIONS),
        default="either",
        help="the hand turns a face clockwise only (cw: U' becomes U U U), counter-clockwise "
        "only (ccw), or either way (default)",
    )
    return parser.parse_args(argv)


def _start_orientation(up: str | None, toward_y: str | None) -> CubeOrientation | None:
    """The starting pose; None (planner's choice) without --up; without --toward-y the first
    pose with `up` on top is used."""
    if up is None:
        if toward_y is not None:
            raise ValueError("--toward-y needs --up")
        return None
    if toward_y is not None:
        return CubeOrientation.from_faces(up, toward_y)
    if up == "U":
        return CubeOrientation.identity()
    for candidate in "URFDLB":
        try:
            return CubeOrientation.from_faces(up, candidate)
        except ValueError:
            continue
    raise ValueError(f"--up must be one of U R F D L B, got {up!r}")


def _counts(plan: Plan) -> dict[str, object]:
    return {
        "num_moves": len(plan.moves),
        "rotations": plan.rotations,
        "flips": plan.flips,
        "num_subgoals": plan.num_subgoals,
        "cost": plan.cost,
    }


def run(argv: list[str] | None = None) -> dict[str, object]:
    """Parse arguments, plan; print the report and return the JSON object."""
    args = _parse_args(argv)
    if args.scramble is not None:
        cube = CubeState.solved().apply(args.scramble)
    else:
        cube = cube_from_facelets(args.facelets.strip())
    start = _start_orientation(args.up, args.toward_y)
    settings = PlannerSettings(
        budget_s=args.budget_s,
        flip_cost=args.flip_cost,
        rotate_cost=args.rotate_cost,
        half_turn_cost=args.half_turn_cost,
        seed=args.seed,
        turn_direction=_TURN_DIRECTIONS[args.turn_direction],
    )
    if args.scramble is not None:  # printed once the input is known to be good
        print(f"scramble: {args.scramble}")
    with CubePlanner(settings) as planner:
        first = planner.plan(cube, start, budget_s=0)
        plan = planner.plan(cube, start)
    print(f"cube: {cube.facelets}")
    print(
        f"solution ({len(plan.moves)} face turns): {format_moves(plan.moves) or '(already solved)'}"
    )
    up, toward_y = plan.start.up_face, plan.start.face_along((0, 1, 0))
    print(f"start: {up} on top, {toward_y} towards +y" + ("" if start else " (chosen)"))
    for i, goal in enumerate(plan.subgoals, start=1):
        if isinstance(goal, FlipSubgoal):
            print(f"{i:3d}. flip {goal.face} to the top ({goal.angle:.4f} rad about {goal.axis})")
        else:
            print(f"{i:3d}. rotate top face {goal.face} {'cw' if goal.direction > 0 else 'ccw'}")
    print(
        f"{plan.rotations} rotations + {plan.flips} flips = {plan.num_subgoals} subgoals, "
        f"cost {plan.cost:g} (kociemba's first answer, {first.start.up_face} on top: {first.rotations} + "
        f"{first.flips} = {first.num_subgoals}, cost {first.cost:g})"
    )
    print(
        f"search: {plan.search_time_s:.2f} s of {args.budget_s:g} s, {plan.solutions} solutions; "
        f"kept: {plan.source}"
    )
    return {
        "facelets": cube.facelets,
        "moves": [str(m) for m in plan.moves],
        "num_moves": len(plan.moves),
        "subgoals": [goal.to_dict() for goal in plan.subgoals],
        "rotations": plan.rotations,
        "flips": plan.flips,
        "num_subgoals": plan.num_subgoals,
        "cost": plan.cost,
        "start": {"up": up, "toward_y": toward_y},
        "search_time_s": plan.search_time_s,
        "budget_s": args.budget_s,
        "solutions": plan.solutions,
        "source": plan.source,
        "turn_direction": args.turn_direction,
        "kociemba": _counts(first),
    }


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 on success, 1 with a one-line reason on stderr for bad input."""
    try:
        result = run(argv)
    except InvalidCubeError as error:
        print(f"error: invalid cube: {error.reason}", file=sys.stderr)
        return 1
    except (SolverError, ValueError) as error:  # bad move tokens, bad --up/--toward-y
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
