"""The metrics a PPO update reports (`PPOLearner.update`), by name."""

from __future__ import annotations

METRIC_KEYS = (
    "policy_loss", "value_loss", "entropy", "bounds_loss", "approx_kl", "kl", "kl_end",
    "clip_fraction", "actor_grad_norm", "critic_grad_norm", "actor_clipped", "critic_clipped",
    "epochs_run", "lr", "critic_lr", "action_std", "explained_variance", "learner_time_s",
    "ingest_time_s",
)  # fmt: skip
"""Keys of the dict `PPOLearner.update` returns (all floats).

kl: the KL the adaptive learning rate read last; kl_end: the analytic KL of the updated policy
against the behaviour policy over the whole batch (equal to kl when every epoch ran);
approx_kl: the sample estimate against the behaviour policy, mean over minibatches (for
comparison with other trainers); *_clipped: share of optimizer steps whose gradient was clipped;
ingest_time_s: the part of learner_time_s spent copying the workers' batches into the learner's
tensors (`dexrl.rl.ingest`)."""
