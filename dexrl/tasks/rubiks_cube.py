"""The Rubik's cube model in the hand and its settings (docs/architecture.md §6).

The cube model (envs/objects/rubiks_cube.xml) is one free rigid body plus one hinged top layer.
`RubiksCube` ties that model to a symbolic `dexrl.solver.CubeState`:

- commit: when the hinge has passed ±90° and sits within `face_tolerance` of the new detent at a
  control-step boundary, the symbolic state takes that quarter turn, the hinge angle is re-based
  by ∓90° (the top layer's box at 90° is the same box as at 0°) and the stickers are re-coloured.
  A turn that springs back never reaches a new detent, so it changes nothing;
- detent: the hinge has a stiffness (`face_detent`, N·m/rad) whose spring reference is re-set
  every control step to the nearest multiple of 90°, so the spring always pulls into the nearest
  slot. MuJoCo integrates the spring inside every substep; only the choice of slot is per control
  step (80 ms), which matters only in the step in which the layer crosses 45°;
- re-binding: when the faces are aligned and a face other than the hinged one is up, the
  free-joint orientation is re-expressed (q ← q ⊗ q_C for an aligned rotation C) so the body's
  local +z is the face pointing up, and the stickers are re-coloured. Every cubelet has the same
  shape, so the world geometry does not change; only a residual hinge angle below the alignment
  tolerance is snapped to zero.

The symbolic state is kept in the cube's own (solver) frame, named by its centres; `binding`
maps solver-frame directions to the body frame. The cube orientation the tasks observe and
reward is that of the solver frame (body ⊗ binding), so it does not jump when the hinge re-binds.


Sections: constants and settings → cube model (RubiksCube, CubeIds, face parameters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from dexrl.solver import (
    FACES,
    CubeOrientation,
    CubeState,
    Move,
    parse_moves,
)
from dexrl.solver.geometry import FACELET_POSITIONS, POSITION_INDEX, Vec
from dexrl.structured import check_all
from dexrl.tasks.cube_rotate import CubeRotateSettings
from dexrl.tasks.rotations import quat_conj, quat_mul

QUARTER = math.pi / 2

# Sticker colour of each face letter: U white, R red, F green, D yellow, L orange, B blue
# (the solved colours written in envs/objects/rubiks_cube.xml).
FACE_RGBA = np.array(
    [
        [0.95, 0.95, 0.95, 1.0],
        [0.8, 0.08, 0.08, 1.0],
        [0.05, 0.6, 0.2, 1.0],
        [0.98, 0.85, 0.05, 1.0],
        [1.0, 0.45, 0.0, 1.0],
        [0.05, 0.25, 0.85, 1.0],
    ]
)
_LETTER_CODE = np.full(256, -1, dtype=np.int64)
_LETTER_CODE[[ord(f) for f in FACES]] = np.arange(6)

FAIR_SCRAMBLE = "L2 U2 R2 B D2 B2 D2 L2 F' D' R B F L U' F D' L2"
"""The fixed evaluation scramble of [R]: 43 subgoals there, 26 rotations and 17 flips
(docs/references.md "Rubik's subgoals")."""


# ===================================================================== settings
@dataclass
class RubiksSettings(CubeRotateSettings):
    """face_turn's and cube_solve's own keys (env.<key>; values in configs/env/face_turn.yaml and
    cube_solve.yaml), over the cube tasks' (CubeRotateSettings). Not said there: `rebind_up_cos`
    is a hysteresis against flip-flopping between two faces near a 45° tilt; plans are cached per
    scramble and re-plans after an unplanned turn use Kociemba's first answer, so no step waits
    on a search."""

    # Faces count as aligned (and a quarter turn complete, a face goal met) within this (rad) [R].
    face_tolerance: float = 0.1
    # face_turn: when aligned, the goal is a top-face rotation with this probability, else a flip [R].
    rotate_probability: float = 0.5
    # face_turn: the direction of rotate goals, +1 = clockwise seen from outside the face (U in
    # standard notation: hinge angle -90 deg), -1 = counter-clockwise (U'); 0 = either at random
    # [R]. One direction only is a training curriculum (a hand may find one direction easier);
    # cube_solve: the planner writes every quarter turn that way (U' as U U U under +1).
    rotate_direction: int = 0
    # Re-bind the hinge to the face pointing up when its axis is within acos(this) of vertical.
    rebind_up_cos: float = 0.8
    # cube_solve: random moves in a scramble, or a fixed scramble in standard notation.
    scramble_moves: int = 25
    scramble: str = ""
    # cube_solve: seconds to search for a cheaper subgoal plan at reset (0: Kociemba's first
    # solution); plan cost = flips * plan_flip_cost + quarter turns * plan_rotate_cost;
    # plan_max_calls > 0: that many Kociemba calls and no more (the same plan on every run);
    # plan_clock: what plan_budget_s counts, "wall" or "cpu" seconds (Linux).
    plan_budget_s: float = 0.0
    plan_max_calls: int = 0
    plan_clock: str = "wall"
    plan_flip_cost: float = 2.0
    plan_rotate_cost: float = 1.0
    # face_speed (0 = off): weight of clip(hinge velocity toward the face goal, ±face_speed_clip)
    #   · control dt while the goal is a turn of the hinged top layer — rotation_speed's
    #   counterpart for a face turn, whose orientation goal stays where the cube is.
    face_speed_weight: float = 0.0
    face_speed_clip: float = 1.0  # rad/s

    def validate(self) -> None:
        super().validate()
        check_all([
            (0 < self.face_tolerance < QUARTER / 2, f"env.face_tolerance must be in (0, pi/4) rad (got {self.face_tolerance})"),
            (0 <= self.rotate_probability <= 1, f"env.rotate_probability must be in [0, 1] (got {self.rotate_probability})"),
            (self.rotate_direction in (-1, 0, 1), f"env.rotate_direction must be -1, 0 (either, at random) or 1 (got {self.rotate_direction})"),
            (self.scramble_moves >= 0, f"env.scramble_moves must be >= 0 (got {self.scramble_moves})"),
            (self.plan_budget_s >= 0, f"env.plan_budget_s must be >= 0 (got {self.plan_budget_s})"),
            (self.plan_max_calls >= 0, f"env.plan_max_calls must be >= 0 (got {self.plan_max_calls})"),
            (self.plan_clock in ("wall", "cpu"), f"env.plan_clock must be 'wall' or 'cpu' (got '{self.plan_clock}')"),
            (self.plan_flip_cost > 0 and self.plan_rotate_cost > 0, "env.plan_flip_cost and env.plan_rotate_cost must be > 0"),
            (self.face_speed_weight >= 0, f"env.face_speed_weight must be >= 0 (got {self.face_speed_weight})"),
            (self.face_speed_clip > 0, f"env.face_speed_clip must be > 0 (got {self.face_speed_clip})"),
        ])  # fmt: skip
        try:
            parse_moves(self.scramble)  # fail early on a typo in a fixed scramble
        except ValueError as err:
            raise ValueError(f"env.scramble: {err}") from None


# ===================================================================== cube model
def orientation_quat(o: CubeOrientation) -> np.ndarray:
    return np.array(o.quaternion())


def right_product_matrix(b: np.ndarray) -> np.ndarray:
    """[4, 4] M with q ⊗ b = M · q: the per-step solver-frame orientation becomes one small
    matmul per env instead of a general quaternion product (b changes only on re-binding)."""
    w, x, y, z = b
    return np.array([[w, -x, -y, -z], [x, w, z, -y], [y, -z, w, x], [z, y, -x, w]])


def _transpose_times(c: CubeOrientation, b: CubeOrientation) -> CubeOrientation:
    """The aligned rotation Cᵀ·B (exact integer matrices)."""
    m = tuple(
        tuple(sum(c.matrix[k][i] * b.matrix[k][j] for k in range(3)) for j in range(3))
        for i in range(3)
    )
    return CubeOrientation(m)  # type: ignore[arg-type]


def _rebind_rotation(axis: Vec) -> CubeOrientation:
    """Aligned C with C·ẑ = axis: the new body frame's +z is the old body axis `axis`."""
    if axis == (0, 0, -1):
        return CubeOrientation().rotated((1, 0, 0), 2)
    k = (-axis[1], axis[0], 0)  # ẑ × axis: +90° about it takes ẑ onto a horizontal axis
    return CubeOrientation().rotated(k, 1)


