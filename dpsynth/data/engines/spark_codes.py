"""The Spark engine: rows encoded by Spark SQL, on a cluster or in local mode; a query set counted in one job.

The session is ``SparkSession.builder.getOrCreate()``: the one already running in the process,
or a new one whose master URL and configuration come from Spark's usual settings
(``spark-defaults.conf``, ``SPARK_CONF_DIR``, ``PYSPARK_SUBMIT_ARGS``); nothing here sets any.
The codes are the DuckDB engine's, written in Spark's dialect
(:data:`dpsynth.data.engines.sql_encoding.SPARK_SQL`): SQL built from the public schema alone,
a lookup of the distinct values for text SQL cannot read as memory does, and columns of other
types encoded in memory and handed over as codes (:attr:`SparkCodes.fallback`). The person-level
cap is a window ordered by the priority the door draws, so it keeps the very rows the in-memory
cap keeps. The marginals a generator asks for at once (a selection's candidates, the 1-way
marginals) are counted by one Spark job over the persisted codes, not a job each. Only exact
counts of public-sized marginals come back; the door draws the noise.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import math
import os
import sys
import uuid
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dpsynth.data.counting import columns_index
from dpsynth.data.engines.groups import Query, bounded_sets, composed, dense_counts
from dpsynth.data.engines.sql_encoding import BOOLEAN, FLOATS, INTEGERS, SPARK_SQL, TEXT, code_sql
from dpsynth.data.frames import optional
from dpsynth.errors import DataError
from dpsynth.privacy.budget import PrivacyUnit
from dpsynth.schema import Schema
from dpsynth.schema.columns import EncodedColumn
from dpsynth.schema.encoding import UNFIT, encode_column

if TYPE_CHECKING:
    from dpsynth.data.engines.spark_rows import SparkRows

# pandas dtypes whose cells Spark would read by its own rules (an object column's mixed values,
# a category's labels): such columns are encoded in memory.
_IN_MEMORY_DTYPES = ("object", "category")
UNIT = "dpsynth_unit"
PRIORITY = "dpsynth_priority"
RANK = "dpsynth_rank"
WEIGHT = "dpsynth_rows"
# Keys of one counting job lie below this (a Spark BIGINT is signed).
_KEY_SPACE = 2**63 - 1
# Cells of the dense tables one counting task holds at once (8 bytes each): a query set is cut
# to fit, and a larger query is counted by its distinct keys.
DENSE_CELLS = 1 << 22


def _code(j: int) -> str:
    return f"k{j}"


def count_star() -> Any:
    from pyspark.sql import functions

    return functions.count(functions.lit(1))


def sum_of(column: str) -> Any:
    from pyspark.sql import functions

    return functions.sum(column)


def session() -> Any:
    """The process's Spark session (see the module docstring); DataError when Spark cannot start.

    A session started here is stopped when the process ends: a driver JVM left to stop by
    itself was seen to outlive its Python process by minutes, holding its memory. The counting
    (:meth:`SparkCodes.count_set`) and a file read by Spark
    (:mod:`dpsynth.data.engines.spark_rows`) run dpsynth's functions on the executors, in the
    Python ``PYSPARK_PYTHON`` names: this interpreter unless it is set (a cluster's executors need
    it set to a Python with dpsynth installed).
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    running = SparkSession.getActiveSession()
    try:
        spark = SparkSession.builder.getOrCreate()
    except Exception as error:  # Spark raises several kinds when no JVM can be started.
        raise DataError(
            f"the Spark engine could not start a Spark session ({type(error).__name__}): it needs Java 17 or "
            "later and pyspark; use engine 'duckdb' or 'numpy'"
        ) from None
    if running is None:
        atexit.register(spark.stop)
    return spark


def _sql_type(arrow_type: Any) -> str:
    """The name :mod:`dpsynth.data.engines.sql_encoding` gives a column of ``arrow_type`` once in Spark."""
    pa = optional("pyarrow", "the Spark engine")

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return TEXT[0]
    if pa.types.is_boolean(arrow_type):
        return BOOLEAN
    # Spark holds no unsigned 64-bit integer: such a column is encoded in memory.
    if pa.types.is_integer(arrow_type) and arrow_type != pa.uint64():
        return INTEGERS[3]
    if pa.types.is_float32(arrow_type) or pa.types.is_float64(arrow_type):
        return FLOATS[1]
    return str(arrow_type)


