"""Move algebra checked against facts worked out by hand on a physical cube.

The expected facelets below come from turning a real cube in your head (or hands), not from
the permutation tables: e.g. R (clockwise seen from the right) carries the front-right
column up onto U, U's right column onto the back, the back down onto D and D onto F.
"""

from __future__ import annotations

import ast
import random
import sys
from pathlib import Path

import pytest

import dexrl.solver
from dexrl.solver import (
    CubeState,
    Move,
    cube_from_facelets,
    format_moves,
    invert_moves,
    parse_moves,
)
from dexrl.solver.cube import MOVE_PERMUTATIONS
from dexrl.solver.geometry import FACELET_POSITIONS, FACES, facelet_index

SOLVED = CubeState.solved()


def _colours(state: CubeState, names: str) -> str:
    return "".join(state.facelets[facelet_index(n)] for n in names.split())


# (move, facelets, colour they show after that move on a solved cube), by hand:
HAND_FACTS = [
    ("R", "U3 U6 U9", "FFF"),  # front column rolls up onto U
    ("R", "B1 B4 B7", "UUU"),  # U goes to the back (B's left column seen from behind)
    ("R", "D3 D6 D9", "BBB"),
    ("R", "F3 F6 F9", "DDD"),
    ("R", "L1 L5 L9 U1 U4 U7", "LLLUUU"),  # the opposite side does not move
    ("U", "F1 F2 F3", "RRR"),  # seen from above clockwise: R's top row comes to the front
    ("U", "L1 L2 L3", "FFF"),
    ("U", "B1 B2 B3", "LLL"),
    ("U", "R1 R2 R3", "BBB"),
    ("F", "U7 U8 U9", "LLL"),  # L's right column comes up onto U's bottom row
    ("F", "R1 R4 R7", "UUU"),
    ("F", "D1 D2 D3", "RRR"),
    ("F", "L3 L6 L9", "DDD"),
    ("D", "R7 R8 R9", "FFF"),  # seen from below clockwise: the front goes to the right
    ("D", "F7 F8 F9", "LLL"),
    ("L", "F1 F4 F7", "UUU"),  # seen from the left clockwise: U goes to the front
    ("L", "D1 D4 D7", "FFF"),
    ("L", "U1 U4 U7", "BBB"),
    ("B", "L1 L4 L7", "UUU"),  # seen from behind clockwise: U goes to L
    ("B", "U1 U2 U3", "RRR"),
    ("B", "R3 R6 R9", "DDD"),
    ("B", "D7 D8 D9", "LLL"),
    ("x", "U5 F5 D5 B5", "FDBU"),  # whole cube like R
    ("y", "F5 R5 B5 L5", "RBLF"),  # whole cube like U
    ("z", "U5 R5 D5 L5", "LURD"),  # whole cube like F
]


@pytest.mark.parametrize(("move", "names", "colours"), HAND_FACTS)
def test_single_move_on_solved_cube_matches_hand_worked_facts(
    move: str, names: str, colours: str
) -> None:
    assert _colours(SOLVED.apply(move), names) == colours


@pytest.mark.parametrize(
    ("move", "destination", "source"),
    [
        ("R", "U3", "F3"),  # front-top-right sticker rolls to up-back-right
        ("R", "U9", "F9"),
        ("R", "B7", "U3"),  # up-back-right goes down the back, to B's bottom-left
        ("F", "R1", "U7"),  # U's front-left sticker ends on R's top-left
        ("F", "R7", "U9"),
        ("U", "L1", "F1"),
    ],
)
def test_individual_stickers_travel_where_a_physical_turn_takes_them(
    move: str, destination: str, source: str
) -> None:
    perm = MOVE_PERMUTATIONS[parse_moves(move)[0]]
    assert perm[facelet_index(destination)] == facelet_index(source)


def test_checkerboard_pattern() -> None:
    # "Pons asinorum": every face becomes a checkerboard with its opposite colour.
    state = SOLVED.apply("U2 D2 F2 B2 L2 R2")
    faces = ("UDUDUDUDU", "RLRLRLRLR", "FBFBFBFBF", "DUDUDUDUD", "LRLRLRLRL", "BFBFBFBFB")
    assert state.facelets == "".join(faces)


def test_superflip_flips_every_edge_in_place() -> None:
    # Reid's 20-move superflip (1995). Worked by hand: corners and centres stay, and each
    # edge sticker shows the colour of the neighbouring face it touches.
    state = SOLVED.apply("U R2 F B R B2 R U2 L B2 R U' D' R2 F R' L B2 U2 F2")
    faces = ("UBULURUFU", "RURFRBRDR", "FUFLFRFDF", "DFDLDRDBD", "LULBLFLDL", "BUBRBLBDB")
    assert state.facelets == "".join(faces)
    assert cube_from_facelets(state.facelets) == state  # a valid, reachable state


