"""Run an exported policy on a hand: numpy and onnxruntime only (no torch, MuJoCo or Ray).

    from dexrl.deploy import ControlLoop, Policy
    policy = Policy.load("exported/")          # checks manifest.json against policy.onnx
    loop = ControlLoop(policy, hand, goal=lambda: {"goal_quat": q})   # hand: a HandController
    loop.reset(); stats = loop.run(steps=1000)

A real hand's driver implements `HandController` (read sensors, send joint targets);
`dexrl.sim.hand_controller.SimHand` implements it over MuJoCo for testing.
"""

from dexrl.deploy.controller import HandController, SensorReading
from dexrl.deploy.loop import ControlLoop, LoopStats, StepRecord
from dexrl.deploy.policy import ManifestError, Policy
from dexrl.deploy.realtime import RealtimeError, RealtimeStatus, request_realtime

__all__ = [
    "ControlLoop", "HandController", "LoopStats", "ManifestError", "Policy", "SensorReading",
    "RealtimeError", "RealtimeStatus", "StepRecord", "request_realtime",
]  # fmt: skip
