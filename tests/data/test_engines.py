"""The counting engines agree: numpy in memory and DuckDB give every marginal the same exact counts.

Random tables cover what the encodings must treat alike: text, integer, float and boolean
categories (with "other", without, missing or not), numeric columns with clipping, spikes,
NaN and infinities, numbers and dates written as text, null-heavy and high-cardinality
columns, object columns (encoded in memory on DuckDB, an explicit fallback), rows with a cell
their column has no code for, and a person column whose cap keeps the same rows on both.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpsynth.data import PrivateTable
from dpsynth.errors import DataError, PrivacyWarning
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Allocation, Budget, PrivacyUnit
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Schema
from dpsynth.schema.columns import Categorical, Datetime, Identifier, Numeric, Ordinal

pytest.importorskip("duckdb")


def door(frame: pd.DataFrame, engine: str, unit: PrivacyUnit | None = None, seed: int = 0) -> PrivateTable:
    budget = Budget(1e6, 1e-9, Allocation.default(["marginal"]), unit or PrivacyUnit())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return PrivateTable(frame, Accountant(budget), NoiseSource(seed), engine=engine)


def random_table(rng: np.random.Generator, n: int, null_share: float, wide: int) -> tuple[pd.DataFrame, Schema]:
    """A table of ``n`` rows with ``null_share`` of missing cells and ``wide`` distinct texts."""

    def holes(values: pd.Series) -> pd.Series:
        return values.mask(rng.random(n) < null_share)

    texts = np.array([f"v{i}" for i in range(wide)] + ["Ünï'cødé", ""])
    numbers = rng.normal(50, 40, n)
    numbers[rng.random(n) < 0.05] = np.inf
    numbers[rng.random(n) < 0.1] = 0.0  # a spike
    text_numbers = np.where(rng.random(n) < 0.1, "abc", np.round(rng.normal(5, 3, n), 2).astype(str))
    days = pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(-400, 800, n), unit="D")
    mixed = np.array(["a", 1, 2.0, 2.5, "b"], dtype=object)[rng.integers(0, 5, n)]
    frame = pd.DataFrame({
        "text": holes(pd.Series(texts[rng.integers(0, len(texts), n)], dtype="str")),
        "whole": rng.integers(-3, 9, n),
        "real": holes(pd.Series(np.round(rng.normal(0, 2, n)) / 2)),
        "flag": rng.random(n) < 0.3,
        "amount": holes(pd.Series(numbers)),
        "count": holes(pd.Series(rng.integers(0, 120, n))).astype("Int64"),
        "digits": holes(pd.Series(text_numbers, dtype="str")),
        "day": holes(pd.Series(days.strftime("%Y-%m-%d"), dtype="str")),
        "mixed": pd.Series(mixed, dtype=object),
        "level": pd.Series(np.array(["low", "mid", "high"])[rng.integers(0, 3, n)], dtype="str"),
        "person": rng.integers(0, max(1, n // 3), n),
    })
    known = [f"v{i}" for i in range(0, wide, 2)] + ["Ünï'cødé"]
    schema = Schema((
        Categorical("text", tuple(known), other=True),
        Categorical("whole", ("-3", "0", "1", "2", "7"), other=True, missing=False),
        Categorical("real", ("0", "0.5", "-1", "1.5", "2"), other=bool(rng.integers(2))),
        Categorical("flag", ("True", "False"), missing=False),
        Numeric("amount", lower=-20.0, upper=90.0, bins=int(rng.integers(1, 40)), spikes=(0.0,)),
        Numeric("count", lower=10, upper=100, integer=True, bins=int(rng.integers(1, 50))),
        Numeric("digits", lower=0.0, upper=10.0, bins=7, missing=bool(rng.integers(2))),
        Datetime("day", lower="2019-06-01", upper="2021-06-01", bins=9),
        Categorical("mixed", ("a", "1", "2", "2.5", "c")),
        Ordinal("level", ("low", "mid", "high"), missing=False),
        Identifier("person", role="unit"),
    ))
    return frame, schema


def assert_engines_agree(numpy_door: PrivateTable, duckdb_door: PrivateTable, schema: Schema) -> None:
    names = schema.encoded_columns
    # The empty clique is the row total: every engine counts the rows it keeps.
    for clique in [(), *((name,) for name in names), *itertools.combinations(names, 2)]:
        np.testing.assert_array_equal(
            numpy_door._true_counts(clique), duckdb_door._true_counts(clique), err_msg=str(clique)
        )


# The random tables of the engines' property tests (here and in test_engines_spark.py).
RANDOM_TABLES = {
    "seed": st.integers(0, 2**32 - 1),
    "n": st.integers(0, 400),
    "null_share": st.sampled_from([0.0, 0.2, 0.9]),
    "wide": st.sampled_from([3, 300]),
    "max_rows": st.sampled_from([None, 1, 3]),
}


def random_case(seed: int, n: int, null_share: float, wide: int, max_rows: int | None):
    """A random table, its schema and its unit: a person column capped at ``max_rows``, or none."""
    frame, schema = random_table(np.random.default_rng(seed), n, null_share, wide)
    if max_rows is not None:
        return frame, schema, PrivacyUnit("person", max_rows)
    return frame.drop(columns="person"), Schema(tuple(c for c in schema.columns if c.name != "person")), PrivacyUnit()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**RANDOM_TABLES)
def test_numpy_and_duckdb_agree_on_every_marginal(seed, n, null_share, wide, max_rows):
    frame, schema, unit = random_case(seed, n, null_share, wide, max_rows)
    doors = [door(frame, engine, unit, seed=seed) for engine in ("numpy", "duckdb")]
    for table in doors:
        table.encode(schema)
    assert_engines_agree(*doors, schema)
    # A coarsened view merges codes by public maps on both engines alike, and so do a count's own maps.
    size = schema["text"].size
    merge = np.random.default_rng(seed).integers(0, 3, size)
    merge[0] = 2
    coarse = Schema(tuple(
        Categorical("text", ("x", "y"), other=True, missing=False) if c.name == "text" else c for c in schema.columns
    ))
    views = [table.coarsened(coarse, {"text": merge}) for table in doors]
    assert_engines_agree(*views, coarse)
    regroup = {"amount": np.arange(schema["amount"].size) // 2}
    np.testing.assert_array_equal(
        views[0]._true_counts(("amount", "text"), regroup), views[1]._true_counts(("amount", "text"), regroup)
    )


def test_duckdb_says_which_columns_it_encodes_in_memory():
    frame, schema = random_table(np.random.default_rng(1), 50, 0.1, 5)
    table = door(frame, "duckdb", PrivacyUnit("person", 2))
    table.encode(schema)
    assert table._codes.fallback == ("mixed",)


def test_duckdb_cap_keeps_the_rows_the_in_memory_cap_keeps():
    """One person with many rows: both engines keep the same max_rows of them (same priorities)."""
    frame = pd.DataFrame({"person": [7] * 40 + list(range(100, 110)), "x": pd.Series([f"r{i}" for i in range(50)], dtype="str")})
    schema = Schema((Identifier("person", role="unit"), Categorical("x", tuple(f"r{i}" for i in range(50)))))
    for seed in range(5):
        doors = [door(frame, engine, PrivacyUnit("person", 3), seed=seed) for engine in ("numpy", "duckdb")]
        for table in doors:
            table.encode(schema)
        counts = [table._true_counts(("x",)) for table in doors]
        np.testing.assert_array_equal(*counts)
        assert counts[0][:40].sum() == 3 and counts[0][40:50].sum() == 10


def test_dp_sgd_on_duckdb_reads_the_same_rows_in_memory():
    frame, schema = random_table(np.random.default_rng(2), 80, 0.1, 5)
    doors = [door(frame, engine, PrivacyUnit("person", 1), seed=3) for engine in ("numpy", "duckdb")]
    for table in doors:
        table.encode(schema)
    np.testing.assert_array_equal(doors[0]._memory_codes().matrix, doors[1]._memory_codes().matrix)


def test_an_unknown_engine_is_refused_in_one_line():
    with pytest.raises(DataError, match="engine must be one of"):
        door(pd.DataFrame({"a": [1]}), "sqlite")


def test_duckdb_spills_only_to_a_private_folder_of_its_own():
    frame, schema = random_table(np.random.default_rng(4), 30, 0.0, 3)
    table = door(frame, "duckdb", PrivacyUnit("person", 1))
    table.encode(schema)
    (folder,) = table._codes._connection.execute("SELECT current_setting('temp_directory')").fetchone()
    assert "dpsynth-duckdb-" in folder


def test_duckdb_tells_persons_apart_as_pandas_does():
    """An object unit column (ids as numbers and as text): the cap groups rows as in memory."""
    persons = pd.Series([1, "1", 1.0, "a", "a", 2, 2, "2"] * 5, dtype=object)
    frame = pd.DataFrame({"person": persons, "x": pd.Series([f"r{i % 7}" for i in range(40)], dtype="str")})
    schema = Schema((Identifier("person", role="unit"), Categorical("x", tuple(f"r{i}" for i in range(7)))))
    for seed in range(3):
        doors = [door(frame, engine, PrivacyUnit("person", 2), seed=seed) for engine in ("numpy", "duckdb")]
        for table in doors:
            table.encode(schema)
        np.testing.assert_array_equal(*(table._true_counts(("x",)) for table in doors))


def test_spark_without_java_is_refused_before_anything_is_charged(monkeypatch):
    pytest.importorskip("pyspark")
    monkeypatch.setattr("shutil.which", lambda name: None)
    for variable in ("JAVA_HOME", "SPARK_REMOTE"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(DataError, match="engine 'spark' needs Java"):
        door(pd.DataFrame({"a": [1]}), "spark")
