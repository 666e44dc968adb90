"""dexrl: reinforcement learning for dexterous robot hands in MuJoCo."""

from __future__ import annotations

from importlib.util import find_spec

__version__ = "0.1.0"

# Registering the gymnasium ids is cheap (no MuJoCo work happens until make()). A hand computer
# that installs only the deploy runtime (numpy + onnxruntime, `dexrl.deploy`) has no gymnasium or
# omegaconf: importing dexrl.deploy must not need them, so registration is skipped there (and
# only there: any other import error still surfaces).
if find_spec("gymnasium") is not None and find_spec("omegaconf") is not None:
    from dexrl.tasks.registry import register_gymnasium_envs as _register

    _register()
