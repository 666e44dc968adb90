"""Whole-cube symmetries and the inverse cube: other cubes whose solutions solve this one.

Kociemba's two-phase search is not symmetric: phase 1 aims at the subgroup <U, D, R2, L2, F2,
B2> and tries faces in a fixed order, so the same cube seen turned, mirrored or inverted often
gets a different (sometimes shorter) first solution. The planner (`dexrl.solver.search`) solves
such copies and maps the answers back:

- a **symmetry** is one of the 48 signed permutation matrices M (24 rotations, 24 with a
  mirror). `Symmetry.transform` moves every sticker from position p to M p and renames its
  colour after the face it now faces, so the result is again a standard-coloured cube. A face
  turn X then becomes a turn of face M(X), in the opposite direction when M mirrors (a mirror
  reverses clockwise). Hence if moves m' solve `transform(cube)`, `map_back(m')` solves `cube`;
  `map_forward` is the inverse mapping, used by the tests;
- the **inverse cube** is the state the scramble's inverse produces: if S scrambles the solved
  cube into `cube`, `inverse_state(cube)` is what S^-1 makes of it. A solution n of the inverse
  is S itself, up to the group element, so `invert_moves(n)` solves `cube`.

Both work on standard-coloured cubes (centres U R F D L B, see `validate.standardize_colours`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from dexrl.solver.cube import CubeState, Move
from dexrl.solver.geometry import FACE_AXES, FACELET_POSITIONS, FACES, POSITION_INDEX, Vec
from dexrl.solver.validate import CORNER_FACELETS, EDGE_FACELETS

Matrix = tuple[Vec, Vec, Vec]
"""A 3x3 integer matrix, row-major."""

_FACE_OF_AXIS = {axis: face for face, axis in FACE_AXES.items()}


def _apply(m: Matrix, v: Vec) -> Vec:
    return (
        m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2],
        m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
        m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2],
    )


def _determinant(m: Matrix) -> int:
    (a, b, c), (d, e, f), (g, h, i) = m
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


@dataclass(frozen=True)
class Symmetry:
    """A whole-cube symmetry: rotation or reflection of the cube's frame.

    Attributes:
        matrix: the signed permutation matrix M (positions p -> M p).
        faces: faces[k] = the face that face FACES[k] is carried to.
        mirror: True when M reverses handedness (det -1): turn directions reverse.
        gather: transform(f)[i] = rename(f[gather[i]]), a facelet permutation.
    """

    matrix: Matrix
    faces: str
    mirror: bool
    gather: tuple[int, ...]

    @classmethod
    def from_matrix(cls, matrix: Matrix) -> Symmetry:
        """The symmetry of a signed permutation matrix (raises ValueError for anything else)."""
        if sorted(abs(x) for row in matrix for x in row) != [0] * 6 + [1] * 3:
            raise ValueError(f"{matrix} is not a signed permutation matrix")
        faces = "".join(_FACE_OF_AXIS[_apply(matrix, FACE_AXES[f])] for f in FACES)
        gather = [0] * 54
        for source, position in enumerate(FACELET_POSITIONS):
            gather[POSITION_INDEX[_apply(matrix, position)]] = source
        return cls(matrix, faces, _determinant(matrix) < 0, tuple(gather))

    @property
    def is_identity(self) -> bool:
        return self.faces == FACES and not self.mirror

    def transform(self, state: CubeState) -> CubeState:
        """The cube turned (and mirrored) by M, colours renamed so the centres are standard."""
        rename = str.maketrans(FACES, self.faces)
        f = state.facelets
        return CubeState("".join(f[j] for j in self.gather).translate(rename))

    def map_forward(self, moves: Iterable[Move]) -> tuple[Move, ...]:
        """The moves that do to `transform(cube)` what `moves` do to `cube`."""
        return tuple(self._map(m, self.faces, FACES) for m in moves)

    def map_back(self, moves: Iterable[Move]) -> tuple[Move, ...]:
        """The moves that do to `cube` what `moves` do to `transform(cube)`."""
        return tuple(self._map(m, FACES, self.faces) for m in moves)

    def _map(self, move: Move, to: str, from_: str) -> Move:
        if move.is_rotation:
            raise ValueError(f"only face turns map through a symmetry, got {move}")
        turns = 4 - move.turns if self.mirror else move.turns
        return Move(to[from_.index(move.face)], turns)

    def __str__(self) -> str:
        """E.g. "U->R R->F ... mirror": where each face goes."""
        moved = " ".join(f"{a}->{b}" for a, b in zip(FACES, self.faces, strict=True) if a != b)
        return (moved or "identity") + (" mirror" if self.mirror else "")


def _all_symmetries() -> tuple[Symmetry, ...]:
    """The 48 symmetries, identity first, the 24 rotations before the 24 mirrored ones."""
    found = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1, -1), repeat=3):
            rows = [(0, 0, 0)] * 3
            for r in range(3):  # row r has its sign in column perm[r]
                rows[r] = (
                    signs[r] * (perm[r] == 0),
                    signs[r] * (perm[r] == 1),
                    signs[r] * (perm[r] == 2),
                )
            found.append(Symmetry.from_matrix((rows[0], rows[1], rows[2])))
    return tuple(sorted(found, key=lambda s: (s.mirror, not s.is_identity)))


SYMMETRIES: tuple[Symmetry, ...] = _all_symmetries()
"""All 48 whole-cube symmetries; SYMMETRIES[0] is the identity."""


def _home_of_sticker() -> dict[tuple[str, ...], int]:
    """Solved position of each sticker, keyed by the colours of its piece read from it.

    A corner sticker is named by its colour and the next two of its corner clockwise, an edge
    sticker by its colour and its partner's, a centre by its colour: in a valid cube every
    sticker has a different name (corners are never mirror images), so the name says where
    the sticker belongs.
    """
    solved = CubeState.solved().facelets
    home: dict[tuple[str, ...], int] = {(solved[9 * k + 4],): 9 * k + 4 for k in range(6)}
    for triple in CORNER_FACELETS:
        for k in range(3):
            cycle = triple[k:] + triple[:k]
            home[tuple(solved[i] for i in cycle)] = cycle[0]
    for a, b in EDGE_FACELETS:
        home[(solved[a], solved[b])] = a
        home[(solved[b], solved[a])] = b
    return home


_HOME = _home_of_sticker()
_STICKER_GROUPS: tuple[tuple[int, ...], ...] = (
    tuple((9 * k + 4,) for k in range(6))
    + tuple(triple[k:] + triple[:k] for triple in CORNER_FACELETS for k in range(3))
    + tuple(pair for a, b in EDGE_FACELETS for pair in ((a, b), (b, a)))
)
"""Every sticker with the rest of its piece after it (clockwise for corners): its name."""


def inverse_state(state: CubeState) -> CubeState:
    """The inverse cube: if moves S take the solved cube to `state`, S^-1 takes it to this.

    Each sticker's name (see `_home_of_sticker`) gives its home h, so `state` moved the sticker
    of home h to position p; the inverse moves the sticker of home p to position h. `state`
    must be a valid, standard-coloured cube (raises KeyError on a sticker no cube has).
    """
    f = state.facelets
    solved = CubeState.solved().facelets
    inverse = [""] * 54
    for group in _STICKER_GROUPS:
        position = group[0]
        inverse[_HOME[tuple(f[i] for i in group)]] = solved[position]
    return CubeState("".join(inverse))
