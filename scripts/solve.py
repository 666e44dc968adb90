"""Solve a Rubik's cube and print the hand's subgoal plan.

Usage:
    python scripts/solve.py "<54 facelets in URFDLB order>"
    python scripts/solve.py --scramble "R U R' U'"

Prints readable lines, then ONE JSON object as the last line:
    {"facelets": ..., "moves": [...], "subgoals": [...], "rotations": n, "flips": m, ...}
so other programs can read `lines[-1]`. Invalid input exits non-zero (1 for a bad
cube or move, 2 for bad arguments) with a one-line `error: ...` on stderr. A small argparse CLI rather than Hydra: it has no config to compose.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import NoReturn

from dexrl.solver import (
    CubeOrientation,
    CubeState,
    FlipSubgoal,
    InvalidCubeError,
    SolverError,
    count_subgoals,
    format_moves,
    plan_subgoals,
    solve,
)


class _OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but usage errors are one `error: ...` line like every other failure."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see --help)\n")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _OneLineErrorParser(description="Solve a Rubik's cube and print the subgoal plan.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("facelets", nargs="?", help="54 facelets, URFDLB order (kociemba)")
    source.add_argument("--scramble", help="moves applied to a solved cube, e.g. \"R U R' U'\"")
    parser.add_argument("--up", default="U", help="cube face on top at the start (default U)")
    parser.add_argument(
        "--toward-y", default=None, help="cube face towards world +y at the start (default: any)"
    )
    return parser.parse_args(argv)


def _start_orientation(up: str, toward_y: str | None) -> CubeOrientation:
    """The starting pose; without --toward-y the first pose with `up` on top is used."""
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


def run(argv: list[str] | None = None) -> dict[str, object]:
    """Parse arguments, solve, plan; print the report and return the JSON object."""
    args = _parse_args(argv)
    if args.scramble is not None:
        cube = CubeState.solved().apply(args.scramble)
        print(f"scramble: {args.scramble}")
    else:
        cube = CubeState.from_facelets(args.facelets.strip())
    orientation = _start_orientation(args.up, args.toward_y)
    moves = solve(cube)
    subgoals = plan_subgoals(moves, orientation)
    counts = count_subgoals(subgoals)
    print(f"cube: {cube.facelets}")
    print(f"solution ({len(moves)} face turns): {format_moves(moves) or '(already solved)'}")
    for i, goal in enumerate(subgoals, start=1):
        if isinstance(goal, FlipSubgoal):
            print(f"{i:3d}. flip {goal.face} to the top ({goal.angle:.4f} rad about {goal.axis})")
        else:
            print(f"{i:3d}. rotate top face {goal.face} {'cw' if goal.direction > 0 else 'ccw'}")
    print(f"{counts['rotations']} rotations + {counts['flips']} flips = {counts['total']} subgoals")
    return {
        "facelets": cube.facelets,
        "moves": [str(m) for m in moves],
        "num_moves": len(moves),
        "subgoals": [goal.to_dict() for goal in subgoals],
        "rotations": counts["rotations"],
        "flips": counts["flips"],
        "num_subgoals": counts["total"],
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
