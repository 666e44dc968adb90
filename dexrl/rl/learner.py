"""The PPO learner: turns a `RolloutBatch` into new policy weights.

Rollout workers (CPU) only run the policy; the learner owns the critic, the normalizer
statistics, the optimizer and its RNG. `update` reads top to bottom as the algorithm:
normalizers -> values -> GAE -> value targets -> sequences -> epochs x minibatches of Adam.
Beside it: `ingest` (the workers' batches into the learner's tensors), `learner_state` (what a
checkpoint holds), `tensors` (device, Adam, sequences, explained variance).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from dexrl.rl.config import ModelConfig, PPOConfig, minibatch_count
from dexrl.rl.gae import compute_gae
from dexrl.rl.ingest import BatchIngest, Ingested
from dexrl.rl.learner_metrics import METRIC_KEYS as METRIC_KEYS  # re-exported: its old home
from dexrl.rl.learner_state import learner_state, load_learner_state
from dexrl.rl.losses import (
    bounds_loss,
    entropy_loss,
    gaussian_kl,
    normalize_advantages,
    policy_loss,
    value_loss,
)
from dexrl.rl.networks import Critic, GaussianActor, Hidden, make_actor
from dexrl.rl.normalizer import RunningMeanStd
from dexrl.rl.numpy_actor import ActorState
from dexrl.rl.storage import RolloutBatch
from dexrl.rl.tensors import (
    adam,
    chunk_length,
    chunk_start_states,
    explained_variance,
    resolve_device,
    to_sequences,
)

Sequences = dict[str, torch.Tensor]
"""Training data cut into sequences: each entry [L, N, ...] (L steps of N sequences)."""


@dataclass
class PreparedBatch:
    """A rollout as the learner's epochs see it (normalizers merged, GAE done, sequences cut)."""

    sequences: Sequences
    hidden0: Hidden
    returns: NDArray[np.float32]
    """[T, B] returns in reward units."""
    values: NDArray[np.float32]
    """[T, B] pre-update critic values in reward units."""


