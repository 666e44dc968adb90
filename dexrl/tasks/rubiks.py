"""face_turn and cube_solve: turn and solve a Rubik's cube in the hand ([R]; DESIGN.md decision 6).

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

Sections: settings → cube model → goals from subgoals → FaceTurnTask → CubeSolveTask → test rig.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, fields
from typing import Any

import mujoco
import numpy as np

from dexrl.config import EnvConfig
from dexrl.solver import (
    FACES,
    CubeOrientation,
    CubePlanner,
    CubeState,
    FlipSubgoal,
    Move,
    PlannerSettings,
    RotateSubgoal,
    Subgoal,
    all_orientations,
    apply_subgoal,
    flip_to_top,
    parse_moves,
    plan_subgoals,
    random_scramble,
    solve,
)
from dexrl.solver.geometry import FACELET_POSITIONS, POSITION_INDEX, Vec
from dexrl.tasks.base import ObsPart, StepResult
from dexrl.tasks.cube_rotate import CubeRotateTask
from dexrl.tasks.rotations import quat_conj, quat_mul, rotation_distance

QUARTER = math.pi / 2
ROTATE, FLIP = 0, 1  # subgoal type codes in observations and info["subgoal_type"]

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
"""The fixed evaluation scramble of [R] (FACTS.md: 43 subgoals there, 26 rotations, 17 flips)."""


# ===================================================================== settings
@dataclass(frozen=True)
class RubiksSettings:
    """Rubik's-specific task values.

    Set in `configs/env/face_turn.yaml` / `cube_solve.yaml` (EnvConfig fields of the same names);
    read with `getattr(cfg, name, default)` so a task built from a bare EnvConfig still works.
    """

    # Faces count as aligned when the hinge is within this of a multiple of 90° ([R]: 0.1 rad);
    # also the tolerance of the face-angle goal and of a completed quarter turn.
    face_tolerance: float = 0.1
    # face_turn: when the cube is aligned, the next goal is a top-face turn with this probability,
    # otherwise a flip ([R] App. C.1: 0.5).
    rotate_probability: float = 0.5
    # Re-bind only when the new up face's normal is this close to world up (cos of the tilt):
    # hysteresis against flip-flopping between two faces near a 45° tilt.
    rebind_up_cos: float = 0.8
    # cube_solve: length of the random scramble drawn at reset.
    scramble_moves: int = 25
    # cube_solve: a fixed scramble in move notation (e.g. FAIR_SCRAMBLE); overrides the random one.
    scramble: str = ""
    # cube_solve: seconds the planner searches for a cheaper plan at reset (dexrl.solver
    # CubePlanner; 0: kociemba's first answer). Plans are cached per scramble; re-plans after an
    # unplanned turn use kociemba's first answer, so no step waits on a search.
    plan_budget_s: float = 0.0
    # cube_solve: > 0: the search makes this many kociemba calls and no more, so a scramble gets
    # the same plan on every run (unless plan_budget_s cuts it short).
    plan_max_calls: int = 0
    # cube_solve: what plan_budget_s counts: "wall" seconds, or "cpu" seconds of the search
    # (Linux; with plan_max_calls a cap on work that machine load does not move).
    plan_clock: str = "wall"
    # cube_solve: plan cost = flips * plan_flip_cost + quarter turns * plan_rotate_cost.
    plan_flip_cost: float = 2.0
    plan_rotate_cost: float = 1.0


def rubiks_settings(cfg: EnvConfig, defaults: RubiksSettings) -> RubiksSettings:
    """Settings from cfg where it has a field of that name, else from `defaults`."""
    values = {
        f.name: getattr(cfg, f.name, getattr(defaults, f.name)) for f in fields(RubiksSettings)
    }
    s = RubiksSettings(**values)
    if not 0 < s.face_tolerance < QUARTER / 2:
        raise ValueError(f"face_tolerance must be in (0, pi/4) rad (got {s.face_tolerance})")
    if not 0 <= s.rotate_probability <= 1:
        raise ValueError(f"rotate_probability must be in [0, 1] (got {s.rotate_probability})")
    if s.scramble_moves < 0:
        raise ValueError(f"scramble_moves must be >= 0 (got {s.scramble_moves})")
    parse_moves(s.scramble)  # fail early on a typo in a fixed scramble
    return s


# ===================================================================== cube model
def _quat(o: CubeOrientation) -> np.ndarray:
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
        self.binding_quat = _quat(self.binding)
        self.face_turns = 0  # net quarter turns (about body +z) committed since reset_progress()
        self.quarter_turns = 0  # quarter turns committed since reset()
        self.rebinds = 0

    @property
    def up_face(self) -> str:
        """The solver face on the hinged top layer."""
        return self.binding.face_along((0, 0, 1))

    def reset(
        self, m: mujoco.MjModel, d: mujoco.MjData, state: CubeState, binding: CubeOrientation
    ) -> None:
        """New symbolic state and binding; the top layer at its 0° detent, stickers re-coloured."""
        self.state, self.binding, self.binding_quat = state, binding, _quat(binding)
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
        body = quat_mul(d.qpos[a + 3 : a + 7], _quat(c))
        d.qpos[a + 3 : a + 7] = body / np.linalg.norm(body)
        # The free joint's angular velocity is in the body frame: ω_new = Cᵀ ω_old.
        d.qvel[v + 3 : v + 6] = np.array(c.matrix, dtype=np.float64).T @ d.qvel[v + 3 : v + 6]
        self.binding = _transpose_times(c, self.binding)
        self.binding_quat = _quat(self.binding)
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


# ===================================================================== goals from subgoals
_ORIENTATIONS = all_orientations()
_ORIENTATION_QUATS = np.stack([_quat(o) for o in _ORIENTATIONS])


def aligned_pose(quat: np.ndarray) -> tuple[CubeOrientation, np.ndarray]:
    """Split a cube orientation into yaw ⊗ (a face-aligned pose): (pose, yaw quaternion).

    The planner works with the 24 face-aligned poses; the cube in the hand also has a free yaw.
    Choose the aligned pose that needs the least tilt (swing) to reach `quat`, then the one with
    the smallest yaw; goals are then expressed in that yawed frame.
    """
    rel = quat_mul(np.asarray(quat)[None], quat_conj(_ORIENTATION_QUATS))  # O -> current, world
    w, z = rel[:, 0], rel[:, 3]
    twist = np.sqrt(w * w + z * z)  # cos(swing / 2)
    best = int(np.argmax(np.round(twist, 6) + 1e-7 * np.abs(w) / np.maximum(twist, 1e-12)))
    yaw = np.array([w[best], 0.0, 0.0, z[best]]) / max(twist[best], 1e-12)
    return _ORIENTATIONS[best], (yaw if yaw[0] >= 0 else -yaw)


def anchor_subgoal(subgoal: Subgoal, pose: CubeOrientation) -> Subgoal | None:
    """The planner's subgoal re-derived from the pose the cube is actually in.

    A flip becomes `flip_to_top(pose, face)` (the planner's own rule; None when the face is
    already up), a rotation keeps the current pose. Identical to the planner's subgoal when the
    cube is where the planner expected it, and correct after the hand has yawed the cube.
    """
    if isinstance(subgoal, FlipSubgoal):
        return flip_to_top(pose, subgoal.face)
    return RotateSubgoal(subgoal.face, subgoal.direction, pose)


def subgoal_quat(subgoal: Subgoal, yaw: np.ndarray) -> np.ndarray:
    """[4] world goal orientation of the solver frame: yaw ⊗ the subgoal's aligned pose."""
    return quat_mul(yaw, _quat(subgoal.orientation))


