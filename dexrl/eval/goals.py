"""What a picture of env i shows about its goal: a ghost cube at the goal orientation (cube tasks
whose scene has no goal body of its own) and a few words for the on-screen text."""

from __future__ import annotations

from typing import Any

import numpy as np

from dexrl.sim.render import Marker

# The ghost floats this far above the real cube (m): beside it, so both stay visible.
GHOST_OFFSET = np.array([0.0, 0.0, 0.09])


def goal_markers(task: Any, i: int) -> list[Marker]:
    """Visual-only geoms for env i's goal: a ghost cube at the task's goal orientation
    (`HandTask.goal_orientation`) where the scene has no goal body of its own (reach targets are
    mocap bodies of the scene already)."""
    quat = task.goal_orientation(i)
    if quat is None or task.ids.goal_mocap >= 0 or task.ids.cube_qpos_adr < 0:
        return []
    a = task.ids.cube_qpos_adr
    pos = task.sim.datas[i].qpos[a : a + 3] + GHOST_OFFSET
    half = task.sim.models[i].geom_size[task.base_model.geom("cube_geom").id]
    return [Marker("box", pos, (float(half[0]), float(half[1]), float(half[2])), quat)]


def goal_text(task: Any, i: int) -> list[str]:
    """Lines for the overlay: successes so far and the task's words on its goal
    (`HandTask.goal_lines`: how far it is; cube_solve: which subgoal of the plan)."""
    return [f"successes {int(task.consecutive_successes[i])}", *task.goal_lines(i)]
