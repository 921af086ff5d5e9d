"""Row encoding and a Gower-like distance shared by the attacks on synthetic data.

Attacks run on the custodian's side and read real rows: what they compute describes a release
to its custodian and is not part of the DP guarantee.

The distance between two rows is Gower's (Gower 1971, "A general coefficient of similarity and
some of its properties"): the mean over the schema's encoded columns of

- ``|x - y|`` for numeric, datetime and ordinal columns, each scaled to [0, 1] by its public
  range (numeric and datetime by ``upper - lower``, values clipped into the bounds first;
  ordinal by its rank over ``len(categories) - 1``, as Podani 1999 does for ordinal data);
- ``[x != y]`` for categorical columns, on the schema's codes ("other" and missing are codes).

A missing value in a range-scaled column is stored as :data:`MISSING_VALUE` (2.0, outside
[0, 1]) and the column's difference is capped at 1: missing against present counts as the
largest difference, missing against missing as none.

Every range is public (the schema's), so the encoding reads nothing from the data but the
rows it encodes. Distances are computed in blocks of ``block_rows x block_columns`` so memory
stays bounded whatever the table sizes; each block is a few elementwise numpy passes per
column, so 10,000 targets against 40,000 synthetic rows take seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from dpsynth.errors import DataError, SchemaError
from dpsynth.schema import Categorical, Datetime, Numeric, Ordinal, Schema, encode
from dpsynth.validation import integer

MISSING_VALUE = 2.0
BLOCK_ROWS = 512
BLOCK_COLUMNS = 2048
ARGMIN_ROUNDS = 16


@dataclass(frozen=True, eq=False)
class EncodedRows:
    """Rows encoded for distances by an :class:`AttackEncoding`.

    ``codes`` holds the schema's integer code of every encoded column (schema order), ``scaled``
    the range-scaled value of each numeric, datetime and ordinal column (float32, in [0, 1], or
    :data:`MISSING_VALUE`). Both are private when the rows are.
    """

    encoding: AttackEncoding
    codes: np.ndarray
    scaled: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, indices: np.ndarray | Sequence[int]) -> EncodedRows:
        """The rows at ``indices`` (integer positions or a boolean mask)."""
        return EncodedRows(self.encoding, self.codes[indices], self.scaled[indices])


@dataclass(frozen=True)
class AttackEncoding:
    """Maps a DataFrame to :class:`EncodedRows` using only the public ``schema``."""

    schema: Schema

    def __post_init__(self) -> None:
        if not isinstance(self.schema, Schema):
            raise SchemaError(f"schema must be a Schema; got {type(self.schema).__name__}")
        if not self.schema.encoded_columns:
            raise SchemaError("the schema has no encoded columns to measure distances on")

    @property
    def columns(self) -> tuple[str, ...]:
        """The encoded columns, in schema order (the columns of ``codes``)."""
        return self.schema.encoded_columns

    @cached_property
    def _scaled_kinds(self) -> tuple[Numeric | Datetime | Ordinal, ...]:
        """The columns of :attr:`scaled_columns` themselves."""
        return tuple(c for c in self.schema.columns if isinstance(c, (Numeric, Datetime, Ordinal)))

    @cached_property
    def scaled_columns(self) -> tuple[str, ...]:
        """Columns compared by range-scaled difference: numeric, datetime and ordinal."""
        return tuple(column.name for column in self._scaled_kinds)

    @cached_property
    def categorical_columns(self) -> tuple[str, ...]:
        """Columns compared by mismatch of their codes."""
        return tuple(n for n in self.columns if isinstance(self.schema[n], Categorical))

    @cached_property
    def _capped(self) -> np.ndarray:
        """Which scaled columns may hold :data:`MISSING_VALUE` (their difference is capped at 1)."""
        return np.array([bool(column.missing) for column in self._scaled_kinds], dtype=bool)

    @cached_property
    def _categorical_positions(self) -> np.ndarray:
        """Positions of the categorical columns among ``codes``' columns."""
        return np.array([self.columns.index(name) for name in self.categorical_columns], dtype=np.int64)

    def transform(self, frame: pd.DataFrame) -> EncodedRows:
        """Encode ``frame`` (validated against the schema; columns outside it are ignored)."""
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"data must be a pandas DataFrame; got {type(frame).__name__}")
        absent = [name for name in self.columns if name not in frame.columns]
        if absent:
            raise SchemaError(f"column(s) {absent} are in the schema but not in the data")
        kept = frame.loc[:, list(self.columns)]
        codes = encode(kept, self.schema).codes
        position = {name: j for j, name in enumerate(self.columns)}
        scaled = np.empty((len(kept), len(self.scaled_columns)), dtype=np.float32)
        for j, column in enumerate(self._scaled_kinds):
            scaled[:, j] = _scaled(kept[column.name], codes[:, position[column.name]], column)
        return EncodedRows(self, codes, scaled)


def _scaled(series: pd.Series, codes: np.ndarray, column: Numeric | Datetime | Ordinal) -> np.ndarray:
    """The column's values scaled to [0, 1] by its public range; missing as MISSING_VALUE."""
    if isinstance(column, Ordinal):
        present = codes != column.missing_code if column.missing else np.ones(len(codes), dtype=bool)
        span = max(len(column.categories) - 1, 1)
        return np.where(present, codes / span, MISSING_VALUE)
    lower: float
    upper: float
    if isinstance(column, Datetime):
        values, lower, upper = _nanoseconds(series), column.lower_timestamp.value, column.upper_timestamp.value
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        lower, upper = column.lower, column.upper
    scaled = (np.clip(values, lower, upper) - lower) / (upper - lower)
    return np.where(np.isnan(scaled), MISSING_VALUE, scaled)


