"""Where the MJCF models (`envs/`) and Hydra configs (`configs/`) live.

From a checkout they are the top-level folders next to `dexrl/`; from an installed wheel they are
copied into `dexrl/_assets/` (see `[tool.hatch.build.targets.wheel.force-include]`).
`DEXRL_ASSETS` overrides both (a folder holding `envs/` and `configs/`).
"""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _asset_root() -> Path:
    override = os.environ.get("DEXRL_ASSETS")
    if override:
        # Set on purpose: never fall back silently to the packaged models.
        root = Path(override)
        if not ((root / "envs").is_dir() and (root / "configs").is_dir()):
            raise FileNotFoundError(
                f"DEXRL_ASSETS={override!r} does not hold both envs/ and configs/. Point it at such "
                "a folder (a dexrl checkout's top level), or unset it to use the packaged models."
            )
        return root
    candidates = [_PKG / "_assets", _PKG.parent]
    for root in candidates:
        if (root / "envs").is_dir() and (root / "configs").is_dir():
            return root
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"dexrl cannot find its envs/ and configs/ folders (looked in: {tried}). "
        "Reinstall dexrl, or set DEXRL_ASSETS to a folder that holds envs/ and configs/."
    )


def envs_dir() -> Path:
    """Folder of the MJCF models."""
    return _asset_root() / "envs"


def configs_dir() -> Path:
    """Folder of the Hydra configs (config.yaml plus groups)."""
    return _asset_root() / "configs"


def model_path(relative: str) -> Path:
    """Absolute path of a model given relative to `envs/` (absolute paths pass through).

    Raises FileNotFoundError naming the file and listing the scenes that do exist.
    """
    p = Path(relative)
    if not p.is_absolute():
        p = envs_dir() / p
    if not p.is_file():
        scenes = sorted(str(s.relative_to(envs_dir())) for s in envs_dir().rglob("*.xml"))
        raise FileNotFoundError(
            f"MJCF model file not found: {p}. Known models under {envs_dir()}: {', '.join(scenes)}"
        )
    return p
