"""Orientation of the cube in the hand: the 24 face-aligned rotations.

Convention. The cube's body frame is the one in `dexrl.solver.geometry` (face U along +z,
R along +x, F along -y, B along +y). A `CubeOrientation` is the rotation that takes body-frame
vectors to the world frame (world +z is up, against gravity). The identity is "U up, F facing
world -y, R facing world +x". Its quaternion (w, x, y, z) is the same rotation, i.e. the pose
quaternion a MuJoCo free joint of the cube body would hold (MuJoCo also orders w first).

Only the 24 face-aligned orientations are represented, as exact integer matrices, because the
symbolic planner only ever asks for aligned cubes; the environment compares the continuous
cube pose against these targets with its own tolerance (0.4 rad, [R]; docs/references.md
"Rubik's subgoals").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dexrl.solver.geometry import FACE_AXES, FACES, Vec, rotate_quarter

Matrix = tuple[Vec, Vec, Vec]
"""A 3x3 integer matrix, row-major."""

WORLD_UP: Vec = (0, 0, 1)
"""World +z, the direction of the top face."""


def _transpose(m: Matrix) -> Matrix:
    return ((m[0][0], m[1][0], m[2][0]), (m[0][1], m[1][1], m[2][1]), (m[0][2], m[1][2], m[2][2]))


@dataclass(frozen=True)
class CubeOrientation:
    """A face-aligned cube pose: `matrix` maps body-frame vectors to world vectors.

    Attributes:
        matrix: row-major 3x3 rotation matrix with entries in {-1, 0, 1}.
    """

    matrix: Matrix = ((1, 0, 0), (0, 1, 0), (0, 0, 1))

    @classmethod
    def identity(cls) -> CubeOrientation:
        """U up (world +z), R towards world +x, F towards world -y."""
        return cls()

    @classmethod
    def from_faces(cls, up: str, toward_y: str) -> CubeOrientation:
        """The orientation with cube face `up` on top and face `toward_y` facing world +y."""
        for orientation in all_orientations():
            if orientation.up_face == up and orientation.face_along((0, 1, 0)) == toward_y:
                return orientation
        raise ValueError(f"faces {up!r} (up) and {toward_y!r} (+y) are not adjacent cube faces")

    def world_axis(self, face: str) -> Vec:
        """World direction of the outward normal of cube face `face`."""
        n = FACE_AXES[face]
        return (
            self.matrix[0][0] * n[0] + self.matrix[0][1] * n[1] + self.matrix[0][2] * n[2],
            self.matrix[1][0] * n[0] + self.matrix[1][1] * n[1] + self.matrix[1][2] * n[2],
            self.matrix[2][0] * n[0] + self.matrix[2][1] * n[1] + self.matrix[2][2] * n[2],
        )

    def face_along(self, world_direction: Vec) -> str:
        """The cube face whose outward normal points along `world_direction`."""
        for face in FACES:
            if self.world_axis(face) == world_direction:
                return face
        raise ValueError(f"{world_direction} is not a world coordinate axis direction")

    @property
    def up_face(self) -> str:
        """The cube face on top (normal along world +z): the only one the hand can turn."""
        return self.face_along(WORLD_UP)

    def rotated(self, world_axis: Vec, quarter_turns: int) -> CubeOrientation:
        """This pose after turning the whole cube about a world axis (right-hand rule)."""
        columns = _transpose(self.matrix)
        turned = tuple(rotate_quarter(c, world_axis, quarter_turns) for c in columns)
        return CubeOrientation(_transpose((turned[0], turned[1], turned[2])))

    def quaternion(self) -> tuple[float, float, float, float]:
        """Unit quaternion (w, x, y, z) of this rotation, sign chosen so the first non-zero
        component is positive (q and -q are the same rotation; a fixed sign keeps JSON stable).

        Shepperd's method: pick the largest of w, x, y, z to divide by, for accuracy.
        """
        (m00, m01, m02), (m10, m11, m12), (m20, m21, m22) = self.matrix
        trace = m00 + m11 + m22
        if trace >= max(m00, m11, m22):
            w = math.sqrt(1 + trace) / 2
            q = (w, (m21 - m12) / (4 * w), (m02 - m20) / (4 * w), (m10 - m01) / (4 * w))
        elif m00 >= m11 and m00 >= m22:
            x = math.sqrt(1 + m00 - m11 - m22) / 2
            q = ((m21 - m12) / (4 * x), x, (m01 + m10) / (4 * x), (m02 + m20) / (4 * x))
        elif m11 >= m22:
            y = math.sqrt(1 - m00 + m11 - m22) / 2
            q = ((m02 - m20) / (4 * y), (m01 + m10) / (4 * y), y, (m12 + m21) / (4 * y))
        else:
            z = math.sqrt(1 - m00 - m11 + m22) / 2
            q = ((m10 - m01) / (4 * z), (m02 + m20) / (4 * z), (m12 + m21) / (4 * z), z)
        sign = next(1.0 if c > 0 else -1.0 for c in q if abs(c) > 1e-12)
        return (sign * q[0] + 0.0, sign * q[1] + 0.0, sign * q[2] + 0.0, sign * q[3] + 0.0)


def all_orientations() -> tuple[CubeOrientation, ...]:
    """The 24 face-aligned orientations (closure of quarter turns about world x and z)."""
    found = [CubeOrientation.identity()]
    index = 0
    while index < len(found):
        for axis in ((1, 0, 0), (0, 0, 1)):
            nxt = found[index].rotated(axis, 1)
            if nxt not in found:
                found.append(nxt)
        index += 1
    return tuple(found)
