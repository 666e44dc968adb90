"""cube_solve: solve a scrambled Rubik's cube in the hand by the planner's subgoals ([R]).

`face_turn`'s task (`dexrl.tasks.rubiks`) with goals from a solve plan (`dexrl.tasks.rubiks_goals`):
the same observation, so a face_turn policy is a cube_solve policy.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

import numpy as np

from dexrl.solver import (
    CubeOrientation,
    CubePlanner,
    CubeState,
    PlannerSettings,
    RotateSubgoal,
    parse_moves,
    random_scramble,
)
from dexrl.tasks.registry import register_task
from dexrl.tasks.rubiks import ROTATE, FaceTurnTask
from dexrl.tasks.rubiks_cube import FAIR_SCRAMBLE, right_product_matrix
from dexrl.tasks.rubiks_goals import SolvePlan, aligned_pose, anchor_subgoal


class CubeSolveTask(FaceTurnTask):
    """Solve a scrambled cube by the planner's subgoals, one goal at a time.

    Reset: scramble (`scramble_moves` random moves, or the fixed `scramble`), plan flip / rotate
    subgoals from the cube's pose (the cheapest the planner finds: `plan_*` settings). Each
    subgoal is re-anchored to the cube's actual pose when it becomes the goal. A rotate subgoal succeeds only when the symbolic
    state is the planned one; a quarter turn the plan did not ask for triggers a re-plan.
    The episode ends when the cube is solved (terminated, info["cube_solved"]), on a drop or a timeout.
    """

    # Evaluations report the solve of [R]'s fair scramble (scripts/evaluate.py), unless env.scramble is given.
    evaluation_values: ClassVar[dict[str, Any]] = {"scramble": FAIR_SCRAMBLE}

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
                turn_direction=s.rotate_direction,
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
        # Kociemba's first answer, written in the planner's turn direction (env.rotate_direction)
        direction = self.planner.settings.turn_direction
        self.plans[i] = SolvePlan.for_state(self.cubes[i].state, pose, direction=direction)
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

    def goal_lines(self, i: int) -> list[str]:
        plan = self.plans[i]
        return [f"subgoal {plan.index + 1}/{len(plan.subgoals)}", *super().goal_lines(i)]


register_task("cube_solve", CubeSolveTask, gym_id="dexrl/CubeSolve-v0")
