"""Where dexrl finds its MJCF models and configs: every hand and scene file opens with MuJoCo's own
loader (as `python -m mujoco.viewer --mjcf FILE` opens it, from any working directory); an
installed wheel carries envs/ and configs/ and uses them; DEXRL_ASSETS points dexrl at another copy."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import mujoco
import pytest

from dexrl.config import known_env_names, load_env_config
from dexrl.paths import configs_dir, envs_dir
from dexrl.sim.model import compile_model, load_spec
from dexrl.sim.scene import object_path

REPO = Path(__file__).resolve().parents[2]
# Files that are whole models on their own: the hands, and the hand-free Rubik's rig. The env
# scenes are composed from them (dexrl.sim.scene), so they have no file.
MODELS = sorted(str(p.relative_to(REPO / "envs")) for p in (REPO / "envs").glob("*/*.xml")
                if p.parent.name in ("hands", "scenes"))  # fmt: skip


@pytest.mark.skipif("DEXRL_ASSETS" in os.environ, reason="DEXRL_ASSETS overrides the checkout")
def test_the_checkout_provides_the_assets() -> None:
    assert envs_dir() == REPO / "envs" and configs_dir() == REPO / "configs"
    assert {"hands/dexhand.xml", "hands/leap.xml", "scenes/rubiks_rig.xml"} <= set(MODELS)


@pytest.mark.parametrize("mjcf", MODELS)
def test_model_file_opens_with_mujocos_loader_from_any_directory(
    mjcf: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # includes must resolve relative to the file, not the shell
    path = REPO / "envs" / mjcf
    viewer_model = mujoco.MjModel.from_xml_path(str(path))
    mujoco.mj_step(viewer_model, mujoco.MjData(viewer_model))
    # dexrl's MjSpec route compiles the very same model.
    ours = compile_model(load_spec(mjcf))
    for size in ("nq", "nv", "nu", "nbody", "ngeom", "nsite", "neq", "ntendon", "nsensor"):
        assert getattr(ours, size) == getattr(viewer_model, size), size
    assert ours.opt.timestep == viewer_model.opt.timestep


def test_every_env_config_names_an_existing_object_and_robot() -> None:
    for name in known_env_names():
        cfg = load_env_config(name)
        path = object_path(cfg.object)
        assert path is None or path.is_file(), f"configs/env/{name}.yaml: object {cfg.object} missing"
        assert (REPO / "envs" / cfg.robot.mjcf).is_file()


def _run(code: str, cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DEXRL_ASSETS", "PYTHONPATH")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # With the build backend (hatchling) already installed, build offline against it.
    offline = ["--no-build-isolation"] if importlib.util.find_spec("hatchling") else []
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", *offline, "-q", "-w", str(out), str(REPO)]
    subprocess.run(cmd, check=True, timeout=300, capture_output=True)
    (whl,) = out.glob("dexrl-*.whl")
    return whl


def test_wheel_ships_models_and_configs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "dexrl/_assets/envs/common/scene.xml",
        "dexrl/_assets/envs/hands/dexhand.xml",
        "dexrl/_assets/envs/hands/leap.xml",
        "dexrl/_assets/envs/objects/block.xml",
        "dexrl/_assets/configs/env/cube_rotate.yaml",
        "dexrl/_assets/configs/robot/dexhand.yaml",
    ):
        assert required in names, f"{required} missing from {wheel.name}"
    # Every file of the checkout's envs/ and configs/ folders is in the wheel.
    for folder in ("envs", "configs"):
        for f in (REPO / folder).rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts:
                assert f"dexrl/_assets/{f.relative_to(REPO).as_posix()}" in names


def test_installed_wheel_finds_its_own_assets(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # a pure-python wheel installs by unpacking
    out = _run(
        """
        import numpy as np
        import dexrl
        from dexrl.paths import envs_dir, configs_dir
        from dexrl.tasks.registry import make_task
        task = make_task("cube_rotate", num_envs=1)
        task.reset()
        r = task.step(np.zeros((1, task.action_dim)))
        assert np.isfinite(r.obs).all()
        print(dexrl.__file__)
        print(envs_dir())
        print(configs_dir())
        """,
        cwd=tmp_path,
        env=_clean_env(PYTHONPATH=str(site)),
    )
    pkg, envs, configs = out.split()
    assets = (site / "dexrl" / "_assets").resolve()
    assert Path(pkg).resolve() == (site / "dexrl" / "__init__.py").resolve()
    assert Path(envs).resolve() == assets / "envs" and Path(configs).resolve() == assets / "configs"


def test_dexrl_assets_points_at_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "assets"
    shutil.copytree(REPO / "envs", copy / "envs")
    shutil.copytree(REPO / "configs", copy / "configs")
    # Mark the copy so the run can only pass by reading it: a heavier block, and an env that
    # exists nowhere else.
    block = copy / "envs" / "objects" / "block.xml"
    text = block.read_text()
    assert 'mass="0.078"' in text
    block.write_text(text.replace('mass="0.078"', 'mass="0.1"', 1))
    shutil.copy(copy / "configs" / "env" / "cube_rotate.yaml", copy / "configs" / "env" / "copy_only.yaml")
    out = _run(
        """
        from dexrl.paths import envs_dir
        from dexrl.tasks.registry import make_task
        task = make_task("copy_only", num_envs=1)
        m = task.base_model
        print(envs_dir())
        print(m.body_mass[m.body("cube").id])
        """,
        cwd=tmp_path,
        env=_clean_env(DEXRL_ASSETS=str(copy)),
    )
    envs, mass = out.split()
    assert Path(envs).resolve() == (copy / "envs").resolve()
    assert float(mass) == pytest.approx(0.1)


def test_a_wrong_dexrl_assets_is_an_error_not_a_silent_fallback(tmp_path: Path, monkeypatch) -> None:
    from dexrl.paths import envs_dir

    (tmp_path / "envs").mkdir()  # configs/ missing: a typo'd or half-copied folder
    monkeypatch.setenv("DEXRL_ASSETS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="DEXRL_ASSETS=.*does not hold both envs/ and configs/"):
        envs_dir()
    monkeypatch.setenv("DEXRL_ASSETS", str(tmp_path / "no-such-folder"))
    with pytest.raises(FileNotFoundError, match="unset it to use the packaged models"):
        envs_dir()
