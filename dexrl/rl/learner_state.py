"""What a checkpoint holds of a `PPOLearner`, and restoring it: weights, both optimizers, the
normalizer and return statistics, the minibatch generator, the schedule. Versioned by
`CHECKPOINT_FORMAT`. `PPOLearner.state_dict` / `load_state_dict` call these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import torch

from dexrl.rl.normalizer import RunningMeanStd

if TYPE_CHECKING:
    from dexrl.rl.learner import PPOLearner

CHECKPOINT_FORMAT = 2
"""Version of the `state_dict()` layout; bump it when the layout changes."""



def learner_state(learner: PPOLearner) -> dict[str, Any]:
    """Everything to resume `learner`'s training exactly: tensors (on CPU) and JSON-safe values only,
    so `torch.save` / `torch.load(weights_only=True)` round-trips it."""
    state = {
        "format": CHECKPOINT_FORMAT,
        "dims": dict(learner.dims),
        "model": asdict(learner.model),
        "ppo": asdict(learner.ppo),
        "actor": learner.actor.state_dict(),
        "critic": learner.critic.state_dict(),
        "optimizer": learner.optimizer.state_dict(),
        "critic_optimizer": learner.critic_optimizer.state_dict(),
        "obs_rms": _rms_to_tensors(learner.obs_rms),
        "critic_obs_rms": _rms_to_tensors(learner.critic_obs_rms),
        "return_rms": _rms_to_tensors(learner.return_rms),
        "generator_state": learner.generator.get_state(),
        "progress": learner.progress,
        "lr_scale": learner.lr_scale,
        "iteration": learner.iteration,
    }
    return _to_cpu(state)

def load_learner_state(learner: PPOLearner, state: Mapping[str, Any]) -> None:
    """Restore a `learner_state()` into `learner`; the network shape must match (ValueError otherwise).

    The PPO config of this learner is kept (e.g. a changed lr applies on resume); the lr
    is recomputed from it and the restored progress.
    """
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"checkpoint format {state.get('format')!r}, expected {CHECKPOINT_FORMAT}"
        )
    _expect_equal("dims", dict(state["dims"]), learner.dims)
    _expect_equal(
        "model", _tuples_to_lists(state["model"]), _tuples_to_lists(asdict(learner.model))
    )
    learner.actor.load_state_dict(state["actor"])
    learner.critic.load_state_dict(state["critic"])
    for optimizer, key in ((learner.optimizer, "optimizer"), (learner.critic_optimizer, "critic_optimizer")):
        fused = optimizer.defaults.get("fused")
        optimizer.load_state_dict(state[key])
        for group in optimizer.param_groups:  # this machine's kernel, not the saver's
            group["fused"] = fused
    learner.obs_rms.load_state_dict(state["obs_rms"])
    learner.critic_obs_rms.load_state_dict(state["critic_obs_rms"])
    learner.return_rms.load_state_dict(state["return_rms"])
    learner.generator.set_state(state["generator_state"])
    learner.iteration = int(state["iteration"])
    learner.lr_scale = float(state.get("lr_scale", 1.0))
    learner.set_progress(float(state["progress"]))


def _rms_to_tensors(rms: RunningMeanStd) -> dict[str, Any]:
    state = rms.state_dict()
    return {
        "count": state["count"],
        "mean": torch.from_numpy(state["mean"]),
        "var": torch.from_numpy(state["var"]),
    }


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().clone()
    if isinstance(obj, Mapping):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _tuples_to_lists(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _tuples_to_lists(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_tuples_to_lists(v) for v in obj]
    return obj


def _expect_equal(what: str, found: Any, expected: Any) -> None:
    if found != expected:
        raise ValueError(f"checkpoint {what} {found} does not match this learner's {expected}")
