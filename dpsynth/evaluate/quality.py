"""Column shapes and pair trends: the two scores of SDMetrics' QualityReport, computed by dpsynth.

The definitions are those of the single-table QualityReport of SDMetrics (DataCebo,
https://docs.sdv.dev/sdmetrics, properties "Column Shapes" and "Column Pair Trends"), so the
figures read like the ones users of SDV already know; benchmarks/bench_quality_agreement.py
checks them against SDMetrics itself. Every score lies in [0, 1], 1 for identical tables:

* column shape, numeric and datetime columns: 1 - D, with D = sup_x |F_real(x) - F_synth(x)|
  the two-sample Kolmogorov-Smirnov statistic (Kolmogorov 1933, Smirnov 1948) over present
  values (SDMetrics' KSComplement);
* column shape, categorical and ordinal columns: 1 - TVD, the total variation distance
  1/2 sum_v |p_real(v) - p_synth(v)| between the frequencies of the present values
  (TVComplement);
* pair trend, two numeric or datetime columns: 1 - |r_real - r_synth| / 2, with Pearson's r on
  the rows where both are present (CorrelationSimilarity);
* pair trend, any other pair: 1 - TVD between the two tables' normalised two-way contingency
  tables, missing counted as a value (ContingencySimilarity). As SDMetrics does, a numeric
  column is cut into 10 equal-width bins over its own table's range (numpy's
  ``histogram_bin_edges``), its maximum and its missing cells in one further code.

Values are compared by their string form (as the schema matches categories), so a column read
as integers matches the same column written as text. A score that cannot be computed (no
present value, a constant column in a correlation) is NaN and left out of the means.
Identifier columns are not scored. These read the real data exactly: they describe a release
to its custodian, outside the DP guarantee.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from dpsynth.evaluate.association import pearson
from dpsynth.schema import Datetime, Numeric, Schema
from dpsynth.schema.columns import EncodedColumn
from dpsynth.schema.kinds import parse_numbers

# SDMetrics' ContingencySimilarity cuts a numeric column into this many equal-width bins.
PAIR_BINS = 10


def is_continuous(column: EncodedColumn) -> bool:
    """Whether the column is scored on its values (numeric, datetime) rather than as categories."""
    return isinstance(column, (Numeric, Datetime))


def values(series: pd.Series, column: EncodedColumn) -> np.ndarray:
    """A continuous column's cells as float64 (datetimes as nanoseconds since the epoch), NaN where missing."""
    if isinstance(column, Datetime):
        stamps = pd.to_datetime(series, errors="coerce", utc=True)
        nanoseconds = stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)
        return np.where(stamps.isna().to_numpy(), np.nan, nanoseconds.astype(float))
    return parse_numbers(series)


def labels(series: pd.Series) -> pd.Series:
    """Each cell's string form (a whole float as its integer, as the schema matches it), NA where missing."""
    if ptypes.is_float_dtype(series.dtype):
        numbers = series.to_numpy(dtype=float, na_value=np.nan)
        present = numbers[~np.isnan(numbers)]
        if np.all(np.isfinite(present) & (present == np.round(present))):
            series = series.astype("Int64")
    return series.astype("string")


def joint_codes(real: pd.Series, synthetic: pd.Series) -> tuple[np.ndarray, np.ndarray, int]:
    """Shared integer codes of the two columns' string forms, missing as -1, and the number of values."""
    codes, uniques = pd.factorize(pd.concat([labels(real), labels(synthetic)], ignore_index=True))
    return codes[: len(real)], codes[len(real) :], len(uniques)


