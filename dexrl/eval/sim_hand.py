"""SimHand: the `dexrl.deploy.HandController` protocol over a MuJoCo task (one env).

A deployed control loop talks to SimHand exactly as it would to a real hand's driver: it reads
joint positions, fingertip and palm positions and what an object tracker reports (the object's
pose; for the Rubik's cube also the top layer's angle: `HandTask.tracker_reading`), and sends
actuator targets; `goal()` is the goal source (`HandTask.deploy_goal`). Each `send_targets` runs
one control period of physics (`substeps` x timestep) and the task's own bookkeeping after it
(the Rubik's cube commits quarter turns and re-binds, `HandTask.physics_step`).

The task's goal, success and drop rules still run here (the simulator is the referee), so an
episode through the deploy loop can be compared with the same episode stepped by the task. A robot config with a
calibrated latency (`robot.action_latency_steps` = L) makes SimHand act on each target L control
steps after it was sent, as a real hand whose commands arrive late (until then it holds the
targets it had).

SimHand joins `dexrl.tasks` and `dexrl.deploy`, so it lives above both (in `dexrl.eval`), not in
`dexrl.sim`, which the tasks build on.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from dexrl.config import EnvConfig
from dexrl.deploy.controller import SensorReading
from dexrl.tasks.registry import make_task


class SimHand:
    """One simulated hand + object; `goal()` is the task's current goal in deploy's terms."""

    def __init__(self, env: EnvConfig, seed: int = 0) -> None:
        self.task = make_task(env, num_envs=1, seed=seed, autoreset=False)
        self.successes = 0
        self.dropped = False
        self.steps = 0
        self.latency = int(env.robot.action_latency_steps)
        self._in_flight: list[np.ndarray] = []  # targets sent but not yet acting (latency)

    def reset(self) -> None:
        """A new episode (ready pose, new object pose and goal), as the task's reset does."""
        self.task.reset_env(0)
        self.successes, self.dropped, self.steps = 0, False, 0
        self._in_flight = []

    # ------------------------------------------------------------------ HandController
    def read(self) -> SensorReading:
        t = self.task
        return SensorReading(
            timestamp=time.monotonic(),  # sampled now, as a live sensor is
            joint_pos=t.hand_qpos()[0].copy(),
            palm_pos=t.site_pos[0, 0].copy(),
            fingertip_pos=t.site_pos[0, 1:].copy(),
            joint_vel=t.qvel[0, t.ids.hand_dof_adr].copy(),
            **t.tracker_reading(0),
        )

    def send_targets(self, targets: np.ndarray) -> None:
        """Track `targets` for one control period, then referee (success -> next goal, drop)."""
        t = self.task
        self._in_flight.append(np.array(targets, dtype=np.float64))
        if len(self._in_flight) > self.latency:  # the target sent `latency` steps ago arrives
            t.targets[0] = self._in_flight.pop(0)
        t.physics_step()
        self.steps += 1
        self._referee()

    # ------------------------------------------------------------------ the simulator's side
    def _referee(self) -> None:
        """The task's success and drop rules (HandTask.step without reward bookkeeping)."""
        success, dropped = self.task.judge()
        self.dropped = self.dropped or bool(dropped[0])
        if success[0]:
            self.successes += 1
            self.task.advance_goal(0)

    def goal(self) -> dict[str, Any]:
        """The goal in the manifest's terms: goal_quat for cube tasks (and the face subgoal for
        the Rubik's cube), target_pos for reach."""
        return self.task.deploy_goal(0)
