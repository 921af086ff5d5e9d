"""The Spark engine agrees with numpy and DuckDB: the same codes for every row kept, the same
marginals, and so the same seeded release, through the real entry points.

Spark runs in local mode (two threads, two shuffle partitions), one session for the module;
starting it takes 10-30 seconds, so these tests run in the slow step of .ci/run. They skip
where pyspark or Java is absent.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from dpsynth.cli import main
from dpsynth.data.engines import spark_codes
from dpsynth.data.engines.spark_codes import WEIGHT, SparkCodes
from dpsynth.digest import sha256_file
from dpsynth.errors import PrivacyWarning
from dpsynth.privacy.budget import PrivacyUnit
from dpsynth.schema import Schema
from dpsynth.schema.columns import Categorical, Identifier
from tests.data.test_engines import RANDOM_TABLES, door, random_case
from tests.data.test_engines_release import adult, seeded  # noqa: F401 (adult is a fixture)

pytest.importorskip("duckdb")
pytest.importorskip("pyspark")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("java") is None and "JAVA_HOME" not in os.environ, reason="Spark needs Java (17 or later)"
    ),
]
ENGINES = ("numpy", "duckdb", "spark")


@pytest.fixture(scope="module", autouse=True)
def spark():
    """A local Spark session the engine's getOrCreate finds (as it finds a cluster's); its Python
    workers (a file read by Spark runs dpsynth on them) run this interpreter."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def kept_rows(table, width: int) -> np.ndarray:
    """Every row's codes on the door's engine, sorted: the rows kept, as a multiset."""
    codes = table._codes
    if isinstance(codes, SparkCodes):
        # Spark holds each distinct row of codes once, with how many rows hold it.
        arrow = codes._cached.frame.toArrow()
        distinct = np.array([arrow.column(j).to_numpy() for j in range(width)], dtype=np.int64).T.reshape(-1, width)
        matrix = np.repeat(distinct, arrow.column(WEIGHT).to_numpy(), axis=0)
    else:
        matrix = table._memory_codes().matrix.astype(np.int64).reshape(-1, width)
    return matrix[np.lexsort(matrix.T[::-1])] if len(matrix) else matrix


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**RANDOM_TABLES)
def test_the_three_engines_agree(seed, n, null_share, wide, max_rows):
    """Random tables (null-heavy and high-cardinality columns among them): Spark keeps the very rows
    numpy keeps, with the same codes, and its marginals (coarsened and merged), counted as one query
    set, are DuckDB's and numpy's."""
    frame, schema, unit = random_case(seed, n, null_share, wide, max_rows)
    doors = [door(frame, engine, unit, seed=seed) for engine in ENGINES]
    for table in doors:
        table.encode(schema)
    assert doors[2]._codes.fallback == ("mixed",)
    width = len(schema.encoded_columns)
    np.testing.assert_array_equal(kept_rows(doors[0], width), kept_rows(doors[2], width))
    rng = np.random.default_rng(seed)
    names = schema.encoded_columns
    merge = rng.integers(0, 3, schema["text"].size)
    merge[0] = 2
    coarse = Schema(tuple(
        Categorical("text", ("x", "y"), other=True, missing=False) if c.name == "text" else c for c in schema.columns
    ))
    views = [table.coarsened(coarse, {"text": merge}) for table in doors]
    regroup = {"amount": np.arange(schema["amount"].size) // 2}
    # One query set (one Spark job): the empty clique, every 1-way and 2-way marginal, a 3-way one.
    cliques = [(), *((name,) for name in names), *itertools.combinations(names, 2), ("amount", "text", "day")]
    for tables, maps in ((doors, None), (views, None), (views, regroup)):
        counted = [table._true_counts_set(cliques, maps) for table in tables]
        for clique, *counts in zip(cliques, *counted):
            for other in counts[1:]:
                np.testing.assert_array_equal(counts[0], other, err_msg=str(clique))


def test_spark_cap_keeps_the_rows_the_in_memory_cap_keeps():
    """One person with many rows: every engine keeps the same max_rows of them (same priorities)."""
    frame = pd.DataFrame({"person": [7] * 40 + list(range(100, 110)), "x": pd.Series([f"r{i}" for i in range(50)], dtype="str")})
    schema = Schema((Identifier("person", role="unit"), Categorical("x", tuple(f"r{i}" for i in range(50)))))
    for seed in range(3):
        doors = [door(frame, engine, PrivacyUnit("person", 3), seed=seed) for engine in ENGINES]
        for table in doors:
            table.encode(schema)
        counts = [table._true_counts(("x",)) for table in doors]
        np.testing.assert_array_equal(counts[0], counts[1])
        np.testing.assert_array_equal(counts[0], counts[2])
        assert counts[0][:40].sum() == 3 and counts[0][40:50].sum() == 10


@pytest.mark.parametrize("method", ["mst", "privbayes"])
def test_a_seeded_release_is_the_same_on_numpy_and_spark(adult, tmp_path, method):  # noqa: F811
    """Discovered schema and every marginal, capped per person: one release on either engine."""
    frame = adult.assign(person=[str(i // 4) for i in range(len(adult))])
    hashes = {
        engine: seeded(frame, tmp_path / engine, engine, method=method, privacy_unit="person", max_rows_per_unit=2)
        for engine in ("numpy", "spark")
    }
    assert hashes["numpy"] == hashes["spark"]


def test_a_spark_dataframe_is_released_as_its_pandas_copy_is(adult, tmp_path, spark):  # noqa: F811
    """A Spark DataFrame given to the Python API: read where Spark holds it, the same release."""
    given = spark.createDataFrame(adult)
    hashes = {"pandas": seeded(adult, tmp_path / "pandas", "numpy"), "spark": seeded(given, tmp_path / "spark", "spark")}
    assert hashes["pandas"] == hashes["spark"]


def test_release_of_a_parquet_file_on_spark_from_the_command_line(adult, tmp_path):  # noqa: F811
    """The README's command on Spark and on DuckDB (which reads the file in chunks): one release."""
    data = tmp_path / "big.parquet"
    adult.to_parquet(data)
    hashes = {}
    for engine in ("duckdb", "spark"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrivacyWarning)
            code = main([
                "--quiet", "release", str(data), "--epsilon", "1", "--engine", engine, "--seed", "3", "--audit", "off",
                "--ledger", str(tmp_path / f"{engine}.sqlite"), "--out", str(tmp_path / engine),
            ])
        assert code == 0
        hashes[engine] = sha256_file(tmp_path / engine / "synthetic.parquet")
    assert hashes["duckdb"] == hashes["spark"]


@pytest.mark.parametrize("dense_cells", [1, 40])
def test_a_set_past_the_dense_bound_counts_the_same(dense_cells, monkeypatch):
    """A query set cut to the dense bound, and a query past it counted by its distinct keys on the
    executors, give numpy's marginals."""
    monkeypatch.setattr(spark_codes, "DENSE_CELLS", dense_cells)
    frame, schema, unit = random_case(7, 300, 0.2, 300, None)
    doors = [door(frame, engine, unit, seed=7) for engine in ("numpy", "spark")]
    for table in doors:
        table.encode(schema)
    names = schema.encoded_columns
    cliques = [(), *((name,) for name in names), *itertools.combinations(names, 2)]
    numpy_counts, spark_counts = (table._true_counts_set(cliques, None) for table in doors)
    for clique, expected, counted in zip(cliques, numpy_counts, spark_counts):
        np.testing.assert_array_equal(counted, expected, err_msg=str(clique))
