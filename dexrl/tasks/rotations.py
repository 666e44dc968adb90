"""Batched quaternion helpers (numpy, [..., 4] arrays in MuJoCo's w, x, y, z order)."""

from __future__ import annotations

import numpy as np


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a ⊗ b, broadcasting over leading dimensions."""
    a, b = np.asarray(a), np.asarray(b)
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), dtype=np.result_type(a, b))
    out[..., 0] = aw * bw - ax * bx - ay * by - az * bz
    out[..., 1] = aw * bx + ax * bw + ay * bz - az * by
    out[..., 2] = aw * by - ax * bz + ay * bw + az * bx
    out[..., 3] = aw * bz + ax * by - ay * bx + az * bw
    return out


_CONJ = np.array([1.0, -1.0, -1.0, -1.0])


def quat_conj(q: np.ndarray) -> np.ndarray:
    return q * _CONJ


def quat_normalize(q: np.ndarray) -> np.ndarray:
    # = q / np.linalg.norm(q, axis=-1, keepdims=True), without its per-call overhead
    return q / np.sqrt(np.add.reduce(q * q, axis=-1, keepdims=True))


def rotation_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (rad, in [0, π]) of the rotation taking orientation a to orientation b."""
    dot = np.abs(np.add.reduce(quat_normalize(a) * quat_normalize(b), axis=-1))
    return 2.0 * np.arccos(np.minimum(dot, 1.0))  # dot >= 0 already (abs); NaN stays NaN


def rotate_vectors(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """[..., 3] vectors v rotated by unit quaternions q ([..., 4]): q ⊗ (0, v) ⊗ q*."""
    w, u = q[..., :1], q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def axis_angle_quat(axis: np.ndarray, angle: np.ndarray | float) -> np.ndarray:
    """Quaternion of a rotation by `angle` about unit `axis` ([..., 3])."""
    axis = np.asarray(axis, dtype=np.float64)
    half = 0.5 * np.asarray(angle, dtype=np.float64)[..., None]
    return np.concatenate([np.cos(half), np.sin(half) * axis], axis=-1)


def random_quat(rng: np.random.Generator) -> np.ndarray:
    """Uniformly distributed rotation (Shoemake's method)."""
    u1, u2, u3 = rng.random(3)
    q = np.array(
        [
            np.sqrt(u1) * np.cos(2 * np.pi * u3),
            np.sqrt(1 - u1) * np.sin(2 * np.pi * u2),
            np.sqrt(1 - u1) * np.cos(2 * np.pi * u2),
            np.sqrt(u1) * np.sin(2 * np.pi * u3),
        ]
    )
    return q if q[0] >= 0 else -q


def yaw_quat(angle: float) -> np.ndarray:
    return axis_angle_quat(np.array([0.0, 0.0, 1.0]), angle)


# The 24 rotations that map the cube onto itself (faces aligned with the world axes).
def _aligned_quats() -> np.ndarray:
    ups = [
        np.array([1.0, 0, 0, 0]),
        axis_angle_quat(np.array([1.0, 0, 0]), np.pi / 2),
        axis_angle_quat(np.array([1.0, 0, 0]), np.pi),
        axis_angle_quat(np.array([1.0, 0, 0]), -np.pi / 2),
        axis_angle_quat(np.array([0, 1.0, 0]), np.pi / 2),
        axis_angle_quat(np.array([0, 1.0, 0]), -np.pi / 2),
    ]
    return np.stack([quat_mul(yaw_quat(k * np.pi / 2), u) for u in ups for k in range(4)])


ALIGNED_QUATS = _aligned_quats()
