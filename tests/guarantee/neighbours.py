"""Neighbouring tables for the guarantee harness: a base table D and crafted records to add to it.

The base is a slice of the shipped UCI Adult example read as a custodian's CSV is read (every
cell text), so it needs nothing from ../shared. Each crafted record is what an adversary who
knows every other row would add to flip a decision that is not a noisy value.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from dpsynth.data.load import read_table
from dpsynth.datasets import example_path
from dpsynth.errors import PrivacyWarning
from dpsynth.workflows.release import release

COLUMNS = ["age", "workclass", "education", "sex", "hours-per-week", "capital-gain", "income"]
N_BASE = 2500
CANARY = "CANARY_q7Zx"

# column -> value of the one crafted cell; the other cells copy the base's first row.
CRAFTED = {
    "text in a numeric column": ("age", CANARY),
    "missing numeric cell": ("hours-per-week", None),
    "fractional value": ("hours-per-week", "40.5"),
    "huge value": ("capital-gain", "99999999999"),
    "infinite value": ("capital-gain", "inf"),
    "new category": ("workclass", CANARY),
    "unicode category": ("education", "Ünïcødé-🎓"),
    "missing category": ("sex", None),
}


def base_table() -> pd.DataFrame:
    """D: the first N_BASE rows of the shipped Adult example, every cell as text."""
    path, _ = example_path("adult")
    return read_table(path, na_values=["?"])[COLUMNS].head(N_BASE).reset_index(drop=True)


def with_record(frame: pd.DataFrame, column: str, value: str | None) -> pd.DataFrame:
    """D': ``frame`` plus one record, a copy of its first row with ``column`` set to ``value``."""
    record = frame.iloc[[0]].copy()
    record[column] = value
    return pd.concat([frame, record], ignore_index=True)


def seeded_release(frame: pd.DataFrame, out: Path, **options) -> dict:
    """The record of a seeded release (reproducible noise: a test, never a publication)."""
    options = {
        "epsilon": 1.0, "delta": 1e-9, "random_state": 7, "audit": "off",
        "ledger": out.parent / f"{out.name}.ledger.sqlite", **options,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return release(frame, out=out, **options).record


def plan_view(record: dict, public_schema: bool) -> dict:
    """Everything in a release record that must not depend on one record beyond its noise.

    Kinds (and integer-ness) of every column; the measurements the plan fixes before a noisy
    answer can steer it (under discovery: the kind decisions, one per column; with a public
    schema: the generator's measurements up to and including its first selection); the budget,
    method, unit, rows policy, audit rule and input; and the record's shape (its keys). The
    method's fit warnings are left out: they are read from noisy answers (a DP-SGD run's
    noise-to-signal uses the DP row count), so they may differ as a noisy value does.
    """
    columns = record["schema"]["definition"]["columns"]
    parts = record["privacy"]["parts"]
    domain = parts.get("domain", {"events": []})["events"]
    view = {
        "keys": sorted(record),
        "kinds": [(c["name"], c["kind"], c.get("integer")) for c in columns],
        "budget": record["privacy"]["budget"],
        "method": {key: value for key, value in record["method"].items() if key != "warnings"},
        "rows": record["rows"],
        "input": record["input"],
        "audit": record.get("audit"),
        "noise_source": record["noise_source"],
        "schema_provenance": record["schema"]["provenance"],
        "kind_decisions": [e for e in domain if e["label"].startswith("value classes")],
    }
    if public_schema:
        events = [e for part, spent in parts.items() if part != "domain" for e in spent["events"]]
        first_selection = next((i for i, e in enumerate(events) if e["mechanism"] == "exponential"), len(events))
        view["planned"] = events[: first_selection + 1]
    return view
