"""The DuckDB engine: rows encoded by SQL in an embedded database; marginals are GROUP BY counts.

The schema's codes are SQL expressions (:mod:`dpsynth.data.engines.sql_encoding`), or for text
SQL cannot read as memory does (numbers, dates) a lookup of the column's distinct values; a
column of another type (object, category, datetime dtypes) is encoded in memory and handed to
DuckDB as codes (its name is on :attr:`DuckdbCodes.fallback`). The person-level cap is a
window over the unit column, ordered by a priority the door draws from its generator, so it
keeps the very rows the in-memory cap keeps. Only exact counts of public-sized marginals come
back; the door draws the noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.data.engines.duckdb_rows import CAPPED, StoredRows
from dpsynth.data.engines.groups import Query, composed, dense_counts
from dpsynth.data.engines.scratch import scratch_folder
from dpsynth.data.engines.sql_encoding import TEXT, code_sql, quoted
from dpsynth.errors import DataError
from dpsynth.privacy.budget import PrivacyUnit
from dpsynth.schema import Schema
from dpsynth.schema.columns import EncodedColumn
from dpsynth.schema.encoding import UNFIT, encode_column

SOURCE = "dpsynth_rows"
CODES = "dpsynth_codes"
PRIORITY = "dpsynth_priority"
UNIT = "dpsynth_unit"
# pandas dtypes whose cells DuckDB reads by its own rules (an object column's mixed values, a
# category's labels): such columns are encoded in memory.
_IN_MEMORY_DTYPES = ("object", "category")


def _code(j: int) -> str:
    return f"k{j}"


def _lookup_name(j: int) -> str:
    return f"dpsynth_lookup{j}"


def _lookup(connection: Any, j: int, dtype: Any, column: EncodedColumn) -> str:
    """Register the code of each distinct present value of text column ``c{j}`` (coded in
    memory, as a cell holding it is) and return the SQL of a cell's code through that table."""
    values = connection.execute(f"SELECT DISTINCT c{j} AS v FROM {SOURCE} WHERE c{j} IS NOT NULL").fetchnumpy()["v"]
    distinct = pd.Series(np.asarray(values, dtype=object), dtype=dtype)
    codes = encode_column(distinct, column).astype(np.int32)
    connection.register(_lookup_name(j), pd.DataFrame({"v": distinct, "code": codes}))
    missing = UNFIT if column.missing_code is None else column.missing_code
    return f"CASE WHEN {SOURCE}.c{j} IS NULL THEN {missing} ELSE {_lookup_name(j)}.code END"