def ks_statistic(real: np.ndarray, synthetic: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov statistic of two non-empty samples (NaN-free)."""
    real, synthetic = np.sort(real), np.sort(synthetic)
    points = np.concatenate([real, synthetic])
    gap = np.searchsorted(real, points, side="right") / real.size
    gap -= np.searchsorted(synthetic, points, side="right") / synthetic.size
    return float(np.max(np.abs(gap)))


def tvd(real: np.ndarray, synthetic: np.ndarray, size: int) -> float:
    """Total variation distance between the frequencies of two arrays of codes in ``0..size-1``."""
    p = np.bincount(real, minlength=size) / real.size
    q = np.bincount(synthetic, minlength=size) / synthetic.size
    # Rounding may carry the sum of disjoint frequencies a hair past 2: a distance stays within [0, 1].
    return min(0.5 * float(np.abs(p - q).sum()), 1.0)


def column_shape(real: pd.Series, synthetic: pd.Series, column: EncodedColumn) -> float:
    """1 - KS statistic (numeric, datetime) or 1 - TVD (categories) over present values; NaN if either has none."""
    if is_continuous(column):
        u, v = values(real, column), values(synthetic, column)
        u, v = u[~np.isnan(u)], v[~np.isnan(v)]
        return 1.0 - ks_statistic(u, v) if u.size and v.size else math.nan
    a, b, size = joint_codes(real, synthetic)
    a, b = a[a >= 0], b[b >= 0]
    return 1.0 - tvd(a, b, size) if a.size and b.size else math.nan


def pair_codes(numbers: np.ndarray) -> np.ndarray:
    """SDMetrics' discretisation: ``PAIR_BINS`` equal-width bins over the present values' range.

    ``np.digitize`` puts the maximum and missing cells in the code after the last bin, as
    SDMetrics leaves them.
    """
    present = numbers[~np.isnan(numbers)]
    if not present.size:
        return np.full(numbers.size, PAIR_BINS + 1, dtype=np.int64)
    return np.digitize(numbers, np.histogram_bin_edges(present, bins=PAIR_BINS)).astype(np.int64)


@dataclass(frozen=True)
class _Prepared:
    """One column of both tables, ready for pair scores: values if continuous, and codes."""

    continuous: bool
    real_values: np.ndarray | None
    synthetic_values: np.ndarray | None
    real_codes: np.ndarray
    synthetic_codes: np.ndarray


def _prepare(real: pd.Series, synthetic: pd.Series, column: EncodedColumn) -> _Prepared:
    if is_continuous(column):
        u, v = values(real, column), values(synthetic, column)
        return _Prepared(True, u, v, pair_codes(u), pair_codes(v))
    a, b, _ = joint_codes(real, synthetic)
    # Missing is a value of its own in a contingency table: code -1 becomes 0, the rest move up.
    return _Prepared(False, None, None, a.astype(np.int64) + 1, b.astype(np.int64) + 1)


def _contingency_tvd(first: _Prepared, second: _Prepared) -> float:
    width = int(max(second.real_codes.max(initial=0), second.synthetic_codes.max(initial=0))) + 1
    real = first.real_codes * width + second.real_codes
    synthetic = first.synthetic_codes * width + second.synthetic_codes
    size = int(max(real.max(initial=0), synthetic.max(initial=0))) + 1
    if size <= 4 * (real.size + synthetic.size):
        return tvd(real, synthetic, size)
    # Wide domains: count only the cells that occur.
    _, cells = np.unique(np.concatenate([real, synthetic]), return_inverse=True)
    return tvd(cells[: real.size], cells[real.size :], int(cells.max()) + 1)


def _correlation_similarity(first: _Prepared, second: _Prepared) -> float:
    scores = []
    for x, y in ((first.real_values, second.real_values), (first.synthetic_values, second.synthetic_values)):
        assert x is not None and y is not None
        both = ~(np.isnan(x) | np.isnan(y))
        x, y = x[both], y[both]
        # A constant column has no correlation: SDMetrics refuses the pair, and so it is NaN here.
        if x.size < 2 or x.min() == x.max() or y.min() == y.max():
            return math.nan
        scores.append(pearson(x, y))
    return 1.0 - abs(scores[0] - scores[1]) / 2


def _pair_trend(first: _Prepared, second: _Prepared) -> float:
    if first.continuous and second.continuous:
        return _correlation_similarity(first, second)
    return 1.0 - _contingency_tvd(first, second)


def scored_columns(schema: Schema) -> tuple[str, ...]:
    """The columns that get scores: the schema's encoded columns (identifiers are not scored)."""
    return schema.encoded_columns


def column_shapes(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> dict[str, float]:
    """The column-shape score of every scored column, in schema order."""
    return {name: column_shape(real[name], synthetic[name], schema.encoded(name)) for name in scored_columns(schema)}


def pair_trends(
    real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, pairs: Sequence[tuple[str, str]] | None = None
) -> dict[tuple[str, str], float]:
    """The pair-trend score of every pair of scored columns (or of ``pairs``), in schema order."""
    names = scored_columns(schema)
    chosen = list(itertools.combinations(names, 2)) if pairs is None else list(pairs)
    used = sorted({*itertools.chain(*chosen)})
    prepared = {name: _prepare(real[name], synthetic[name], schema.encoded(name)) for name in used}
    continuous = [name for name in used if prepared[name].continuous]
    fast = _correlation_similarities(prepared, continuous)
    return {(a, b): fast[(a, b)] if (a, b) in fast else _pair_trend(prepared[a], prepared[b]) for a, b in chosen}


def _correlation_similarities(prepared: dict[str, _Prepared], names: list[str]) -> dict[tuple[str, str], float]:
    """Every pair's correlation similarity from one correlation matrix per table, when no cell of
    these columns is missing (otherwise each pair drops its own rows, pair by pair)."""
    if len(names) < 2:
        return {}
    matrices = []
    for side in ("real_values", "synthetic_values"):
        stacked = np.vstack([getattr(prepared[name], side) for name in names])
        if np.isnan(stacked).any() or stacked.shape[1] < 2:
            return {}
        # A constant column has no correlation: its row of the matrix is NaN, and so are its scores.
        with np.errstate(invalid="ignore", divide="ignore"):
            matrices.append(np.corrcoef(stacked))
    real, synthetic = matrices
    return {
        (a, b): 1.0 - abs(float(real[i, j]) - float(synthetic[i, j])) / 2
        for (i, a), (j, b) in itertools.permutations(enumerate(names), 2)
    }


def mean_score(scores: Sequence[float]) -> float:
    """Mean of the scores that could be computed (NaN if none), as SDMetrics averages a property."""
    finite = [s for s in scores if not math.isnan(s)]
    return float(np.mean(finite)) if finite else math.nan


def quality_scores(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> dict[str, float]:
    """Mean column shape, mean pair trend, and their mean (SDMetrics' overall quality score)."""
    shape = mean_score(list(column_shapes(real, synthetic, schema).values()))
    trend = mean_score(list(pair_trends(real, synthetic, schema).values()))
    return {"column_shape": shape, "pair_trend": trend, "quality": mean_score([shape, trend])}
