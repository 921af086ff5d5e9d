"""The release: one private table in, a synthetic table and its privacy record out.

The steps come from the composition root (:mod:`dpsynth.workflows.root`): the ledger reserves
the whole (epsilon, delta) before anything is measured and marks it spent at the door's first
measurement; the door charges each measurement before it draws noise; the bundle is written
beside the target and moved into place at the end, and then the ledger entry is committed. An
error before the first measurement cancels the reservation; after it, the spend stays counted
(a noisy answer may have left the process), and the error says so.

Unless ``audit="off"``, a control sample of the private rows is held out before anything is
measured (:func:`split_holdout`: an independent coin per unit, so that adding a record keeps
the fitted part an add/remove neighbour); the release is fitted on the rest and then attacked
(:mod:`dpsynth.attacks.suite`) on the custodian's side, and the certificate goes into the bundle
(when fewer than HOLDOUT_MIN units were held out the audit is skipped, with a warning: that
decision reads the rows, so it touches only what stays with the custodian). The certificate
holds aggregates only and states the dataset's lifetime spend, read from the ledger once this
release's reservation counts; the per-column views with exact real shares go to the
custodian annex in ``OUT.custodian/``, beside the release folder ``OUT``, which is never shared.
The holdout rows are never measured by the release, so they only get more protection; the
ledger still charges the whole dataset. A FAIL verdict keeps the release but says FAIL.

``release.json`` holds only public inputs and post-processing of noisy measurements: no hash
of the data (the dataset's identity stays in the ledger), no exact count, nothing from the
audit (the certificate, on the custodian's side, points to the release instead).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dpsynth._version import __version__
from dpsynth.attacks.suite import LEVELS, run_attacks
from dpsynth.certificate.annex import build_annex
from dpsynth.certificate.document import annex_folder, build_certificate, ledger_spend
from dpsynth.certificate.policy import Policy, load_policy
from dpsynth.data.engines import DUCKDB, SPARK
from dpsynth.data.engines.duckdb_rows import StoredRows
from dpsynth.data.engines.spark_rows import SparkRows, frame_header
from dpsynth.data.frames import PANDAS, PYSPARK, like
from dpsynth.data.load import PARQUET, FileTable, Header, Input, file_format, open_file, read_input
from dpsynth.data.split import cap_units, unit_coins
from dpsynth.data.types_out import OutputTypes
from dpsynth.data.write import file_name, null_token, output_format, write_chunks, write_table
from dpsynth.digest import sha256_file
from dpsynth.errors import DataError, LedgerError, PrivacyWarning
from dpsynth.generators import create
from dpsynth.generators.base import MarginalGenerator
from dpsynth.generators.protocol import Generator
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Allocation, Budget, PrivacyUnit
from dpsynth.privacy.ledger import Ledger, Reservation
from dpsynth.privacy.noise import NoiseSource
from dpsynth.progress import Progress
from dpsynth.random_state import RandomState, check_random_state
from dpsynth.schema import Schema
from dpsynth.validation import integer
from dpsynth.workflows.audit import write_annex, write_certificate
from dpsynth.workflows.bundle import check_out_dir, staged_folder
from dpsynth.workflows.capacity import check_sample_size, check_stream_size, check_width
from dpsynth.workflows.root import (
    Plan,
    SchemaLike,
    ledger_of,
    open_door,
    plan_fit,
    read_by_spark,
    refuse_dp_sgd_on_spark,
    reserved,
)

logger = logging.getLogger(__name__)

RECORD_VERSION = 2
SYNTHETIC_STEM = "synthetic"  # synthetic.csv, synthetic.parquet, ...: the suffix follows the format
RECORD_FILE = "release.json"
MODEL_FILE = "model.json"
AUDIT_LEVELS = (*LEVELS, "off")
# The control sample: each record (or person) is held out by its own coin, heads with the
# holdout share (public: HOLDOUT_SHARE unless the caller sets it), decided before anything is
# measured; the attacks use at most HOLDOUT_MAX of those held out (a uniform choice among them)
# and run only when at least HOLDOUT_MIN were held out.
HOLDOUT_SHARE = 0.1
HOLDOUT_MIN = 200
HOLDOUT_MAX = 2000
# Above this many synthetic rows (the caller's count or the DP estimate: public) a release
# without audit streams its table to the file in chunks and does not hold it.
STREAM_ROWS = 1_000_000
# A file left on disk (engine duckdb) is audited through a uniform sample of this many fitted units.
AUDIT_MEMBERS = 20_000


def holdout_rule(share: float, sampled: bool = False) -> str:
    """How the control sample was chosen, in the words the record and the certificate state
    (``sampled``: the fitted records were audited through a uniform sample of them)."""
    members = (
        f"; the attacks and the fidelity read a uniform sample of at most {AUDIT_MEMBERS} of the fitted "
        "records (persons), not all of them"
    ) if sampled else ""
    return (
        f"each record (each person, when a privacy unit column is named) held out by an independent coin "
        f"with probability {share:g} before anything was measured, at most {HOLDOUT_MAX} of them attacked; "
        f"the release never measured them, so they only get more protection{members}"
    )


@dataclass(frozen=True)
class ReleaseResult:
    """What a release wrote: its folder, the synthetic table (the same kind of table as the input:
    pandas, polars or pyarrow; None when it was streamed to the file, see :func:`release`), the
    record, the certificate and the number of synthetic rows."""

    out: Path
    synthetic: Any
    record: dict[str, Any]
    certificate: dict[str, Any] | None = None
    n_synthetic: int = 0

    @property
    def synthetic_file(self) -> Path:
        """The synthetic table's file in the release folder (its name follows the format)."""
        return self.out / self.record["synthetic"]["file"]

    @property
    def verdict(self) -> str | None:
        """PASS or FAIL under the audit policy, or None when the release was not audited."""
        return None if self.certificate is None else self.certificate["verdict"]


