"""Group 5, the ladder (placeholder until written below)."""