class DuckdbCodes:
    """Encoded rows in an embedded DuckDB database (no server); exact marginals by SQL.

    The database lives in memory and spills to a private temporary folder of its own (removed
    with the engine), never to DuckDB's default folder beside the working directory.
    """

    def __init__(
        self, connection: Any, spill: Any, columns: Sequence[str], fallback: Sequence[str],
        maps: Mapping[str, np.ndarray],
    ) -> None:
        self._connection = connection
        self._spill = spill
        self._index = {name: j for j, name in enumerate(columns)}
        self.fallback = tuple(fallback)
        self._maps = dict(maps)

    @classmethod
    def load(
        cls, frame: pd.DataFrame, schema: Schema, unit: PrivacyUnit, priority: np.ndarray | None
    ) -> tuple[DuckdbCodes, int]:
        """The rows of ``frame`` encoded with ``schema``, capped per unit (at most ``unit.max_rows``
        rows of each person, the lowest ``priority`` first), and how many rows were left out for
        a cell their column has no code for (PRIVATE: the door only says whether any were).

        A column is encoded by an SQL expression of the schema where SQL reads its cells as
        memory does (:mod:`dpsynth.data.engines.sql_encoding`); else, for text, by a lookup of
        its distinct values coded in memory (each cell's code depends on that cell alone, so
        coding the distinct values codes every cell); else in memory, row by row (``fallback``).
        """
        import duckdb

        spill = scratch_folder()
        connection = duckdb.connect(config={"temp_directory": spill.name})
        try:
            fallback, left_out = _encode(connection, frame, schema, unit, priority)
        except duckdb.Error as error:
            raise _refusal(error) from None
        return cls(connection, spill, schema.encoded_columns, fallback, {}), left_out

    @classmethod
    def from_rows(cls, rows: StoredRows, schema: Schema) -> tuple[DuckdbCodes, int]:
        """The capped rows of a file held by DuckDB (:mod:`dpsynth.data.engines.duckdb_rows`)
        encoded with ``schema`` in the same database, and how many rows were left out (as
        :meth:`load`). Every column is coded by SQL or a lookup of its distinct values: none
        comes to memory row by row."""
        import duckdb

        try:
            left_out = _stored_codes(rows.connection, rows, schema)
        except duckdb.Error as error:
            raise _refusal(error) from None
        return cls(rows.connection, rows, schema.encoded_columns, (), {}), left_out

    def counts(self, clique: Sequence[str], maps: Mapping[str, np.ndarray], sizes: Sequence[int]) -> np.ndarray:
        """The exact marginal over ``clique``, codes merged by ``maps`` first, shaped ``sizes``.

        DuckDB returns the non-empty cells only; the merge and the dense table are made here.
        """
        shape = tuple(int(s) for s in sizes)
        if not clique:
            total = self._connection.execute(f"SELECT count(*) FROM {CODES}").fetchone()
            return np.array(int(total[0]) if total else 0, dtype=np.int64)
        import duckdb

        keys = [_code(self._index[name]) for name in clique]
        try:
            groups = self._connection.execute(
                f"SELECT {', '.join(keys)}, count(*) AS n FROM {CODES} GROUP BY ALL"
            ).fetchnumpy()
        except duckdb.Error as error:
            raise _refusal(error) from None
        return dense_counts(clique, [groups[key] for key in keys], groups["n"], [self._maps, maps], shape)

    def count_set(self, queries: Sequence[Query]) -> list[np.ndarray]:
        """The exact marginal of each query (see :meth:`counts`): an embedded query costs little,
        so each is its own GROUP BY."""
        return [self.counts(*query) for query in queries]

    def coarsened(self, maps: Mapping[str, np.ndarray]) -> DuckdbCodes:
        """The same rows with some columns' codes merged by ``maps`` (old code -> new code)."""
        return DuckdbCodes(self._connection, self._spill, list(self._index), self.fallback, composed(self._maps, maps))


def _refusal(error: Exception) -> DataError:
    # DuckDB's messages may quote a cell: only the kind of failure is told.
    return DataError(f"the DuckDB engine could not count the rows ({type(error).__name__}); use engine 'numpy'")


def _encode(
    connection: Any, frame: pd.DataFrame, schema: Schema, unit: PrivacyUnit, priority: np.ndarray | None
) -> tuple[list[str], int]:
    """Create the codes table (see :meth:`DuckdbCodes.load`); the columns encoded in memory, and
    how many rows were left out for a cell without a code."""
    names = list(schema.encoded_columns)
    # Columns whose cells DuckDB would read by rules of its own are never handed to it.
    in_sql = [j for j, name in enumerate(names) if str(frame[name].dtype) not in _IN_MEMORY_DTYPES]
    source = frame[[names[j] for j in in_sql]].set_axis([f"c{j}" for j in in_sql], axis=1)
    types: dict[str, str] = {}
    if in_sql:
        connection.register(SOURCE, source.iloc[:0])
        types = dict(connection.execute(f"SELECT column_name, column_type FROM (DESCRIBE {SOURCE})").fetchall())
        connection.unregister(SOURCE)
    native: dict[int, tuple[str, str]] = {}
    extra: dict[str, Any] = {}
    for j, name in enumerate(names):
        sql = code_sql(quoted(f"c{j}"), f"p{j}", schema.encoded(name), types[f"c{j}"]) if j in in_sql else None
        if sql is not None:
            native[j] = sql
        elif j not in in_sql or types[f"c{j}"] not in TEXT:
            extra[f"f{j}"] = encode_column(frame[name], schema.encoded(name)).astype(np.int32)
    if unit.column is not None:
        # The person as pandas tells persons apart (groupby's own factorize), whatever the column holds.
        extra[UNIT] = pd.factorize(frame[unit.column])[0]
        extra[PRIORITY] = priority
    connection.register(SOURCE, source.assign(**extra) if extra else source)
    capped = ""
    if unit.column is not None:
        # The in-memory cap's rule: a person's rows in a random order, the first max_rows kept.
        capped = f" QUALIFY row_number() OVER (PARTITION BY {UNIT} ORDER BY {PRIORITY}) <= {int(unit.max_rows)}"
    dtypes = {name: frame[name].dtype for name in names}
    in_memory = {j for j in range(len(names)) if f"f{j}" in extra}
    fallback, left_out = _codes_table(connection, schema, native, in_memory, dtypes, capped)
    connection.unregister(SOURCE)
    return fallback, left_out


