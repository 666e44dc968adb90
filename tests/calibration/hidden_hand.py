"""Simulated hands for the calibration tests, given to scripts/excite.py as hand=hidden_hand:<name>.

`hidden_hand`: physics that differ from the dexhand's by factors the calibration is not told:
every actuator's kp x0.7, every joint's damping x1.5 and armature x2, commands acting one control
step late, and encoders that read with 2 mrad of Gaussian noise (no joint velocities), as a real
hand's would. `nominal_hand`: the dexhand as the model describes it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

GAIN, DAMPING, ARMATURE, LATENCY = 0.7, 1.5, 2.0, 1
ENCODER_NOISE = 0.002  # rad, std


class NoisyEncoders:
    """A HandController whose joint readings carry Gaussian noise and no velocities."""

    def __init__(self, hand: Any, std: float, seed: int = 1) -> None:
        self.hand, self.std, self.rng = hand, std, np.random.default_rng(seed)

    def read(self) -> Any:
        r = self.hand.read()
        q = r.joint_pos + self.rng.normal(0.0, self.std, r.joint_pos.shape)
        return dataclasses.replace(r, joint_pos=q, joint_vel=None)

    def send_targets(self, targets: np.ndarray) -> None:
        self.hand.send_targets(targets)


def _sim_hand(robot: dict[str, Any]) -> Any:
    from dexrl.config import load_env_config
    from dexrl.eval.sim_hand import SimHand

    hand = SimHand(load_env_config("reach", overrides={"robot": robot}), seed=0)
    hand.reset()
    return hand


def hidden_hand() -> Any:
    from dexrl.config import load_env_config
    from dexrl.tasks.registry import make_task

    task = make_task(load_env_config("reach"), num_envs=1, seed=0, autoreset=False)
    m = task.base_model
    actuators = [m.actuator(a).name for a in range(m.nu)]
    joints = list(task.ids.hand_joint_names)
    robot = {
        "actuator_gain_scale": dict.fromkeys(actuators, GAIN),
        "joint_damping_scale": dict.fromkeys(joints, DAMPING),
        "joint_armature_scale": dict.fromkeys(joints, ARMATURE),
        "action_latency_steps": LATENCY,
    }
    return NoisyEncoders(_sim_hand(robot), ENCODER_NOISE)


def nominal_hand() -> Any:
    return _sim_hand({})
