"""``dpsynth ledger``: what has been spent on each dataset, lifetime caps, and open reservations.

Datasets are shown by their ledger key (:meth:`Ledger.dataset_key`): ``name:<name>`` or an
``hmac:`` key that only this ledger's secret ties to the data.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from typing import Any

from dpsynth.data.load import read_data
from dpsynth.errors import BudgetError, DataError
from dpsynth.privacy.ledger import Ledger


def _ledger(ledger: Ledger | str | os.PathLike | None) -> Ledger:
    return ledger if isinstance(ledger, Ledger) else Ledger(ledger or Ledger.default_path())


def show(ledger: Ledger | str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """One row per dataset with a release or a cap: releases, open ones, total spend, and cap."""
    ledger = _ledger(ledger)
    rows = []
    for dataset in ledger.datasets():
        spent, cap, releases = ledger.spent(dataset), ledger.cap(dataset), ledger.releases(dataset)
        rows.append({
            "dataset": dataset,
            "labels": sorted({r["dataset_label"] for r in releases if r["dataset_label"]}),
            "releases": spent.n_releases,
            "open": sum(r["status"] == "reserved" for r in releases),
            "epsilon_spent": spent.epsilon,
            "delta_spent": spent.delta,
            "epsilon_cap": None if cap is None else cap.epsilon,
            "delta_cap": None if cap is None else cap.delta,
        })
    return rows


def cap(
    data: str | os.PathLike | None = None,
    epsilon: float | None = None,
    delta: float | None = None,
    ledger: Ledger | str | os.PathLike | None = None,
    na_values: Sequence[str] = (),
    dataset: str | None = None,
) -> str:
    """Set a dataset's lifetime cap and return its key.

    The dataset is either the file ``data`` (read as a release reads it; the key comes from its
    content) or ``dataset``, a name the custodian gives it (``"hospital-2026"``), which releases
    then name too. ``epsilon`` is required.
    """
    if (data is None) == (dataset is None):
        raise DataError("give either a data file or a dataset name, not both or neither")
    if epsilon is None:
        raise BudgetError("epsilon is required: give the lifetime epsilon cap")
    ledger = _ledger(ledger)
    if data is None:
        key = ledger.dataset_key(name=dataset)
    else:
        key = ledger.dataset_key(read_data(data, na_values))
    ledger.set_cap(key, epsilon, delta)
    return key


def reservations(ledger: Ledger | str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Open reservations, oldest first (:meth:`Ledger.open_reservations`), each with its age."""
    return _ledger(ledger).open_reservations()


def resolve(
    release_id: str, spent: bool = True, ledger: Ledger | str | os.PathLike | None = None
) -> dict[str, Any]:
    """Close an open reservation (:meth:`Ledger.resolve`); returns its id, dataset and outcome.

    ``spent=False`` gives its budget back: only when nothing from that release left its process.
    """
    dataset = _ledger(ledger).resolve(release_id, spent=spent)
    return {"release_id": release_id, "dataset": dataset, "outcome": "spent" if spent else "deleted"}


HISTORY_COLUMNS = (
    "dataset", "dataset_label", "release_id", "created_at", "status", "kind", "method",
    "epsilon", "delta", "cumulative_epsilon", "cumulative_delta", "joint_epsilon",
    "noise_source", "schema_provenance", "cap_epsilon", "cap_delta",
)


def _kind(status: str, record: dict[str, Any] | None) -> str:
    if record is None:
        # Committed without a record: an open reservation the custodian resolved as spent.
        return "resolved as spent" if status == "committed" else ""
    if "kind" in record:
        return str(record["kind"])
    return "release" if "dpsynth_release" in record else ""