class PPOLearner:
    """PPO with an asymmetric actor-critic, running normalizers and (optionally) an LSTM policy
    (a `dexrl.rl.learners.Learner`)."""

    algorithm = "ppo"

    def __init__(
        self,
        obs_dim: int,
        critic_obs_dim: int,
        action_dim: int,
        ppo: PPOConfig,
        model: ModelConfig,
        device: str = "auto",
        seed: int = 0,
    ) -> None:
        self.dims = {"obs_dim": obs_dim, "critic_obs_dim": critic_obs_dim, "action_dim": action_dim}
        self.ppo, self.model = ppo.validate(), model.validate()
        if ppo.gamma is None:
            raise ValueError("PPOConfig.gamma is None: set it, or resolve the task's with "
                             "dexrl.rl.config.resolve_gamma(ppo, env.gamma)")
        self.gamma: float = ppo.gamma
        self.device = resolve_device(device)
        # Initialize the weights from `seed` without disturbing the caller's global torch RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.actor: GaussianActor = make_actor(obs_dim, action_dim, model, ppo.obs_clip)
            self.critic = Critic(critic_obs_dim, model, ppo.obs_clip)
        self.actor.to(self.device)
        self.critic.to(self.device)
        # Actor and critic step separately (docs/architecture.md §12): each has its own gradient
        # clip, and only the actor's learning rate follows the KL; the privileged critic keeps its
        # own.
        self.optimizer = adam(list(self.actor.parameters()), ppo.lr, ppo.adam_eps)
        self.critic_optimizer = adam(list(self.critic.parameters()), ppo.critic_lr, ppo.adam_eps)
        self.obs_rms = RunningMeanStd(obs_dim)
        self.critic_obs_rms = RunningMeanStd(critic_obs_dim)
        self.return_rms = RunningMeanStd(())
        # The learner's only randomness is the minibatch shuffle; it has its own generator so a
        # checkpoint can restore it exactly.
        self.generator = torch.Generator().manual_seed(seed)
        self.progress = 0.0
        self.lr_scale = 1.0  # the "adaptive" schedule's factor on ppo.lr
        self.iteration = 0
        self._ingest = BatchIngest(self.device, reuse=True)  # keeps its buffers between updates

    # ------------------------------------------------------------------ the update

    def update(self, batch: RolloutBatch | Sequence[RolloutBatch]) -> dict[str, float]:
        """One PPO update on a rollout (one batch, or the list of the workers' batches: the same
        update as on their `RolloutBatch.concat`, without the join); returns the metrics named
        in `METRIC_KEYS`.

        Losses, entropy, approx_kl and clip_fraction are means over the minibatches evaluated;
        value_loss is in normalized return units; kl / kl_end are analytic KLs against the
        behaviour policy over the whole batch (see METRIC_KEYS); epochs_run counts optimizer
        steps / minibatches (below `epochs` after a KL early stop).

        Order, and why:
        1. Merge the workers' observation moments into the normalizers first, so the critic
           values, the targets and the policy being trained all use the normalization that the
           workers receive next. The ratio to the behaviour log-probs then includes the small
           normalizer shift, and the clip bounds it like any other policy change.
        2. Values of every step, of the final observation at timeouts and of the last
           observation, by the critic (learner side; workers never run the critic).
        3. GAE on numpy. 4. Return statistics and normalized value targets.
        5. Cut the rollout into sequences (MLP: single steps; LSTM: bptt_len-step chunks).
        6. epochs x minibatches: actor and critic each take an Adam step with its own gradient
           clip; after each epoch the analytic KL against the behaviour policy over the whole
           batch sets the actor's learning rate ("adaptive"); optional early stop on the KL.
        """
        start = time.perf_counter()
        prepared = self._prepare(batch, self._ingest)
        metrics = self._optimize(prepared.sequences, prepared.hidden0)
        metrics["explained_variance"] = explained_variance(prepared.values, prepared.returns)
        metrics["learner_time_s"] = time.perf_counter() - start
        metrics["ingest_time_s"] = self._ingest.seconds
        self.iteration += 1
        return metrics

    def prepare(self, batch: RolloutBatch | Sequence[RolloutBatch]) -> PreparedBatch:
        """Steps 1-5 of `update`: the batch as its epochs see it. Changes the normalizer and
        return statistics (as `update` does); the doctor's checks train on what this returns
        (`update` refills buffers it keeps between calls, this does not: its tensors stay valid;
        one batch on the CPU is used in place, as views of the batch's arrays)."""
        return self._prepare(batch, BatchIngest(self.device, reuse=False))

    def _prepare(self, batch: RolloutBatch | Sequence[RolloutBatch], ingest: BatchIngest) -> PreparedBatch:
        parts = [batch] if isinstance(batch, RolloutBatch) else list(batch)
        for part in parts:
            self._check_batch(part)
        data = ingest(parts)
        self._merge_observation_moments(data)
        values, bootstrap_values, last_values = self._critic_values(data)
        advantages, returns = compute_gae(
            data.rewards, values, data.terminated, data.truncated,
            bootstrap_values, last_values, self.gamma, self.ppo.gae_lambda,
        )  # fmt: skip
        targets, old_values = self._value_targets(returns, values)
        sequences, hidden0 = self._make_sequences(data, advantages, targets, old_values)
        return PreparedBatch(sequences, hidden0, returns, values)

    def _adapt_lr(self, kl: float) -> None:
        """The "adaptive" schedule: keep the policy's KL from the behaviour policy near
        `desired_kl` (÷1.5 above 2×, ×1.5 below ½×, the rule of rsl_rl and rl_games)."""
        if self.ppo.lr_schedule != "adaptive" or not np.isfinite(kl):
            return
        if kl > 2.0 * self.ppo.desired_kl:
            self.lr_scale = max(self.lr_scale / 1.5, 1e-3)
        elif kl < 0.5 * self.ppo.desired_kl:
            self.lr_scale = min(self.lr_scale * 1.5, 10.0)
        for group in self.optimizer.param_groups:
            group["lr"] = self.ppo.lr * self.lr_scale

    def _check_batch(self, batch: RolloutBatch) -> None:
        found = {
            "obs_dim": batch.obs.shape[2],
            "critic_obs_dim": batch.critic_obs.shape[2],
            "action_dim": batch.actions.shape[2],
        }
        if found != self.dims:
            raise ValueError(f"RolloutBatch dims {found} do not match the learner's {self.dims}")
        expected_hidden = 2 if self.actor.is_recurrent else 0
        if len(batch.actor_hidden) != expected_hidden:
            raise ValueError(
                f"RolloutBatch.actor_hidden has {len(batch.actor_hidden)} arrays; the "
                f"{self.model.kind} policy needs {expected_hidden} (LSTM: (h, c) before step 0)"
            )

    def _merge_observation_moments(self, batch: Ingested) -> None:
        self.obs_rms.merge(batch.obs_moments)
        self.critic_obs_rms.merge(batch.critic_obs_moments)
        self.actor.obs_normalizer.set_stats(self.obs_rms)
        self.critic.obs_normalizer.set_stats(self.critic_obs_rms)

    @torch.no_grad()
    def _critic_values(
        self, batch: Ingested
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        """V(critic_obs) [T, B], V(final_critic_obs) where truncated (else 0) [T, B], V(last) [B]."""
        values = self.critic.value(batch.tensors["critic_obs"]).cpu().numpy()
        bootstrap_values = np.zeros_like(values)
        if batch.truncated.any():  # only timed-out steps need the final observation's value
            bootstrap_values[batch.truncated] = self._value_np(batch.final_critic_obs)
        return values, bootstrap_values, self._value_np(batch.last_critic_obs)

    def _value_np(self, critic_obs: NDArray[np.float32]) -> NDArray[np.float32]:
        obs = torch.as_tensor(critic_obs, device=self.device)
        return self.critic.value(obs).cpu().numpy()

    def _value_targets(
        self, returns: NDArray[np.float32], values: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Returns and pre-update values in the critic's normalized units."""
        if self.ppo.normalize_value_targets:
            had_stats = self.return_rms.count > 0
            self.return_rms.update(returns)
            # Preserve the critic's outputs across the change, except on first contact.
            self.critic.set_value_stats(self.return_rms, preserve_outputs=had_stats)
        mean, std = self.critic.value_mean.item(), self.critic.value_std.item()
        return (returns - mean) / std, (values - mean) / std

    def chunk_len(self, num_steps: int) -> int:
        """Sequence length L used for training: 1 for the MLP, min(bptt_len, T) for the LSTM."""
        return chunk_length(self.actor.is_recurrent, self.ppo.bptt_len, num_steps)

    @torch.no_grad()
    def _make_sequences(
        self,
        batch: Ingested,
        advantages: NDArray[np.float32],
        targets: NDArray[np.float32],
        old_values: NDArray[np.float32],
    ) -> tuple[Sequences, Hidden]:
        """[T, B, ...] -> [L, N, ...] with N = (T / L) * B sequences, and their start states.

        For the LSTM the state at each chunk start comes from unrolling the pre-update policy
        from `batch.actor_hidden` over the rollout (truncated BPTT: gradients stop at chunk
        starts, the state does not).
        """
        given = batch.tensors
        full = {
            "obs": given["obs"], "critic_obs": given["critic_obs"], "actions": given["actions"],
            "logp_old": given["logp"], "mean_old": given["action_mean"], "std_old": given["action_std"],
            "episode_starts": given["episode_starts"],
            **{name: torch.as_tensor(x, device=self.device)
               for name, x in (("advantages", advantages), ("targets", targets), ("old_values", old_values))},
        }  # fmt: skip
        length = self.chunk_len(batch.num_steps)
        hidden0 = chunk_start_states(self.actor, full["obs"], full["episode_starts"], batch.actor_hidden, length)
        return {name: to_sequences(x, length) for name, x in full.items()}, hidden0

    def _optimize(self, sequences: Sequences, hidden0: Hidden) -> dict[str, float]:
        """epochs x minibatches of Adam over the N sequences.

        The analytic KL of the policy against the behaviour policy, over the whole batch, drives
        the adaptive learning rate: once at the end of the update (`lr_adapt_every: update`, the
        default: the controller reads exactly what the update did) or after every epoch (rl_games'
        cadence). With `target_kl` the update stops early at the first minibatch whose KL against
        the behaviour policy exceeds it.
        """
        num_sequences = sequences["obs"].shape[1]
        minibatches = self.ppo.minibatches
        if minibatches is None:  # algo.minibatch_size's rule on this batch (the trainer resolves it first)
            samples = num_sequences * sequences["obs"].shape[0]
            minibatches = minibatch_count(samples, self.ppo.minibatch_size, num_sequences)
        self._minibatches = minibatches
        if num_sequences < minibatches:
            raise ValueError(
                f"minibatches={minibatches} exceeds the {num_sequences} training sequences "
                "in this batch (MLP: T*B samples, LSTM: (T/bptt_len)*B chunks)"
            )
        history: list[dict[str, torch.Tensor]] = []
        steps, stopped, per_epoch = 0, False, self.ppo.lr_adapt_every == "epoch"
        for epoch in range(self.ppo.epochs):
            perm = torch.randperm(num_sequences, generator=self.generator)
            for idx in torch.tensor_split(perm, minibatches):
                actor_loss, critic_loss, stats = self.minibatch_loss(
                    sequences, hidden0, idx.to(self.device)
                )
                history.append(stats)
                if self.ppo.target_kl is not None and stats["kl"].item() > self.ppo.target_kl:
                    stopped = True
                    break
                stats.update(self.optimizer_step(actor_loss, critic_loss))
                steps += 1
            if stopped or epoch == self.ppo.epochs - 1:
                break
            if per_epoch:
                self._adapt_lr(self.batch_kl(sequences, hidden0))
        kl_end = self.batch_kl(sequences, hidden0)
        self._adapt_lr(kl_end)
        metrics = self._summarize(history, steps)
        metrics["kl"] = kl_end  # the controller's last reading: after the last step
        metrics["kl_end"] = kl_end
        return metrics

    def optimizer_step(
        self, actor_loss: torch.Tensor, critic_loss: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """One Adam step of each network, each with its own gradient clip (the actor's noisy
        gradient must not set the critic's step size, nor the other way round)."""
        self.optimizer.zero_grad(set_to_none=True)
        self.critic_optimizer.zero_grad(set_to_none=True)
        (actor_loss + critic_loss).backward()  # disjoint graphs: each gets only its own gradient
        actor_norm = torch.nn.utils.clip_grad_norm_(self.actor.parameters(), self.ppo.max_grad_norm)
        critic_norm = torch.nn.utils.clip_grad_norm_(
            self.critic.parameters(), self.ppo.critic_max_grad_norm
        )
        self.optimizer.step()
        self.critic_optimizer.step()
        return {
            "actor_grad_norm": actor_norm.detach(),
            "critic_grad_norm": critic_norm.detach(),
            "actor_clipped": (actor_norm > self.ppo.max_grad_norm).float(),
            "critic_clipped": (critic_norm > self.ppo.critic_max_grad_norm).float(),
        }

    @torch.no_grad()
    def batch_kl(self, sequences: Sequences, hidden0: Hidden) -> float:
        """Analytic KL(behaviour || current policy), mean over every sample of the batch."""
        mean, _ = self.actor(sequences["obs"], hidden0 or None, sequences["episode_starts"])
        std = self.actor.log_std.exp()
        return gaussian_kl(sequences["mean_old"], sequences["std_old"], mean, std).mean().item()

    def minibatch_loss(
        self, sequences: Sequences, hidden0: Hidden, idx: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """(actor loss, critic loss, detached statistics) of one minibatch."""
        mb = {name: x[:, idx] for name, x in sequences.items()}
        mean, _ = self.actor(mb["obs"], tuple(h[idx] for h in hidden0) or None, mb["episode_starts"])
        dist = self.actor.distribution(mean)
        logp, entropy = dist.log_prob(mb["actions"]).sum(-1), dist.entropy().sum(-1)
        advantages = mb["advantages"]
        if self.ppo.normalize_advantages:
            advantages = normalize_advantages(advantages)
        pg_loss, clip_fraction, approx = policy_loss(logp, mb["logp_old"], advantages, self.ppo.clip)
        b_loss = bounds_loss(mean)
        ent_loss = entropy_loss(entropy)
        actor_loss = pg_loss + self.ppo.entropy_coef * ent_loss + self.ppo.bounds_loss_coef * b_loss
        clip_old = mb["old_values"] if self.ppo.value_clip is not None else None
        v_loss = value_loss(
            self.critic(mb["critic_obs"]), mb["targets"], clip_old, self.ppo.value_clip
        )
        with torch.no_grad():
            kl = gaussian_kl(mb["mean_old"], mb["std_old"], mean, dist.stddev).mean()
        stats = {
            "policy_loss": pg_loss.detach(), "value_loss": v_loss.detach(),
            "entropy": -ent_loss.detach(), "bounds_loss": b_loss.detach(), "approx_kl": approx,
            "kl": kl, "clip_fraction": clip_fraction,
        }  # fmt: skip
        return actor_loss, self.ppo.value_coef * v_loss, stats

    def _summarize(self, history: list[dict[str, torch.Tensor]], steps: int) -> dict[str, float]:
        """Means over the evaluated minibatches (gradient norms over the optimizer steps taken)."""
        keys = ("policy_loss", "value_loss", "entropy", "bounds_loss", "approx_kl", "clip_fraction")
        metrics = {k: torch.stack([s[k] for s in history]).mean().item() for k in keys}
        for key in ("actor_grad_norm", "critic_grad_norm", "actor_clipped", "critic_clipped"):
            values = [s[key] for s in history if key in s]
            metrics[key] = torch.stack(values).mean().item() if values else 0.0
        metrics["epochs_run"] = steps / self._minibatches
        metrics["lr"] = self.optimizer.param_groups[0]["lr"]
        metrics["critic_lr"] = self.critic_optimizer.param_groups[0]["lr"]
        metrics["action_std"] = self.actor.log_std.exp().mean().item()
        return metrics

    # ------------------------------------------------------------------ schedule

    def set_progress(self, fraction: float) -> None:
        """Tell the learner how far training is (0 -> 1); drives the "linear" lr decay."""
        self.progress = min(max(float(fraction), 0.0), 1.0)
        linear = 1.0 - self.progress if self.ppo.lr_schedule == "linear" else 1.0
        scale = self.lr_scale if self.ppo.lr_schedule == "adaptive" else linear
        for group in self.optimizer.param_groups:
            group["lr"] = self.ppo.lr * scale
        for group in self.critic_optimizer.param_groups:  # never KL-driven
            group["lr"] = self.ppo.critic_lr * linear

    # ------------------------------------------------------------------ weights out

    def actor_state(self) -> ActorState:
        """The policy weights and observation-normalizer buffers as numpy arrays (float32) by
        state-dict name, to broadcast (one `ray.put`): rollout workers load them into their
        `NumpyActor` without torch; `networks.load_actor_state` loads them into a torch actor.
        (Checkpoints keep the tensors of `state_dict()["actor"]`.)"""
        return {k: v.detach().cpu().numpy().copy() for k, v in self.actor.state_dict().items()}

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        """Everything to resume training exactly (`dexrl.rl.learner_state.learner_state`)."""
        return learner_state(self)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a `state_dict()` (`dexrl.rl.learner_state.load_learner_state`); ValueError
        when the format or the network shape does not match."""
        load_learner_state(self, state)
