"""Run an exported policy on a hand: numpy and onnxruntime only (no torch, MuJoCo or Ray).

    from dexrl.deploy import ControlLoop, Policy
    policy = Policy.load("exported/")          # checks manifest.json against policy.onnx
    loop = ControlLoop(policy, hand, goal=lambda: {"goal_quat": q})   # hand: a HandController
    loop.reset(); stats = loop.run(steps=1000)

A real hand's driver implements `HandController` (read sensors, send joint targets);
`dexrl.eval.sim_hand.SimHand` implements it over MuJoCo for testing
(scripts/deploy_example.py runs the shipped policy on it). `loop.reset()` refuses a goal source
without what the policy reads (GoalSourceError); afterwards a bad reading or goal holds the last
safe target and is counted by kind (`stats.faults`, see dexrl.deploy.loop).
"""

from dexrl.deploy.controller import HandController, SensorReading
from dexrl.deploy.loop import FAULTS, ControlLoop, GoalSourceError, LoopStats, StepRecord
from dexrl.deploy.policy import ManifestError, Policy
from dexrl.deploy.realtime import RealtimeError, RealtimeStatus, request_realtime

__all__ = [
    "FAULTS", "ControlLoop", "GoalSourceError", "HandController", "LoopStats", "ManifestError", "Policy",
    "SensorReading", "RealtimeError", "RealtimeStatus", "StepRecord", "request_realtime",
]  # fmt: skip