def _match(ledger: Ledger, dataset: str | None) -> list[str]:
    """Dataset keys in the ledger, oldest first; ``dataset`` keeps the one it names.

    ``dataset`` is a key, a dataset name (``hospital-2026`` for ``name:hospital-2026``), or
    enough of the start of a key to be unique.
    """
    keys = ledger.datasets()
    if dataset is None:
        return keys
    matches = [k for k in keys if k in (dataset, "name:" + dataset)] or [k for k in keys if k.startswith(dataset)]
    if not matches:
        raise DataError(f"dataset: no dataset in the ledger is named {dataset!r} or has a key starting with it")
    if len(matches) > 1:
        raise DataError(f"dataset: {dataset!r} starts {len(matches)} keys; give more of it")
    return matches


def history(
    ledger: Ledger | str | os.PathLike | None = None, dataset: str | None = None
) -> list[dict[str, Any]]:
    """One row per release, oldest first, grouped by dataset, with running totals per dataset.

    ``epsilon``/``delta`` are what the ledger charged (the stated budget; reservations still
    open count, as they do against a cap); ``cumulative_*`` add them up by basic composition,
    as the ledger does; ``joint_epsilon`` is what the release's accountant composed (at most
    ``epsilon``). ``dataset`` is a key, a dataset name, or a key's unique start.
    """
    ledger = _ledger(ledger)
    rows = []
    for key in _match(ledger, dataset):
        cap = ledger.cap(key)
        total_epsilon = total_delta = 0.0
        for release in ledger.releases(key):
            record = release["record"]
            total_epsilon += release["epsilon"]
            total_delta += release["delta"]
            privacy = (record or {}).get("privacy", {})
            rows.append({
                "dataset": key,
                "dataset_label": release["dataset_label"],
                "release_id": release["id"],
                "created_at": release["created_at"],
                "status": release["status"],
                "kind": _kind(release["status"], record),
                "method": (record or {}).get("method", {}).get("name", ""),
                "epsilon": release["epsilon"],
                "delta": release["delta"],
                "cumulative_epsilon": total_epsilon,
                "cumulative_delta": total_delta,
                "joint_epsilon": privacy.get("joint", {}).get("epsilon"),
                "noise_source": (record or {}).get("noise_source", ""),
                "schema_provenance": (record or {}).get("schema", {}).get("provenance", ""),
                "cap_epsilon": None if cap is None else cap.epsilon,
                "cap_delta": None if cap is None else cap.delta,
            })
    return rows


def export(
    ledger: Ledger | str | os.PathLike | None = None, *, dataset: str | None = None, format: str = "csv"
) -> str:
    """The budget history of each dataset (:func:`history`) as CSV or JSON text.

    CSV has one row per release and the columns of :data:`HISTORY_COLUMNS` (empty for none);
    JSON is ``{"datasets": [{"dataset", "labels", "cap", "spent", "releases": [...]}]}``,
    each release with the full record the ledger holds.
    """
    if format not in ("csv", "json"):
        raise DataError(f"format must be 'csv' or 'json'; got {format!r}")
    ledger = _ledger(ledger)
    rows = history(ledger, dataset)
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
        return buffer.getvalue()
    records = {r["id"]: r["record"] for r in ledger.releases()}
    datasets = []
    for key in dict.fromkeys(row["dataset"] for row in rows):
        releases = [row for row in rows if row["dataset"] == key]
        last = releases[-1]
        datasets.append({
            "dataset": key,
            "labels": sorted({r["dataset_label"] for r in releases if r["dataset_label"]}),
            "cap": None if last["cap_epsilon"] is None else {
                "epsilon": last["cap_epsilon"], "delta": last["cap_delta"],
            },
            "spent": {"epsilon": last["cumulative_epsilon"], "delta": last["cumulative_delta"],
                      "releases": len(releases)},
            "releases": [
                {k: v for k, v in dict(row, record=records[row["release_id"]]).items()
                 if k not in ("dataset", "cap_epsilon", "cap_delta")}
                for row in releases
            ],
        })
    return json.dumps({"ledger": str(ledger.path), "datasets": datasets}, indent=2) + "\n"
