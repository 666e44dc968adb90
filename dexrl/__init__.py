"""dexrl: reinforcement learning for dexterous robot hands in MuJoCo."""

from __future__ import annotations

__version__ = "0.1.0"

# Registering the gymnasium ids is cheap (no MuJoCo work happens until make()).
from dexrl.tasks.registry import register_gymnasium_envs as _register

_register()
