"""The default console of a run: no Ray token-authentication notice, no wandb banner or summary,
one line saying where the offline wandb run is and how to upload it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("ray._private.authentication.authentication_token_setup", logging.WARNING,
                             __file__, 1, message, None, None)  # fmt: skip


def test_only_rays_auth_enabled_notice_is_dropped() -> None:
    from dexrl.distributed.ray_setup import _quiet_auth_notice

    notice = ("Token authentication is enabled for this Ray cluster. Set RAY_AUTH_MODE=disabled to "
              "opt out. For more information, see https://docs.ray.io/")  # fmt: skip
    assert not _quiet_auth_notice(_record(notice))
    # Ray's warning that authentication is *off* is a security warning: it stays.
    assert _quiet_auth_notice(_record("Token authentication is disabled for this Ray cluster. Anyone ..."))
    assert _quiet_auth_notice(_record("anything else"))


def test_offline_wandb_prints_one_line_naming_the_run_and_the_sync_command(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    pytest.importorskip("wandb")
    from dexrl.config import LoggerConfig, WandbConfig
    from dexrl.distributed.metrics_log import MetricsLog

    cfg = LoggerConfig(wandb=WandbConfig(mode="offline"), progress_bar=False, print_every=1)
    log = MetricsLog(tmp_path, cfg, {"env": {"name": "reach"}}, resume=False)
    for it in (1, 2):
        log.write({"iteration": it, "env_steps": 64 * it, "policy_loss": 0.1 * it, "kl_end": 0.01})
    log.close()
    out, err = capfd.readouterr()
    lines = (out + err).splitlines()
    assert not [x for x in lines if x.startswith("wandb:")], lines
    wandb_lines = [x for x in lines if "wandb" in x]
    assert len(wandb_lines) == 1, lines
    where = wandb_lines[0].split("wandb offline run: ")[1].split(" (upload")[0]
    assert Path(where).is_dir() and Path(where).parent == tmp_path / "wandb"
    assert f"wandb sync {where}" in wandb_lines[0]
    assert len([x for x in lines if x.startswith("it ")]) == 2  # the run's own lines stay