@dataclass
class SolvePlan:
    """The planner's subgoals for one scrambled cube and the symbolic state expected around each."""

    subgoals: tuple[Subgoal, ...]
    states: tuple[CubeState, ...]  # states[k]: before subgoal k; states[-1]: solved
    index: int = 0

    @classmethod
    def for_state(
        cls, state: CubeState, pose: CubeOrientation, planner: CubePlanner | None = None
    ) -> SolvePlan:
        """Flip/rotate subgoals from `pose`: the planner's cheapest within its budget, or
        without one Kociemba's first solution (dexrl.solver)."""
        if planner is None:
            subgoals = plan_subgoals(solve(state), pose)
        else:
            subgoals = planner.plan(state, pose).subgoals
        states, s, o = [state], state, pose
        for g in subgoals:
            s, o = apply_subgoal(s, o, g)
            states.append(s)
        return cls(subgoals, tuple(states))

    @property
    def current(self) -> Subgoal | None:
        return self.subgoals[self.index] if self.index < len(self.subgoals) else None

    @property
    def expected_after(self) -> CubeState:
        return self.states[min(self.index + 1, len(self.states) - 1)]

    def on_track(self, state: CubeState) -> bool:
        """The cube is before, or just through, the current subgoal (else: re-plan)."""
        return (
            state == self.states[min(self.index, len(self.states) - 1)]
            or state == self.expected_after
        )

    def advance(self) -> None:
        self.index += 1


