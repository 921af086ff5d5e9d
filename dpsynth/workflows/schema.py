"""``dpsynth schema infer`` and ``export``: write a schema file, read for review or discovered under
DP, or a schema in another tool's format."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from dpsynth.data.discover import DOMAIN_DELTA_RESERVE
from dpsynth.data.load import read_data
from dpsynth.errors import DataError, SchemaError
from dpsynth.privacy.budget import DOMAIN, Allocation, Budget
from dpsynth.privacy.ledger import Ledger
from dpsynth.privacy.noise import NoiseSource
from dpsynth.random_state import RandomState
from dpsynth.schema import Schema, infer_schema
from dpsynth.schema.schema import check_schema_file_name
from dpsynth.schema.sdv import to_sdv
from dpsynth.workflows.root import Plan, ledger_of, open_door, reserved


def write_schema(
    data: str | os.PathLike,
    *,
    out: str | os.PathLike,
    dp: bool = False,
    epsilon: float | None = None,
    delta: float = 1e-9,
    ledger: Ledger | str | os.PathLike | None = None,
    dataset: str | None = None,
    random_state: RandomState = None,
    na_values: Sequence[str] = (),
    header: bool | Literal["confirmed"] = True,
    names: Sequence[str] | None = None,
    sep: str | None = None,
    encoding: str | None = None,
) -> Path:
    """Write a schema for ``data`` to ``out`` (.json or .yaml).

    Without ``dp`` the schema is read from the data without noise, for the custodian to
    review and edit; it is marked "inferred-not-dp". With ``dp`` it is discovered under
    (epsilon, delta)-DP through the composition root, charged to the ledger like a release
    (under ``dataset`` when named), and marked "dp".
    """
    out = Path(out)
    if out.exists():
        raise DataError(f"schema file '{out}' already exists")
    check_schema_file_name(out)  # before the data is read, let alone measured
    frame = read_data(data, na_values, header=header, names=names, sep=sep, encoding=encoding)
    if not dp:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            schema = infer_schema(frame)
        schema.save(out)
        return out
    if epsilon is None:
        raise DataError("--dp needs --epsilon")
    budget = Budget(epsilon, delta, Allocation({DOMAIN: 1.0}), delta_reserve=DOMAIN_DELTA_RESERVE)
    ledger = ledger_of(ledger)
    key = ledger.dataset_key(frame, name=dataset)
    with reserved(ledger, key, epsilon, delta, dataset or Path(data).name) as reservation:
        try:
            noise = NoiseSource.from_random_state(random_state)
            table, accountant = open_door(frame, Plan(budget, None), noise, on_measure=reservation.mark_spent)
            table.require_schema().save(out)
        except BaseException:
            if out.exists():
                out.unlink()
            raise
        reservation.commit({"kind": "schema discovery", "privacy": accountant.report()})
    return out


EXPORT_FORMATS = ("sdv",)


def export_schema(schema: Schema | str | os.PathLike, *, out: str | os.PathLike, format: str = "sdv") -> Path:
    """Write ``schema`` (a Schema or a schema file) to ``out`` in another tool's format.

    ``sdv``: SDV single-table metadata JSON (kinds only: SDV has no place for bounds or
    categories, see :mod:`dpsynth.schema.sdv`).
    """
    if format not in EXPORT_FORMATS:
        raise SchemaError(f"format must be one of {list(EXPORT_FORMATS)}; got {format!r}")
    out = Path(out)
    if out.exists():
        raise DataError(f"file '{out}' already exists")
    if out.suffix.lower() != ".json":
        raise SchemaError(f"SDV metadata is JSON: out must end in .json; got '{out.name}'")
    loaded = schema if isinstance(schema, Schema) else Schema.load(schema)
    out.write_text(json.dumps(to_sdv(loaded), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out
