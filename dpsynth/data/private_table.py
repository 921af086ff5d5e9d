"""The door: the only object of a release that holds private rows.

Its public operations are DP measurements. Each one builds its privacy event, charges the
release's accountant (which refuses before anything changes), and only then counts and draws
noise; what it returns is noisy and may leave. Column names, the schema and the unit of
privacy are public. Nothing else about the rows is exposed: the rows live in private
attributes, and no method returns an exact count, a minimum, a maximum or a category list.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.data.contributions import bound_contributions, rank_of, unit_order
from dpsynth.data.engines import DUCKDB, NUMPY, SPARK, check_engine
from dpsynth.data.engines.duckdb_codes import DuckdbCodes
from dpsynth.data.engines.duckdb_rows import StoredRows
from dpsynth.data.engines.groups import Query, bounded_sets
from dpsynth.data.engines.numpy_codes import NumpyCodes
from dpsynth.data.engines.spark_codes import SparkCodes
from dpsynth.data.engines.spark_rows import SparkRows
from dpsynth.data.scores import SCORES, Score
from dpsynth.errors import BudgetError, DataError, SchemaError
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import DOMAIN, MARGINAL, NEURAL, PrivacyUnit
from dpsynth.privacy.dpsgd import DpsgdPlan, DpsgdTrainer, RowsInMemory
from dpsynth.privacy.events import (
    DiscreteGaussianMechanism,
    ExponentialMechanism,
    ThresholdedHistogramMechanism,
)
from dpsynth.privacy.noise import NoiseSource, discrete_gaussian, exponential_mechanism
from dpsynth.schema import Numeric, Schema, encode
from dpsynth.schema.encoding import check_columns, string_forms
from dpsynth.schema.fine import fine_position
from dpsynth.schema.kinds import VALUE_CLASSES, parse_instants, parse_numbers, value_classes
from dpsynth.validation import integer

logger = logging.getLogger(__name__)

Clique = tuple[str, ...]


# Cells of exact marginals the door keeps for reuse (int64: 128 MiB at most).
CACHE_CELLS = 2**24


class _CountCache:
    """Exact marginals counted once, up to CACHE_CELLS cells in all (then no more are kept)."""

    def __init__(self) -> None:
        self._tables: dict[Any, np.ndarray] = {}
        self._cells = 0

    def get(self, key: Any) -> np.ndarray | None:
        return self._tables.get(key)

    def put(self, key: Any, counts: np.ndarray) -> None:
        if self._cells + counts.size <= CACHE_CELLS:
            self._tables[key] = counts
            self._cells += counts.size


class PrivateTable:
    """Private rows behind DP measurements charged to one accountant.

    ``frame`` is the raw private table; the accountant's unit says whose privacy is protected.
    With a person column, each person keeps at most ``unit.max_rows`` rows (rows naming no
    person are left out) and every sensitivity is multiplied by ``max_rows``. ``on_measure``
    is called after each charge, before its noisy answer is drawn: the ledger marks the spend
    as spent there (see :mod:`dpsynth.workflows.root`).

    ``engine`` counts the encoded rows (:mod:`dpsynth.data.engines`): "numpy" in memory, or
    "duckdb" in an embedded database, or "spark" on a Spark cluster. All give the same exact
    counts, so the same seed gives the same release. Domain discovery and DP-SGD read the capped
    rows in memory on every engine, except for ``frame`` a file's rows held by DuckDB
    (:class:`StoredRows`) or read by Spark (:class:`SparkRows`): there the cap is SQL, discovery
    counts each column's distinct cells by a GROUP BY, and DP-SGD reads DuckDB's rows batch by
    batch and is refused on Spark's.
    """

    def __init__(
        self,
        frame: pd.DataFrame | StoredRows | SparkRows,
        accountant: Accountant,
        noise: NoiseSource,
        on_measure: Callable[[], None] | None = None,
        engine: str = NUMPY,
    ) -> None:
        if not isinstance(frame, (pd.DataFrame, StoredRows, SparkRows)):
            raise DataError("private data must be a pandas DataFrame")
        self.engine = check_engine(engine)
        self._accountant = accountant
        self._noise = noise
        self._on_measure = on_measure
        self.unit: PrivacyUnit = accountant.budget.unit
        self._stored: StoredRows | SparkRows | None = None
        if isinstance(frame, (StoredRows, SparkRows)):
            if self.engine != (DUCKDB if isinstance(frame, StoredRows) else SPARK):
                raise DataError(
                    "rows held by DuckDB are counted by engine 'duckdb'" if isinstance(frame, StoredRows)
                    else "rows read by Spark are counted by engine 'spark'"
                )
            if self.unit.column is not None:
                frame.column_sql(self.unit.column)  # refuses a unit column not in the data
            # The same random order as in memory, drawn from the same generator, applied in SQL.
            frame.cap(self.unit, noise.rng)
            self._stored, frame = frame, frame.header
        named, order = unit_order(frame, self.unit, noise.rng) if self._stored is None else (frame, None)
        if self.engine == NUMPY:
            # In memory the cap is applied at once: only the capped rows are kept.
            named, order = bound_contributions(named, order, self.unit), None
        self._named, self._order = named, order
        self._capped: pd.DataFrame | None = None
        self._codes: NumpyCodes | DuckdbCodes | SparkCodes | None = None
        # DuckDB and Spark: the codes in memory for DP-SGD, made on first use, from the parent's when coarsened.
        self._in_memory: NumpyCodes | None = None
        self._coarsening: tuple[PrivateTable, dict[str, np.ndarray]] | None = None
        self._sizes: dict[str, int] = {}
        self._counted = _CountCache()
        self.schema: Schema | None = None

    # ------------------------------------------------------------------ public metadata
    @property
    def columns(self) -> list[str]:
        """Column names of the private table (public), without the unit column."""
        return [c for c in self._named.columns if c != self.unit.column]

    @property
    def _frame(self) -> pd.DataFrame:
        """The rows in memory after the person-level cap (made on first use)."""
        if self._stored is not None:
            raise DataError(f"the rows of a file left on disk (engine '{self.engine}') are never read whole")
        if self._capped is None:
            self._capped = bound_contributions(self._named, self._order, self.unit)
        return self._capped

    @property
    def accountant(self) -> Accountant:
        return self._accountant

    @property
    def noise(self) -> NoiseSource:
        return self._noise

    @property
    def sensitivity_scale(self) -> int:
        """How many rows one unit of privacy may change: every sensitivity is multiplied by it."""
        return self.unit.max_rows

    @property
    def sizes(self) -> dict[str, int]:
        """Number of codes per encoded column (from the public schema)."""
        return self.require_schema().domain_sizes()

    def require_schema(self) -> Schema:
        """The schema the rows are encoded with; SchemaError before :meth:`encode`."""
        if self.schema is None:
            raise SchemaError("the private table has no schema yet: call encode(schema) first")
        return self.schema

    def _charge(self, part: str, event: Any) -> None:
        """Charge ``event`` (refused before any change if it would overspend), then report it."""
        self._accountant.charge(part, event)
        if self._on_measure is not None:
            self._on_measure()

    # ----------------------------------------------------------------------- encoding
    def encode(self, schema: Schema) -> None:
        """Encode the rows with a public (declared or DP-discovered) schema.

        Only the schema's encoded columns are kept; identifier columns are dropped. A cell that
        does not fit its column is coded missing or "other"; a row with a cell its column has
        no code for is left out. Counts of clipped cells stay inside: they are private.
        """
        if schema.unit_column != self.unit.column:
            raise SchemaError(
                f"the schema's unit column ({schema.unit_column!r}) is not the budget's "
                f"privacy unit ({self.unit.column!r})"
            )
        # A row with a cell its column has no code for is left out, whatever the other rows
        # hold: leaving out a record only protects it more, and refusing would tell it is there.
        if isinstance(self._stored, SparkRows):
            check_columns(self._named, schema)
            self._codes, left_out = SparkCodes.from_rows(self._stored, schema)
        elif self._stored is not None:
            check_columns(self._named, schema)
            self._codes, left_out = DuckdbCodes.from_rows(self._stored, schema)
        elif self.engine in (DUCKDB, SPARK):
            check_columns(self._named, schema)
            load = DuckdbCodes.load if self.engine == DUCKDB else SparkCodes.load
            self._codes, left_out = load(self._named, schema, self.unit, rank_of(self._order))
        else:
            self._codes, left_out = self._encode_in_memory(schema)
        if left_out:
            logger.warning("rows with a cell the schema has no code for are left out of the measurements")
        self._column_index = {name: j for j, name in enumerate(schema.encoded_columns)}
        self.schema = schema
        self._sizes = schema.domain_sizes()
        self._counted = _CountCache()

    def _encode_in_memory(self, schema: Schema) -> tuple[NumpyCodes, int]:
        """The capped rows' codes in memory (rows without a code for a cell left out), and how
        many rows were left out (PRIVATE: only whether any were is told)."""
        encoded = encode(self._frame, schema)
        left_out = int(np.count_nonzero(encoded.unfit))
        if left_out:
            self._capped = self._frame[~encoded.unfit].reset_index(drop=True)
            encoded = encode(self._frame, schema)
        return NumpyCodes(encoded.codes, encoded.columns), left_out

    def _memory_codes(self) -> NumpyCodes:
        """The codes in memory, for DP-SGD on a table in memory: the numpy engine's own,
        or on DuckDB and Spark the same capped rows encoded in memory, an explicit fallback."""
        codes = self._encoded()
        if isinstance(codes, NumpyCodes):
            return codes
        if self._in_memory is None:
            if self._coarsening is not None:
                parent, maps = self._coarsening
                self._in_memory = parent._memory_codes().coarsened(maps)
            else:
                self._in_memory = self._encode_in_memory(self.require_schema())[0]
        return self._in_memory

    def coarsened(self, schema: Schema, maps: Mapping[str, np.ndarray]) -> PrivateTable:
        """The same rows, accountant and noise, with some columns' codes merged by public
        ``maps`` (old code -> new code) and described by ``schema`` (same encoded columns, in
        the same order, with the merged sizes). Measurements on it are charged as on this table.
        """
        old_schema = self.require_schema()
        if schema.encoded_columns != old_schema.encoded_columns:
            raise SchemaError("a coarsened schema must have the same encoded columns, in the same order")
        for name, merge in maps.items():
            merge = np.asarray(merge, dtype=np.int64)
            if merge.shape != (old_schema[name].size,) or merge.min() < 0 or merge.max() >= schema[name].size:
                raise SchemaError(f"column '{name}': its code map must send every code into the coarse schema")
        merges = {name: np.asarray(merge, dtype=np.int64) for name, merge in maps.items()}
        view = object.__new__(PrivateTable)
        view.__dict__.update(self.__dict__)
        view._codes = self._encoded().coarsened(merges)
        view._in_memory, view._coarsening = None, (self, merges)
        view.schema = schema
        view._sizes = schema.domain_sizes()
        view._counted = _CountCache()
        return view

    def _encoded(self) -> NumpyCodes | DuckdbCodes | SparkCodes:
        if self._codes is None:
            raise SchemaError("the private table has no schema yet: call encode(schema) first")
        return self._codes

    def _true_counts(self, clique: Clique, maps: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """The exact marginal over ``clique`` (read-only: it may be a cached table)."""
        return self._true_counts_set([clique], maps)[0]

    def _true_counts_set(
        self, cliques: Sequence[Clique], maps: Mapping[str, np.ndarray] | None = None
    ) -> list[np.ndarray]:
        """The exact marginal over each of ``cliques`` (read-only: they may be cached tables), those
        not counted yet asked of the engine as one query set (on Spark, one job for them all).

        The rows never change after :meth:`encode`, so a table counted once is kept (within
        :data:`CACHE_CELLS`) and read again by later selections and measurements: MST's
        Kruskal rounds score the same candidates again and again, and a wide table's time went
        to recounting them. Keeping an exact count inside the door changes no answer and no
        charge.
        """
        codes = self._encoded()
        found: list[np.ndarray | None] = []
        asked: dict[Any, tuple[Query, list[int]]] = {}
        for i, clique in enumerate(cliques):
            key, query = self._query(clique, maps)
            cached = self._counted.get(key)
            found.append(cached)
            if cached is None:
                asked.setdefault(key, (query, []))[1].append(i)
        counted = codes.count_set([query for query, _ in asked.values()])
        for (key, (_, where)), counts in zip(asked.items(), counted):
            counts.flags.writeable = False
            self._counted.put(key, counts)
            for i in where:
                found[i] = counts
        return [counts for counts in found if counts is not None]

    def _query(self, clique: Clique, maps: Mapping[str, np.ndarray] | None) -> tuple[Any, Query]:
        """The cache key of the marginal over ``clique`` merged by ``maps``, and its engine query."""
        merged = {name: np.asarray(maps[name]) for name in clique if maps is not None and name in maps}
        key = (clique, tuple((name, merge.tobytes()) for name, merge in merged.items()))
        sizes = []
        for name in clique:
            if name not in self._column_index:
                raise SchemaError(f"column '{name}' is not an encoded column of the schema")
            sizes.append(int(merged[name].max()) + 1 if name in merged else self._sizes[name])
        return key, (clique, merged, sizes)

    def _query_sets(self, cliques: Sequence[Clique], maps: Mapping[str, np.ndarray] | None) -> list[list[Clique]]:
        """``cliques`` in consecutive sets of at most :data:`CACHE_CELLS` cells together (a larger
        marginal alone), so that the exact tables of one set held at once stay bounded."""
        cells = [math.prod(self._query(clique, maps)[1][2]) for clique in cliques]
        return [[cliques[i] for i in positions] for positions in bounded_sets(cells, CACHE_CELLS)]

    # ------------------------------------------------------------------- measurements
    def marginal(
        self,
        clique: Sequence[str],
        sigma: float,
        part: str = MARGINAL,
        maps: Mapping[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Noisy counts of the marginal over ``clique`` (discrete Gaussian, std ``sigma``).

        ``maps`` optionally merges codes of a column first (a public array: old code -> new
        code, for example a compressed domain). L2 sensitivity is ``sensitivity_scale``: one
        unit changes at most that many rows, each in one cell.
        """
        return self.marginals([clique], [sigma], part, maps)[0]

    def marginals(
        self,
        cliques: Sequence[Sequence[str]],
        sigmas: Sequence[float],
        part: str = MARGINAL,
        maps: Mapping[str, np.ndarray] | None = None,
    ) -> list[np.ndarray]:
        """Noisy counts of the marginal over each of ``cliques``, each with its own std in
        ``sigmas``: the same charges and answers as :meth:`marginal` called for each in turn
        (the same noise, drawn in the same order), the exact counts made as one query set.

        Every charge is made before any row is counted; a charge refused stops the set there,
        the charges before it kept (nothing measured for them is released).
        """
        self._encoded()  # refuses a table with no schema before anything is charged
        asked = [tuple(clique) for clique in cliques]
        if len(sigmas) != len(asked):
            raise DataError(f"marginals needs one sigma per clique; got {len(sigmas)} for {len(asked)}")
        for clique, sigma in zip(asked, sigmas):
            event = DiscreteGaussianMechanism(
                sigma, sensitivity=self.sensitivity_scale, label="marginal " + " x ".join(clique)
            )
            self._charge(part, event)
        noisy: list[np.ndarray] = []
        for query_set in self._query_sets(asked, maps):
            for counts in self._true_counts_set(query_set, maps):
                noisy.append(counts + discrete_gaussian(sigmas[len(noisy)], counts.shape, self._noise.rng))
        return noisy

    def select(
        self,
        candidates: Sequence[Sequence[str]],
        score: Score,
        epsilon: float,
        part: str = MARGINAL,
        label: str = "selection",
        maps: Mapping[str, np.ndarray] | None = None,
    ) -> int:
        """Index of one candidate chosen by the exponential mechanism on a door-owned ``score``.

        ``score`` is one of :mod:`dpsynth.data.scores` (with only public inputs); the door
        computes it on each candidate's exact marginal and takes its sensitivity from it
        (multiplied by the unit's row bound). Charged as epsilon^2/8-zCDP (bounded range).
        ``maps`` merges codes as in :meth:`marginal`.
        """
        cliques = [tuple(c) for c in candidates]
        if not cliques:
            raise DataError("select needs at least one candidate")
        if not isinstance(score, SCORES):
            raise DataError(
                f"select scores with one of the door's scores ({', '.join(s.__name__ for s in SCORES)}); "
                f"got {type(score).__name__}"
            )
        sensitivity = score.sensitivity(cliques) * self.sensitivity_scale
        self._charge(part, ExponentialMechanism(epsilon, label=label))
        # The candidates are counted as query sets (one job each on Spark), scored as they come.
        scores = np.array([
            score(clique, counts)
            for query_set in self._query_sets(cliques, maps)
            for clique, counts in zip(query_set, self._true_counts_set(query_set, maps))
        ], dtype=float)
        return exponential_mechanism(scores, epsilon, sensitivity, self._noise.rng)

    # ------------------------------------------------------------------------ DP-SGD
    def dpsgd(self, plan: DpsgdPlan, fine_bins: int, part: str = NEURAL) -> DpsgdTrainer:
        """Charge a whole DP-SGD run, then return the trainer that runs it over the rows.

        The charge (the plan's subsampled discrete Gaussian event for all its steps) is made
        before any row is sampled. The trainer computes each sampled row's gradient of the
        caller's per-row loss itself and returns only clipped, noisy gradient sums; a row is
        the encoded codes of every schema column, then for each numeric column (schema order)
        the position of its value within its bin on a grid of ``fine_bins`` (0 where missing).
        Edges and bounds come from the public schema.
        """
        if self.sensitivity_scale != 1:
            raise BudgetError(
                "DP-SGD supports one row per unit of privacy; the unit allows "
                f"max_rows={self.sensitivity_scale} (its subsampling would need group privacy)"
            )
        integer("fine_bins", fine_bins)
        self.require_schema()
        if isinstance(self._stored, SparkRows):
            raise DataError("DP-SGD on a file read by Spark is not offered yet: use engine 'duckdb'")
        self._charge(part, plan.event())
        if isinstance(self._stored, StoredRows):
            return DpsgdTrainer(_StoredTrainingRows(self, fine_bins), plan, self._noise.rng)
        codes = self._memory_codes().matrix  # first: encoding may leave rows out of the frame
        rows = self._training_rows(self._frame, codes, fine_bins)
        return DpsgdTrainer(RowsInMemory(rows), plan, self._noise.rng)

    def _training_rows(self, frame: pd.DataFrame, codes: np.ndarray, fine_bins: int) -> np.ndarray:
        """DP-SGD's rows (see :meth:`dpsgd`) of ``frame``, whose codes in this table's schema are ``codes``."""
        schema = self.require_schema()
        fine = [
            _within_bin(frame[column.name], codes[:, self._column_index[column.name]], column, fine_bins)
            for column in schema.columns
            if isinstance(column, Numeric)
        ]
        return np.concatenate([codes.astype(np.int64)] + [f[:, None] for f in fine], axis=1)

    def _codes_of(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """``frame``'s rows that have a code for every cell, and their codes in this table's schema
        (merged as this view's coarsenings merge them): what the engines count, row by row."""
        if self._coarsening is not None:
            parent, maps = self._coarsening
            kept, codes = parent._codes_of(frame)
            return kept, NumpyCodes(codes, parent.require_schema().encoded_columns).coarsened(maps).matrix
        encoded = encode(frame, self.require_schema())
        fit = ~encoded.unfit
        return frame[fit].reset_index(drop=True), encoded.codes[fit]

    # ---------------------------------------------------------- domain discovery (raw)
    def _raw(self, column: str) -> tuple[pd.Series, np.ndarray | None]:
        """The column's cells, or on rows held by DuckDB or read by Spark each distinct cell and
        how many rows hold it (a GROUP BY): every count below depends on each cell alone, so both give the
        same counts."""
        if column not in self.columns:
            raise SchemaError(f"column '{column}' is not in the data")
        if self._stored is not None:
            return self._stored.value_counts(column)
        return self._frame[column], None

    def value_class_counts(self, column: str, sigma: float, part: str = DOMAIN) -> np.ndarray:
        """Noisy counts of the column's cells in each of :data:`VALUE_CLASSES` (missing, whole
        number, fractional number by its decimals, not a number, date), for a DP decision of
        the column's kind (and a numeric column's decimals, an identifier's key format).

        Each cell's class depends on that cell alone, and the classes partition every cell, so
        one row changes one count.
        """
        event = DiscreteGaussianMechanism(
            sigma, sensitivity=self.sensitivity_scale, label=f"value classes '{column}'"
        )
        self._charge(part, event)
        cells, weights = self._raw(column)
        counts = _tally(value_classes(cells), weights, len(VALUE_CLASSES))
        return counts + discrete_gaussian(sigma, counts.shape, self._noise.rng)

    def numeric_histogram(
        self, column: str, edges: Sequence[float] | np.ndarray, sigma: float, part: str = DOMAIN,
        dates: bool = False,
    ) -> np.ndarray:
        """Noisy counts of a raw numeric column over public bin ``edges``.

        Returns len(edges) + 2 counts: below the first edge, each bin [e_i, e_{i+1}), at or
        above the last edge, and missing (non-numeric or empty) values. The bins partition
        every possible value, so one row changes one count. With ``dates`` the cells are read
        as dates, in nanoseconds since the epoch (not a date: missing).
        """
        edges = np.asarray(edges, dtype=float)
        if edges.ndim != 1 or edges.size < 1 or np.any(np.diff(edges) <= 0):
            raise ValueError("edges must be a non-empty increasing sequence")
        event = DiscreteGaussianMechanism(
            sigma, sensitivity=self.sensitivity_scale, label=f"numeric histogram '{column}'"
        )
        self._charge(part, event)
        cells, weights = self._raw(column)
        values = (parse_instants if dates else parse_numbers)(cells)
        missing = np.isnan(values)
        cell = np.where(missing, edges.size + 1, np.searchsorted(edges, values, side="right"))
        counts = _tally(cell.astype(np.int64), weights, edges.size + 2)
        return counts + discrete_gaussian(sigma, counts.shape, self._noise.rng)

    def category_counts(
        self, column: str, sigma: float, threshold: float, part: str = DOMAIN
    ) -> dict[str, int]:
        """Noisy counts of the values of a raw column, released only above ``threshold``.

        The value set is private, so this is a stability-based histogram: its additive delta
        comes from the reserve the budget sets aside (see ThresholdedHistogramMechanism).
        Values are compared by their string form; missing values are not counted here.
        """
        event = ThresholdedHistogramMechanism(
            sigma,
            threshold,
            sensitivity=self.sensitivity_scale,
            max_new_cells=self.sensitivity_scale,
            label=f"category discovery '{column}'",
        )
        self._charge(part, event)
        cells, weights = self._raw(column)
        present = cells.notna().to_numpy()
        # Each value's string form, by which categories match (3.0 reads as "3"): cell by cell.
        labels, inverse = np.unique(string_forms(pd.Index(cells[present])).astype(str), return_inverse=True)
        counts = _tally(inverse.ravel(), None if weights is None else weights[present], len(labels))
        noisy = counts + discrete_gaussian(sigma, counts.shape, self._noise.rng)
        keep = noisy > threshold
        return {str(label): int(count) for label, count in zip(labels[keep], noisy[keep])}


def _tally(cells: np.ndarray, weights: np.ndarray | None, size: int) -> np.ndarray:
    """How many rows fall in each of ``size`` cells, a cell per row or, with ``weights``, per
    distinct value held by that many rows (exact integers: the weights are counts)."""
    if weights is None:
        return np.bincount(cells, minlength=size)
    return np.bincount(cells, weights=weights, minlength=size).round().astype(np.int64)


def _within_bin(cells: pd.Series, code: np.ndarray, column: Numeric, fine_bins: int) -> np.ndarray:
    """Fine position (0..fine_bins-1) of each cell within its bin (``code``); 0 where missing."""
    code = code.astype(np.int64)
    values = parse_numbers(cells)
    present = ~np.isnan(values)
    if column.missing:
        present &= code != column.missing_code
    edges = column.bin_edges.astype(float)
    bin_code = np.where(present, code, 0)
    low, high = edges[bin_code], edges[bin_code + 1]
    clipped = np.clip(np.where(present, values, low), column.lower, column.upper)
    position = fine_position(clipped, low, high, column.integer, fine_bins)
    return np.where(present, position, 0)


class _StoredTrainingRows:
    """DP-SGD's rows of a file held by DuckDB, read batch by batch: memory bounded by the batch.

    The capped rows are numbered in file order once; a batch's rows are read by number and
    encoded as in memory. A row with a cell its column has no code for is dropped from the
    batch after its coin: every other row is still in it independently with probability q, so
    the sampling the accountant charged holds for the rows that are measured.
    """

    def __init__(self, table: PrivateTable, fine_bins: int) -> None:
        assert isinstance(table._stored, StoredRows)
        self._table, self._stored, self._fine_bins = table, table._stored, fine_bins
        self._rows = self._stored.number_rows()

    def __len__(self) -> int:
        return self._rows

    def take(self, positions: np.ndarray) -> np.ndarray:
        frame, codes = self._table._codes_of(self._stored.rows_at(positions))
        return self._table._training_rows(frame, codes, self._fine_bins)
