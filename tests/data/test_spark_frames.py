"""A Spark DataFrame given in Python on engine 'spark' is read where Spark holds it, never
collected to the driver: the ledger key of the table in memory, content-keyed holdout coins
that no added record moves, and the numpy engine's release where no coin is drawn by position.

One local Spark session (two threads) for the module, as for the Spark engine's tests; these
tests run in the slow step and skip where pyspark or Java is absent.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from dpsynth import Synthesizer
from dpsynth.data.engines.spark_rows import POSITION, SparkRows
from dpsynth.data.frames import to_pandas
from dpsynth.errors import DataError, PrivacyWarning
from dpsynth.privacy.identity import content_signature
from dpsynth.privacy.ledger import Ledger
from tests.data.test_engines_release import adult  # noqa: F401 (a fixture)

# The Spark engine tests' marks (slow; skipped without pyspark or Java) and their Spark session.
from tests.data.test_engines_spark import pytestmark, spark  # noqa: F401
from tests.data.test_spark_rows import released, typed_adult

# What collects a whole DataFrame to the driver.
COLLECTING = ("toArrow", "toPandas", "collect", "toLocalIterator", "_collect_as_arrow")


def never_collected(frame, monkeypatch):
    """``frame`` with every way of collecting it whole made to fail."""

    def collected(*args, **kwargs):
        raise AssertionError("the whole DataFrame was collected to the driver")

    for name in COLLECTING:
        monkeypatch.setattr(frame, name, collected)
    return frame


def mixed(spark, n: int, seed: int = 0, partitions: int = 2):  # noqa: F811
    """Text with spaces and null tokens, nullable integers, floats with NaN and nulls, float32,
    booleans, a constant column, a column of nulls, and rows that repeat."""
    from pyspark.sql import functions

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "text": pd.Series(rng.choice([" x", "x", "y ", "NA", "3.0"], n), dtype="str"),
        "count": pd.array(np.where(rng.random(n) < 0.3, None, rng.integers(0, 3, n)), dtype="Int64"),
        "real": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 2, n) / 2),
        "single": rng.integers(0, 2, n).astype("float32"),
        "flag": rng.random(n) < 0.5,
        "constant": 7,
        "person": pd.Series([f"p{i}" for i in rng.integers(0, n // 3, n)], dtype="str"),
    })
    given = spark.createDataFrame(frame).withColumn("empty", functions.lit(None))
    # A float cell Spark holds as null (a NaN in pandas) beside the NaNs.
    real = functions.when(functions.col("count") == 1, None).otherwise(functions.col("real"))
    return given.withColumn("real", real).repartition(partitions)


def fitted(rows: SparkRows) -> Counter:
    """The fitted rows as a multiset of their cells (a test may collect them: they are few)."""
    return Counter(tuple(row) for row in rows._fit.drop(POSITION).collect())


def split(frame, unit: str | None = None, seed: int = 3) -> SparkRows:
    rows = SparkRows.from_frame(frame)[0]
    rows.split(unit, 0.3, np.random.default_rng(seed))
    return rows


def test_the_ledger_key_is_the_table_in_memorys(spark, tmp_path):  # noqa: F811
    """The signature is a function of the multiset of rows: any partitioning gives the bytes of
    ``content_signature(to_pandas(frame))``, and so the same ledger key."""
    frame = mixed(spark, 900)
    whole = to_pandas(frame)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    for given in (frame, frame.repartition(5), frame.coalesce(1)):
        rows, signature = SparkRows.from_frame(given)
        assert signature == content_signature(whole)
        assert ledger.dataset_key(signature=signature) == ledger.dataset_key(whole)
        assert rows.header.dtypes.equals(whole.dtypes)


def test_the_held_out_rows_do_not_depend_on_the_partitioning(spark):  # noqa: F811
    frame = mixed(spark, 900, seed=1)
    assert fitted(split(frame.repartition(7))) == fitted(split(frame.coalesce(1)))
    assert fitted(split(frame.repartition(7), "person")) == fitted(split(frame.coalesce(1), "person"))


@pytest.mark.parametrize("added", ["a copy", "a new row"])
def test_adding_a_record_moves_no_other_record(spark, added):  # noqa: F811
    """D and D plus one record, first in position, split with one seed: the fitted rows of D
    plus the record are D's, or they and that record; no other coin changed."""
    frame = mixed(spark, 600, seed=2)
    record = frame.limit(1) if added == "a copy" else frame.limit(1).withColumn("text", _text("new"))
    before, after = fitted(split(frame)), fitted(split(record.unionByName(frame).repartition(3)))
    assert before - after == Counter()
    assert sum((after - before).values()) <= 1
    assert sum(before.values()) > 300


