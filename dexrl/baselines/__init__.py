"""Reference trainers from other libraries, to cross-check dexrl's own PPO."""