_PERM_CACHE: dict[CubeOrientation, np.ndarray] = {}


def sticker_permutation(binding: CubeOrientation) -> np.ndarray:
    """[54] facelet index shown by each sticker slot (slot k sits at body position
    FACELET_POSITIONS[k]; under `binding` it shows the solver facelet at Bᵀ·p_k)."""
    perm = _PERM_CACHE.get(binding)
    if perm is None:
        b = binding.matrix
        solver_pos = [
            tuple(sum(b[i][j] * p[i] for i in range(3)) for j in range(3))
            for p in FACELET_POSITIONS
        ]
        perm = np.array([POSITION_INDEX[p] for p in solver_pos], dtype=np.int64)  # type: ignore[index]
        _PERM_CACHE[binding] = perm
    return perm


@dataclass(frozen=True)
class CubeIds:
    """Indices of the Rubik's cube parts in a compiled model, resolved once."""

    cube_qpos: int  # free joint: 7 qpos (pos, quat w x y z)
    cube_dof: int  # free joint: 6 dofs (world linear, local angular)
    hinge_jnt: int
    hinge_qpos: int
    hinge_dof: int
    stickers: np.ndarray  # [54] geom ids in solver facelet order of the body frame (U1..B9)
    hinge_actuators: np.ndarray  # position actuators on the hinge (test rig); re-based with it
    fixture_mocap: int  # mocap id of the rig's fixture, -1 when absent

    @staticmethod
    def resolve(m: mujoco.MjModel) -> CubeIds:
        def jid(name: str) -> int:
            j = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, name)
            if j < 0:
                raise ValueError(
                    f"model has no joint '{name}': it is not a Rubik's cube scene "
                    "(see envs/objects/rubiks_cube.xml)"
                )
            return int(j)

        cube, hinge = jid("cube_joint"), jid("top_layer_joint")
        names = [f"sticker_{f}{k}" for f in FACES for k in range(1, 10)]
        stickers = np.array([mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, n) for n in names])
        if (stickers < 0).any():
            raise ValueError(f"model lacks sticker geom '{names[int(np.argmin(stickers))]}'")
        acts = [
            a
            for a in range(m.nu)
            if m.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT
            and m.actuator_trnid[a, 0] == hinge
        ]
        fixture = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "cube_fixture")
        return CubeIds(
            cube_qpos=int(m.jnt_qposadr[cube]),
            cube_dof=int(m.jnt_dofadr[cube]),
            hinge_jnt=hinge,
            hinge_qpos=int(m.jnt_qposadr[hinge]),
            hinge_dof=int(m.jnt_dofadr[hinge]),
            stickers=stickers,
            hinge_actuators=np.array(acts, dtype=np.int64),
            fixture_mocap=int(m.body_mocapid[fixture]) if fixture >= 0 else -1,
        )