def _spark_sql_type(data_type: Any) -> str:
    """The name :mod:`dpsynth.data.engines.sql_encoding` gives a Spark column of ``data_type``."""
    name = data_type.typeName()
    if name in ("byte", "short", "integer", "long"):
        return INTEGERS[3]
    return {"string": TEXT[0], "boolean": BOOLEAN, "float": FLOATS[1], "double": FLOATS[1]}.get(name, name)


class Cached:
    """A persisted Spark DataFrame, unpersisted when the last engine view of it is gone."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame
        finalizer = weakref.finalize(self, frame.unpersist)
        # At interpreter exit the JVM may already be gone: Spark drops its cache with it.
        finalizer.atexit = False


class SparkCodes:
    """Encoded rows in a persisted Spark DataFrame (memory, then disk); exact marginals of a whole
    query set in one Spark job.

    What is persisted is each distinct row of codes and how many rows hold it (:data:`WEIGHT`):
    every marginal is a sum of those weights, so the counts are the rows' own, and a table whose
    rows repeat (as coded rows of schema-sized columns do) is read at its distinct size.
    """

    def __init__(
        self, cached: Cached, columns: Sequence[str], sizes: Sequence[int], fallback: Sequence[str],
        maps: Mapping[str, np.ndarray],
    ) -> None:
        self._cached = cached
        self._index = {name: j for j, name in enumerate(columns)}
        self._raw_sizes = [int(size) for size in sizes]
        self.fallback = tuple(fallback)
        self._maps = dict(maps)

    @classmethod
    def load(
        cls, frame: pd.DataFrame, schema: Schema, unit: PrivacyUnit, priority: np.ndarray | None
    ) -> tuple[SparkCodes, int]:
        """As :meth:`DuckdbCodes.load <dpsynth.data.engines.duckdb_codes.DuckdbCodes.load>`: the
        capped rows encoded, each column by the schema's SQL, a lookup of a text column's distinct
        values, or in memory; and how many rows were left out (PRIVATE)."""
        spark = session()
        try:
            codes, fallback = _encode(spark, frame, schema, unit, priority)
            return cls.weighed(codes, schema, fallback)
        except DataError:
            raise
        except Exception as error:
            raise _refusal(error) from None

    @classmethod
    def from_rows(cls, rows: SparkRows, schema: Schema) -> tuple[SparkCodes, int]:
        """The capped rows of a file read by Spark (:mod:`dpsynth.data.engines.spark_rows`) encoded
        with ``schema``, each column by its SQL or a lookup of its distinct values (none comes to
        the driver row by row); and how many rows were left out (PRIVATE)."""
        spark = session()
        names = schema.encoded_columns
        try:
            source = rows.capped.selectExpr(*(f"{rows.column_sql(name)} AS c{j}" for j, name in enumerate(names)))
            types = {field.name: _spark_sql_type(field.dataType) for field in source.schema.fields}
            native = {
                j: sql for j, name in enumerate(names)
                if (sql := code_sql(f"c{j}", f"p{j}", schema.encoded(name), types[f"c{j}"], SPARK_SQL)) is not None
            }
            view = f"dpsynth_rows_{uuid.uuid4().hex}"
            source.createOrReplaceTempView(view)
            dtypes = {name: rows.header[name].dtype for name in names}
            codes, _ = _codes_frame(spark, source, view, schema, native, set(), dtypes, None)
            return cls.weighed(codes, schema, ())
        except DataError:
            raise
        except Exception as error:
            raise _refusal(error) from None

    @classmethod
    def weighed(cls, codes: Any, schema: Schema, fallback: Sequence[str]) -> tuple[SparkCodes, int]:
        """The engine over ``codes`` (a DataFrame of code columns ``k{j}``, unfit rows still in),
        persisted as distinct rows and their weights; and how many rows were left out (PRIVATE)."""
        names = schema.encoded_columns
        keys = [_code(j) for j in range(len(names))]
        unfit = " OR ".join(f"{key} = {UNFIT}" for key in keys) or "false"
        # One pass over the rows: the distinct rows (unfit ones among them) and their weights,
        # in as many partitions as the cluster has cores: every counting job scans them all, and
        # at Spark's default 200 shuffle partitions a job's tasks cost about 20 s at 1M rows on
        # two cores (benchmarks/notes/2026-12-07-spark-rows.md).
        distinct = codes.groupBy(*keys).agg(count_star().alias(WEIGHT))
        cached = Cached(distinct.coalesce(session().sparkContext.defaultParallelism).persist())
        left_out = cached.frame.where(unfit).agg(sum_of(WEIGHT)).collect()[0][0]
        cached.frame = cached.frame.where(f"NOT ({unfit})")
        sizes = [schema.encoded(name).size for name in names]
        return cls(cached, names, sizes, fallback, {}), int(left_out or 0)

    def counts(self, clique: Sequence[str], maps: Mapping[str, np.ndarray], sizes: Sequence[int]) -> np.ndarray:
        """The exact marginal over ``clique``, codes merged by ``maps`` first, shaped ``sizes``."""
        return self.count_set([(clique, maps, sizes)])[0]

    def count_set(self, queries: Sequence[Query]) -> list[np.ndarray]:
        """The exact marginal of each query, a set of queries counted by one Spark job (one scan
        of the rows).

        On the executors each partition counts every query of the set with ``np.bincount`` over
        its rows' flat cell indices, weighted by how many rows each distinct coded row stands
        for, and returns its non-empty cells keyed by the query's offset among all the set's
        cells plus the cell's index; one aggregation adds the partitions' counts. A set holds
        queries of at most :data:`DENSE_CELLS` cells in all (a larger query is alone in its set
        and counted by its distinct keys), so a task's tables stay bounded. Making a row per
        query and key instead (``explode``) cost about 25 times as long for 435 pairs of 1M rows.
        """
        cells = [self._cells(query[0]) for query in queries]
        if any(size > _KEY_SPACE for size in cells):
            raise DataError(f"the Spark engine counts marginals of at most 2^63 cells; one has {max(cells)}")
        results: list[np.ndarray] = []
        for batch in bounded_sets(cells, DENSE_CELLS):
            results.extend(self._count_batch([queries[i] for i in batch]))
        return results

    def _cells(self, clique: Sequence[str]) -> int:
        return math.prod(self._raw_sizes[self._index[name]] for name in clique)

    def _count_batch(self, queries: Sequence[Query]) -> list[np.ndarray]:
        offsets = np.array(list(itertools.accumulate((self._cells(query[0]) for query in queries), initial=0)))
        used = sorted({name for query in queries for name in query[0]}, key=self._index.__getitem__)
        position = {name: i for i, name in enumerate(used)}
        specs = [
            ([position[name] for name in query[0]], [self._raw_sizes[self._index[name]] for name in query[0]])
            for query in queries
        ]
        dense = int(offsets[-1]) <= DENSE_CELLS
        count = functools.partial(_partition_counts, specs, [int(o) for o in offsets], dense)
        try:
            rows = self._cached.frame.select(*(_code(self._index[name]) for name in used), WEIGHT)
            found = rows.mapInArrow(count, f"key BIGINT, {WEIGHT} BIGINT").groupBy("key").agg(
                sum_of(WEIGHT).alias(WEIGHT)
            ).toArrow()
        except Exception as error:
            raise _refusal(error) from None
        key = found.column("key").to_numpy()
        weight = found.column(WEIGHT).to_numpy()
        which = np.searchsorted(offsets, key, side="right") - 1
        results = []
        for i, (clique, maps, sizes) in enumerate(queries):
            mine = which == i
            if not clique:
                results.append(np.array(weight[mine].sum(), dtype=np.int64))
                continue
            raw = [self._raw_sizes[self._index[name]] for name in clique]
            codes = np.unravel_index(key[mine] - offsets[i], raw)
            results.append(dense_counts(clique, codes, weight[mine], [self._maps, maps], sizes))
        return results

    def coarsened(self, maps: Mapping[str, np.ndarray]) -> SparkCodes:
        """The same rows with some columns' codes merged by ``maps`` (old code -> new code)."""
        return SparkCodes(
            self._cached, list(self._index), self._raw_sizes, self.fallback, composed(self._maps, maps)
        )


