"""The composition root of a private fit: budget, ledger, accountant, noise, door, schema.

Every entry point that measures private rows (the release, its shadow refits, the
:class:`dpsynth.Synthesizer`, the ``schema --dp`` command) takes these steps from here, in this
order: :func:`plan_fit` checks the public inputs and builds the budget; :func:`charged` reserves
the budget in the ledger; :func:`open_door` builds the accountant and the door and encodes the
rows with the declared or a DP-discovered schema. The ledger's protocol lives here once:
reserve before anything is measured, mark spent the moment the door answers its first
measurement (a noisy answer may leave the process from then on: a log line, a file, a return
value), commit with the record at the end, and cancel only when nothing was measured.

Nothing here decides anything on the private rows outside a charged measurement: there is no
check of delta against the exact number of rows, no refusal on the data's values (a cell that
does not fit the schema is coded missing or "other", and the custodian is told on the log), and
no column kind read from a parser's dtypes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.data import PrivateTable
from dpsynth.data.discover import DOMAIN_DELTA_RESERVE, discover_schema
from dpsynth.data.engines import NUMPY, SPARK, check_engine
from dpsynth.data.engines.duckdb_rows import StoredRows
from dpsynth.data.engines.spark_rows import SparkRows
from dpsynth.data.frames import PYSPARK, library_of
from dpsynth.errors import BudgetError, DataError, DpsynthError, SchemaError
from dpsynth.privacy.accountant import Accountant, Charge
from dpsynth.privacy.budget import DOMAIN, MARGINAL, NEURAL, Allocation, Budget, PrivacyUnit, check_delta
from dpsynth.privacy.ledger import Ledger, Reservation
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Schema, suspect_identifiers, validate
from dpsynth.schema.encoding import check_columns
from dpsynth.schema.kinds import check_kinds, is_kinds_document, kinds_from_document, kinds_from_dtypes, read_kinds
from dpsynth.schema.sdv import is_sdv_metadata, kinds_from_sdv, read_sdv_kinds

logger = logging.getLogger(__name__)

SchemaLike = Schema | Mapping[str, str] | str | os.PathLike | None
SCHEMA_NOT_DP = (
    "the schema was read from the data without noise and declared public knowledge by the "
    "custodian: the guarantee does not cover what the schema states (its categories and bounds)"
)


@dataclass(frozen=True)
class Plan:
    """The budget of a fit, its declared public schema (``None``: discovered under DP) and the
    kinds declared public for discovery (column -> kind; the rest are decided under DP), the
    ``note`` that qualifies the guarantee when the schema is not DP (None otherwise), and where
    the rows do not fit the declared schema (told at the door's first measurement, so that a
    run refused before it shows its refusal alone), and the engine that counts the rows (see
    :mod:`dpsynth.data.engines`)."""

    budget: Budget
    schema: Schema | None
    kinds: Mapping[str, str] = field(default_factory=dict)
    note: str | None = None
    mismatch: tuple[str, ...] = ()
    engine: str = NUMPY


def load_schema(schema: SchemaLike) -> Schema | dict[str, str] | None:
    """A Schema or a kinds declaration from a Schema, a mapping of kinds, a file, or None.

    A file is a dpsynth schema (JSON/YAML), a private-pgm domain file, or a kinds-only
    declaration (``{"dpsynth_kinds": 1, "columns": {"age": "integer", ...}}``, or SDV metadata).
    """
    if schema is None or isinstance(schema, Schema):
        return schema
    if isinstance(schema, Mapping):
        if is_sdv_metadata(schema):
            return kinds_from_sdv(schema)
        return kinds_from_document(schema) if is_kinds_document(schema) else check_kinds(schema)
    kinds = read_kinds(schema)
    if kinds is not None:
        return kinds
    sdv_kinds = read_sdv_kinds(schema)
    return sdv_kinds if sdv_kinds is not None else Schema.load(schema)


def privacy_unit(schema: Schema | None, column: str | None, max_rows: int) -> PrivacyUnit:
    """The unit of privacy: a person column (given, or the schema's) or one record."""
    if column is None and schema is not None:
        column = schema.unit_column
    if schema is not None and column is not None and schema.unit_column not in (None, column):
        raise SchemaError(f"the schema names '{schema.unit_column}' as unit column, not '{column}'")
    return PrivacyUnit(column, max_rows if column is not None else 1)


def resolve_allocation(allocation: Allocation | Mapping[str, float] | str | None, parts: list[str]) -> Allocation:
    """The allocation given (object, mapping or "part=fraction,..." text) or the default over ``parts``.

    Every part the release spends needs a share and every share must be a part it spends: a
    misspelled part would leave its share unspent while the whole budget is charged.
    """
    if allocation is None:
        resolved = Allocation.default(parts)
    elif isinstance(allocation, str):
        named = [item.partition("=")[0].strip() for item in allocation.split(",") if item.strip()]
        repeated = sorted({name for name in named if named.count(name) > 1})
        if repeated:
            raise DataError(f"the allocation gives part(s) {repeated} more than one share")
        resolved = Allocation.parse(allocation)
    elif isinstance(allocation, Allocation):
        resolved = allocation
    else:
        resolved = Allocation(dict(allocation))
    missing = [p for p in parts if p not in resolved.fractions]
    unused = [p for p in resolved.fractions if p not in parts]
    if unused:
        needed = f" and no share for {missing}" if missing else ""
        raise DataError(
            f"the allocation gives a share to part(s) {unused} this release does not spend{needed}; parts: {parts}"
        )
    if missing:
        raise DataError(f"the allocation has no share for part(s) {missing} this release needs; parts: {parts}")
    return resolved


def schema_mismatch(frame: pd.DataFrame, schema: Schema) -> tuple[str, ...]:
    """What the custodian is told (log only, no values) where the data does not fit a declared schema.

    Not a refusal: a refusal that depends on the rows would itself tell whether a record is
    there. The cells that do not fit are coded missing or "other" (see ``schema.encode``).
    """
    told = []
    try:
        validate(frame, schema)
    except DpsynthError as problem:
        told.append(f"the data does not fit the declared schema ({problem}); such cells are coded missing or 'other'")
    told.extend(
        f"column '{name}' is declared categorical but nearly all its values are distinct: it looks like an "
        "identifier; consider declaring it with kind 'identifier'"
        for name in suspect_identifiers(frame, schema)
    )
    return tuple(told)


def plan_fit(
    frame: pd.DataFrame,
    *,
    epsilon: float,
    delta: float,
    schema: SchemaLike = None,
    schema_public: bool = False,
    public_dtypes: bool = False,
    unit_column: str | None = None,
    max_rows_per_unit: int = 1,
    allocation: Allocation | Mapping[str, float] | str | None = None,
    generator_parts: Sequence[str] = (MARGINAL,),
    engine: str = NUMPY,
) -> Plan:
    """Check the public inputs and build the budget; nothing is measured and no row is read
    except to tell the custodian, on the log, where the rows do not fit a declared schema.

    ``schema`` is a public schema, a kinds declaration, or None (kinds decided under DP). A
    schema drafted from the data without noise (``schema infer``) is refused unless
    ``schema_public`` states that what it says is public knowledge; the plan's note then
    qualifies the guarantee.
    ``public_dtypes`` states that ``frame``'s dtypes are public (typed by the custodian, not
    guessed by a parser): they then give the kinds of columns the declaration does not name.
    ``generator_parts`` are the parts the generator spends; ``domain`` is added when the
    schema is discovered. ``engine`` ("numpy", "duckdb" or "spark") counts the rows; every engine gives
    the same counts, so it changes no answer, only where the counting runs.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"the private data must be a pandas DataFrame; got {type(frame).__name__}")
    check_engine(engine)
    declared = load_schema(schema)
    note = None
    if isinstance(declared, Schema) and declared.provenance == "inferred-not-dp":
        if not schema_public:
            raise SchemaError(
                "the schema was drafted from the data without noise ('schema infer'): a release with it is DP "
                "only if everything it states is public knowledge; say so with --schema-public "
                "(schema_public=True), or let dpsynth discover the schema under DP"
            )
        note = SCHEMA_NOT_DP
    kinds: dict[str, str] = {}
    if not isinstance(declared, Schema):
        kinds = {**(kinds_from_dtypes(frame) if public_dtypes else {}), **(declared or {})}
        declared = None
    unit = privacy_unit(declared, unit_column, max_rows_per_unit)
    if unit.column is not None and unit.column not in frame.columns:
        raise DataError(f"privacy unit column '{unit.column}' is not in the data")
    if unit.column is not None:
        kinds.pop(unit.column, None)
    parts = list(generator_parts) if declared is not None else [DOMAIN, *generator_parts]
    if check_delta(delta) == 0:
        raise BudgetError(
            "delta is 0, but every dpsynth generator measures with Gaussian noise, which needs a delta "
            "above 0 (pure epsilon-DP is not offered): give a delta such as 1e-9, far below 1/n"
        )
    budget = Budget(
        epsilon,
        delta,
        resolve_allocation(allocation, parts),
        unit,
        delta_reserve=DOMAIN_DELTA_RESERVE if declared is None else 0.0,
    )
    mismatch: tuple[str, ...] = ()
    if declared is not None:
        check_columns(frame, declared)
        # A file left on disk for DuckDB comes here as its header (no rows): nothing to tell yet;
        # the door then says whether rows were left out for a cell without a code.
        mismatch = schema_mismatch(frame, declared) if len(frame) else ()
    return Plan(budget, declared, kinds, note, mismatch, engine)


def read_by_spark(data: Any, engine: str) -> bool:
    """Whether ``data`` is a Spark DataFrame that engine 'spark' reads where Spark holds it
    (:meth:`SparkRows.from_frame`), never collected to the driver. On engine 'numpy' or
    'duckdb' a Spark DataFrame is collected (:func:`dpsynth.data.frames.to_pandas`)."""
    return engine == SPARK and library_of(data) == PYSPARK


def refuse_dp_sgd_on_spark(method: str, parts: Sequence[str]) -> None:
    """Refuse a method trained by DP-SGD on rows read by Spark (a Parquet file, a Spark
    DataFrame) before anything is charged, rather than at the door's first DP-SGD step."""
    if NEURAL in parts:
        raise DataError(
            f"method '{method}' trains by DP-SGD, which rows read by Spark (a Parquet file, a Spark DataFrame) "
            "do not offer yet: use engine 'duckdb'"
        )


@contextmanager
def charged(
    ledger: Ledger | None, key: str | None, epsilon: float, delta: float, label: str = ""
) -> Iterator[Reservation | None]:
    """Reserve (epsilon, delta) for dataset ``key`` around a fit; yields the reservation.

    Pass ``reservation.mark_spent`` to :func:`open_door`: from the first measurement on, an
    error or an interrupt leaves the spend counted. Before it, the reservation is cancelled.
    Without a ledger, yields None and charges nothing.
    """
    if ledger is None:
        yield None
        return
    if key is None:
        raise BudgetError("a fit charged to a ledger needs the dataset's key (Ledger.dataset_key)")
    with reserved(ledger, key, epsilon, delta, label) as reservation:
        yield reservation


@contextmanager
def reserved(ledger: Ledger, key: str, epsilon: float, delta: float, label: str = "") -> Iterator[Reservation]:
    """:func:`charged` with a ledger: the reservation, never None."""
    with ledger.reservation(key, epsilon, delta, dataset_label=label) as reservation:
        try:
            yield reservation
        except BaseException as error:
            # A note on the error, not a log line: a one-line refusal (the CLI's) still says it.
            if reservation.committed:
                error.add_note(f"its budget is recorded in ledger {ledger.path} (release {reservation.id})")
            elif reservation.spent:
                error.add_note(
                    f"the fit stopped after measuring the data: its budget stays charged in ledger {ledger.path} "
                    f"(release {reservation.id})"
                )
            raise


def open_door(
    frame: pd.DataFrame | StoredRows | SparkRows,
    plan: Plan,
    noise: NoiseSource,
    *,
    binning: str = "uniform",
    on_measure: Callable[[], None] | None = None,
    prior: Sequence[Charge] = (),
) -> tuple[PrivateTable, Accountant]:
    """The door on ``frame`` with a fresh accountant, encoded with the declared or a DP-discovered schema.

    ``on_measure`` is called before each of the door's noisy answers (see :func:`charged`); the
    plan's schema mismatch is logged before the first.
    ``prior`` are charges already paid for what the plan builds on (a comparison sweep
    discovers its schema once); they are charged again to this accountant first.
    """
    accountant = Accountant(plan.budget)
    for charge in prior:
        accountant.charge(charge.part, charge.event, charge.count)
    told = False

    def measured() -> None:
        # The custodian hears where the rows do not fit the schema once the fit goes ahead:
        # a run refused before its first measurement shows nothing but its refusal.
        nonlocal told
        if not told:
            told = True
            for message in plan.mismatch:
                logger.warning("%s", message)
        if on_measure is not None:
            on_measure()

    table = PrivateTable(frame, accountant, noise, on_measure=measured, engine=plan.engine)
    schema = plan.schema
    if schema is None:
        schema = discover_schema(table, binning=binning, kinds=plan.kinds)
    table.encode(schema)
    return table, accountant


def ledger_of(ledger: Ledger | str | os.PathLike | None) -> Ledger:
    """The ledger given, or the one at its path, or the default one."""
    return ledger if isinstance(ledger, Ledger) else Ledger(ledger or Ledger.default_path())


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into plain Python (for JSON records)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
