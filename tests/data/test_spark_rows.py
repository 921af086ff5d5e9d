"""A Parquet file read by Spark on its executors agrees with the DuckDB engine's rows: the same
ledger signature, the same holdout coins and cap, the same audit samples and raw counts, and so
the same seeded release; the driver never reads the file whole.

One local Spark session (two threads) for the module, as for the Spark engine's tests; starting
it takes 10-40 seconds, so these tests run in the slow step. They skip where pyspark or Java is absent.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.data import contributions, load
from dpsynth.data.engines import duckdb_rows, spark_rows
from dpsynth.data.engines.duckdb_rows import StoredRows
from dpsynth.data.engines.spark_rows import POSITION, SparkRows
from dpsynth.digest import sha256_file
from dpsynth.errors import DataError, PrivacyWarning
from dpsynth.privacy.budget import PrivacyUnit
from dpsynth.privacy.identity import content_signature
from dpsynth.workflows.release import release
from tests.data.test_engines_release import adult  # noqa: F401 (a fixture)

# The Spark engine tests' marks (slow; skipped without pyspark or Java) and their Spark session.
from tests.data.test_engines_spark import pytestmark, spark  # noqa: F401


def mixed(n: int, seed: int = 0) -> pd.DataFrame:
    """Text with spaces and null tokens, categories, unsigned and nullable integers, floats with
    NaN, float32, booleans and a constant column."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "small": rng.integers(0, 200, n).astype("uint8"),
        "text": pd.Series(rng.choice([" x", "y ", " ", "NA", "z", "3.0"], n), dtype="str"),
        "label": pd.Categorical(rng.choice(["p", "q", "r"], n)),
        "real": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        "constant": 7,
        "flag": rng.random(n) < 0.5,
        "count": pd.array(np.where(rng.random(n) < 0.3, None, rng.integers(0, 5, n)), dtype="Int64"),
        "single": np.float32(rng.normal(size=n)),
        "person": pd.Series([f"p{i}" for i in rng.integers(0, n // 3, n)], dtype="str"),
    })


def both(path, na_values=()) -> tuple[SparkRows, StoredRows, bytes, bytes]:
    spark_table, duck_table = load.open_file(path, na_values), load.open_file(path, na_values)
    assert spark_table is not None and duck_table is not None
    on_spark, signature = SparkRows.ingest(spark_table)
    on_duckdb, duck_signature = StoredRows.ingest(duck_table)
    return on_spark, on_duckdb, signature, duck_signature


def fitted_positions(rows) -> set[int]:
    if isinstance(rows, SparkRows):
        return {int(row[0]) for row in rows._fit.select(POSITION).collect()}
    found = rows.connection.execute(f"SELECT {duckdb_rows.POSITION} FROM {duckdb_rows.FIT}").fetchall()
    return {int(position) for (position,) in found}


@pytest.mark.parametrize("na_values", [(), ("NA",)])
def test_the_signature_and_the_rows_are_those_of_the_table_read_whole(na_values, tmp_path):
    """Constant and all-missing columns left out, nulls, mixed dtypes: the bytes of the whole table's
    signature; the audit samples, split by the same seed, are DuckDB's, cell for cell and dtype for dtype."""
    data = tmp_path / "mixed.parquet"
    mixed(3000).assign(empty=None).to_parquet(data)
    on_spark, on_duckdb, signature, duck_signature = both(data, na_values)
    assert signature == content_signature(load.read_data(data, na_values)) == duck_signature
    for unit in (None, "small", "person", "flag"):
        for rows in (on_spark, on_duckdb):
            rows.split(unit, 0.3, np.random.default_rng(5))
        assert fitted_positions(on_spark) == fitted_positions(on_duckdb)
        for held, cap in ((True, 50), (False, 80)):
            pd.testing.assert_frame_equal(on_spark.sample(held, cap), on_duckdb.sample(held, cap))


def test_the_raw_counts_and_the_cap_are_duckdbs(tmp_path, monkeypatch):
    """Priorities shipped in blocks of 7, positions numbered in blocks of 64: each person keeps the
    rows the DuckDB cap keeps, and each column's distinct cells and counts are DuckDB's."""
    monkeypatch.setattr(contributions, "PRIORITY_CHUNK", 7)
    monkeypatch.setattr(spark_rows, "BLOCK_ROWS", 64)
    data = tmp_path / "mixed.parquet"
    frame = mixed(600, seed=2)
    frame.loc[frame.index % 11 == 0, "person"] = None
    frame.to_parquet(data)
    on_spark, on_duckdb, _, _ = both(data)
    for rows in (on_spark, on_duckdb):
        rows.split("person", 0.2, np.random.default_rng(1))
        rows.cap(PrivacyUnit("person", 2), np.random.default_rng(4))
    kept_spark = {int(row[0]) for row in on_spark.capped.select(POSITION).collect()}
    kept_duckdb = {int(p) for (p,) in on_duckdb.connection.execute(f"SELECT dpsynth_row FROM {duckdb_rows.CAPPED}").fetchall()}
    assert kept_spark == kept_duckdb and len(kept_spark) < 600
    for name in frame.columns:
        (cells, counts), (duck_cells, duck_counts) = on_spark.value_counts(name), on_duckdb.value_counts(name)
        assert cells.dtype == duck_cells.dtype
        spark_table = pd.Series(counts, index=cells.astype(str)).sort_index()
        assert spark_table.equals(pd.Series(duck_counts, index=duck_cells.astype(str)).sort_index())


def test_a_folder_numbers_its_rows_across_its_files_in_name_order(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    frame = mixed(900, seed=3)
    for i, start in enumerate(range(0, 900, 400)):
        frame.iloc[start:start + 400].to_parquet(folder / f"part-{i}.parquet")
    on_spark, on_duckdb, signature, duck_signature = both(folder)
    assert signature == duck_signature
    for rows in (on_spark, on_duckdb):
        rows.split(None, 0.5, np.random.default_rng(9))
    assert fitted_positions(on_spark) == fitted_positions(on_duckdb)


def test_adding_a_record_moves_no_other_record(tmp_path):
    """D and D plus a last row, split with one seed on Spark: the fitted part of D' is D's, or it plus that row."""
    frame = mixed(2001, seed=4)
    frame.iloc[:2000].to_parquet(tmp_path / "d.parquet")
    frame.to_parquet(tmp_path / "d1.parquet")
    fitted = []
    for name in ("d", "d1"):
        table = load.open_file(tmp_path / f"{name}.parquet")
        assert table is not None
        rows = SparkRows.ingest(table)[0]
        rows.split(None, 0.1, np.random.default_rng(3))
        fitted.append(fitted_positions(rows))
    assert fitted[1] - {2000} == fitted[0]


def test_what_spark_cannot_read_alike_is_refused_in_one_line(tmp_path):
    data = tmp_path / "dates.parquet"
    mixed(100).assign(day=pd.Timestamp("2020-01-01")).to_parquet(data)
    table = load.open_file(data)
    assert table is not None
    with pytest.raises(DataError, match=r"^column 'day' holds timestamp\[.*use engine 'duckdb'$"):
        SparkRows.ingest(table)
    mixed(100).to_parquet(data)
    table = load.open_file(data)
    assert table is not None
    rows = SparkRows.ingest(table)[0]
    with pytest.raises(DataError, match="^privacy unit column 'real': the Spark engine keys persons by integers"):
        rows.split("real", 0.1, np.random.default_rng(0))


def released(data, out, engine: str, **options) -> str:
    """The synthetic table's hash of a seeded release of the file ``data``."""
    options.setdefault("audit", "off")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        result = release(
            data, epsilon=1.0, delta=1e-9, out=out, random_state=11, ledger=out.parent / "ledger.sqlite",
            engine=engine, **options,
        )
    return sha256_file(result.synthetic_file)


def typed_adult(adult: pd.DataFrame) -> pd.DataFrame:  # noqa: F811
    """Adult with integer, float and text columns, and a person column (three rows each)."""
    return adult.assign(
        age=pd.to_numeric(adult["age"]).astype("Int64"), **{"capital-gain": pd.to_numeric(adult["capital-gain"])},
        person=[f"p{i // 3}" for i in range(len(adult))],
    )


@pytest.mark.parametrize("options", [
    {}, {"audit": "quick"}, {"privacy_unit": "person", "max_rows_per_unit": 2}, {"schema": "declared"},
], ids=["discovered", "audited", "persons", "declared"])
def test_a_parquet_file_on_spark_gives_the_duckdb_release(adult, tmp_path, options, monkeypatch):  # noqa: F811
    """DP discovery, the audit, a person column and a declared schema: the same synthetic table on
    either engine, and on Spark the driver never reads the table whole."""
    from dpsynth.schema import infer_schema

    data = tmp_path / "adult.parquet"
    frame = typed_adult(adult)
    frame.to_parquet(data)
    if options.get("schema") == "declared":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrivacyWarning)
            options = {"schema": infer_schema(frame), "schema_public": True}
    hashes = {"duckdb": released(data, tmp_path / "duckdb", "duckdb", **options)}

    def whole(*args, **kwargs):
        raise AssertionError("the whole table was read")

    import dpsynth.workflows.release as release_module

    for module, name in ((load, "read_table"), (load, "read_data"), (load, "_read_arrow"), (release_module, "read_input")):
        monkeypatch.setattr(module, name, whole)
    hashes["spark"] = released(data, tmp_path / "spark", "spark", **options)
    assert hashes["spark"] == hashes["duckdb"]


def test_dp_sgd_on_a_file_read_by_spark_is_refused_before_anything_is_charged(adult, tmp_path):  # noqa: F811
    from dpsynth.privacy.ledger import Ledger

    data = tmp_path / "adult.parquet"
    adult.to_parquet(data)
    with pytest.raises(DataError, match="^method 'neural' trains by DP-SGD, which rows read by Spark"):
        released(data, tmp_path / "out", "spark", method="neural")
    assert not (tmp_path / "ledger.sqlite").exists() or not Ledger(tmp_path / "ledger.sqlite").datasets()