def _text(value: str):
    from pyspark.sql import functions

    return functions.lit(value)


@pytest.mark.parametrize("options", [
    {}, {"privacy_unit": "person", "max_rows_per_unit": 2},
], ids=["records", "persons"])
def test_a_dataframe_on_spark_gives_the_numpy_release_and_is_never_collected(
    adult, tmp_path, spark, monkeypatch, options,  # noqa: F811
):
    """Audit off, with and without a person column: the same synthetic table as the numpy engine
    on ``to_pandas(frame)``, while every way of collecting the DataFrame whole fails."""
    frame = spark.createDataFrame(typed_adult(adult)).repartition(3)
    numpy = released(to_pandas(frame), tmp_path / "numpy", "numpy", **options)
    assert released(never_collected(frame, monkeypatch), tmp_path / "spark", "spark", **options) == numpy


def test_an_audited_person_level_release_holds_out_the_duckdb_engines_persons(
    adult, tmp_path, spark, monkeypatch,  # noqa: F811
):
    """The audit on, persons keyed by their cell: the coins of a Parquet file of the same rows on
    DuckDB, and so its release."""
    frame = spark.createDataFrame(typed_adult(adult))
    data = tmp_path / "adult.parquet"
    to_pandas(frame).to_parquet(data)
    options = {"audit": "quick", "privacy_unit": "person", "max_rows_per_unit": 2, "format": "csv"}
    duckdb = released(data, tmp_path / "duckdb", "duckdb", **options)
    assert released(never_collected(frame, monkeypatch), tmp_path / "spark", "spark", **options) == duckdb


def test_the_synthesizer_fits_a_dataframe_on_spark_as_numpy_fits_its_pandas_copy(
    adult, spark, monkeypatch,  # noqa: F811
):
    """The numpy engine collects the DataFrame; Spark never does: the same sample, a Spark DataFrame."""
    frame = spark.createDataFrame(typed_adult(adult))
    samples = {}
    for engine in ("numpy", "spark"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrivacyWarning)
            synthesizer = Synthesizer("mst", epsilon=1.0, random_state=5, ledger=False, engine=engine)
            samples[engine] = synthesizer.fit(frame).sample(500, random_state=1)
        never_collected(frame, monkeypatch)
    pd.testing.assert_frame_equal(to_pandas(samples["spark"]), to_pandas(samples["numpy"]))


def test_what_spark_rows_cannot_carry_is_refused_in_one_line(spark, tmp_path):  # noqa: F811
    from pyspark.sql import functions

    frame = mixed(spark, 100)
    for column, shown in ((functions.current_date(), "date"), (functions.lit(1.5).cast("decimal(4,2)"), "decimal")):
        with pytest.raises(DataError, match=rf"^column 'day' holds {shown}.*: the Spark engine reads columns .* "
                                            r"use engine 'duckdb'$"):
            released(frame.withColumn("day", column), tmp_path / "out", "spark")
    with pytest.raises(DataError, match="^the Spark DataFrame has two columns named 'text'$"):
        SparkRows.from_frame(frame.select("text", "text"))
    with pytest.raises(DataError, match="^method 'neural' trains by DP-SGD, which rows read by Spark"):
        released(frame, tmp_path / "out", "spark", method="neural")
    assert not (tmp_path / "ledger.sqlite").exists() or not Ledger(tmp_path / "ledger.sqlite").datasets()
