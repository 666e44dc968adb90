"""Ray actors (rollout workers, the ADR state) and the synchronous PPO training loop."""
