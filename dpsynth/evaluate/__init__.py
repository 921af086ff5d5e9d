"""Fidelity of synthetic data, measured on the custodian's side (outside the DP guarantee)."""
