"""Cube geometry shared by the move tables, validation and the subgoal planner.

Everything in the solver is derived from this one table, so the facelet order, the move
permutations and the orientation quaternions cannot drift apart.

Cube frame (the cube's own body frame, fixed to its centre pieces; right-handed):

==== ================ ============================ ============================
face outward axis     "right" in the facelet image "up" in the facelet image
==== ================ ============================ ============================
U    +z               +x (towards R)               +y (towards B)
R    +x               +y (towards B)               +z (towards U)
F    -y               +x (towards R)               +z (towards U)
D    -z               +x (towards R)               -y (towards F)
L    -x               -y (towards F)               +z (towards U)
B    +y               -x (towards L)               +z (towards U)
==== ================ ============================ ============================

The "right"/"up" columns are the kociemba facelet-string layout: each face is read row by row
(1..9) as seen from outside the cube, U with F at the bottom edge, D with F at the top edge, and
the four side faces with U at the top edge. This gives kociemba's corner triples, e.g.
URF = (U9, R1, F3) and DBL = (D7, B9, L7) (muodov/kociemba facelet documentation).
For every face, right x up = outward, i.e. each image is a right-handed view from outside.

Positions are integer vectors in units of half a cubie: cubie centres have coordinates in
{-2, 0, 2} and a sticker lies on the plane at distance 3 from the cube centre, so all
geometry is exact integer arithmetic.
"""

from __future__ import annotations

Vec = tuple[int, int, int]
"""An integer 3-vector (x, y, z)."""

FACES = "URFDLB"
"""Face letters in kociemba's facelet-string order."""

FACE_AXES: dict[str, Vec] = {
    "U": (0, 0, 1),
    "R": (1, 0, 0),
    "F": (0, -1, 0),
    "D": (0, 0, -1),
    "L": (-1, 0, 0),
    "B": (0, 1, 0),
}
"""Outward normal of each face in the cube frame (the one table; see the module docstring)."""

FACE_IMAGE_AXES: dict[str, tuple[Vec, Vec]] = {
    "U": ((1, 0, 0), (0, 1, 0)),
    "R": ((0, 1, 0), (0, 0, 1)),
    "F": ((1, 0, 0), (0, 0, 1)),
    "D": ((1, 0, 0), (0, -1, 0)),
    "L": ((0, -1, 0), (0, 0, 1)),
    "B": ((-1, 0, 0), (0, 0, 1)),
}
"""(right, up) directions of each face's 3x3 facelet image, as seen from outside."""

OPPOSITE: dict[str, str] = {"U": "D", "D": "U", "R": "L", "L": "R", "F": "B", "B": "F"}
"""The face on the other side of the cube."""


def dot(a: Vec, b: Vec) -> int:
    """Scalar product of two integer vectors."""
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def cross(a: Vec, b: Vec) -> Vec:
    """Vector product a x b (right-handed)."""
    return (
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    )


def scale(a: Vec, k: int) -> Vec:
    """k times a."""
    return (a[0] * k, a[1] * k, a[2] * k)


def add(a: Vec, b: Vec) -> Vec:
    """a + b."""
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def rotate_quarter(v: Vec, axis: Vec, quarter_turns: int) -> Vec:
    """Rotate v about a unit coordinate axis by quarter_turns * 90 degrees (right-hand rule).

    Uses Rodrigues' formula, which for a 90 degree step reduces to
    v -> (a.v) a + a x v, exact in integers because the axis is a unit coordinate vector.
    """
    for _ in range(quarter_turns % 4):
        along = scale(axis, dot(axis, v))
        v = add(along, cross(axis, v))
    return v


def facelet_index(name: str) -> int:
    """Index in the 54-character string of a facelet named like "U9" (face, 1..9)."""
    if len(name) != 2 or name[0] not in FACES or name[1] not in "123456789":
        raise ValueError(f"a facelet name is a face letter and 1..9, like 'U9'; got {name!r}")
    return 9 * FACES.index(name[0]) + int(name[1]) - 1


def facelet_position(face: str, index: int) -> Vec:
    """Sticker-centre position of facelet `index` (0..8, row-major) on `face`.

    Why positions: a move is then just "rotate every sticker whose position lies in the
    turning layer", and the permutation falls out by looking positions up again.
    """
    row, col = divmod(index, 3)
    right, up = FACE_IMAGE_AXES[face]
    centre = scale(FACE_AXES[face], 3)
    return add(add(centre, scale(right, 2 * (col - 1))), scale(up, 2 * (1 - row)))


FACELET_POSITIONS: tuple[Vec, ...] = tuple(
    facelet_position(face, i) for face in FACES for i in range(9)
)
"""Position of each of the 54 facelets, in facelet-string order."""

POSITION_INDEX: dict[Vec, int] = {p: i for i, p in enumerate(FACELET_POSITIONS)}
"""Inverse of FACELET_POSITIONS."""