def split_holdout(
    frame: pd.DataFrame, unit: PrivacyUnit, rng: np.random.Generator, share: float = HOLDOUT_SHARE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(fit, holdout)`` by :func:`holdout_rule`; with a unit column, whole persons go to one side.

    Each unit's side is its own coin (:mod:`dpsynth.data.split`), so adding a unit never moves
    another one. The cap on the attacked holdout only chooses among held-out rows, which the
    fit never sees.
    """
    held = unit_coins(frame, unit.column, share, rng)
    fit, holdout = frame[~held].reset_index(drop=True), frame[held].reset_index(drop=True)
    return fit, cap_units(holdout, unit.column, HOLDOUT_MAX, rng)


def split_stored(
    rows: StoredRows | SparkRows, unit: PrivacyUnit, rng: np.random.Generator, share: float = HOLDOUT_SHARE
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`split_holdout` of a file's rows held by DuckDB or read by Spark, by the keyed coins of
    :mod:`dpsynth.data.engines.coins`: the door then reads the fitted rows there, and
    only the audit's uniform samples come to memory, ``(members, holdout)``: at most
    AUDIT_MEMBERS fitted units and HOLDOUT_MAX held-out ones."""
    rows.split(unit.column, share, rng)
    return rows.sample(False, AUDIT_MEMBERS), rows.sample(True, HOLDOUT_MAX)


def _left_on_disk(
    data: Any, engine: str, na_values: Sequence[str], header: Header, names: Sequence[str] | None,
    sep: str | None, encoding: str | None,
) -> FileTable | None:
    """A CSV or Parquet file the DuckDB engine reads in chunks, or a Parquet file or folder Spark
    reads on its executors, never held whole; None for a table in memory, another format or
    another engine (read whole). A CSV on engine 'spark' is read whole on the driver and handed
    to Spark: Spark's CSV reader does not read cells as :func:`dpsynth.data.load.read_data` does."""
    if engine not in (DUCKDB, SPARK) or not isinstance(data, (str, os.PathLike)):
        return None
    if engine == SPARK and not (os.path.isdir(data) or file_format(data) == PARQUET):
        return None
    return open_file(data, na_values, header=header, names=names, sep=sep, encoding=encoding)


def _ingested(
    table: FileTable | None, spark_frame: Any, engine: str
) -> tuple[StoredRows | SparkRows | None, bytes | None]:
    """The file's rows where its engine holds them (DuckDB) or reads them (Spark), or a Spark
    DataFrame's rows where Spark holds them, and their content signature for the ledger;
    ``(None, None)`` for a table read whole."""
    if spark_frame is not None:
        return SparkRows.from_frame(spark_frame)
    if table is None:
        return None, None
    return SparkRows.ingest(table) if engine == SPARK else StoredRows.ingest(table)


def holdout_units(holdout: pd.DataFrame, unit: PrivacyUnit) -> int:
    """How many units the holdout holds (custodian side: decides only whether the audit runs)."""
    return len(holdout) if unit.column is None else int(holdout[unit.column].nunique())


@dataclass(frozen=True)
class ReleaseRefit:
    """Re-fit the release's generator on a shadow training set, for the shadow-model attack.

    Same method, parameters, public schema, privacy unit and (epsilon, delta) as the release, all
    of it for the generator's own parts (no schema discovery: the schema is fixed). The noise
    is seeded from the attack's generator: shadow outputs are never published.
    """

    method: str
    method_params: dict[str, Any]
    schema: Schema
    epsilon: float
    delta: float
    parts: tuple[str, ...]
    unit: PrivacyUnit

    def describe(self) -> str:
        """What a refit is, in the words the certificate states."""
        return (
            f"{self.method} with the release's parameters, schema and (epsilon={self.epsilon:g}, "
            f"delta={self.delta:g}) on shadow training sets of the level's size: DP at the same "
            "epsilon, so at a reduced size the noise is larger relative to the counts than in the "
            "release and the attack is weaker than one at full size"
        )

    def __call__(self, train: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrivacyWarning)
            noise = NoiseSource(int(rng.integers(2**63 - 1)))
        budget = Budget(self.epsilon, self.delta, Allocation.default(self.parts), self.unit)
        table, _ = open_door(train, Plan(budget, self.schema), noise)
        generator = create(self.method, **self.method_params).fit(table)
        return generator.sample(None, random_state=rng)


def release(
    data: Any,
    *,
    epsilon: float,
    delta: float,
    out: str | os.PathLike,
    schema: SchemaLike = None,
    schema_public: bool = False,
    public_dtypes: bool = False,
    method: str = "mst",
    n_rows: int | None = None,
    privacy_unit: str | None = None,
    max_rows_per_unit: int = 1,
    allocation: Allocation | Mapping[str, float] | str | None = None,
    method_params: Mapping[str, Any] | None = None,
    random_state: RandomState = None,
    ledger: Ledger | str | os.PathLike | None = None,
    dataset: str | None = None,
    na_values: Sequence[str] = (),
    header: Header = True,
    names: Sequence[str] | None = None,
    sep: str | None = None,
    encoding: str | None = None,
    format: str | None = None,
    binning: str = "uniform",
    progress: Progress | None = None,
    audit: str = "standard",
    policy: Policy | str | os.PathLike | None = None,
    holdout_share: float = HOLDOUT_SHARE,
    n_jobs: int = 1,
    engine: str = "numpy",
) -> ReleaseResult:
    """Make a DP synthetic release of ``data`` and write ``out/synthetic.<format>`` and its record.

    ``data`` is a pandas, polars, pyarrow or Spark table (on engine 'spark' a Spark DataFrame is
    read where Spark holds it, never collected: :meth:`SparkRows.from_frame`), or a CSV, Parquet,
    Arrow (Feather) or Excel file (:func:`dpsynth.data.load.read_data`; ``sep`` and ``encoding``
    are a CSV's). The
    synthetic table is written in ``format`` ("csv", "parquet", "arrow" or "excel"; default the
    input file's, CSV for a table in memory), nulls as the first of ``na_values`` in CSV and
    Excel, and the result holds the same kind of table as ``data``; its dtypes follow
    :mod:`dpsynth.data.types_out` (from the schema, or copied from ``data`` with ``public_dtypes``).
    ``schema`` (a Schema, a schema file, or a kinds declaration: a mapping or file of column
    kinds) is declared public by the caller; without a full schema, bounds and categories (and
    the kinds not declared) are discovered under DP and charged to the ``domain`` part. A
    schema drafted from the data without noise (``schema infer``) is refused unless
    ``schema_public`` states it is public knowledge; the record then says the guarantee does not
    cover it. ``public_dtypes`` states that a DataFrame's dtypes are public (kinds from them).
    Without ``n_rows`` the number of synthetic rows is a DP estimate. ``random_state`` None
    draws noise from OS entropy; an int or a Generator makes the noise reproducible, and the
    record then says the release must not be published. The ledger (default
    :meth:`Ledger.default_path`) is charged (epsilon, delta) for the dataset, named by
    ``dataset`` (so the cap follows the data across files) or else by a keyed digest of its
    content kept in the ledger. ``header`` and ``names`` say how a CSV's column names are read
    (see :func:`dpsynth.data.load.read_table`). ``binning`` ("uniform" or "quantile") places the
    bins of numeric columns when the schema is discovered. ``audit`` ("quick", "standard",
    "thorough" or "off") holds out a control sample and attacks the release (module
    docstring; ``holdout_share`` is each record's chance to be held out); ``policy`` (a
    :class:`Policy` or file, default the shipped one) decides PASS or FAIL. ``n_jobs``
    processes run the shadow-model refits; above 1 they are spawned, so a calling script needs
    an ``if __name__ == "__main__":`` guard (the CLI has one). ``engine`` ("numpy", "duckdb" or
    "spark", :mod:`dpsynth.data.engines`) counts the rows: the same seed gives the same release on each.
    With ``audit="off"`` and more than ``STREAM_ROWS`` synthetic rows, the table is sampled and
    written in chunks (:meth:`~dpsynth.generators.base.MarginalGenerator.sample_chunks`), so
    memory stays flat in the number of rows, and the result's ``synthetic`` is None.
    """
    if audit not in AUDIT_LEVELS:
        raise DataError(f"audit must be one of {list(AUDIT_LEVELS)}; got {audit!r}")
    policy = None if audit == "off" else (policy if isinstance(policy, Policy) else load_policy(policy))
    out_dir = check_out_dir(out)
    if audit != "off":
        check_out_dir(annex_folder(out_dir))
    file_table = _left_on_disk(data, engine, na_values, header, names, sep, encoding)
    spark_frame = data if read_by_spark(data, engine) else None
    if file_table is not None:
        source = Input(file_table.header, PANDAS, file_table.format, file_table.path.name)
    elif spark_frame is not None:
        source = Input(frame_header(spark_frame)[0], PYSPARK, None, f"{PYSPARK} table")
    else:
        source = read_input(data, na_values, header=header, names=names, sep=sep, encoding=encoding)
    frame = source.frame
    out_format = output_format(format, source.format)
    synthetic_file = file_name(SYNTHETIC_STEM, out_format)
    output_types = OutputTypes.of(frame, public_dtypes)
    generator = create(method, **dict(method_params or {}))
    if engine == SPARK and (file_table is not None or spark_frame is not None):
        refuse_dp_sgd_on_spark(method, generator.parts)
    n_rows = None if n_rows is None else integer("n_rows", n_rows)
    # A table sampled whole must fit in memory; one written in chunks, on the disk.
    if n_rows is not None and _streams(audit, generator, n_rows):
        n_rows = check_stream_size(n_rows, len(frame.columns), out_dir)
    else:
        n_rows = check_sample_size(n_rows, len(frame.columns))
    check_width(method, len(frame.columns))
    generator_parts = generator.parts
    plan = plan_fit(
        frame, epsilon=epsilon, delta=delta, schema=schema, schema_public=schema_public, public_dtypes=public_dtypes,
        unit_column=privacy_unit, max_rows_per_unit=max_rows_per_unit, allocation=allocation,
        generator_parts=generator_parts, engine=engine,
    )
    schema_note = plan.note
    unit = plan.budget.unit
    rng = check_random_state(random_state)
    rows, signature = _ingested(file_table, spark_frame, engine)
    if rows is not None:
        fit_frame, holdout = (frame, None) if audit == "off" else split_stored(rows, unit, rng, holdout_share)
    else:
        fit_frame, holdout = (frame, None) if audit == "off" else split_holdout(frame, unit, rng, holdout_share)
    progress = progress or Progress(progress_steps(audit), enabled=False)

    ledger = ledger_of(ledger)
    key = ledger.dataset_key(frame, name=dataset, signature=signature)
    label = dataset or source.label
    with reserved(ledger, key, epsilon, delta, label) as reservation:
        noise = NoiseSource.from_random_state(random_state)
        progress.step("discovering the schema under DP" if plan.schema is None else "encoding the data")
        table, accountant = open_door(
            fit_frame if rows is None else rows, plan, noise, binning=binning, on_measure=reservation.mark_spent
        )
        used_schema = table.require_schema()
        progress.step(f"fitting {method}")
        generator.fit(table)
        progress.step("sampling")
        n_synthetic = generator.n_rows_estimate if n_rows is None else n_rows
        stream = _streams(audit, generator, n_synthetic)
        synthetic = None if stream else output_types.apply(generator.sample(n_rows), used_schema)
        _warn_delta(generator, delta)
        record = _record(accountant, used_schema, noise, generator, n_rows, label, reservation.id, schema_note)
        record["synthetic"] = {"file": synthetic_file, "format": out_format, "null_token": null_token(na_values)}
        if audit != "off":
            record["audit"] = {"level": audit, "holdout_rule": holdout_rule(holdout_share, rows is not None)}
        attacks = None
        if holdout is not None:  # the audit runs
            assert synthetic is not None  # held whenever the audit runs
            if holdout_units(holdout, unit) < HOLDOUT_MIN:
                logger.warning(
                    "the audit was skipped: fewer than %d records (or persons) were held out; "
                    "the release has no certificate", HOLDOUT_MIN,
                )
            else:
                progress.step(f"attacking the release ({audit} audit)")
                refit = ReleaseRefit(
                    method, dict(method_params or {}), used_schema, epsilon, delta, generator_parts, unit
                )
                attacks = run_attacks(
                    fit_frame, holdout, synthetic, used_schema, level=audit, refit=refit,
                    refit_description=refit.describe(), delta=delta, random_state=rng, n_jobs=n_jobs,
                )
        progress.step("writing the release")
        certificate = None
        with staged_folder(out_dir, then=lambda: _commit(reservation, out_dir)) as staging:
            if synthetic is None:
                assert isinstance(generator, MarginalGenerator)  # the only kind that streams
                chunks = (output_types.apply(chunk, used_schema) for chunk in generator.sample_chunks(n_synthetic))
                write_chunks(chunks, staging / synthetic_file, out_format, null_token(na_values))
            else:
                write_table(synthetic, staging / synthetic_file, out_format, null_token(na_values))
            generator.save(staging / MODEL_FILE)
            record["outputs"] = {name: sha256_file(staging / name) for name in (synthetic_file, MODEL_FILE)}
            text = _to_json(record)
            (staging / RECORD_FILE).write_text(text, encoding="utf-8")
            if attacks is not None:
                assert policy is not None and synthetic is not None  # both held whenever the audit runs
                certificate = build_certificate(
                    attacks, policy, train=fit_frame, synthetic=synthetic, schema=used_schema,
                    holdout_rule=holdout_rule(holdout_share, rows is not None),
                    schema_source=schema_note or (
                        "declared public by the custodian" if plan.schema is not None else "discovered under DP"
                    ),
                    record=record,
                    files={name: staging / name for name in (synthetic_file, MODEL_FILE, RECORD_FILE)},
                    dataset=label,
                    # The reservation is counted (marked spent at the first measurement), so the
                    # lifetime spend includes this release; nothing here reads the data.
                    lifetime=ledger_spend(ledger, key),
                )
                write_certificate(staging, certificate)
        if certificate is not None:
            try:
                write_annex(out_dir, build_annex(fit_frame, synthetic, used_schema, certificate))
            except KeyboardInterrupt as interrupt:
                interrupt.add_note(f"the release in '{out_dir}' is complete; its custodian annex was not written")
                raise
    progress.step("done")
    progress.close()
    kept = None if synthetic is None else like(synthetic, source.library)
    return ReleaseResult(out_dir, kept, record, certificate, int(n_synthetic))


def _streams(audit: str, generator: Generator, n_rows: int | None) -> bool:
    """Whether the synthetic table is sampled and written in chunks: no audit reads it, the method
    samples in chunks and the rows (public, or the DP estimate) are more than STREAM_ROWS."""
    return audit == "off" and n_rows is not None and n_rows > STREAM_ROWS and isinstance(generator, MarginalGenerator)


def _commit(reservation: Reservation, out: Path) -> None:
    """Record the release, now in place, in the ledger with the record its folder holds."""
    try:
        reservation.commit(json.loads((out / RECORD_FILE).read_text(encoding="utf-8")))
    except LedgerError as error:
        raise LedgerError(
            f"the release in '{out}' is complete but the ledger could not record it ({error}); "
            "its budget stays counted as an open reservation (see 'dpsynth ledger reservations')"
        ) from None


def progress_steps(audit: str) -> int:
    """How many steps a release reports: open the data, fit, sample, [attack,] write, done."""
    return 5 if audit == "off" else 6


def _warn_delta(generator: Generator, delta: float) -> None:
    """Warn when delta is not below 1/n, judged on the model's DP estimate of n (post-processing)."""
    if delta * float(generator.n_rows_estimate) >= 1.0:
        logger.warning(
            "delta=%g is not below 1/n for the DP estimate of the number of records: a delta this large "
            "allows releasing a record outright with non-negligible probability", delta,
        )


def _record(accountant, schema, noise, generator, n_rows, label, release_id, schema_note):
    """The release record: public inputs and post-processing of noisy measurements only."""
    privacy = accountant.report()
    return {
        "dpsynth_release": RECORD_VERSION,
        "release_id": release_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "library": {"name": "dpsynth", "version": __version__},
        "statement": _statement(accountant, noise, schema_note),
        "privacy": privacy,
        "noise_source": noise.description,
        "schema": {"provenance": schema.provenance, "definition": schema.to_dict(), "note": schema_note},
        # Columns DP discovery represents poorly, from its noisy measurements (always a list, so
        # the record's shape never depends on the data).
        "schema_warnings": [warning.as_dict() for warning in schema.warnings],
        "method": {"name": generator.name, "params": generator.get_params(), "warnings": list(generator.warnings_)},
        "rows": {
            "n_rows": None if n_rows is None else int(n_rows),
            "policy": "given by the user" if n_rows is not None else (
                "DP estimate: the total of the model fitted to noisy marginals"
            ),
        },
        "input": {"dataset": label},
    }


def _statement(accountant: Accountant, noise: NoiseSource, schema_note: str | None = None) -> str:
    spent = accountant.spent()
    budget = accountant.budget
    text = (
        f"This release is ({spent.epsilon:.4g}, {spent.delta:.3g})-differentially private "
        f"(stated budget epsilon={budget.epsilon:g}, delta={budget.delta:g}) with respect to "
        f"{budget.unit.relation}. Everything in it is computed from noisy measurements "
        "charged to one accountant and composed jointly."
    )
    if schema_note:
        text += f" Note: {schema_note}."
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