@pytest.mark.parametrize("face", list(FACES + "xyz"))
def test_every_move_has_order_four_and_prime_undoes_it(face: str) -> None:
    state = SOLVED.apply(random_sequence(random.Random(1)))
    quarter = Move(face)
    assert state.apply([quarter] * 4) == state
    assert state.apply([quarter] * 2) != state
    assert state.apply([quarter, quarter.inverse()]) == state
    assert state.apply([Move(face, 2), Move(face, 2)]) == state
    assert state.apply([Move(face, 3)]) == state.apply([quarter] * 3)


def random_sequence(rng: random.Random) -> tuple[Move, ...]:
    return tuple(Move(rng.choice(FACES), rng.choice((1, 2, 3))) for _ in range(30))


def _order(sequence: str) -> int:
    moves = parse_moves(sequence)
    state = SOLVED.apply(moves)
    n = 1
    while not state.is_solved:
        state = state.apply(moves)
        n += 1
    return n


def test_known_orders_of_short_sequences() -> None:
    assert _order("R U R' U'") == 6  # the "sexy move"
    assert _order("R U") == 105
    assert _order("R2 U2") == 6


def test_inverse_sequence_undoes_a_scramble() -> None:
    rng = random.Random(7)
    for _ in range(20):
        moves = random_sequence(rng)
        assert SOLVED.apply(moves).apply(invert_moves(moves)) == SOLVED
    assert format_moves(invert_moves(parse_moves("R U2 F'"))) == "F U2 R'"


def test_cube_rotation_conjugates_faces_like_a_physical_cube() -> None:
    # After x the old F face is on top, so "x U x'" turns F; likewise for y and z.
    state = SOLVED.apply(random_sequence(random.Random(3)))
    assert state.apply("x U x'") == state.apply("F")
    assert state.apply("y R y'") == state.apply("B")
    assert state.apply("z U z'") == state.apply("L")


def test_rotated_solved_cube_is_solved_but_not_standard() -> None:
    rotated = SOLVED.apply("x y")
    assert rotated.is_solved
    assert rotated != SOLVED
    assert not SOLVED.apply("R").is_solved


def test_facelet_round_trip_and_equality() -> None:
    state = SOLVED.apply("R U F")
    again = cube_from_facelets(state.to_facelets())
    assert again == state and hash(again) == hash(state)
    assert SOLVED.to_facelets() == "U" * 9 + "R" * 9 + "F" * 9 + "D" * 9 + "L" * 9 + "B" * 9


@pytest.mark.parametrize(
    ("text", "bad"),
    [("R U Q", "'Q'"), ("R3", "'R3'"), ("r", "'r'"), ("U'2", "U'2"), ("F ''", "''")],
)
def test_bad_move_tokens_are_named_with_what_is_allowed(text: str, bad: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_moves(text)
    message = str(info.value)
    assert bad in message
    assert "U R F D L B" in message


def test_parse_and_format_round_trip() -> None:
    text = "R U R' U' F2 x y' z2"
    assert format_moves(parse_moves(text)) == text
    assert parse_moves("  R\tU'\nF2 ") == (Move("R"), Move("U", 3), Move("F", 2))
    assert parse_moves("") == ()


def test_sticker_positions_are_distinct_and_on_their_face() -> None:
    assert len(set(FACELET_POSITIONS)) == 54
    for i, position in enumerate(FACELET_POSITIONS):
        assert sorted(abs(c) for c in position)[-1] == 3  # on the surface
        assert max(abs(c) for c in position) == 3 and position.count(3) + position.count(-3) == 1
        assert FACES[i // 9] in "URFDLB"


def test_solver_package_imports_only_the_standard_library_and_kociemba() -> None:
    # docs/architecture.md §7: dexrl.solver is pure logic, testable without MuJoCo, torch or Ray.
    allowed = set(sys.stdlib_module_names) | {"kociemba", "dexrl"}
    for source in Path(dexrl.solver.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{source.name} imports {name}"
                assert not name.startswith("dexrl.") or name.startswith("dexrl.solver")


def test_solver_modules_import_each_other_one_way_in_the_documented_order() -> None:
    # dexrl/solver/__init__.py lists its modules in dependency order; every import of another
    # solver module, at the top of a file or inside a function, must point up that list (the
    # old cube <-> validate cycle hid inside CubeState.from_facelets).
    package = Path(dexrl.solver.__file__).parent
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text())) or ""
    order = [line.split("`")[1] for line in doc.splitlines() if line.startswith("- `")]
    modules = sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__")
    assert sorted(order) == modules, "every solver module is listed once in __init__'s docstring"
    for name in modules:
        for node in ast.walk(ast.parse((package / f"{name}.py").read_text())):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module is not None and module.startswith("dexrl.solver."):
                imported = module.split(".")[2]
                assert order.index(imported) < order.index(name), f"{name} imports {imported}"