def _partition_counts(
    specs: Sequence[tuple[Sequence[int], Sequence[int]]], offsets: Sequence[int], dense: bool, batches: Iterator[Any]
) -> Iterator[Any]:
    """On the executors: one partition's non-empty cells of each query, keyed by the query's
    ``offsets`` entry plus the cell's row-major index (see :meth:`SparkCodes.count_set`).

    ``specs`` gives each query's code columns (positions in the batches, the weight last) and
    their sizes. With ``dense`` (the set fits :data:`DENSE_CELLS`) each query's table is kept
    whole over the partition; else each batch's distinct keys are counted and returned.
    Weighted bincounts add in float64, exact for counts below 2^53 rows.
    """
    pa = optional("pyarrow", "the Spark engine")
    cells = [math.prod(sizes) for _, sizes in specs]
    tables = [np.zeros(size, dtype=np.float64) for size in cells] if dense else []
    for batch in batches:
        columns = [column.to_numpy(zero_copy_only=False) for column in batch.columns]
        weights = columns[-1].astype(np.float64)
        for i, (positions, sizes) in enumerate(specs):
            index = columns_index([columns[p] for p in positions], sizes) if positions else np.zeros(len(weights), int)
            if dense:
                tables[i] += np.bincount(index, weights=weights, minlength=cells[i])
                continue
            keys, inverse = np.unique(index, return_inverse=True)
            yield _keyed(pa, keys + offsets[i], np.bincount(inverse, weights=weights))
    for i, table in enumerate(tables):
        present = np.flatnonzero(table)
        yield _keyed(pa, present + offsets[i], table[present])


