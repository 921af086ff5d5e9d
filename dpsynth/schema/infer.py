"""A schema read from the data WITHOUT noise, for the custodian to review; and identifier checks.

Nothing here is differentially private. :func:`infer_schema` exists so a custodian can start
from a draft and keep only what is public knowledge; a release is DP only if every category
and bound it keeps is public. Otherwise, discover the schema under DP (:mod:`dpsynth.data.discover`).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from dpsynth.errors import PrivacyWarning, SchemaError
from dpsynth.schema.columns import (
    MAX_SPIKES,
    OTHER_LABEL,
    SPIKE_RATIO,
    Categorical,
    Column,
    Datetime,
    Identifier,
    Numeric,
    Ordinal,
)
from dpsynth.schema.encoding import string_forms
from dpsynth.schema.kinds import parse_numbers
from dpsynth.schema.schema import Schema

# A numeric column with at most this many distinct values is read as categories.
MAX_NUMERIC_CATEGORIES = 20
# A column looks like an identifier when more than this share of its values are distinct...
IDENTIFIER_DISTINCT_SHARE = 0.9
# ...and it has more than this many values (few rows are distinct by chance).
IDENTIFIER_MIN_ROWS = 50
# A drafted spike holds at least this share of its column's numbers (besides SPIKE_RATIO times
# its bin's other values): a top code such as capital-gain 99999 holds 0.50% of Adult's rows.
SPIKE_SHARE = 0.004
# The years pandas can hold at nanosecond resolution, whole years only.
_FIRST_YEAR, _LAST_YEAR = 1678, 2262

INFER_WARNING = (
    "infer_schema reads categories and ranges from the private data WITHOUT noise: the schema it "
    "returns is not differentially private. Review the file and keep only values that are public "
    "knowledge; a release using it is DP only if those values are public. Otherwise use DP "
    "schema discovery."
)


def nearly_unique(values: pd.Series) -> bool:
    """Whether non-missing ``values`` are nearly all distinct (an identifier, not a category)."""
    count = len(values)
    return count > IDENTIFIER_MIN_ROWS and values.nunique() > IDENTIFIER_DISTINCT_SHARE * count


def _outward(low: float, high: float, step: float) -> tuple[float, float]:
    """Multiples of ``step`` below ``low`` and above ``high``, never equal to a nonzero extreme."""
    lower = math.floor(low / step) * step
    upper = math.ceil(high / step) * step
    if lower == low and low != 0:
        lower -= step
    if upper == high and high != 0:
        upper += step
    return lower, upper


def nice_bounds(low: float, high: float) -> tuple[float, float]:
    """Round bounds around [low, high] on a grid of one power of ten, so exact extremes stay unprinted.

    The grid is the leading power of ten of the larger rounded bound: 17..90 -> 0..100,
    12285..1490400 -> 0..2000000, 0..4356 -> 0..5000. Zero may be kept as a bound.
    """
    step = 10.0 ** math.floor(math.log10(max(abs(low), abs(high))))
    lower, upper = _outward(low, high, step)
    step = 10.0 ** math.floor(math.log10(max(abs(lower), abs(upper))))
    lower, upper = _outward(low, high, step)
    # Products such as 3 * 0.001 print as 0.0030000000000000005; keep the round value.
    return float(f"{lower:.12g}"), float(f"{upper:.12g}")


def _year_bounds(values: pd.Series) -> tuple[str, str]:
    """January 1st of the year of the first value (or the year before, if it is exactly that)
    and of the year after the last."""
    if values.dt.tz is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    first, last = values.min(), values.max()
    lower = first.year - 1 if first == pd.Timestamp(first.year, 1, 1) else first.year
    upper = last.year + 1
    lower, upper = max(lower, _FIRST_YEAR), min(upper, _LAST_YEAR)
    return f"{lower:04d}-01-01", f"{upper:04d}-01-01"


def _numeric_categories(values: pd.Series) -> tuple:
    distinct = np.sort(values.unique())
    if np.all(distinct == np.round(distinct)):
        return tuple(int(value) for value in distinct)
    return tuple(string_forms(pd.Index(distinct)))


# Text columns (as dpsynth reads CSV files) are read as numbers when this share of their
# present cells are numbers; the others then become missing.
NUMBER_SHARE = 0.95


def _draft_spikes(numbers: np.ndarray, numeric: Numeric) -> tuple[float, ...]:
    """Values holding SPIKE_SHARE of the numbers and SPIKE_RATIO times the mean count of the other
    values seen in their bin (the rule DP discovery applies to noisy counts, here on exact ones;
    a value alone in a wide bin is a spike, a top code say); at most MAX_SPIKES, the largest
    first. In an integer column a bin of one integer decodes it exactly already."""
    values, counts = np.unique(numbers, return_counts=True)
    edges = numeric.bin_edges
    codes = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, numeric.bins - 1)
    in_bin = np.bincount(codes, weights=counts, minlength=numeric.bins)[codes]
    others = np.bincount(codes, minlength=numeric.bins)[codes] - 1
    mean_other = (in_bin - counts) / np.maximum(others, 1)
    spike = (counts >= SPIKE_SHARE * len(numbers)) & (counts >= SPIKE_RATIO * mean_other)
    if numeric.integer:
        spike &= edges[codes + 1] - edges[codes] > 1
    largest = np.argsort(-counts[spike], kind="stable")[:MAX_SPIKES]
    return tuple(sorted(float(value) for value in values[spike][largest]))


def _as_numbers(series: pd.Series) -> pd.Series:
    """A text column whose cells are nearly all numbers, as float (others missing); else as is."""
    if ptypes.is_numeric_dtype(series.dtype) or ptypes.is_bool_dtype(series.dtype):
        return series
    if ptypes.is_datetime64_any_dtype(series.dtype):
        return series
    present = series.notna().to_numpy()
    numbers = parse_numbers(series)
    if present.any() and np.count_nonzero(~np.isnan(numbers)) >= NUMBER_SHARE * np.count_nonzero(present):
        return pd.Series(numbers, index=series.index, name=series.name)
    return series


def _infer_column(series: pd.Series, max_categories: int) -> Column:
    # Any label pandas allows; the column's constructor refuses one that is not a non-empty string.
    name: Any = series.name
    series = _as_numbers(series)
    values = series.dropna()
    dtype = series.dtype
    if values.empty:
        return Identifier(name, role="drop")
    if ptypes.is_datetime64_any_dtype(dtype):
        return Datetime(name, *_year_bounds(values))
    if ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype):
        if values.nunique() <= MAX_NUMERIC_CATEGORIES:
            return Categorical(name, _numeric_categories(values))
        numbers = values.to_numpy(dtype=float)
        numbers = numbers[np.isfinite(numbers)]
        # A float column of whole numbers is how pandas reads an integer column with missing cells.
        integer = ptypes.is_integer_dtype(dtype) or bool(np.all(numbers == np.round(numbers)))
        lower, upper = nice_bounds(float(numbers.min()), float(numbers.max()))
        numeric = Numeric(name, lower, upper, integer=integer)
        return dataclasses.replace(numeric, spikes=_draft_spikes(numbers, numeric))
    if nearly_unique(values):
        return Identifier(name, role="key")
    counts = pd.Series(string_forms(pd.Index(values))).value_counts()
    if len(counts) <= max_categories:
        return Categorical(name, tuple(sorted(counts.index)))
    kept = tuple(sorted(counts.index[:max_categories]))
    other_label = f"({OTHER_LABEL})" if OTHER_LABEL in kept else OTHER_LABEL
    return Categorical(name, kept, other=True, other_label=other_label)


def infer_schema(frame: pd.DataFrame, max_categories: int = 64) -> Schema:
    """Draft a schema by reading ``frame`` WITHOUT noise (NOT differentially private; warns).

    This reads categories and ranges from the private data. Review the result and keep only
    what is public knowledge: a release using it is DP only if those values are public; use
    DP schema discovery otherwise. The schema's provenance is "inferred-not-dp".

    Numeric columns with more than 20 distinct values become Numeric with bounds rounded
    outward (see :func:`nice_bounds`); fewer become Categorical. Text columns whose values are
    nearly all distinct become Identifier (role "key": fresh keys in the synthetic table); the
    others Categorical, keeping the ``max_categories`` most frequent values and an "other"
    code when there are more.
    Datetime columns become Datetime with bounds rounded outward to whole years. Columns with
    no values are dropped (Identifier).
    """
    if isinstance(max_categories, bool) or not isinstance(max_categories, int) or max_categories < 1:
        raise SchemaError(f"max_categories must be a positive integer; got {max_categories!r}")
    warnings.warn(INFER_WARNING, PrivacyWarning, stacklevel=2)
    columns = tuple(_infer_column(frame[name], max_categories) for name in frame.columns)
    return Schema(columns, provenance="inferred-not-dp")


def suspect_identifiers(frame: pd.DataFrame, schema: Schema) -> list[str]:
    """Categorical or ordinal columns of ``schema`` whose values in ``frame`` are nearly all distinct.

    Used only to refuse input ("an identifier mistaken for a category"); the distinct count it
    reads is never reported.
    """
    return [
        name
        for name in schema.encoded_columns
        if isinstance(schema[name], (Categorical, Ordinal))
        and name in frame.columns
        and nearly_unique(frame[name].dropna())
    ]
