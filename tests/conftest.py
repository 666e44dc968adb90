"""Shared fixtures. One Ray session serves every test that needs Ray (starting Ray costs ~2 s and
~600 MiB; docs/references.md "Ray start-up"), started lazily by the first test that asks for it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("MUJOCO_GL", "osmesa")
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@pytest.fixture(scope="session")
def ray_session():  # type: ignore[no-untyped-def]
    """A real local Ray with 2 CPUs, shared by the whole test session."""
    import ray

    from dexrl.distributed.ray_setup import start_local_ray

    if not ray.is_initialized():
        start_local_ray(num_cpus=2, log_to_driver=False)  # listens on 127.0.0.1 only
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def assets(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A DEXRL_ASSETS folder: the checkout's envs (linked) and a copy of its configs, so that a
    script writing a config (scripts/calibrate.py's default out=configs/robot/<hand>_calibrated.yaml)
    writes here, never into the checkout."""
    import shutil
    from pathlib import Path

    root_dir = Path(__file__).resolve().parents[1]
    root = tmp_path_factory.mktemp("assets")
    (root / "envs").symlink_to(root_dir / "envs")
    shutil.copytree(root_dir / "configs", root / "configs")
    return root
