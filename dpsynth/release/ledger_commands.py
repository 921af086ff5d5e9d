"""``dpsynth ledger``: what has been spent on each dataset, and lifetime caps."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from dpsynth.data.load import read_table
from dpsynth.privacy.fingerprint import fingerprint_frame
from dpsynth.privacy.ledger import Ledger


def _ledger(ledger: Ledger | str | os.PathLike | None) -> Ledger:
    return ledger if isinstance(ledger, Ledger) else Ledger(ledger or Ledger.default_path())


def ledger_show(ledger: Ledger | str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One row per dataset in the ledger: releases, total spend, and its cap if one is set."""
    ledger = _ledger(ledger)
    fingerprints = dict.fromkeys(r["fingerprint"] for r in ledger.releases())
    rows = []
    for fingerprint in fingerprints:
        spent, cap = ledger.spent(fingerprint), ledger.cap(fingerprint)
        labels = sorted({r["dataset_label"] for r in ledger.releases(fingerprint) if r["dataset_label"]})
        rows.append({
            "fingerprint": fingerprint,
            "labels": labels,
            "releases": spent.n_releases,
            "epsilon_spent": spent.epsilon,
            "delta_spent": spent.delta,
            "epsilon_cap": None if cap is None else cap.epsilon,
            "delta_cap": None if cap is None else cap.delta,
        })
    return rows


def ledger_cap(
    data: str | os.PathLike,
    epsilon: float,
    delta: float | None = None,
    ledger: Ledger | str | os.PathLike | None = None,
    na_values: Sequence[str] = (),
) -> str:
    """Set the lifetime cap of the dataset in ``data`` (read as a release would read it)."""
    fingerprint = fingerprint_frame(read_table(data, na_values=na_values))
    _ledger(ledger).set_cap(fingerprint, epsilon, delta)
    return fingerprint
