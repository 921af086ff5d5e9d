"""A private file's rows held by DuckDB on disk, never whole in Python: for releases larger than memory.

The file is read in chunks (:class:`dpsynth.data.load.FileTable`, each cell as
:func:`dpsynth.data.load.read_data` reads it) into a database in a private temporary folder
(removed with the rows), while the ledger's content signature is computed from the same chunks.
The holdout split, the person-level cap and the raw value counts DP discovery measures are
SQL on those rows; only a public-sized audit sample and the exact counts the door noises come
back to Python.

Holdout coins: each unit (a row, or a person: all their rows) is held out when a keyed hash
of it falls below the share (:func:`dpsynth.data.engines.coins.coin`, which Spark computes
alike), with the key drawn from the release's generator. A unit's coin depends on that unit
and the seed alone, so adding a unit moves no other one (the fitted part of D plus a unit is
the fitted part of D, or it plus that unit), the rule :mod:`dpsynth.data.split` states, with
a keyed hash in place of the generator's coin stream. A person's key is the unit cell; a row's is its position
in the file, so (as with the generator's coin stream in memory) a record inserted before other
rows shifts their keys: their coins stay independent with the stated probability, which is
what the add/remove argument needs, though not the same coins.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.data.contributions import priority_chunks
from dpsynth.data.engines.coins import coin, keyed_hash
from dpsynth.data.engines.file_columns import FileColumns, column_name
from dpsynth.data.engines.scratch import scratch_folder
from dpsynth.data.frames import arrow_to_pandas, in_dtype, with_dtypes
from dpsynth.data.load import FileTable, check_rows
from dpsynth.errors import DataError
from dpsynth.privacy.budget import PrivacyUnit
from dpsynth.privacy.identity import StreamedSignature

ROWS = "dpsynth_file_rows"
FIT = "dpsynth_fit_rows"
CAPPED = "dpsynth_capped_rows"
NUMBERED = "dpsynth_numbered_rows"
POSITION = "dpsynth_row"
HASH = "dpsynth_hash"
_HASHES = "dpsynth_signature_hashes"
_BATCH = 1_000_000
_CHUNK = "dpsynth_chunk"
_PRIORITY = "dpsynth_priority"
_NUMBER = "dpsynth_number"
# DuckDB's share of memory: past it, it spills to the private folder.
MEMORY_LIMIT = "1GB"


class StoredRows(FileColumns):
    """The rows of a file in an embedded DuckDB database on disk (see the module docstring).

    ``header`` is a frame of no rows with the file's column names and dtypes: the public facts of
    the file's format the door and the output types read.
    """

    def __init__(self, connection: Any, spill: Any, header: pd.DataFrame) -> None:
        self.connection = connection
        self._spill = spill
        super().__init__(header)
        self._unit: str | None = None
        self._seeds: list[int] = []
        connection.execute(f"CREATE VIEW {FIT} AS SELECT * FROM {ROWS}")

    @classmethod
    def ingest(cls, table: FileTable) -> tuple[StoredRows, bytes]:
        """The file's rows stored, and their content signature for the ledger
        (:func:`dpsynth.privacy.identity.content_signature` of the table :func:`read_data` reads)."""
        import duckdb

        spill = scratch_folder()
        connection = duckdb.connect(str(Path(spill.name) / "rows.duckdb"), config={
            "temp_directory": str(Path(spill.name) / "spill"), "memory_limit": MEMORY_LIMIT,
            "preserve_insertion_order": False,
        })
        signature = StreamedSignature()
        start = 0
        try:
            for chunk in table.chunks():
                hashes = signature.update(chunk)
                stored = chunk.set_axis([column_name(j) for j in range(chunk.shape[1])], axis=1)
                for name in stored.columns:
                    if isinstance(stored[name].dtype, pd.CategoricalDtype):
                        stored[name] = stored[name].astype("str")
                stored[POSITION] = np.arange(start, start + len(chunk), dtype=np.int64)
                stored[HASH] = hashes
                connection.register(_CHUNK, stored)
                if start == 0:
                    connection.execute(f"CREATE TABLE {ROWS} AS SELECT * FROM {_CHUNK}")
                else:
                    connection.execute(f"INSERT INTO {ROWS} SELECT * FROM {_CHUNK}")
                connection.unregister(_CHUNK)
                start += len(chunk)
            check_rows(table, start)
            digest = signature.digest(_sorted_hashes(connection, table, signature))
        except duckdb.Error as error:
            raise DataError(
                f"data file '{table.path}' could not be stored for DuckDB ({type(error).__name__})"
            ) from None
        return cls(connection, spill, table.header), digest

    # ------------------------------------------------------------------ holdout split
    def split(self, unit_column: str | None, share: float, rng: np.random.Generator) -> None:
        """Hold out each unit by its keyed coin (module docstring): :data:`FIT` is the rest.

        Rows naming no person are held out (never fitted: the door leaves them out anyway).
        """
        if not (isinstance(share, (int, float)) and 0 < share < 1):
            raise DataError(f"a split share must lie strictly between 0 and 1; got {share!r}")
        self._seeds = [int(s) for s in rng.integers(2**63, size=2)]
        self._unit = None if unit_column is None else self.column_sql(unit_column)
        key = self._unit or POSITION
        held = f"({key} IS NULL OR {coin(key, self._seeds[0], share)})"
        self.connection.execute(f"CREATE OR REPLACE VIEW dpsynth_held AS SELECT {held} AS held, * FROM {ROWS}")
        self.connection.execute(
            f"CREATE OR REPLACE VIEW {FIT} AS SELECT * EXCLUDE (held) FROM dpsynth_held WHERE NOT held"
        )

    def _count(self, query: str) -> int:
        return int(self.connection.execute(query).fetchall()[0][0])

    def sample(self, held: bool, cap: int) -> pd.DataFrame:
        """At most ``cap`` units of the held-out (or fitted) rows, a uniform choice among them,
        as :func:`read_data` reads their cells (in file order)."""
        key = self._unit or POSITION
        side = "held" if held else "NOT held"
        chosen = (
            f"SELECT DISTINCT {key} FROM dpsynth_held WHERE {side} AND {key} IS NOT NULL "
            f"ORDER BY {keyed_hash(key, self._seeds[1])}, {key} LIMIT {int(cap)}"
        )
        rows = self.connection.sql(
            f"SELECT * EXCLUDE (held, {POSITION}, {HASH}) FROM dpsynth_held WHERE {side} AND {key} IN ({chosen}) "
            f"ORDER BY {POSITION}"
        ).to_arrow_table()
        return with_dtypes(arrow_to_pandas(rows).set_axis(self.header.columns, axis=1), self.header)

    # --------------------------------------------------------------- person-level cap
    def cap(self, unit: PrivacyUnit, rng: np.random.Generator) -> None:
        """:data:`CAPPED`: the fitted rows naming a person, at most ``unit.max_rows`` per
        person, by the door's rule (:mod:`dpsynth.data.contributions`): the named rows in file
        order get priorities from ``rng``, streamed in chunks, and a person keeps their rows of
        lowest (priority, position)."""
        if unit.column is None:
            self.connection.execute(f"CREATE OR REPLACE VIEW {CAPPED} AS SELECT * FROM {FIT}")
            return
        person = self.column_sql(unit.column)
        self.connection.execute(
            f"CREATE OR REPLACE TABLE dpsynth_named AS SELECT *, row_number() OVER (ORDER BY {POSITION}) - 1 "
            f"AS dpsynth_rank FROM {FIT} WHERE {person} IS NOT NULL"
        )
        self.connection.execute(f"CREATE OR REPLACE TABLE {_PRIORITY} (dpsynth_rank BIGINT, p BIGINT)")
        start = 0
        for block in priority_chunks(self._count("SELECT count(*) FROM dpsynth_named"), rng):
            ranks = np.arange(start, start + len(block), dtype=np.int64)
            self.connection.register(_CHUNK, pd.DataFrame({"dpsynth_rank": ranks, "p": block}))
            self.connection.execute(f"INSERT INTO {_PRIORITY} SELECT * FROM {_CHUNK}")
            self.connection.unregister(_CHUNK)
            start += len(block)
        self.connection.execute(
            f"CREATE OR REPLACE TABLE {CAPPED} AS SELECT dpsynth_named.* EXCLUDE (dpsynth_rank) FROM dpsynth_named "
            f"JOIN {_PRIORITY} USING (dpsynth_rank) "
            f"QUALIFY row_number() OVER (PARTITION BY {person} ORDER BY p, dpsynth_rank) <= {int(unit.max_rows)}"
        )
        self.connection.execute(f"DROP TABLE {_PRIORITY}")
        self.connection.execute("DROP TABLE dpsynth_named")

    # ------------------------------------------------------------------ DP-SGD's rows
    def number_rows(self) -> int:
        """Number the capped rows 0..n-1 in file order (:data:`NUMBERED`), for DP-SGD to read
        its batches by number; n (PRIVATE: the door's sampling reads it, nothing reports it)."""
        self.connection.execute(
            f"CREATE OR REPLACE TABLE {NUMBERED} AS SELECT row_number() OVER (ORDER BY {POSITION}) - 1 AS {_NUMBER}, "
            f"* EXCLUDE ({POSITION}, {HASH}) FROM {CAPPED} ORDER BY {_NUMBER}"
        )
        return self._count(f"SELECT count(*) FROM {NUMBERED}")

    def rows_at(self, numbers: np.ndarray) -> pd.DataFrame:
        """The rows :meth:`number_rows` numbered ``numbers`` (ascending), cells as :func:`read_data` reads them."""
        self.connection.register(_CHUNK, pd.DataFrame({_NUMBER: np.asarray(numbers, dtype=np.int64)}))
        try:
            rows = self.connection.sql(
                f"SELECT {NUMBERED}.* EXCLUDE ({_NUMBER}) FROM {NUMBERED} SEMI JOIN {_CHUNK} USING ({_NUMBER}) "
                f"ORDER BY {_NUMBER}"
            ).to_arrow_table()
        finally:
            self.connection.unregister(_CHUNK)
        return with_dtypes(arrow_to_pandas(rows).set_axis(self.header.columns, axis=1), self.header)

    # ------------------------------------------------------------------ raw counts
    def value_counts(self, name: str) -> tuple[pd.Series, np.ndarray]:
        """Each distinct cell of column ``name`` among the capped rows (missing included), in the
        file's dtype, and how many rows hold it: the GROUP BY a 1-way histogram of cells reads."""
        column = self.column_sql(name)
        groups = self.connection.sql(
            f"SELECT {column} AS v, count(*) AS n FROM {CAPPED} GROUP BY ALL"
        ).to_arrow_table()
        frame = arrow_to_pandas(groups)
        values = in_dtype(frame["v"], self.header[name].dtype)
        return values.rename(name), frame["n"].to_numpy(dtype=np.int64)


def _sorted_hashes(connection: Any, table: FileTable, signature: StreamedSignature) -> Iterator[np.ndarray]:
    """The signature's row hashes in ascending order, sorted by DuckDB (out of core): those kept
    with the rows, or when the signature leaves a column out, the rows hashed again."""
    source = f"SELECT {HASH} AS h FROM {ROWS}"
    if signature.needs_second_pass:
        connection.execute(f"CREATE TABLE {_HASHES} (h UBIGINT)")
        for chunk in table.chunks():
            connection.register(_CHUNK, pd.DataFrame({"h": signature.row_hashes(chunk)}))
            connection.execute(f"INSERT INTO {_HASHES} SELECT h FROM {_CHUNK}")
            connection.unregister(_CHUNK)
        source = f"SELECT h FROM {_HASHES}"
    for batch in connection.sql(f"{source} ORDER BY h").to_arrow_reader(_BATCH):
        yield batch.column(0).to_numpy()