def _keyed(pa: Any, keys: np.ndarray, weights: np.ndarray) -> Any:
    return pa.record_batch({
        "key": pa.array(keys.astype(np.int64), type=pa.int64()),
        WEIGHT: pa.array(np.rint(weights).astype(np.int64), type=pa.int64()),
    })


def _refusal(error: Exception) -> DataError:
    # Spark's messages may quote a cell: only the kind of failure is told.
    return DataError(f"the Spark engine could not count the rows ({type(error).__name__}); use engine 'numpy'")


def _lookup(spark: Any, source: Any, view: str, j: int, dtype: Any, column: EncodedColumn) -> tuple[str, str]:
    """Register the code of each distinct present value of column ``c{j}`` (coded in memory,
    as a cell holding it is); the SQL of a cell's code through that view, and its join."""
    pa = optional("pyarrow", "the Spark engine")

    found = source.where(f"c{j} IS NOT NULL").select(f"c{j}").distinct().toArrow().column(0)
    values = found.to_pylist()
    distinct = pd.Series(np.asarray(values, dtype=object), dtype=dtype)
    codes = encode_column(distinct, column).astype(np.int32)
    lookup = f"{view}_lookup{j}"
    # The values in the column's own type (text, or a file's numbers), so that the join compares like with like.
    table = pa.table({"v": pa.array(values, type=found.type), "code": pa.array(codes, type=pa.int32())})
    spark.createDataFrame(table).createOrReplaceTempView(lookup)
    missing = UNFIT if column.missing_code is None else column.missing_code
    code = f"CASE WHEN {view}.c{j} IS NULL THEN {missing} ELSE {lookup}.code END"
    return code, f"LEFT JOIN {lookup} ON {view}.c{j} = {lookup}.v"


