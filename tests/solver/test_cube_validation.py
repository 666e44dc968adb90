"""Each kind of impossible cube is rejected with its own reason.

Every bad cube is built by editing the stickers of a valid (scrambled) cube the way a person
would mis-assemble or mis-type one: pry off and twist a corner, flip an edge, swap two edges.
"""

from __future__ import annotations

import random

import pytest

from dexrl.solver import CubeState, InvalidCubeError, all_orientations, to_cubies, validate
from dexrl.solver.cube import random_scramble
from dexrl.solver.geometry import (
    FACE_AXES,
    FACELET_POSITIONS,
    FACES,
    Vec,
    cross,
    dot,
    facelet_index,
)
from dexrl.solver.validate import CORNER_FACELETS, EDGE_FACELETS, standardize_colours

SCRAMBLED = CubeState.solved().apply("L2 U2 R2 B D2 B2 D2 L2 F' D' R B F L U' F D' L2")


def _edit(facelets: str, **changes: str) -> str:
    """Set facelets by name, e.g. _edit(s, U9="F")."""
    chars = list(facelets)
    for name, colour in changes.items():
        chars[facelet_index(name)] = colour
    return "".join(chars)


def _swap(facelets: str, *pairs: tuple[str, str]) -> str:
    chars = list(facelets)
    for a, b in pairs:
        i, j = facelet_index(a), facelet_index(b)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


def _rejected(facelets: str) -> InvalidCubeError:
    with pytest.raises(InvalidCubeError) as info:
        validate(facelets)
    assert isinstance(info.value, ValueError)
    return info.value


def test_valid_cubes_pass() -> None:
    assert validate(CubeState.solved().facelets) is None
    assert validate(SCRAMBLED.facelets) is None
    rng = random.Random(0)
    for _ in range(50):
        assert validate(CubeState.solved().apply(random_scramble(rng)).facelets) is None


@pytest.mark.parametrize("length", [0, 53, 55])
def test_wrong_length(length: int) -> None:
    error = _rejected((SCRAMBLED.facelets * 2)[:length])
    assert error.kind == "length" and f"got {length}" in error.reason


def test_unknown_character_is_named_with_its_position() -> None:
    error = _rejected(_edit(SCRAMBLED.facelets, F5="X"))
    assert error.kind == "characters"
    assert "'X'" in error.reason and "F5" in error.reason and "U R F D L B" in error.reason


def test_lower_case_colours_are_unknown_characters() -> None:
    assert _rejected(SCRAMBLED.facelets.lower()).kind == "characters"


def test_wrong_colour_counts() -> None:
    solved = CubeState.solved().facelets
    error = _rejected(_edit(solved, U6="R"))
    assert error.kind == "colour_counts"
    assert "Ux8" in error.reason and "Rx10" in error.reason


def test_centres_must_be_six_different_colours() -> None:
    # Colour counts stay at 9 each: the U centre and an R edge sticker trade colours.
    error = _rejected(_edit(CubeState.solved().facelets, U5="R", R2="U"))
    assert error.kind == "centres" and "six different" in error.reason


def test_mirrored_centres_are_rejected() -> None:
    # Swapping the U and D centres gives a mirror-image cube, which no rotation reaches.
    error = _rejected(_swap(CubeState.solved().facelets, ("U5", "D5")))
    assert error.kind == "centres" and "mirrored" in error.reason


def test_every_whole_cube_orientation_is_accepted() -> None:
    # Put each face up (x: F, x2: D, x': B, z: L, z': R), then spin about the vertical.
    seen = set()
    for tilt in ["", "x", "x2", "x'", "z", "z'"]:
        for spin in ["", "y", "y2", "y'"]:
            state = SCRAMBLED.apply(f"{tilt} {spin}")
            validate(state.facelets)
            seen.add(state.facelets[4::9])
    assert len(seen) == 24
    assert len(all_orientations()) == 24


@pytest.mark.parametrize(
    ("stickers", "twist"),
    [
        (("F", "U", "R"), 1),  # URF corner (U9, R1, F3) turned clockwise in place
        (("R", "F", "U"), 2),  # ... counter-clockwise
    ],
)
def test_twisted_corner(stickers: tuple[str, str, str], twist: int) -> None:
    solved = CubeState.solved().facelets
    error = _rejected(_edit(solved, U9=stickers[0], R1=stickers[1], F3=stickers[2]))
    assert error.kind == "twisted_corner"
    assert error.reason == f"twisted corner (corner orientation sum is {twist} mod 3)"


