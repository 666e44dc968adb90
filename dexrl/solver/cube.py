"""Rubik's cube state as 54 facelets and the move algebra on it.

The state is the kociemba facelet string: U1..U9, R1..R9, F1..F9, D1..D9, L1..L9, B1..B9,
each character the colour of that sticker, named by the face whose centre has that colour
(so the solved cube is "UUUUUUUUURRRRRRRRR...BBBBBBBBB"). The layout and the cube frame are
in `dexrl.solver.geometry`.

Moves use standard (Singmaster) notation: a face letter U R F D L B turns that face 90 degrees
clockwise as seen from outside the cube, `'` turns it counter-clockwise and `2` a half turn.
Whole-cube rotations x, y, z turn the entire cube like R, U and F respectively.
The permutations are not typed in by hand: they are derived from sticker positions by
rotating every sticker in the turning layer (see `_layer_permutation`), and the tests check
them against facts worked out on a physical cube.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dexrl.solver.geometry import (
    FACE_AXES,
    FACELET_POSITIONS,
    FACES,
    POSITION_INDEX,
    Vec,
    dot,
    rotate_quarter,
)

CUBE_ROTATIONS = "xyz"
"""Whole-cube rotation letters: x like R, y like U, z like F."""

_ROTATION_FACE = {"x": "R", "y": "U", "z": "F"}
_SUFFIX = {1: "", 2: "2", 3: "'"}
_SUFFIX_TURNS = {"": 1, "2": 2, "'": 3}


@dataclass(frozen=True)
class Move:
    """One face turn or whole-cube rotation.

    Attributes:
        face: one of U R F D L B (a face turn) or x y z (a whole-cube rotation).
        turns: clockwise quarter turns seen from outside: 1 (X), 2 (X2) or 3 (X').
    """

    face: str
    turns: int = 1

    def __post_init__(self) -> None:
        if self.face not in FACES + CUBE_ROTATIONS:
            raise ValueError(f"unknown move face {self.face!r}; allowed: U R F D L B x y z")
        if self.turns not in (1, 2, 3):
            raise ValueError(f"turns must be 1, 2 or 3 quarter turns, got {self.turns}")

    @property
    def is_rotation(self) -> bool:
        """True for whole-cube rotations (x, y, z), which do not change the puzzle."""
        return self.face in CUBE_ROTATIONS

    def inverse(self) -> Move:
        """The move that undoes this one (X <-> X', X2 is its own inverse)."""
        return Move(self.face, 4 - self.turns)

    def __str__(self) -> str:
        return self.face + _SUFFIX[self.turns]


def parse_move(token: str) -> Move:
    """Parse one move token such as "R", "U'", "F2" or "x'"."""
    face, suffix = token[:1], token[1:]
    if face not in FACES + CUBE_ROTATIONS or suffix not in _SUFFIX_TURNS:
        raise ValueError(
            f"bad move token {token!r}: a move is a face letter U R F D L B (or a cube "
            "rotation x y z), optionally followed by ' (counter-clockwise) or 2 (half turn)"
        )
    return Move(face, _SUFFIX_TURNS[suffix])


def parse_moves(text: str) -> tuple[Move, ...]:
    """Parse a whitespace-separated move sequence such as "R U R' U' F2".

    Raises ValueError naming the offending token and its position (1-based) so a user can
    find a typo in a long scramble.
    """
    moves = []
    for position, token in enumerate(text.split(), start=1):
        try:
            moves.append(parse_move(token))
        except ValueError as error:
            raise ValueError(f"move {position}: {error}") from None
    return tuple(moves)


def format_moves(moves: Iterable[Move]) -> str:
    """Moves back to standard notation, space separated."""
    return " ".join(str(m) for m in moves)


def invert_moves(moves: Sequence[Move]) -> tuple[Move, ...]:
    """The sequence that undoes `moves`: reversed order, each move inverted."""
    return tuple(m.inverse() for m in reversed(moves))


def _layer_permutation(axis: Vec, whole_cube: bool) -> tuple[int, ...]:
    """Gather permutation for a clockwise quarter turn about outward axis `axis`.

    Clockwise seen from outside is a -90 degree rotation about the outward normal. A sticker
    moves with the turn when it lies in the layer next to that face (position along the axis
    >= 2, i.e. on the face or on the outer ring of stickers of that layer), or always for a
    whole-cube rotation. Returned as `new[i] = old[perm[i]]`.
    """
    perm = list(range(54))
    for source, position in enumerate(FACELET_POSITIONS):
        if whole_cube or dot(position, axis) >= 2:
            perm[POSITION_INDEX[rotate_quarter(position, axis, -1)]] = source
    return tuple(perm)


def _compose(first: tuple[int, ...], second: tuple[int, ...]) -> tuple[int, ...]:
    """Gather permutation of applying `first` then `second`."""
    return tuple(first[j] for j in second)


def _build_move_tables() -> dict[Move, tuple[int, ...]]:
    """Permutations for all 27 moves (6 faces and 3 rotations, each X, X2, X')."""
    tables: dict[Move, tuple[int, ...]] = {}
    for face in FACES + CUBE_ROTATIONS:
        whole = face in CUBE_ROTATIONS
        quarter = _layer_permutation(FACE_AXES[_ROTATION_FACE.get(face, face)], whole)
        perm = quarter
        for turns in (1, 2, 3):
            tables[Move(face, turns)] = perm
            perm = _compose(perm, quarter)
    return tables


MOVE_PERMUTATIONS: dict[Move, tuple[int, ...]] = _build_move_tables()
"""Gather permutation of each move: after the move, facelet i holds old facelet perm[i]."""

_SOLVED = "".join(face * 9 for face in FACES)


@dataclass(frozen=True)
class CubeState:
    """An immutable cube state: the 54-character kociemba facelet string.

    Build states with `CubeState.solved()`, by applying moves, or from user input with
    `dexrl.solver.validate.cube_from_facelets` (validated: this module sits below validation,
    which uses it); the plain constructor checks only the length because moves, which keep a
    valid cube valid, use it on the hot path.
    """

    facelets: str

    def __post_init__(self) -> None:
        if len(self.facelets) != 54:
            raise ValueError(f"a cube state has 54 facelets, got {len(self.facelets)}")

    @classmethod
    def solved(cls) -> CubeState:
        """The solved cube in the standard orientation (U centre up, F centre in front)."""
        return cls(_SOLVED)

    def to_facelets(self) -> str:
        """The 54-character facelet string in URFDLB order."""
        return self.facelets

    @property
    def is_solved(self) -> bool:
        """True when every face shows one colour (in any whole-cube orientation)."""
        f = self.facelets
        return all(f[i : i + 9] == f[i + 4] * 9 for i in range(0, 54, 9))

    def apply(self, moves: str | Move | Iterable[Move]) -> CubeState:
        """The state after `moves` (a Move, an iterable of Moves, or notation text)."""
        if isinstance(moves, str):
            moves = parse_moves(moves)
        elif isinstance(moves, Move):
            moves = (moves,)
        f = self.facelets
        for move in moves:
            perm = MOVE_PERMUTATIONS[move]
            f = "".join([f[j] for j in perm])
        return CubeState(f)

    def face(self, face: str) -> str:
        """The 9 facelets of one face, row by row as seen from outside."""
        start = 9 * FACES.index(face)
        return self.facelets[start : start + 9]

    def __str__(self) -> str:
        return self.facelets


def random_scramble(rng: random.Random, length: int = 25) -> tuple[Move, ...]:
    """A random face-turn sequence with no two consecutive turns of the same face.

    Repeating a face would merge into one move, so it is skipped to keep `length` meaningful
    (the usual rule for scramble generators).
    """
    moves: list[Move] = []
    while len(moves) < length:
        face = rng.choice(FACES)
        if moves and moves[-1].face == face:
            continue
        moves.append(Move(face, rng.choice((1, 2, 3))))
    return tuple(moves)
