"""Task names → classes, and the gymnasium ids (`gymnasium.make("dexrl/CubeRotate-v0")`)."""

from __future__ import annotations

from typing import Any

from dexrl.config import EnvConfig, load_env_config

# gymnasium id -> name of the env config (configs/env/<name>.yaml)
GYM_IDS = {
    "dexrl/Reach-v0": "reach",
    "dexrl/CubeRotateZ-v0": "cube_rotate_z",
    "dexrl/CubeRotate-v0": "cube_rotate",
    "dexrl/FaceTurn-v0": "face_turn",
    "dexrl/CubeSolve-v0": "cube_solve",
}


def task_class(task: str) -> type:
    """The HandTask subclass implementing `task` (imported lazily: MuJoCo only when needed)."""
    if task == "reach":
        from dexrl.tasks.reach import ReachTask

        return ReachTask
    if task in ("cube_rotate", "cube_rotate_z"):
        from dexrl.tasks.cube_rotate import CubeRotateTask

        return CubeRotateTask
    if task == "face_turn":
        from dexrl.tasks.rubiks import FaceTurnTask

        return FaceTurnTask
    if task == "cube_solve":
        from dexrl.tasks.rubiks_solve import CubeSolveTask

        return CubeSolveTask
    raise ValueError(f"unknown task '{task}'")


def make_task(
    env: str | EnvConfig,
    num_envs: int = 1,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    autoreset: bool = True,
) -> Any:
    """Build the batched task for an env name (configs/env/<name>.yaml) or an EnvConfig."""
    cfg = env if isinstance(env, EnvConfig) else load_env_config(env, overrides)
    return task_class(cfg.task)(cfg, num_envs=num_envs, seed=seed, autoreset=autoreset)


def register_gymnasium_envs() -> None:
    """Register every dexrl env id with gymnasium (idempotent)."""
    import gymnasium

    for gym_id, name in GYM_IDS.items():
        if gym_id not in gymnasium.registry:
            gymnasium.register(
                id=gym_id,
                entry_point="dexrl.tasks.gym_env:DexHandEnv",
                kwargs={"env": name},
            )