# ===================================================================== face_turn
class FaceTurnTask(CubeRotateTask):
    """Turn the top face ±90° or flip another face up (goal distribution of [R] App. C.1).

    Policy observation: the block's 74 values (cube orientation = the solver frame's) followed by
    [hinge angle (rad), remaining face-angle goal (rad), is_rotate, is_flip] → 78.
    Privileged extras: the block's (cube velocity 6, distance 1) + [hinge velocity, alignment error].
    Distance = rotation distance + face-angle distance; success = faces aligned (< face_tolerance),
    rotation distance < success_tolerance and the face-angle goal met (< face_tolerance).
    """

    default_settings = RubiksSettings()

    def __init__(
        self,
        cfg: EnvConfig,
        num_envs: int = 1,
        seed: int = 0,
        autoreset: bool = True,
        settings: RubiksSettings | None = None,
    ) -> None:
        self.settings = settings or rubiks_settings(cfg, self.default_settings)
        super().__init__(cfg, num_envs=num_envs, seed=seed, autoreset=autoreset)

    # ----------------------------------------------------------------- init / reset
    def _task_init(self) -> None:
        super()._task_init()
        K, s = self.num_envs, self.settings
        self.cube_ids = CubeIds.resolve(self.base_model)
        self.cubes = [
            RubiksCube(self.cube_ids, s.face_tolerance, s.rebind_up_cos) for _ in range(K)
        ]
        self.binding_quat = np.tile(np.array([1.0, 0.0, 0.0, 0.0]), (K, 1))
        self._binding_right = np.tile(np.eye(4), (K, 1, 1))  # q ⊗ binding = M · q, per env
        self.subgoals: list[Subgoal | None] = [None] * K
        self.goal_type = np.full(K, FLIP, dtype=np.int64)
        self.face_target = np.zeros(K)  # hinge progress (rad) a rotate goal asks for
        self.face_turns = np.zeros(K)  # committed quarter turns since the goal was set
        self.goal_face_bound = np.zeros(K, dtype=bool)  # the goal's face is the hinged one
        self.rot_error = np.zeros(K)
        self.face_error = np.zeros(K)
        self.align_error = np.zeros(K)

    def _task_reset(self, i: int, rng: np.random.Generator) -> None:
        m, d, a = self.sim.models[i], self.sim.datas[i], self.ids.cube_qpos_adr
        pose = _ORIENTATIONS[int(rng.integers(len(_ORIENTATIONS)))]
        yaw = rng.uniform(-np.pi, np.pi)
        d.qpos[a : a + 3] = self.cube_start_pos + rng.uniform(-0.003, 0.003, 3) * [1, 1, 0]
        # The body frame only yaws; the binding carries the random aligned pose, so the body's
        # +z (the hinged layer) starts up.
        d.qpos[a + 3 : a + 7] = [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]
        d.qvel[self.ids.cube_dof_adr : self.ids.cube_dof_adr + 6] = 0.0
        self.cubes[i].reset(m, d, self._initial_state(i, rng), pose)
        self._set_binding(i)
        self._start_episode(i, pose)
        self._new_goal(i, rng)

    def _initial_state(self, i: int, rng: np.random.Generator) -> CubeState:
        """face_turn: a random state (the stickers do not matter to the physics)."""
        r = random.Random(int(rng.integers(2**62)))
        return CubeState.solved().apply(random_scramble(r, 20))

    def _set_binding(self, i: int) -> None:
        self.binding_quat[i] = self.cubes[i].binding_quat
        self._binding_right[i] = right_product_matrix(self.binding_quat[i])

    def _start_episode(self, i: int, pose: CubeOrientation) -> None:
        """Hook for cube_solve's planning; nothing to do for face_turn."""

    def _task_on_success(self, i: int, rng: np.random.Generator) -> None:
        self._new_goal(i, rng)

    def _new_goal(self, i: int, rng: np.random.Generator) -> None:
        d, cube = self.sim.datas[i], self.cubes[i]
        pose, yaw = aligned_pose(cube.solver_quat(d))
        aligned = cube.alignment_error(d) < self.settings.face_tolerance
        subgoal: Subgoal | None
        if aligned and rng.random() < self.settings.rotate_probability:
            subgoal = RotateSubgoal(pose.up_face, int(rng.choice([-1, 1])), pose)
        else:
            others = [f for f in FACES if f != pose.up_face]
            subgoal = flip_to_top(pose, others[int(rng.integers(len(others)))])
        self._set_goal(i, subgoal, yaw)

    def _set_goal(self, i: int, subgoal: Subgoal | None, yaw: np.ndarray) -> None:
        """Make `subgoal` env i's goal (None: hold the current pose, e.g. once solved)."""
        cube = self.cubes[i]
        self.subgoals[i] = subgoal
        if subgoal is None:  # keep the faces aligned in the current pose
            pose, yaw = aligned_pose(cube.solver_quat(self.sim.datas[i]))
            self.goal_quat[i] = quat_mul(yaw, _quat(pose))
            self.goal_type[i], self.face_target[i] = FLIP, 0.0
        else:
            rotate = isinstance(subgoal, RotateSubgoal)
            self.goal_quat[i] = subgoal_quat(subgoal, yaw)
            self.goal_type[i] = ROTATE if rotate else FLIP
            self.face_target[i] = (
                subgoal.layer_angle_z if isinstance(subgoal, RotateSubgoal) else 0.0
            )
        cube.reset_progress()
        self.face_turns[i] = 0
        self.goal_face_bound[i] = subgoal is not None and cube.up_face == subgoal.face
        if self.ids.goal_mocap >= 0:
            self.sim.datas[i].mocap_quat[self.ids.goal_mocap] = self.goal_quat[i]

    # ----------------------------------------------------------------- step
    def apply_actions(self, actions: np.ndarray) -> None:
        super().apply_actions(actions)
        self._update_cubes()

    def _update_cubes(self) -> None:
        """Commit quarter turns, aim detents and re-bind, then refresh the envs that changed."""
        edited = []
        for i, cube in enumerate(self.cubes):
            m, d = self.sim.models[i], self.sim.datas[i]
            if cube.update(m, d):
                mujoco.mj_forward(m, d)  # stickers and layer drawn where the new qpos says
                edited.append(i)
                self._set_binding(i)
                self.face_turns[i] = cube.face_turns
                goal = self.subgoals[i]
                self.goal_face_bound[i] = goal is not None and cube.up_face == goal.face
        if edited:
            self.refresh(edited)

    def step(self, actions: Any) -> StepResult:
        """HandTask.step plus the Rubik's info keys and task-specific episode ends."""
        keep, self.autoreset = self.autoreset, False  # reset only after adding our info
        try:
            r = super().step(actions)
        finally:
            self.autoreset = keep
        extra_end = self._extra_info(r.info)
        r.terminated |= extra_end
        r.truncated &= ~r.terminated
        done = r.terminated | r.truncated
        if done.any() and self.autoreset:
            r.info.update(self._auto_reset(done, r.obs, r.critic_obs))
            r.obs, r.critic_obs = self.observations()
        return r

    def _extra_info(self, info: dict[str, np.ndarray]) -> np.ndarray:
        """Add info keys; return [K] bool of episodes that end for a task reason (terminated)."""
        info["face_angle"] = self.qpos[:, self.cube_ids.hinge_qpos].copy()
        info["aligned"] = self.align_error < self.settings.face_tolerance
        info["subgoal_type"] = self.goal_type.copy()
        info["quarter_turns"] = np.array([c.quarter_turns for c in self.cubes])
        info["rebinds"] = np.array([c.rebinds for c in self.cubes])
        return np.zeros(self.num_envs, dtype=bool)

    # ----------------------------------------------------------------- state
    def refresh(self, env_ids: Any = None) -> None:
        super().refresh(env_ids)
        # Derived arrays are recomputed once per snapshot, not at every use (a step reads the
        # cube orientation in the distance, twice, and in the observation).
        self._derived: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _derived_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(solver-frame orientation [K, 4], hinge angle [K], alignment error [K])."""
        if self._derived is None:
            a = self.ids.cube_qpos_adr
            q = self.qpos[:, self.cube_ids.hinge_qpos]
            self._derived = (
                np.matmul(self._binding_right, self.qpos[:, a + 3 : a + 7, None])[:, :, 0],
                q,
                np.abs(q - np.round(q / QUARTER) * QUARTER),
            )
        return self._derived

    def cube_quat(self) -> np.ndarray:
        """[K, 4] world orientation of the cube's own (solver) frame; continuous across re-binds."""
        return self._derived_state()[0]

    def _face_progress(self) -> tuple[np.ndarray, np.ndarray]:
        """(hinge angle [K], alignment error [K])."""
        _, q, align = self._derived_state()
        return q, align

    # ----------------------------------------------------------------- reward terms
    def _task_distance(self) -> np.ndarray:
        q, align = self._face_progress()
        remaining = np.abs(self.face_target - (self.face_turns * QUARTER + q))
        # A rotate goal for a face that is not hinged (cube knocked over): a full quarter turn left.
        rotate_err = np.where(self.goal_face_bound, remaining, QUARTER + align)
        self.face_error = np.where(self.goal_type == ROTATE, rotate_err, align)
        self.align_error = align
        self.rot_error = rotation_distance(self.cube_quat(), self.goal_quat)
        return self.rot_error + self.face_error

    def _task_success(self, distance: np.ndarray) -> np.ndarray:
        tol = self.settings.face_tolerance
        return (
            (self.rot_error < self.cfg.success_tolerance)
            & (self.align_error < tol)
            & (self.face_error < tol)
        )

    # ----------------------------------------------------------------- observations
    def _task_obs_terms(self) -> list[tuple[ObsPart, np.ndarray]]:
        q, align = self._face_progress()
        detent = np.round(q / QUARTER) * QUARTER
        rotate = self.goal_type == ROTATE
        to_target = np.where(
            self.goal_face_bound,
            self.face_target - (self.face_turns * QUARTER + q),
            self.face_target,
        )
        remaining = np.where(rotate, to_target, detent - q)
        extra = np.stack(
            [q, remaining, rotate.astype(np.float64), (~rotate).astype(np.float64)], axis=1
        )
        part = ObsPart("face", 4, "rad, rad, one-hot (2)", "top-face hinge",
                       description="top-face angle, angle still to turn, subgoal is rotate / flip")
        return [*super()._task_obs_terms(), (part, extra)]

    def _task_privileged(self) -> np.ndarray:
        q, align = self._face_progress()
        vel = np.clip(self.qvel[:, self.cube_ids.hinge_dof], -50.0, 50.0)
        return np.concatenate([super()._task_privileged(), vel[:, None], align[:, None]], axis=1)

    # ----------------------------------------------------------------- scripted manipulation
    def set_cube_orientation(self, i: int, quat: np.ndarray) -> None:
        """Kinematically turn env i's cube so its own (solver) frame has world orientation `quat`
        (about its centre; an aligned turn leaves the world geometry unchanged). For oracles and
        scripted demos; the next step re-binds the hinge if another face is now up."""
        self.cubes[i].set_solver_orientation(self.sim.models[i], self.sim.datas[i], quat)
        self.sim.forward(i)
        self.refresh(i)

    def turn_face(self, i: int, angle: float) -> None:
        """Kinematically turn env i's top layer by `angle` (rad, about the hinge) and aim the
        detent at the slot it lands in; the next step commits a completed quarter turn."""
        m, d = self.sim.models[i], self.sim.datas[i]
        self.cubes[i].set_hinge_angle(m, d, float(d.qpos[self.cube_ids.hinge_qpos]) + angle)
        self.sim.forward(i)
        self.refresh(i)

    # ----------------------------------------------------------------- randomizable parameters
    @property
    def face_friction(self) -> np.ndarray:
        """[K] top-layer hinge dry friction (N·m) of each env's model (an ADR parameter)."""
        return np.array([face_friction(m, self.cube_ids) for m in self.sim.models])

    @face_friction.setter
    def face_friction(self, value: float | np.ndarray) -> None:
        v = np.broadcast_to(np.asarray(value, dtype=np.float64), (self.num_envs,))
        for m, x in zip(self.sim.models, v, strict=True):
            set_face_friction(m, self.cube_ids, float(x))

    @property
    def face_detent(self) -> np.ndarray:
        """[K] detent spring stiffness (N·m/rad) of each env's model (an ADR parameter)."""
        return np.array([face_detent(m, self.cube_ids) for m in self.sim.models])

    @face_detent.setter
    def face_detent(self, value: float | np.ndarray) -> None:
        v = np.broadcast_to(np.asarray(value, dtype=np.float64), (self.num_envs,))
        for m, x in zip(self.sim.models, v, strict=True):
            set_face_detent(m, self.cube_ids, float(x))


