"""A private table's rows read by Spark on its executors, never whole on the driver: a Parquet
file's (or a folder of Parquet files'), or a Spark DataFrame's given in Python; the role of
:class:`dpsynth.data.engines.duckdb_rows.StoredRows` on engine 'spark'.

A file: ``spark.read.parquet`` reads it; a Python function on the executors strips each text
cell and reads the empty cell and the user's null tokens as missing (:func:`read_cells`, the
cells :func:`dpsynth.data.load.read_data` reads); the rows are persisted by Spark. A row's
position is its index in its file (``_metadata.row_index``) plus the rows of the files before
it in name order, as the DuckDB engine numbers them.

A Spark DataFrame (:meth:`SparkRows.from_frame`) is not a file: its cells are taken as
:func:`dpsynth.data.frames.to_pandas` gives them to the in-memory path, with no null tokens and
no stripping, and its rows are persisted. A row's position is Spark's
``monotonically_increasing_id``: the order ``to_pandas`` collects the rows in, which numbers the
person-level cap's priorities and orders the audit's samples. A DataFrame has no row order of
its own (a shuffle above it may deal its rows otherwise on another run), so the holdout coin of
a row naming no person is keyed by its content, not its position: the k-th copy of a row's
cells (in position order) gets the coin of (the MD5 of those cells, k). Identical rows are
interchangeable, so the held-out rows are the same whatever the partitioning, and adding or
removing one record changes no other record's coin (:meth:`SparkRows._content_keyed`). The
numpy engine given the same rows draws its coins from the release's generator (a row's by its
position, a person's by first appearance): it holds out other rows, so with the audit on a
seeded release differs from the numpy engine's; with the audit off it is the same. A person is
keyed by their cell's text, as in a file, so with a privacy unit the rows held out are those the
DuckDB engine holds out of the same rows in a Parquet file.

What reaches the driver: the ledger's content signature (the executors hash each row as
:class:`dpsynth.privacy.identity.StreamedSignature` does; the row hashes are sorted by Spark and
streamed to the driver's digest a batch at a time, never collected whole; the signature is a
function of the multiset of rows, so a DataFrame's is ``content_signature(to_pandas(frame))``),
whether each column is constant (which the signature's canonical form decides), the number of
named rows in each block of positions (to number them for the cap's priorities), the audit's
bounded samples, and each column's distinct cells with their counts for DP discovery. None of
it leaves the process but through the door's noisy measurements and the custodian's audit; a
Spark error becomes a one-line DataError naming its kind, never a cell.

The holdout coins are :mod:`dpsynth.data.engines.coins`' (the DuckDB engine's), keyed by the
position (a file), the content (a DataFrame) or by the unit cell's text; the cap is
:meth:`StoredRows.cap`'s rule with the same priorities, so the same seed fits the same rows on
both engines. Spark reads only columns of integers (but unsigned 64-bit ones, which it reads as
decimals), floats, booleans and text (dictionary-encoded text included), and columns of nulls
only: their cells and the text of a person's cell are the same in both dialects. A file or a
DataFrame with a column of another type is refused (use engine 'duckdb').
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.data.contributions import priority_chunks
from dpsynth.data.engines.coins import coin, keyed_hash
from dpsynth.data.engines.file_columns import FileColumns, column_name
from dpsynth.data.engines.spark_codes import Cached, session
from dpsynth.data.engines.sql_encoding import SPARK_SQL
from dpsynth.data.frames import arrow_to_pandas, in_dtype, optional, with_dtypes
from dpsynth.data.load import FileTable, check_rows, read_cells
from dpsynth.errors import DataError
from dpsynth.privacy.budget import PrivacyUnit
from dpsynth.privacy.identity import StreamedSignature

POSITION = "dpsynth_row"
HELD = "dpsynth_held"
RANK = "dpsynth_rank"
PRIORITY = "dpsynth_priority"
_BLOCK = "dpsynth_block"
_OFFSET = "dpsynth_offset"
_KEEP = "dpsynth_keep"
CONTENT = "dpsynth_content"
_CELLS = "dpsynth_cells"
# The content of a row of no cells but nulls: one text for all of them.
_EMPTY_ROW = "'none', 0"
# Positions per block when the named rows are numbered: a block's rows are numbered on one executor.
BLOCK_ROWS = 1 << 22
# A row hash is unsigned; Spark's BIGINT is signed: flipping the top bit keeps the order.
_SIGN = np.uint64(1 << 63)


class SparkRows(FileColumns):
    """The rows of a Parquet file or folder as a persisted Spark DataFrame (module docstring).

    ``header`` is a frame of no rows with the file's column names and dtypes, as for
    :class:`StoredRows`; :attr:`capped` is the rows the door counts once :meth:`cap` has run.
    """

    def __init__(
        self, rows: Cached, header: pd.DataFrame, keys: Sequence[bool], nulls: Sequence[str], ordered: bool = True
    ) -> None:
        self._rows = rows
        self._ordered = ordered
        self._nulls = list(nulls)
        super().__init__(header)
        self._keys = list(keys)
        self._held = rows.frame.selectExpr(f"false AS {HELD}", "*")
        self._key: str = POSITION
        self._seeds: list[int] = []
        self._capped: Cached | None = None

    @classmethod
    def ingest(cls, table: FileTable) -> tuple[SparkRows, bytes]:
        """The file's rows read by Spark, and their content signature for the ledger
        (:func:`dpsynth.privacy.identity.content_signature` of the table :func:`read_data` reads)."""
        if table.csv is not None:
            raise DataError(f"data file '{table.path}': the Spark engine reads a Parquet file or folder here")
        parts = table.parts or (table.path,)
        fields, keys, nulls = _fields(parts[0], table.header)

        def read(spark: Any) -> Any:
            raw = spark.read.parquet(*(str(part) for part in parts))
            selected = raw.selectExpr(
                *(f"{_quoted(name)} AS {column_name(j)}" for j, name in enumerate(fields)),
                f"{_position_sql(parts)} AS {POSITION}",
            )
            text = [j for j, field in enumerate(selected.schema.fields[:-1]) if field.dataType.typeName() == "string"]
            cells = functools.partial(_read_cells, text, table.na_values)
            return selected.mapInArrow(cells, selected.schema)

        return cls._persisted(
            read, table.header, keys, nulls, f"data file '{table.path}'", functools.partial(check_rows, table)
        )

    @classmethod
    def from_frame(cls, frame: Any) -> tuple[SparkRows, bytes]:
        """A Spark DataFrame's rows where Spark holds them, never collected, and their content
        signature for the ledger (:func:`content_signature` of ``to_pandas(frame)``): module docstring."""
        header, keys, nulls = frame_header(frame)

        def read(spark: Any) -> Any:
            from pyspark.sql import functions

            renamed = frame.toDF(*(column_name(j) for j in range(len(header.columns))))
            return renamed.withColumn(POSITION, functions.monotonically_increasing_id())

        return cls._persisted(read, header, keys, nulls, "the Spark DataFrame", None, ordered=False)

    @classmethod
    def _persisted(
        cls, read: Callable[[Any], Any], header: pd.DataFrame, keys: Sequence[bool], nulls: Sequence[str],
        source: str, check: Callable[[int], None] | None, ordered: bool = True,
    ) -> tuple[SparkRows, bytes]:
        """The rows ``read`` gives (the engine's columns and :data:`POSITION`) persisted, and their
        signature; any Spark error is told by its kind only (a message may quote a cell)."""
        spark = session()
        try:
            rows = Cached(read(spark).persist())
            n_rows = rows.frame.count()
            if check is not None:
                check(n_rows)
            digest = _signature(rows.frame.drop(POSITION), [str(name) for name in header.columns], n_rows)
        except DataError:
            raise
        except Exception as error:
            raise DataError(f"{source} could not be read by Spark ({type(error).__name__})") from None
        return cls(rows, header, keys, nulls, ordered), digest

    @property
    def capped(self) -> Any:
        """The fitted rows the door counts, capped per person (after :meth:`cap`)."""
        if self._capped is None:
            raise DataError("the rows read by Spark are counted once the person-level cap has run")
        return self._capped.frame

    # ------------------------------------------------------------------ holdout split
    def split(self, unit_column: str | None, share: float, rng: np.random.Generator) -> None:
        """Hold out each unit by its keyed coin, as :meth:`StoredRows.split` does (the same coins)."""
        if not (isinstance(share, (int, float)) and 0 < share < 1):
            raise DataError(f"a split share must lie strictly between 0 and 1; got {share!r}")
        self._key = self.column_sql(unit_column) if unit_column is not None else POSITION if self._ordered else CONTENT
        if unit_column is not None and not self._keys[self._index[unit_column]]:
            raise DataError(
                f"privacy unit column '{unit_column}': the Spark engine keys persons by integers, text or "
                "booleans (other cells read as other text in Spark and DuckDB); use engine 'duckdb'"
            )
        self._seeds = [int(s) for s in rng.integers(2**63, size=2)]
        held = f"({self._key} IS NULL OR {coin(self._key, self._seeds[0], share)})"
        rows = self._content_keyed() if self._key == CONTENT else self._rows.frame
        self._held = rows.selectExpr(f"{held} AS {HELD}", "*")

    def _content_keyed(self) -> Any:
        """The rows with their :data:`CONTENT` key: the MD5 of the row's cells as
        :func:`to_pandas` reads them (NaN missing, as pandas reads it), then the row's copy
        number among the rows of those very cells, in position order."""
        from pyspark.sql import Window, functions

        # Neighbouring tables: a row's key depends on its own cells and on how many copies of
        # them come before it, nothing else. Adding a record r adds one copy of r's cells: the
        # rows of other cells keep their keys, and the copies of r hold the keys they held plus
        # one more; copies are interchangeable, so the table gains r with a coin of its own and
        # every other record keeps its coin (removing one is the same step backwards). The
        # partitioning only changes which copy holds which number. Two rows of different cells
        # share an MD5 with probability about n^2 / 2^129, a collision that only numbers them as
        # copies of one another.

        fields = [field for field in self._rows.frame.schema.fields if field.name != POSITION]
        floats = {field.name for field in fields if field.dataType.typeName() in ("float", "double")}
        # A column of nulls only holds no content (and to_json has no text for its type).
        cells = ", ".join(
            f"'{field.name}', " + (f"CASE WHEN isnan({field.name}) THEN NULL ELSE {field.name} END"
                                   if field.name in floats else field.name)
            for field in fields if field.dataType.typeName() != "void"
        )
        # Nulls are left out of the text, at every Spark setting: the fields present tell which.
        text = f"to_json(named_struct({cells or _EMPTY_ROW}), map('ignoreNullFields', 'true'))"
        copy = functions.row_number().over(Window.partitionBy(_CELLS).orderBy(POSITION)) - 1
        return (
            self._rows.frame.withColumn(_CELLS, _expr(f"md5({text})"))
            .withColumn(CONTENT, functions.concat_ws(":", _CELLS, copy.cast("string")))
            .drop(_CELLS)
        )

    @property
    def _fit(self) -> Any:
        return self._held.where(f"NOT {HELD}").drop(HELD, CONTENT)

    def sample(self, held: bool, cap: int) -> pd.DataFrame:
        """At most ``cap`` units of the held-out (or fitted) rows, a uniform choice among them,
        as :func:`read_data` reads their cells (in position order): :meth:`StoredRows.sample`'s."""
        side = self._held.where(HELD if held else f"NOT {HELD}")
        try:
            chosen = (
                side.where(f"{self._key} IS NOT NULL").select(self._key).distinct()
                .orderBy(_expr(keyed_hash(self._key, self._seeds[1])), self._key).limit(int(cap))
            )
            # A join on a named column puts that column first: the file's order is selected again.
            cells = [column_name(j) for j in range(len(self._index))]
            rows = side.join(chosen, self._key, "left_semi").orderBy(POSITION).select(*cells).toArrow()
        except Exception as error:
            raise _refusal(error) from None
        frame = with_dtypes(arrow_to_pandas(rows).set_axis(self.header.columns, axis=1), self.header)
        # A column of nulls only reads as None cells (Spark gives it a type of its own).
        return frame.assign(**{name: _nones(frame.index) for name in self._nulls})

    # --------------------------------------------------------------- person-level cap
    def cap(self, unit: PrivacyUnit, rng: np.random.Generator) -> None:
        """:attr:`capped`: the fitted rows naming a person, at most ``unit.max_rows`` per person,
        by :meth:`StoredRows.cap`'s rule: the named rows in file order get priorities from
        ``rng``, shipped to Spark in chunks, and a person keeps their rows of lowest
        (priority, position)."""
        try:
            if unit.column is None:
                self._capped = Cached(self._fit.persist())
                return
            self._capped = Cached(self._capped_rows(self.column_sql(unit.column), int(unit.max_rows), rng).persist())
        except DataError:
            raise
        except Exception as error:
            raise _refusal(error) from None

    def _capped_rows(self, person: str, max_rows: int, rng: np.random.Generator) -> Any:
        from pyspark.sql import Window, functions

        spark = session()
        pa = optional("pyarrow", "the Spark engine")
        named = self._fit.where(f"{person} IS NOT NULL").withColumn(_BLOCK, _expr(f"{POSITION} DIV {BLOCK_ROWS}"))
        # Each row's number among the named rows in file order: its block's offset (the named
        # rows of the blocks before it) plus its rank within the block, a window per block.
        blocks = sorted((int(b), int(n)) for b, n in named.groupBy(_BLOCK).count().collect())
        sizes = np.array([n for _, n in blocks], dtype=np.int64)
        offsets = spark.createDataFrame(pa.table({
            _BLOCK: pa.array([b for b, _ in blocks], type=pa.int64()),
            _OFFSET: pa.array(np.cumsum(sizes) - sizes, type=pa.int64()),
        }))
        within = functions.row_number().over(Window.partitionBy(_BLOCK).orderBy(POSITION))
        ranked = named.join(functions.broadcast(offsets), _BLOCK).withColumn(
            RANK, functions.col(_OFFSET) + within - 1
        ).drop(_BLOCK, _OFFSET)
        priorities, start = None, 0
        for chunk in priority_chunks(int(sizes.sum()), rng):
            ranks = np.arange(start, start + len(chunk), dtype=np.int64)
            frame = spark.createDataFrame(pa.table({RANK: ranks, PRIORITY: chunk}))
            priorities = frame if priorities is None else priorities.unionAll(frame)
            start += len(chunk)
        if priorities is None:
            return named.drop(_BLOCK)
        keep = functions.row_number().over(Window.partitionBy(person).orderBy(PRIORITY, RANK))
        return (
            ranked.join(priorities, RANK).withColumn(_KEEP, keep).where(functions.col(_KEEP) <= max_rows)
            .drop(RANK, PRIORITY, _KEEP)
        )

    # ------------------------------------------------------------------ raw counts
    def value_counts(self, name: str) -> tuple[pd.Series, np.ndarray]:
        """Each distinct cell of column ``name`` among the capped rows (missing included), in the
        file's dtype, and how many rows hold it: :meth:`StoredRows.value_counts`'s GROUP BY."""
        column = self.column_sql(name)
        try:
            groups = self.capped.groupBy(column).count().toArrow()
        except Exception as error:
            raise _refusal(error) from None
        frame = arrow_to_pandas(groups)
        values = frame[column]
        if name in self._nulls:
            values = _nones(values.index)
        return in_dtype(values, self.header[name].dtype).rename(name), frame["count"].to_numpy(dtype=np.int64)


def _nones(index: pd.Index) -> pd.Series:
    return pd.Series([None] * len(index), index=index, dtype=object)


def _refusal(error: Exception) -> DataError:
    # Spark's messages may quote a cell: only the kind of failure is told.
    return DataError(f"the Spark engine could not read the rows ({type(error).__name__}); use engine 'duckdb'")


def _expr(sql: str) -> Any:
    from pyspark.sql import functions

    return functions.expr(sql)


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _fields(path: Path, header: pd.DataFrame) -> tuple[list[str], list[bool], list[str]]:
    """The Parquet field of each column of ``header`` (a pandas index stored as a column is
    none), whether a person may be keyed by its cells, and the columns of nulls only; refuses a
    type Spark reads otherwise."""
    schema = optional("pyarrow.parquet", "reading a Parquet file").read_schema(path)
    index = {name for name in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(name, str)}
    fields = [field for field in schema if field.name not in index]
    if len(fields) != len(header.columns):
        raise DataError(f"data file '{path}': the Spark engine cannot tell its columns from its index")
    types = [field.type for field in fields]
    keys, nulls = _kinds([str(name) for name in header.columns], types, [str(kind) for kind in types])
    return [field.name for field in fields], keys, nulls


def frame_header(frame: Any) -> tuple[pd.DataFrame, list[bool], list[str]]:
    """A frame of no rows with a Spark DataFrame's column names and the dtypes
    :func:`dpsynth.data.frames.to_pandas` gives them (read from its schema: no job runs), whether
    a person may be keyed by each column's cells, and the columns of nulls only; refuses a type
    the Spark rows do not carry, and two columns of one name."""
    pa = optional("pyarrow", "the Spark engine")
    from pyspark.sql.pandas.types import to_arrow_type

    names = [str(name) for name in frame.columns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"the Spark DataFrame has two columns named '{repeated[0]}'")
    types = []
    for field in frame.schema.fields:
        try:
            types.append(to_arrow_type(field.dataType, timezone="UTC"))
        except Exception:  # a type Arrow does not carry: refused below, by its Spark name
            types.append(pa.binary())
    keys, nulls = _kinds(names, types, [field.dataType.simpleString() for field in frame.schema.fields])
    header = arrow_to_pandas(pa.schema([pa.field(name, kind) for name, kind in zip(names, types)]).empty_table())
    return header, keys, nulls


def _kinds(names: Sequence[str], types: Sequence[Any], shown: Sequence[str]) -> tuple[list[bool], list[str]]:
    """Whether a person may be keyed by the cells of each column of Arrow type ``types`` (integers,
    text, booleans), and the columns of nulls only; refuses, in one line naming the column and its
    type as ``shown``, a type whose cells Spark reads otherwise than memory does."""
    pa = optional("pyarrow", "the Spark engine")
    keys = []
    for name, field_type, kind_shown in zip(names, types, shown):
        kind = field_type.value_type if pa.types.is_dictionary(field_type) else field_type
        text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        integer = pa.types.is_integer(kind) and kind != pa.uint64()
        other = (pa.types.is_boolean, pa.types.is_float32, pa.types.is_float64, pa.types.is_null)
        if not (text or integer or any(is_type(kind) for is_type in other)):
            raise DataError(
                f"column '{name}' holds {kind_shown}: the Spark engine reads columns of integers, floats, "
                "booleans and text; use engine 'duckdb'"
            )
        keys.append(text or integer or pa.types.is_boolean(kind))
    return keys, [name for name, kind in zip(names, types) if pa.types.is_null(kind)]


def _position_sql(parts: Sequence[Path]) -> str:
    """SQL of a row's position: its index in its file plus the rows of the files before it."""
    if len(parts) == 1:
        return "_metadata.row_index"
    parquet = optional("pyarrow.parquet", "reading a Parquet file")
    sizes = [parquet.ParquetFile(part).metadata.num_rows for part in parts]
    offsets = np.cumsum(sizes) - np.array(sizes)
    cases = " ".join(f"WHEN {SPARK_SQL.text(part.name)} THEN {int(o)}" for part, o in zip(parts, offsets))
    return f"(CASE _metadata.file_name {cases} END + _metadata.row_index)"


def _read_cells(text: Sequence[int], na_values: Sequence[str], batches: Iterator[Any]) -> Iterator[Any]:
    """On the executors: each batch with its text cells as :func:`read_data` reads them."""
    pa = optional("pyarrow", "the Spark engine")
    for batch in batches:
        columns = list(batch.columns)
        if text:
            cells = read_cells(arrow_to_pandas(batch.select(text)), na_values)
            for j, name in zip(text, cells.columns):
                columns[j] = pa.array(cells[name], type=batch.schema.field(j).type, from_pandas=True)
        yield pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def _cells(batch: Any, names: Sequence[str]) -> pd.DataFrame:
    return arrow_to_pandas(batch).set_axis(list(names), axis=1)


def _columns_seen(names: Sequence[str], batches: Iterator[Any]) -> Iterator[Any]:
    """On the executors: for each batch, each column with a present cell, the hash of its first
    one and whether another differs (:meth:`StreamedSignature.columns_seen`)."""
    pa = optional("pyarrow", "the Spark engine")
    for batch in batches:
        signature = StreamedSignature()
        signature.update(_cells(batch, names))
        seen = signature.columns_seen()
        firsts = np.array([first for first, _ in seen.values()], dtype=np.uint64).view(np.int64)
        yield pa.record_batch({
            "name": pa.array(list(seen), type=pa.string()), "first": pa.array(firsts, type=pa.int64()),
            "varies": pa.array([varies for _, varies in seen.values()], type=pa.bool_()),
        })


def _row_hashes(names: Sequence[str], varies: Sequence[str], batches: Iterator[Any]) -> Iterator[Any]:
    """On the executors: the signature's row hashes, their top bit flipped (signed order)."""
    pa = optional("pyarrow", "the Spark engine")
    signature = StreamedSignature.merged(names, varies, 0)
    for batch in batches:
        hashes = signature.row_hashes(_cells(batch, names)) ^ _SIGN
        yield pa.record_batch({"h": pa.array(hashes.view(np.int64), type=pa.int64())})


def _packed(batches: Iterator[Any]) -> Iterator[Any]:
    """On the executors: each batch of sorted (flipped) hashes as one cell of little-endian bytes."""
    pa = optional("pyarrow", "the Spark engine")
    for batch in batches:
        hashes = batch.column(0).to_numpy().view(np.uint64) ^ _SIGN
        yield pa.record_batch({"b": pa.array([hashes.astype("<u8").tobytes()], type=pa.binary())})


def _signature(rows: Any, names: list[str], n_rows: int) -> bytes:
    """:func:`content_signature` of the rows: which columns vary (one aggregation), then the row
    hashes over those, sorted by Spark and read by the digest in order, a batch at a time."""
    from pyspark.sql import functions

    seen = rows.mapInArrow(functools.partial(_columns_seen, names), "name string, first long, varies boolean")
    facts = seen.groupBy("name").agg(
        functions.max("varies").alias("varies"), functions.countDistinct("first").alias("firsts")
    ).collect()
    varies = sorted(str(name) for name, varied, firsts in facts if varied or firsts > 1)
    signature = StreamedSignature.merged(names, varies, n_rows)
    if not varies:
        return signature.digest(())
    hashes = rows.mapInArrow(functools.partial(_row_hashes, names, varies), "h long")
    # Range partitions, one per core, each sorted: toLocalIterator reads them in order, a job each.
    parts = rows.sparkSession.sparkContext.defaultParallelism
    packed = hashes.repartitionByRange(parts, "h").sortWithinPartitions("h").mapInArrow(_packed, "b binary")
    return signature.digest(np.frombuffer(row[0], dtype="<u8") for row in packed.toLocalIterator())