def test_twisted_corner_on_a_scrambled_cube() -> None:
    a, b, c = (SCRAMBLED.facelets[i] for i in CORNER_FACELETS[5])  # DLF: D1, L9, F7
    twisted = _edit(SCRAMBLED.facelets, D1=c, L9=a, F7=b)
    assert _rejected(twisted).kind == "twisted_corner"


def test_flipped_edge() -> None:
    flipped = _swap(SCRAMBLED.facelets, ("U6", "R2"))  # pry out the UR edge, put it back flipped
    error = _rejected(flipped)
    assert error.kind == "flipped_edge"
    assert error.reason == "flipped edge (edge orientation sum is odd)"
    # Two flipped edges are reachable (orientation sum even again).
    validate(_swap(flipped, ("F6", "R4")))


def test_swapped_edges_are_a_parity_error() -> None:
    swapped = _swap(SCRAMBLED.facelets, ("U6", "U8"), ("R2", "F2"))  # exchange edges UR, UF
    error = _rejected(swapped)
    assert error.kind == "parity" and "parity" in error.reason


def test_swapped_corners_are_a_parity_error() -> None:
    # Exchange corners URF (U9, R1, F3) and UFL (U7, F1, L3), each keeping its twist.
    swapped = _swap(CubeState.solved().facelets, ("U9", "U7"), ("R1", "F1"), ("F3", "L3"))
    assert _rejected(swapped).kind == "parity"
    # Swapping two corners AND two edges is an even permutation overall: reachable.
    validate(_swap(swapped, ("U6", "U8"), ("R2", "F2")))


def test_swapping_two_stickers_of_a_corner_is_an_impossible_piece() -> None:
    # Not a twist: a twist is a cyclic shift. Exchanging two stickers makes a mirror-image
    # corner, a piece that does not exist.
    error = _rejected(_swap(CubeState.solved().facelets, ("R1", "F3")))
    assert error.kind == "cubie" and "mirror image" in error.reason and "URF" in error.reason


def test_corner_with_opposite_colours() -> None:
    # URF shows U, R, L (F3 painted L); an L sticker elsewhere painted F keeps counts at 9.
    error = _rejected(_edit(CubeState.solved().facelets, F3="L", L4="F"))
    assert error.kind == "cubie" and "opposite" in error.reason and "URF" in error.reason


def test_edge_with_opposite_colours() -> None:
    # FR edge (F6, R4) shows F and B; the BR edge (B4, R6) then shows R twice.
    error = _rejected(_edit(CubeState.solved().facelets, R4="B", B4="R"))
    assert error.kind == "cubie" and "opposite" in error.reason and "FR" in error.reason


def test_duplicated_piece() -> None:
    # UL shows the UR edge's colours and FR shows FL's: counts fine, pieces each valid.
    error = _rejected(_edit(CubeState.solved().facelets, L2="R", R4="L"))
    assert error.kind == "cubie" and "appears 2 times" in error.reason


def test_cubies_of_solved_and_superflip() -> None:
    solved = to_cubies(CubeState.solved().facelets)
    assert solved.corner_perm == tuple(range(8)) and solved.edge_perm == tuple(range(12))
    assert set(solved.corner_ori) == {0} and set(solved.edge_ori) == {0}
    superflip = CubeState.solved().apply("U R2 F B R B2 R U2 L B2 R U' D' R2 F R' L B2 U2 F2")
    cubies = to_cubies(superflip.facelets)
    assert cubies.edge_perm == tuple(range(12)) and set(cubies.edge_ori) == {1}


def test_rotated_cube_colours_are_renamed_after_centres() -> None:
    assert standardize_colours(CubeState.solved().apply("x").facelets) == (
        CubeState.solved().facelets
    )


def _cubie_and_normal(facelet: int) -> tuple[Vec, Vec]:
    position = FACELET_POSITIONS[facelet]
    normal = FACE_AXES[FACES[facelet // 9]]
    return (
        (position[0] - normal[0], position[1] - normal[1], position[2] - normal[2]),
        normal,
    )


def test_piece_tables_match_the_geometry() -> None:
    """Each corner's stickers share one cubie and are listed clockwise seen from outside."""
    for triple in CORNER_FACELETS:
        (c0, n0), (c1, n1), (c2, n2) = (_cubie_and_normal(i) for i in triple)
        assert c0 == c1 == c2
        assert FACES[triple[0] // 9] in "UD"
        # Clockwise seen from outside the corner <=> det[n0, n1, n2] = -1 (checked by hand
        # for URF: det[z, x, -y] = z . (x cross -y) = -1).
        assert dot(n0, cross(n1, n2)) == -1
    for a, b in EDGE_FACELETS:
        assert _cubie_and_normal(a)[0] == _cubie_and_normal(b)[0]