# ===================================================================== cube_solve
class CubeSolveTask(FaceTurnTask):
    """Solve a scrambled cube by the planner's subgoals, one goal at a time.

    Reset: scramble (`scramble_moves` random moves, or the fixed `scramble`), plan flip / rotate
    subgoals from the cube's pose (the cheapest the planner finds: `plan_*` settings). Each
    subgoal is re-anchored to the cube's actual pose when it becomes the goal. A rotate subgoal succeeds only when the symbolic
    state is the planned one; a quarter turn the plan did not ask for triggers a re-plan.
    The episode ends when the cube is solved (terminated, info["cube_solved"]), on a drop or a timeout.
    """

    # A full scramble (FACTS.md measures kociemba on 25-move scrambles).
    default_settings = RubiksSettings(scramble_moves=25)

    def _task_init(self) -> None:
        super()._task_init()
        self.plans: list[SolvePlan] = [SolvePlan((), (CubeState.solved(),))] * self.num_envs
        self.solved = np.zeros(self.num_envs, dtype=bool)
        self.replans = np.zeros(self.num_envs, dtype=np.int64)
        s = self.settings
        self.planner = CubePlanner(  # one per task: its cache and kociemba child serve all envs
            PlannerSettings(
                budget_s=s.plan_budget_s,
                flip_cost=s.plan_flip_cost,
                rotate_cost=s.plan_rotate_cost,
                max_calls=s.plan_max_calls,
                clock=s.plan_clock,
            )
        )
        self.planner.warm_up()

    def _initial_state(self, i: int, rng: np.random.Generator) -> CubeState:
        s = self.settings
        if s.scramble:
            moves = parse_moves(s.scramble)
        else:
            moves = random_scramble(random.Random(int(rng.integers(2**62))), s.scramble_moves)
        return CubeState.solved().apply(moves)

    def _set_binding(self, i: int) -> None:
        self.binding_quat[i] = self.cubes[i].binding_quat
        self._binding_right[i] = right_product_matrix(self.binding_quat[i])

    def _start_episode(self, i: int, pose: CubeOrientation) -> None:
        self.plans[i] = SolvePlan.for_state(self.cubes[i].state, pose, self.planner)
        self.solved[i] = False
        self.replans[i] = 0

    def _new_goal(self, i: int, rng: np.random.Generator) -> None:
        """The plan's current subgoal, re-anchored to the pose the cube is in."""
        plan, cube = self.plans[i], self.cubes[i]
        pose, yaw = aligned_pose(cube.solver_quat(self.sim.datas[i]))
        subgoal = plan.current
        while subgoal is not None:
            anchored = anchor_subgoal(subgoal, pose)
            if isinstance(subgoal, RotateSubgoal) and pose.up_face != subgoal.face:
                self._replan(i, pose)  # the face to turn is not up: the plan no longer fits
                plan = self.plans[i]
                subgoal = plan.current
                continue
            if anchored is not None:
                break
            plan.advance()  # a flip to the face already on top: nothing to do
            subgoal = plan.current
        if subgoal is None:
            self.solved[i] = cube.state.is_solved
        self._set_goal(i, anchor_subgoal(subgoal, pose) if subgoal else None, yaw)

    def _replan(self, i: int, pose: CubeOrientation) -> None:
        self.plans[i] = SolvePlan.for_state(self.cubes[i].state, pose)
        self.replans[i] += 1

    def _task_on_success(self, i: int, rng: np.random.Generator) -> None:
        self.plans[i].advance()
        self._new_goal(i, rng)

    def _update_cubes(self) -> None:
        super()._update_cubes()
        for i, (cube, plan) in enumerate(zip(self.cubes, self.plans, strict=True)):
            if self.solved[i] or plan.on_track(cube.state):
                continue
            # A quarter turn the plan did not ask for (commits happen only when aligned).
            self._replan(i, aligned_pose(cube.solver_quat(self.sim.datas[i]))[0])
            self._new_goal(i, self.rngs[i])

    def _task_success(self, distance: np.ndarray) -> np.ndarray:
        ok = super()._task_success(distance)
        for i in np.flatnonzero(ok & (self.goal_type == ROTATE)):
            ok[i] = self.cubes[i].state == self.plans[i].expected_after
        return ok & ~self.solved

    def _extra_info(self, info: dict[str, np.ndarray]) -> np.ndarray:
        super()._extra_info(info)
        info["cube_solved"] = self.solved.copy()
        info["subgoal_index"] = np.array([p.index for p in self.plans])
        info["subgoals_total"] = np.array([len(p.subgoals) for p in self.plans])
        info["replans"] = self.replans.copy()
        return self.solved.copy()


