"""The release: one private table in, a synthetic table and its privacy record out.

Order matters for the privacy argument: the ledger reserves the whole (epsilon, delta) before
anything is measured; the door charges each measurement before it draws noise; the bundle is
written beside the target and moved into place at the end, and only then is the ledger entry
committed. On any error the staged folder is removed and the reservation cancelled: no
noisy output left the process, so nothing was released.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import dpsynth
from dpsynth.data import PrivateTable
from dpsynth.data.load import read_table
from dpsynth.errors import DataError, SchemaError
from dpsynth.generators import create
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import DOMAIN, MARGINAL, Allocation, Budget, PrivacyUnit
from dpsynth.privacy.fingerprint import fingerprint_frame
from dpsynth.privacy.ledger import Ledger
from dpsynth.privacy.noise import NoiseSource
from dpsynth.progress import Progress
from dpsynth.release.bundle import check_out_dir, sha256_file, staged_folder
from dpsynth.schema import Schema, suspect_identifiers, validate
from dpsynth.schema.discover import DOMAIN_DELTA_RESERVE, discover_schema

logger = logging.getLogger(__name__)

RECORD_VERSION = 1
SYNTHETIC_FILE = "synthetic.csv"
RECORD_FILE = "release.json"
MODEL_FILE = "model.json"


@dataclass(frozen=True)
class ReleaseResult:
    """What a release wrote: its folder, the synthetic table and the record."""

    out: Path
    synthetic: pd.DataFrame
    record: dict[str, Any]


def _load_schema(schema: Schema | str | os.PathLike | None) -> Schema | None:
    if schema is None or isinstance(schema, Schema):
        return schema
    return Schema.load(schema)


def _privacy_unit(schema: Schema | None, column: str | None, max_rows: int) -> PrivacyUnit:
    if column is None and schema is not None:
        column = schema.unit_column
    if schema is not None and column is not None and schema.unit_column not in (None, column):
        raise SchemaError(f"the schema names '{schema.unit_column}' as unit column, not '{column}'")
    return PrivacyUnit(column, max_rows if column is not None else 1)


def _n_units(frame: pd.DataFrame, unit: PrivacyUnit) -> int:
    if unit.column is None:
        return len(frame)
    if unit.column not in frame.columns:
        raise DataError(f"privacy unit column '{unit.column}' is not in the data")
    return int(frame[unit.column].nunique(dropna=True))


def _refuse_identifier_like(frame: pd.DataFrame, schema: Schema) -> None:
    suspects = suspect_identifiers(frame, schema)
    if suspects:
        name = suspects[0]
        raise SchemaError(
            f"column '{name}' is declared categorical but nearly all its values are distinct: it "
            "looks like an identifier; declare it with kind 'identifier' (dropped, or the unit "
            "of privacy) instead"
        )


def release(
    data: pd.DataFrame | str | os.PathLike,
    *,
    epsilon: float,
    delta: float,
    out: str | os.PathLike,
    schema: Schema | str | os.PathLike | None = None,
    method: str = "mst",
    n_rows: int | None = None,
    privacy_unit: str | None = None,
    max_rows_per_unit: int = 1,
    allocation: Allocation | Mapping[str, float] | str | None = None,
    method_params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    ledger: Ledger | str | os.PathLike | None = None,
    dataset_label: str = "",
    na_values: Sequence[str] = (),
    binning: str = "uniform",
    progress: Progress | None = None,
) -> ReleaseResult:
    """Make a DP synthetic release of ``data`` and write ``out/synthetic.csv`` and its record.

    ``schema`` (a Schema or a JSON/YAML/mbi-domain file) is declared public by the caller;
    without it the schema is discovered under DP and charged to the ``domain`` part. Without
    ``n_rows`` the number of synthetic rows is a DP estimate. The ledger (default
    :meth:`Ledger.default_path`) is charged (epsilon, delta) for the dataset. ``binning``
    ("uniform" or "quantile") places the bins of numeric columns when the schema is discovered.
    """
    out_dir = check_out_dir(out)
    if isinstance(data, pd.DataFrame):
        frame = data
        source = "DataFrame"
    else:
        frame = read_table(data, na_values=na_values)
        source = os.fspath(data)
    declared = _load_schema(schema)
    unit = _privacy_unit(declared, privacy_unit, max_rows_per_unit)
    parts = [MARGINAL] if declared is not None else [DOMAIN, MARGINAL]
    if allocation is None:
        allocation = Allocation.default(parts)
    elif isinstance(allocation, str):
        allocation = Allocation.parse(allocation)
    elif not isinstance(allocation, Allocation):
        allocation = Allocation(dict(allocation))
    missing = [p for p in parts if p not in allocation.fractions]
    if missing:
        raise DataError(f"the allocation has no share for part(s) {missing} this release needs")
    budget = Budget(
        epsilon,
        delta,
        allocation,
        unit,
        n_records=_n_units(frame, unit),
        delta_reserve=DOMAIN_DELTA_RESERVE if declared is None else 0.0,
    )
    if declared is not None:
        validate(frame, declared)
        _refuse_identifier_like(frame, declared)
    generator = create(method, **dict(method_params or {}))
    progress = progress or Progress(6, enabled=False)

    ledger = ledger if isinstance(ledger, Ledger) else Ledger(ledger or Ledger.default_path())
    fingerprint = fingerprint_frame(frame)
    release_id = ledger.reserve(fingerprint, epsilon, delta, dataset_label=dataset_label or source)
    try:
        accountant = Accountant(budget)
        noise = NoiseSource(seed)
        table = PrivateTable(frame, accountant, noise)
        if declared is None:
            progress.step("discovering the schema under DP")
            used_schema = discover_schema(table, binning=binning)
        else:
            used_schema = declared
        progress.step("encoding")
        table.encode(used_schema)
        progress.step(f"fitting {method}")
        generator.fit(table)
        progress.step("sampling")
        synthetic = generator.sample(n_rows)
        progress.step("writing the release")
        with staged_folder(out_dir) as staging:
            synthetic.to_csv(staging / SYNTHETIC_FILE, index=False)
            generator.save(staging / MODEL_FILE)
            record = _record(
                accountant, used_schema, noise, generator, n_rows, fingerprint, source, staging, release_id
            )
            text = _to_json(record)
            (staging / RECORD_FILE).write_text(text, encoding="utf-8")
        ledger.commit(release_id, json.loads(text))
    except BaseException:
        ledger.cancel(release_id)
        raise
    progress.step("done")
    progress.close()
    return ReleaseResult(out_dir, synthetic, record)


def _record(accountant, schema, noise, generator, n_rows, fingerprint, source, staging, release_id):
    privacy = accountant.report()
    return {
        "dpsynth_release": RECORD_VERSION,
        "release_id": release_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "library": {"name": "dpsynth", "version": dpsynth.__version__},
        "statement": _statement(accountant, noise),
        "privacy": privacy,
        "noise_source": noise.description,
        "schema": {"provenance": schema.provenance, "definition": schema.to_dict()},
        "method": {"name": generator.name, "params": generator.get_params()},
        "rows": {
            "n_rows": None if n_rows is None else int(n_rows),
            "policy": "given by the user" if n_rows is not None else (
                "DP estimate: the total of the model fitted to noisy marginals"
            ),
        },
        "input": {"source": source if source == "DataFrame" else Path(source).name, "fingerprint": fingerprint},
        "outputs": {
            name: sha256_file(staging / name) for name in (SYNTHETIC_FILE, MODEL_FILE)
        },
    }


def _statement(accountant: Accountant, noise: NoiseSource) -> str:
    spent = accountant.spent()
    budget = accountant.budget
    text = (
        f"This release is ({spent.epsilon:.4g}, {spent.delta:.3g})-differentially private "
        f"(stated budget epsilon={budget.epsilon:g}, delta={budget.delta:g}) with respect to "
        f"{budget.unit.relation}. Everything in it is computed from noisy measurements "
        "charged to one accountant and composed jointly."
    )
    if noise.seeded:
        text += " The noise was seeded: it is reproducible and this release must not be published."
    return text


def _to_json(record: Mapping[str, Any]) -> str:
    return json.dumps(record, indent=2, sort_keys=False, default=_json_default) + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to the release record")
