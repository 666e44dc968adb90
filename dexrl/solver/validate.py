"""Facelet validation and the cubie decomposition behind it.

A 54-facelet string is a reachable cube state exactly when (in this order of checks):

1. it has 54 characters, all of them colour letters U R F D L B;
2. each colour appears 9 times;
3. the six centres show six different colours in an arrangement a real cube has
   (decision: any of the 24 whole-cube orientations is accepted, so a cube held with F up is
   still valid; the standard one is U R F D L B). Colours are then renamed after the centre
   they match, which is what kociemba's strings assume;
4. every corner and edge shows a colour combination of a real piece (no repeated or opposite
   colours, corners not mirror images), and every piece appears exactly once;
5. corner orientations sum to 0 mod 3 (else a twisted corner);
6. edge orientations sum to 0 mod 2 (else a flipped edge);
7. corner permutation parity equals edge permutation parity (else two pieces are swapped).

Conditions 5-7 are the classical reachability conditions (e.g. Kociemba's two-phase page
and any group-theory treatment of the cube); orientation is defined as in kociemba: a corner's
orientation is which of its stickers (clockwise, starting on the U/D face) shows U or D, an
edge's is 0 when its first sticker (U/D face, or F/B face for middle-layer edges) shows the
piece's first colour.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from dexrl.solver.cube import CubeState, Move
from dexrl.solver.geometry import FACES, facelet_index


class InvalidCubeError(ValueError):
    """A facelet string that is not a reachable cube state.

    Attributes:
        reason: human-readable reason, e.g. "twisted corner (corner orientation sum is 1 mod 3)".
        kind: machine-readable category, one of KINDS.
    """

    KINDS = (
        "length",
        "characters",
        "colour_counts",
        "centres",
        "cubie",
        "twisted_corner",
        "flipped_edge",
        "parity",
    )

    def __init__(self, reason: str, kind: str) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown InvalidCubeError kind {kind!r}")
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


# Corner positions in kociemba's numbering; each lists its facelets clockwise seen from
# outside, starting with the one on the U or D face (tested against the geometry).
CORNERS = ("URF", "UFL", "ULB", "UBR", "DFR", "DLF", "DBL", "DRB")
CORNER_FACELETS: tuple[tuple[int, int, int], ...] = tuple(
    (facelet_index(a), facelet_index(b), facelet_index(c))
    for a, b, c in (
        ("U9", "R1", "F3"),
        ("U7", "F1", "L3"),
        ("U1", "L1", "B3"),
        ("U3", "B1", "R3"),
        ("D3", "F9", "R7"),
        ("D1", "L9", "F7"),
        ("D7", "B9", "L7"),
        ("D9", "R9", "B7"),
    )
)
EDGES = ("UR", "UF", "UL", "UB", "DR", "DF", "DL", "DB", "FR", "FL", "BL", "BR")
EDGE_FACELETS: tuple[tuple[int, int], ...] = tuple(
    (facelet_index(a), facelet_index(b))
    for a, b in (
        ("U6", "R2"),
        ("U8", "F2"),
        ("U4", "L2"),
        ("U2", "B2"),
        ("D6", "R8"),
        ("D2", "F8"),
        ("D4", "L8"),
        ("D8", "B8"),
        ("F6", "R4"),
        ("F4", "L6"),
        ("B6", "L4"),
        ("B4", "R6"),
    )
)
CENTRES = tuple(9 * i + 4 for i in range(6))


@dataclass(frozen=True)
class Cubies:
    """Cubie-level description: which piece sits at each position and how it is turned.

    Attributes:
        corner_perm: corner_perm[i] = index (into CORNERS) of the corner at position i.
        corner_ori: clockwise twist of the corner at position i (0, 1 or 2).
        edge_perm: edge_perm[i] = index (into EDGES) of the edge at position i.
        edge_ori: flip of the edge at position i (0 or 1).
    """

    corner_perm: tuple[int, ...]
    corner_ori: tuple[int, ...]
    edge_perm: tuple[int, ...]
    edge_ori: tuple[int, ...]


def _centre_arrangements() -> frozenset[str]:
    """The centre colours (URFDLB positions) of all 24 whole-cube orientations."""
    seen = {CubeState.solved()}
    frontier = list(seen)
    while frontier:
        state = frontier.pop()
        for rotation in (Move("x"), Move("y")):  # x and y generate the rotation group
            nxt = state.apply(rotation)
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return frozenset("".join(s.facelets[c] for c in CENTRES) for s in seen)


_CENTRE_ARRANGEMENTS = _centre_arrangements()


def _check_characters(facelets: str) -> None:
    """Length, alphabet and colour counts (checks 1-2)."""
    if len(facelets) != 54:
        raise InvalidCubeError(
            f"wrong length: a facelet string has 54 characters, got {len(facelets)}", "length"
        )
    for i, colour in enumerate(facelets):
        if colour not in FACES:
            raise InvalidCubeError(
                f"unknown character {colour!r} at facelet {FACES[i // 9]}{i % 9 + 1}; "
                "allowed colours are U R F D L B",
                "characters",
            )
    counts = Counter(facelets)
    wrong = [f"{c}x{counts[c]}" for c in FACES if counts[c] != 9]
    if wrong:
        raise InvalidCubeError(
            f"wrong colour counts: each colour must appear 9 times, got {', '.join(wrong)}",
            "colour_counts",
        )


def standardize_colours(facelets: str) -> str:
    """Rename colours after the centres, so the centres read U R F D L B.

    Why: kociemba and the cubie tables name a colour by the face whose centre shows it.
    A cube in another whole-cube orientation describes the same puzzle once renamed.
    Raises InvalidCubeError when the centres are not an arrangement a real cube has.
    """
    centres = "".join(facelets[c] for c in CENTRES)
    if len(set(centres)) != 6:
        raise InvalidCubeError(
            f"bad centres: the six centres must show six different colours, got {centres}",
            "centres",
        )
    if centres not in _CENTRE_ARRANGEMENTS:
        raise InvalidCubeError(
            f"bad centres: {centres} (centres in URFDLB order) is not a real cube's arrangement; "
            "opposite centres must be U/D, R/L, F/B and the layout must not be mirrored",
            "centres",
        )
    return facelets.translate(str.maketrans(centres, FACES))


def _corner_cubie(colours: tuple[str, str, str], where: str) -> tuple[int, int]:
    """(corner index, orientation) of a corner showing `colours` clockwise from its U/D sticker."""
    ud = [i for i, c in enumerate(colours) if c in "UD"]
    shown = ", ".join(colours)
    if len(set(colours)) != 3 or len(ud) != 1:
        raise InvalidCubeError(
            f"impossible corner at {where}: colours {shown} are not a real corner "
            "(a corner has one U or D colour and three different, non-opposite colours)",
            "cubie",
        )
    ori = ud[0]
    rotated = "".join(colours[ori:] + colours[:ori])
    if rotated in CORNERS:
        return CORNERS.index(rotated), ori
    if rotated[0] + rotated[2] + rotated[1] in CORNERS:
        raise InvalidCubeError(
            f"impossible corner at {where}: colours {shown} (clockwise) are the mirror image of "
            f"the {rotated[0] + rotated[2] + rotated[1]} corner (two of its stickers swapped)",
            "cubie",
        )
    raise InvalidCubeError(
        f"impossible corner at {where}: colours {shown} include two opposite colours", "cubie"
    )


def _edge_cubie(colours: tuple[str, str], where: str) -> tuple[int, int]:
    """(edge index, orientation) of an edge showing `colours` on its two stickers."""
    a, b = colours
    if a + b in EDGES:
        return EDGES.index(a + b), 0
    if b + a in EDGES:
        return EDGES.index(b + a), 1
    why = "the same colour twice" if a == b else "two opposite colours"
    raise InvalidCubeError(f"impossible edge at {where}: colours {a}, {b} are {why}", "cubie")


def _check_each_once(perm: list[int], names: tuple[str, ...], kind: str) -> None:
    """Every piece must appear exactly once (else a duplicated and a missing piece)."""
    for piece, count in Counter(perm).items():
        if count > 1:
            at = ", ".join(names[i] for i, p in enumerate(perm) if p == piece)
            raise InvalidCubeError(
                f"impossible cubies: the {names[piece]} {kind} appears {count} times (at {at})",
                "cubie",
            )


def to_cubies(facelets: str) -> Cubies:
    """Decompose a standard-coloured facelet string (centres U R F D L B) into cubies.

    Raises InvalidCubeError (kind "cubie") for a piece that cannot exist or appears twice;
    twist, flip and parity are not checked here (see `validate`).
    """
    corners = [
        _corner_cubie((facelets[a], facelets[b], facelets[c]), CORNERS[i])
        for i, (a, b, c) in enumerate(CORNER_FACELETS)
    ]
    edges = [
        _edge_cubie((facelets[a], facelets[b]), EDGES[i]) for i, (a, b) in enumerate(EDGE_FACELETS)
    ]
    corner_perm = [c for c, _ in corners]
    edge_perm = [e for e, _ in edges]
    _check_each_once(corner_perm, CORNERS, "corner")
    _check_each_once(edge_perm, EDGES, "edge")
    return Cubies(
        corner_perm=tuple(corner_perm),
        corner_ori=tuple(o for _, o in corners),
        edge_perm=tuple(edge_perm),
        edge_ori=tuple(o for _, o in edges),
    )


def permutation_parity(perm: tuple[int, ...]) -> int:
    """0 for an even permutation, 1 for an odd one (n minus the number of cycles, mod 2)."""
    seen = [False] * len(perm)
    cycles = 0
    for start in range(len(perm)):
        if not seen[start]:
            cycles += 1
            i = start
            while not seen[i]:
                seen[i] = True
                i = perm[i]
    return (len(perm) - cycles) % 2


def cube_from_facelets(facelets: str) -> CubeState:
    """A validated CubeState; raises InvalidCubeError (a ValueError) saying what is wrong."""
    validate(facelets)
    return CubeState(facelets)


def validate(facelets: str) -> None:
    """Raise InvalidCubeError with the reason when `facelets` is not a reachable cube state.

    The checks run in the order of the module docstring, so the reason names the first
    problem a person would fix (e.g. a typo in the string before a parity error it causes).
    """
    _check_characters(facelets)
    cubies = to_cubies(standardize_colours(facelets))
    twist = sum(cubies.corner_ori) % 3
    if twist:
        raise InvalidCubeError(
            f"twisted corner (corner orientation sum is {twist} mod 3)", "twisted_corner"
        )
    if sum(cubies.edge_ori) % 2:
        raise InvalidCubeError("flipped edge (edge orientation sum is odd)", "flipped_edge")
    corner_parity = permutation_parity(cubies.corner_perm)
    edge_parity = permutation_parity(cubies.edge_perm)
    if corner_parity != edge_parity:
        raise InvalidCubeError(
            "parity: corner permutation parity differs from edge permutation parity "
            "(two pieces are swapped)",
            "parity",
        )