def _stored_codes(connection: Any, rows: StoredRows, schema: Schema) -> int:
    """Create the codes table from the capped stored rows: each column by its schema's SQL, or a
    lookup of its distinct values coded in memory; how many rows were left out."""
    names = list(schema.encoded_columns)
    renamed = ", ".join(f"{rows.column_sql(name)} AS c{j}" for j, name in enumerate(names)) or "NULL AS c0"
    connection.execute(f"CREATE OR REPLACE TEMP VIEW {SOURCE} AS SELECT {renamed} FROM {CAPPED}")
    types = dict(connection.execute(f"SELECT column_name, column_type FROM (DESCRIBE {SOURCE})").fetchall())
    native: dict[int, tuple[str, str]] = {}
    for j, name in enumerate(names):
        sql = code_sql(quoted(f"c{j}"), f"p{j}", schema.encoded(name), types[f"c{j}"])
        if sql is not None:
            native[j] = sql
    dtypes = {name: rows.header[name].dtype for name in names}
    return _codes_table(connection, schema, native, set(), dtypes, "")[1]


def _codes_table(
    connection: Any, schema: Schema, native: Mapping[int, tuple[str, str]], in_memory: set[int],
    dtypes: Mapping[str, Any], capped: str,
) -> tuple[list[str], int]:
    """Create the codes table from the :data:`SOURCE` rows: ``native`` columns by SQL, those
    ``in_memory`` from their codes column ``f{j}``, the rest through a lookup; the columns coded
    in memory, and how many rows were left out for a cell without a code."""
    names = list(schema.encoded_columns)
    # Two steps: the rows read (a numeric cell read and clipped once), joined to the lookups
    # and capped; then each cell's code.
    read, codes, joins, fallback = [], [], [], []
    for j, name in enumerate(names):
        if j in native:
            read.append(f"{native[j][0]} AS p{j}")
            code = native[j][1]
        elif j in in_memory:
            fallback.append(name)
            read.append(f"f{j} AS p{j}")
            code = f"p{j}"
        else:
            read.append(f"{_lookup(connection, j, dtypes[name], schema.encoded(name))} AS p{j}")
            joins.append(f"LEFT JOIN {_lookup_name(j)} ON {SOURCE}.c{j} = {_lookup_name(j)}.v")
            code = f"p{j}"
        codes.append(f"CAST({code} AS INTEGER) AS {_code(j)}")
    rows = f"SELECT {', '.join(read) or 'NULL'} FROM {SOURCE} {' '.join(joins)}{capped}"
    connection.execute(f"CREATE TABLE {CODES} AS SELECT {', '.join(codes)} FROM ({rows})")
    unfit = " OR ".join(f"{_code(j)} = {UNFIT}" for j in range(len(names))) or "false"
    left_out = connection.execute(f"DELETE FROM {CODES} WHERE {unfit}").fetchall()
    return fallback, int(left_out[0][0]) if left_out else 0
