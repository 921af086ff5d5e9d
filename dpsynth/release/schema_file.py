"""``dpsynth schema infer``: write a schema file, read for review or discovered under DP."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from dpsynth.data import PrivateTable
from dpsynth.data.load import read_table
from dpsynth.errors import DataError
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import DOMAIN, Allocation, Budget
from dpsynth.privacy.fingerprint import fingerprint_frame
from dpsynth.privacy.ledger import Ledger
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import infer_schema
from dpsynth.schema.discover import DOMAIN_DELTA_RESERVE, discover_schema


def write_schema(
    data: str | os.PathLike,
    *,
    out: str | os.PathLike,
    dp: bool = False,
    epsilon: float | None = None,
    delta: float = 1e-9,
    ledger: Ledger | str | os.PathLike | None = None,
    seed: int | None = None,
    na_values: Sequence[str] = (),
) -> Path:
    """Write a schema for ``data`` to ``out`` (.json or .yaml).

    Without ``dp`` the schema is read from the data without noise, for the custodian to
    review and edit; it is marked "inferred-not-dp". With ``dp`` it is discovered under
    (epsilon, delta)-DP, charged to the ledger like a release, and marked "dp".
    """
    out = Path(out)
    if out.exists():
        raise DataError(f"schema file '{out}' already exists")
    frame = read_table(data, na_values=na_values)
    if not dp:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            schema = infer_schema(frame)
        schema.save(out)
        return out
    if epsilon is None:
        raise DataError("--dp needs --epsilon")
    budget = Budget(
        epsilon, delta, Allocation({DOMAIN: 1.0}), n_records=len(frame), delta_reserve=DOMAIN_DELTA_RESERVE
    )
    ledger = ledger if isinstance(ledger, Ledger) else Ledger(ledger or Ledger.default_path())
    release_id = ledger.reserve(fingerprint_frame(frame), epsilon, delta, dataset_label=Path(data).name)
    try:
        accountant = Accountant(budget)
        table = PrivateTable(frame, accountant, NoiseSource(seed))
        schema = discover_schema(table)
        schema.save(out)
        ledger.commit(release_id, {"kind": "schema discovery", "privacy": accountant.report()})
    except BaseException:
        if out.exists():
            out.unlink()
        ledger.cancel(release_id)
        raise
    return out
