"""Attacks on synthetic data, run on the custodian's side (outside the DP guarantee)."""