class RubiksCube:
    """The symbolic cube bound to one simulated cube: quarter-turn commits, detent, re-binding.

    Methods take the (model, data) pair explicitly so an env may swap its model (ADR geometry).
    """

    def __init__(
        self, ids: CubeIds, face_tolerance: float = 0.1, rebind_up_cos: float = 0.8
    ) -> None:
        self.ids = ids
        self.face_tolerance = face_tolerance
        self.rebind_up_cos = rebind_up_cos
        self.state = CubeState.solved()
        self.binding = CubeOrientation.identity()  # solver frame -> cube body frame
        self.binding_quat = orientation_quat(self.binding)
        self.face_turns = 0  # net quarter turns (about body +z) committed since reset_progress()
        self.quarter_turns = 0  # quarter turns committed since reset()
        # quarter turns committed since the cube was made, by direction about body +z seen from
        # outside the top face: [clockwise (U), counter-clockwise (U')]; reset() keeps them.
        self.turns_by_direction = [0, 0]
        self.rebinds = 0

    @property
    def up_face(self) -> str:
        """The solver face on the hinged top layer."""
        return self.binding.face_along((0, 0, 1))

    def reset(
        self, m: mujoco.MjModel, d: mujoco.MjData, state: CubeState, binding: CubeOrientation
    ) -> None:
        """New symbolic state and binding; the top layer at its 0° detent, stickers re-coloured."""
        self.state, self.binding, self.binding_quat = state, binding, orientation_quat(binding)
        self.quarter_turns = self.rebinds = self.face_turns = 0
        self._zero_hinge(m, d)
        self.recolour(m)

    def reset_progress(self) -> None:
        self.face_turns = 0

    def recolour(self, m: mujoco.MjModel) -> None:
        """Sticker rgba from the symbolic state as seen through the current binding."""
        codes = _LETTER_CODE[np.frombuffer(self.state.facelets.encode(), dtype=np.uint8)]
        m.geom_rgba[self.ids.stickers] = FACE_RGBA[codes[sticker_permutation(self.binding)]]

    def alignment_error(self, d: mujoco.MjData) -> float:
        """|hinge angle − nearest multiple of 90°| (rad); the other faces are aligned by construction."""
        q = float(d.qpos[self.ids.hinge_qpos])
        return abs(q - round(q / QUARTER) * QUARTER)

    def solver_quat(self, d: mujoco.MjData) -> np.ndarray:
        """[4] world orientation of the cube's own (solver) frame: body ⊗ binding."""
        a = self.ids.cube_qpos
        return quat_mul(d.qpos[a + 3 : a + 7], self.binding_quat)

    def update(self, m: mujoco.MjModel, d: mujoco.MjData) -> bool:
        """After a control step: commit a settled quarter turn, aim the detent, re-bind.

        Returns True when qpos was edited (the caller re-runs mj_forward for rendering).
        """
        q = float(d.qpos[self.ids.hinge_qpos])
        n = round(q / QUARTER)
        residual = q - n * QUARTER
        edited = False
        if n != 0 and abs(residual) < self.face_tolerance:
            self._commit(m, d, n)
            edited, n = True, 0
        if m.qpos_spring[self.ids.hinge_qpos] != n * QUARTER:  # aim the detent at the nearest slot
            m.qpos_spring[self.ids.hinge_qpos] = n * QUARTER
        if n == 0 and abs(residual) < self.face_tolerance:
            axis = self._up_axis(d)
            if axis is not None and axis != (0, 0, 1):
                self._rebind(m, d, axis)
                edited = True
        return edited

    def set_hinge_angle(self, m: mujoco.MjModel, d: mujoco.MjData, angle: float) -> None:
        """Kinematically put the top layer at `angle` (rad, at rest) and aim the detent at the
        slot nearest to it, as `update` would have: otherwise the spring still pulls toward the
        old slot and a layer set to 130° swings back through 0° (committing the opposite turn)."""
        d.qpos[self.ids.hinge_qpos] = angle
        d.qvel[self.ids.hinge_dof] = 0.0
        m.qpos_spring[self.ids.hinge_qpos] = round(angle / QUARTER) * QUARTER

    def set_solver_orientation(self, m: mujoco.MjModel, d: mujoco.MjData, quat: np.ndarray) -> None:
        """Kinematically put the solver frame at world orientation `quat` (flips in tests/rig)."""
        a, v = self.ids.cube_qpos, self.ids.cube_dof
        body = quat_mul(np.asarray(quat, dtype=np.float64), quat_conj(self.binding_quat))
        d.qpos[a + 3 : a + 7] = body / np.linalg.norm(body)
        d.qvel[v : v + 6] = 0.0
        if self.ids.fixture_mocap >= 0:
            d.mocap_quat[self.ids.fixture_mocap] = d.qpos[a + 3 : a + 7]

    # ------------------------------------------------------------ internals
    def _commit(self, m: mujoco.MjModel, d: mujoco.MjData, n: int) -> None:
        # +n quarter turns about the outward normal = counter-clockwise seen from outside, i.e.
        # (-n) mod 4 clockwise turns in standard notation.
        turns = (-n) % 4
        if turns:
            self.state = self.state.apply(Move(self.up_face, turns))
        d.qpos[self.ids.hinge_qpos] -= n * QUARTER
        d.ctrl[self.ids.hinge_actuators] -= n * QUARTER  # a driving actuator follows the re-base
        self.face_turns += n
        self.quarter_turns += abs(n)
        self.turns_by_direction[int(n > 0)] += abs(n)
        self.recolour(m)

    def _up_axis(self, d: mujoco.MjData) -> Vec | None:
        """Body axis (±x, ±y, ±z) pointing up, or None while the cube is tilted too far."""
        a = self.ids.cube_qpos
        w, x, y, z = d.qpos[a + 3 : a + 7].tolist()
        # World +z in body coordinates = third row of the body's rotation matrix.
        up = (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y))
        k = max(range(3), key=lambda i: abs(up[i]))
        if abs(up[k]) < self.rebind_up_cos:
            return None
        s = 1 if up[k] > 0 else -1
        return (s if k == 0 else 0, s if k == 1 else 0, s if k == 2 else 0)

    def _rebind(self, m: mujoco.MjModel, d: mujoco.MjData, axis: Vec) -> None:
        c = _rebind_rotation(axis)
        a, v = self.ids.cube_qpos, self.ids.cube_dof
        body = quat_mul(d.qpos[a + 3 : a + 7], orientation_quat(c))
        d.qpos[a + 3 : a + 7] = body / np.linalg.norm(body)
        # The free joint's angular velocity is in the body frame: ω_new = Cᵀ ω_old.
        d.qvel[v + 3 : v + 6] = np.array(c.matrix, dtype=np.float64).T @ d.qvel[v + 3 : v + 6]
        self.binding = _transpose_times(c, self.binding)
        self.binding_quat = orientation_quat(self.binding)
        if self.ids.fixture_mocap >= 0:
            d.mocap_quat[self.ids.fixture_mocap] = d.qpos[a + 3 : a + 7]
        self._zero_hinge(m, d)
        self.face_turns = 0
        self.rebinds += 1
        self.recolour(m)

    def _zero_hinge(self, m: mujoco.MjModel, d: mujoco.MjData) -> None:
        d.qpos[self.ids.hinge_qpos] = 0.0
        d.qvel[self.ids.hinge_dof] = 0.0
        d.ctrl[self.ids.hinge_actuators] = 0.0
        m.qpos_spring[self.ids.hinge_qpos] = 0.0


def face_friction(m: mujoco.MjModel, ids: CubeIds) -> float:
    """Dry friction of the top-layer hinge (N·m): the model field ADR randomizes."""
    return float(m.dof_frictionloss[ids.hinge_dof])


def face_detent(m: mujoco.MjModel, ids: CubeIds) -> float:
    """Detent spring stiffness of the top-layer hinge (N·m/rad)."""
    return float(m.jnt_stiffness[ids.hinge_jnt])


def set_face_friction(m: mujoco.MjModel, ids: CubeIds, value: float) -> None:
    """Write the face friction (N·m) into one env's model (per-episode ADR)."""
    m.dof_frictionloss[ids.hinge_dof] = value


def set_face_detent(m: mujoco.MjModel, ids: CubeIds, value: float) -> None:
    """Write the detent stiffness (N·m/rad) into one env's model (per-episode ADR)."""
    m.jnt_stiffness[ids.hinge_jnt] = value