def _nanoseconds(series: pd.Series) -> np.ndarray:
    """UTC-naive nanoseconds since the epoch as float64, NaN where missing (as the schema reads dates)."""
    if not ptypes.is_datetime64_any_dtype(series.dtype):
        series = pd.to_datetime(series, errors="coerce", utc=True, format="ISO8601")
    if series.dt.tz is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    missing = series.isna().to_numpy()
    values = series.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(float)
    values[missing] = np.nan
    return values


def _check_pair(queries: EncodedRows, candidates: EncodedRows) -> AttackEncoding:
    if not isinstance(queries, EncodedRows) or not isinstance(candidates, EncodedRows):
        raise DataError("queries and candidates must be EncodedRows (use AttackEncoding.transform)")
    if queries.encoding != candidates.encoding:
        raise DataError("queries and candidates were encoded with different schemas")
    return queries.encoding


def iter_distance_blocks(
    queries: EncodedRows,
    candidates: EncodedRows,
    block_rows: int = BLOCK_ROWS,
    block_columns: int = BLOCK_COLUMNS,
) -> Iterator[tuple[slice, slice, np.ndarray]]:
    """Yield ``(rows, columns, distances)``: Gower distances of ``queries[rows]`` to ``candidates[columns]``.

    Blocks cover the full query x candidate matrix once, row block by row block; each
    ``distances`` is a new float32 array of at most ``block_rows x block_columns``, so memory
    stays bounded. The work is elementwise numpy, one pass per column (no BLAS threads).
    """
    encoding = _check_pair(queries, candidates)
    categorical = encoding._categorical_positions
    candidate_codes = np.ascontiguousarray(candidates.codes[:, categorical].T)
    candidate_scaled = np.ascontiguousarray(candidates.scaled.T)
    query_codes, capped = queries.codes[:, categorical], encoding._capped
    scratch = np.empty((block_rows, block_columns), dtype=np.float32)
    for start in range(0, len(queries), block_rows):
        rows = slice(start, min(start + block_rows, len(queries)))
        for column_start in range(0, len(candidates), block_columns):
            columns = slice(column_start, min(column_start + block_columns, len(candidates)))
            distances = np.zeros((rows.stop - rows.start, columns.stop - columns.start), dtype=np.float32)
            difference = scratch[: distances.shape[0], : distances.shape[1]]
            _add_mismatches(distances, query_codes[rows], candidate_codes[:, columns], difference)
            _add_scaled(distances, queries.scaled[rows], candidate_scaled[:, columns], capped, difference)
            distances /= len(encoding.columns)
            yield rows, columns, distances


def _add_mismatches(distances: np.ndarray, query: np.ndarray, candidate: np.ndarray, difference: np.ndarray) -> None:
    """Add each categorical column's [x != y] into ``distances`` (``candidate`` is column-major)."""
    for j in range(query.shape[1]):
        np.not_equal(query[:, j, None], candidate[None, j, :], out=difference)
        distances += difference


def _add_scaled(
    distances: np.ndarray, query: np.ndarray, candidate: np.ndarray, capped: np.ndarray, difference: np.ndarray
) -> None:
    """Add each scaled column's |x - y| (capped at 1 where missing is possible) into ``distances``."""
    for j in range(query.shape[1]):
        np.subtract(query[:, j, None], candidate[None, j, :], out=difference)
        np.abs(difference, out=difference)
        if capped[j]:
            np.minimum(difference, 1.0, out=difference)
        distances += difference


def pairwise_distances(queries: EncodedRows, candidates: EncodedRows) -> np.ndarray:
    """The full float32 matrix of Gower distances (for small tables; it holds every pair)."""
    out = np.empty((len(queries), len(candidates)), dtype=np.float32)
    for rows, columns, distances in iter_distance_blocks(queries, candidates):
        out[rows, columns] = distances
    return out


def nearest_neighbours(queries: EncodedRows, candidates: EncodedRows, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Distances (float64) and indices of each query's ``k`` nearest candidates, nearest first.

    Ties are broken by the order in which blocks are searched, not at random.
    """
    integer("k", k, high=len(candidates))
    best = np.full((len(queries), k), np.inf, dtype=np.float32)
    best_index = np.zeros((len(queries), k), dtype=np.int64)
    for rows, columns, distances in iter_distance_blocks(queries, candidates):
        local = _smallest(distances.copy(), k)
        pooled = np.concatenate([best[rows], np.take_along_axis(distances, local, axis=1)], axis=1)
        pooled_index = np.concatenate([best_index[rows], local + columns.start], axis=1)
        keep = _smallest(pooled.copy(), k)
        best[rows] = np.take_along_axis(pooled, keep, axis=1)
        best_index[rows] = np.take_along_axis(pooled_index, keep, axis=1)
    order = np.argsort(best, axis=1, kind="stable")
    return np.take_along_axis(best, order, axis=1).astype(float), np.take_along_axis(best_index, order, axis=1)


def _smallest(values: np.ndarray, k: int) -> np.ndarray:
    """Column positions of the ``k`` smallest values of each row, in no particular order.

    Small ``k`` takes ``k`` rounds of ``argmin`` (overwriting ``values``), far faster than
    ``argpartition`` on wide blocks; larger ``k`` uses ``argpartition``.
    """
    if values.shape[1] <= k:
        return np.broadcast_to(np.arange(values.shape[1]), values.shape)
    if k > ARGMIN_ROUNDS:
        return np.argpartition(values, k - 1, axis=1)[:, :k]
    picked = np.empty((len(values), k), dtype=np.int64)
    for round_ in range(k):
        picked[:, round_] = values.argmin(axis=1)
        values[np.arange(len(values)), picked[:, round_]] = np.inf
    return picked
