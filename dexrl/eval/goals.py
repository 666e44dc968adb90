"""What a picture of env i shows about its goal: a ghost cube at the goal orientation (cube tasks
whose scene has no goal body of its own) and a few words for the on-screen text."""

from __future__ import annotations

from typing import Any

import numpy as np

from dexrl.sim.render import Marker

# The ghost floats this far above the real cube (m): beside it, so both stay visible.
GHOST_OFFSET = np.array([0.0, 0.0, 0.09])


def goal_markers(task: Any, i: int) -> list[Marker]:
    """Visual-only geoms for env i's goal (reach targets are mocap bodies of the scene already)."""
    if not hasattr(task, "goal_quat") or task.ids.goal_mocap >= 0 or task.ids.cube_qpos_adr < 0:
        return []
    a = task.ids.cube_qpos_adr
    pos = task.sim.datas[i].qpos[a : a + 3] + GHOST_OFFSET
    half = task.sim.models[i].geom_size[task.base_model.geom("cube_geom").id]
    return [Marker("box", pos, (float(half[0]), float(half[1]), float(half[2])), task.goal_quat[i].copy())]


def goal_text(task: Any, i: int) -> list[str]:
    """Lines for the overlay: successes so far and how far the goal is."""
    lines = [f"successes {int(task.consecutive_successes[i])}"]
    if hasattr(task, "plans"):  # cube_solve: which subgoal of the plan
        plan = task.plans[i]
        lines.append(f"subgoal {plan.index + 1}/{len(plan.subgoals)}")
    if hasattr(task, "goal_quat"):
        lines.append(f"goal: orientation error {float(task.distance[i]):.2f} rad")
    else:
        lines.append(f"goal: fingertip error {1000 * float(task.distance[i]):.0f} mm")
    return lines