TASKS = {"face_turn": FaceTurnTask, "cube_solve": CubeSolveTask}


# ===================================================================== test rig
class RubiksRig:
    """The hand-free rig (envs/scenes/rubiks_rig.xml): actuated top layer, kinematic flips.

    For logic, rendering and oracle tests: `turn` drives a quarter turn with the position
    actuator, `push_and_release` starts a turn and lets the detent spring it back, and
    `set_pose` flips the cube kinematically (the fixture follows).
    """

    def __init__(
        self, model: str = "scenes/rubiks_rig.xml", substeps: int = 20, face_tolerance: float = 0.1
    ) -> None:
        from dexrl.sim.model import compile_model, load_spec

        self.model = compile_model(load_spec(model))
        self.data = mujoco.MjData(self.model)
        self.substeps = substeps
        self.ids = CubeIds.resolve(self.model)
        if len(self.ids.hinge_actuators) != 1:
            raise ValueError(f"{model} needs exactly one actuator on top_layer_joint")
        self.actuator = int(self.ids.hinge_actuators[0])
        self._gain = self.model.actuator_gainprm[self.actuator, 0].copy()
        self._bias = self.model.actuator_biasprm[self.actuator, :3].copy()
        self.cube = RubiksCube(self.ids, face_tolerance)
        self.reset()

    def reset(self, state: CubeState | None = None, pose: CubeOrientation | None = None) -> None:
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        self.cube.reset(m, d, state or CubeState.solved(), CubeOrientation.identity())
        self.engage()
        self.set_pose(pose or CubeOrientation.identity())

    def engage(self) -> None:
        """The position actuator holds/drives the hinge."""
        self.model.actuator_gainprm[self.actuator, 0] = self._gain
        self.model.actuator_biasprm[self.actuator, :3] = self._bias

    def release(self) -> None:
        """Zero the actuator's gains: only the detent, friction and damping act on the layer."""
        self.model.actuator_gainprm[self.actuator, 0] = 0.0
        self.model.actuator_biasprm[self.actuator, :3] = 0.0

    @property
    def hinge_angle(self) -> float:
        return float(self.data.qpos[self.ids.hinge_qpos])

    @property
    def pose(self) -> CubeOrientation:
        return aligned_pose(self.cube.solver_quat(self.data))[0]

    def step(self, n: int = 1) -> None:
        """n control steps: physics substeps in C, then the cube update (commit/detent/re-bind)."""
        for _ in range(n):
            mujoco.mj_step(self.model, self.data, self.substeps)
            if self.cube.update(self.model, self.data):
                mujoco.mj_forward(self.model, self.data)

    def set_pose(self, pose: CubeOrientation) -> None:
        """Kinematic flip: the solver frame to the world-aligned `pose`, then re-bind."""
        self.cube.set_solver_orientation(self.model, self.data, _quat(pose))
        mujoco.mj_forward(self.model, self.data)
        if self.cube.update(self.model, self.data):
            mujoco.mj_forward(self.model, self.data)

    def turn(self, direction: int, max_steps: int = 60) -> bool:
        """Drive the top face a quarter turn (+1 clockwise seen from above); True once the turn
        has committed and the layer has settled."""
        self.engage()
        start = self.cube.quarter_turns
        q = self.hinge_angle
        self.data.ctrl[self.actuator] = round(q / QUARTER) * QUARTER - direction * QUARTER
        for _ in range(max_steps):
            self.step()
            settled = abs(float(self.data.qvel[self.ids.hinge_dof])) < 0.05
            if (
                self.cube.quarter_turns > start
                and settled
                and self.cube.alignment_error(self.data) < 0.02
            ):
                return True
        return False

    def set_hinge_angle(self, angle: float) -> None:
        """Kinematically set the top layer to `angle` (rad) with the detent aimed at the nearest
        slot and the actuator released, so the next steps show what the detent does from there."""
        self.release()
        self.data.ctrl[self.actuator] = angle
        self.cube.set_hinge_angle(self.model, self.data, angle)
        mujoco.mj_forward(self.model, self.data)

    def push_and_release(self, angle: float, hold_steps: int = 10, settle_steps: int = 15) -> float:
        """Push the layer toward `angle` (rad), release it; returns the largest angle reached."""
        self.engage()
        self.data.ctrl[self.actuator] = angle
        peak = 0.0
        for _ in range(hold_steps):
            self.step()
            peak = max(peak, abs(self.hinge_angle))
        self.release()
        self.step(settle_steps)
        self.data.ctrl[self.actuator] = 0.0
        self.engage()
        return peak