def _encode(
    spark: Any, frame: pd.DataFrame, schema: Schema, unit: PrivacyUnit, priority: np.ndarray | None
) -> tuple[Any, list[str]]:
    """The codes as a Spark DataFrame (see :meth:`SparkCodes.load`, unfit rows still in), and the
    columns encoded in memory."""
    pa = optional("pyarrow", "the Spark engine")

    names = list(schema.encoded_columns)
    # Columns whose cells Spark would read by rules of its own are never handed to it.
    in_sql = [j for j, name in enumerate(names) if str(frame[name].dtype) not in _IN_MEMORY_DTYPES]
    source = frame[[names[j] for j in in_sql]].set_axis([f"c{j}" for j in in_sql], axis=1)
    arrow = pa.Schema.from_pandas(source.iloc[:0], preserve_index=False)
    types = {f"c{j}": _sql_type(arrow.field(f"c{j}").type) for j in in_sql}
    native: dict[int, tuple[str, str]] = {}
    extra: dict[str, Any] = {}
    for j, name in enumerate(names):
        sql = code_sql(f"c{j}", f"p{j}", schema.encoded(name), types[f"c{j}"], SPARK_SQL) if j in in_sql else None
        if sql is not None:
            native[j] = sql
        elif j not in in_sql or types[f"c{j}"] not in TEXT:
            extra[f"f{j}"] = encode_column(frame[name], schema.encoded(name)).astype(np.int32)
    handed = source[[f"c{j}" for j in in_sql if j in native or f"f{j}" not in extra]]
    if unit.column is not None:
        # The person as pandas tells persons apart (groupby's own factorize), whatever the column holds.
        extra[UNIT] = pd.factorize(frame[unit.column])[0]
        extra[PRIORITY] = priority
    view = f"dpsynth_rows_{uuid.uuid4().hex}"
    rows = spark.createDataFrame(pa.Table.from_pandas(handed.assign(**extra), preserve_index=False))
    rows.createOrReplaceTempView(view)
    in_memory = {j for j in range(len(names)) if f"f{j}" in extra}
    dtypes = {name: frame[name].dtype for name in names}
    return _codes_frame(spark, rows, view, schema, native, in_memory, dtypes, unit)


def _codes_frame(
    spark: Any, rows: Any, view: str, schema: Schema, native: Mapping[int, tuple[str, str]], in_memory: set[int],
    dtypes: Mapping[str, Any], unit: PrivacyUnit | None,
) -> tuple[Any, list[str]]:
    """The codes of the rows registered as ``view``: ``native`` columns by SQL, those ``in_memory``
    from their codes column ``f{j}``, the rest through a lookup of their distinct values; capped
    by the unit's window when ``unit`` names a person (:data:`UNIT`, :data:`PRIORITY`); and the
    columns coded in memory. The views are dropped."""
    names = list(schema.encoded_columns)
    # Two steps: the rows read (a numeric cell read and clipped once), joined to the lookups and
    # ranked within each person; then each cell's code, for the rows the cap keeps.
    read, codes, joins, fallback = [], [], [], []
    try:
        for j, name in enumerate(names):
            if j in native:
                read.append(f"{native[j][0]} AS p{j}")
                code = native[j][1]
            elif j in in_memory:
                fallback.append(name)
                read.append(f"f{j} AS p{j}")
                code = f"p{j}"
            else:
                lookup, join = _lookup(spark, rows, view, j, dtypes[name], schema.encoded(name))
                read.append(f"{lookup} AS p{j}")
                joins.append(join)
                code = f"p{j}"
            codes.append(f"CAST({code} AS INT) AS {_code(j)}")
        capped = ""
        if unit is not None and unit.column is not None:
            # The in-memory cap's rule: a person's rows in a random order, the first max_rows kept.
            read.append(f"row_number() OVER (PARTITION BY {UNIT} ORDER BY {PRIORITY}) AS {RANK}")
            capped = f" WHERE {RANK} <= {int(unit.max_rows)}"
        selected = f"SELECT {', '.join(read) or 'NULL AS p'} FROM {view} {' '.join(joins)}"
        encoded = spark.sql(f"SELECT {', '.join(codes) or 'NULL AS k'} FROM ({selected}){capped}")
    finally:
        # spark.sql analyses the query at once: the plan holds the data, not the views' names.
        for name in [view, *(f"{view}_lookup{j}" for j in range(len(names)))]:
            spark.catalog.dropTempView(name)
    return encoded, fallback
