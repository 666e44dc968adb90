"""Evaluation: run policies (trained, random, scripted) on a task and summarize episodes."""
