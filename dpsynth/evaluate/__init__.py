"""Fidelity of synthetic data and comparison sweeps, measured on the custodian's side (outside
the DP guarantee): :func:`dpsynth.evaluate.fidelity.evaluate_fidelity` and
:func:`dpsynth.workflows.compare.compare`."""
