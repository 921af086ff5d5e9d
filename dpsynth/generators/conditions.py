"""Turning conditions and rebalance targets on decoded values into weights on model codes.

Conditions and rebalancing, exactly
-----------------------------------
Sampling is a generative process: the model draws codes m (after compression, a merged code
stands for a group G of original codes), un-merging picks an original code o uniformly in its
group, and decoding draws a value uniformly within o's bin (numeric and datetime columns). So
the process gives an original code o and the rest of the row r the probability
P(m(o), r) * u(o), u(o) = 1 / |G(o)|, and a value v in bin o the density 1 / |bin o| (a bin's
size: its width, or its count of integers, or of nanoseconds for datetimes).

A condition on a column is a set of allowed values A. Its requested mass on each original code
o is c(o) = the mass of A within bin o under the uniform-in-bin law: 1 for an allowed category
or missing code; |A & bin o| / |bin o| for a range; (number of allowed points in bin o) /
|bin o| for points (a density; for integer and datetime columns it is the probability of the
points). The exact conditional law is then

    P(o, r | A) proportional to P(m(o), r) * u(o) * c(o),

and summing over the group of a model code m, P(m, r | A) proportional to P(m, r) * W(m) with
W(m) = sum over o in G(m) of u(o) c(o). So the model is sampled with per-code weights W (zero
weights exclude codes: that is the evidence), each merged code is un-merged in proportion to
c(o) over its members, not uniformly (a merged code with some requested members is weighted
by the fraction of them that was requested, so it is neither over- nor under-represented), and
within the bin the value is drawn from the uniform law restricted to A: uniform over the
allowed points in the bin, or uniform on the bin's part of the range.

A rebalance target t over a column's original codes is met the same way: the model code m gets
the target T(m) = sum of t(o) over G(m) (its weights, target / model marginal, come from the
engine, which rakes several columns jointly), and un-merging picks o with probability
t(o) / T(m). Given the column's code, every other column keeps the model's conditional law.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.errors import DataError
from dpsynth.schema import Categorical, Datetime, Numeric, Ordinal
from dpsynth.schema.encoding import string_forms


def _unmerge_weighted(
    codes: np.ndarray, merge: np.ndarray, weights: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Original codes for model codes: within each group, in proportion to ``weights``."""
    out = np.empty_like(codes)
    for code in np.unique(codes):
        members = np.flatnonzero(merge == code)
        hit = codes == code
        if members.size == 1:
            out[hit] = members[0]
            continue
        p = weights[members]
        out[hit] = rng.choice(members, size=int(hit.sum()), p=p / p.sum())
    return out


@dataclass(frozen=True)
class _ConditionPlan:
    """A condition on one column: its mass on each original code, and how values are redrawn.

    ``mass[o]`` is the probability (density, for points of a continuous column) of the allowed
    values within code o's bin under the uniform-in-bin decoding law, up to a common factor.
    ``draw(codes, rng) -> (mask, values)`` gives the rows to overwrite after decoding and their
    values, drawn from the decoding law restricted to the allowed values; None for categories.
    """

    mass: np.ndarray
    draw: Callable[[np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]] | None = None


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _as_list(spec: Any, column: str) -> list:
    if isinstance(spec, Mapping):
        raise DataError(f"conditions: column {column!r} takes a value or a list of values, not a mapping")
    if isinstance(spec, (list, tuple, set, frozenset, np.ndarray, pd.Series, pd.Index)):
        values = list(spec)
        if not values:
            raise DataError(f"conditions: column {column!r} lists no values")
        return values
    return [spec]


def _category_code(column: Categorical | Ordinal, value: Any, parameter: str) -> int:
    if _is_missing(value):
        if column.missing_code is None:
            raise DataError(f"{parameter}: column {column.name!r} has no missing values (declared missing=false)")
        return column.missing_code
    if isinstance(value, (list, tuple, set, dict, pd.Interval)):
        raise DataError(f"{parameter}: column {column.name!r} got a {type(value).__name__} where a label belongs")
    label = string_forms(pd.Index([value]))[0]
    if isinstance(column, Categorical) and column.other_code is not None and label == column.other_label:
        return column.other_code
    if label not in column.labels:
        other = [column.other_label] if isinstance(column, Categorical) and column.other else []
        allowed = list(column.labels) + other
        raise DataError(
            f"{parameter}: column {column.name!r} has no category {value!r}; its categories are {allowed}"
            + (" (and None for missing)" if column.missing else "")
        )
    return column.labels.index(label)


def _point(column: Numeric | Datetime, value: Any, parameter: str) -> float | int:
    """A value the column can take, as a float (numeric) or int nanoseconds (datetime)."""
    name = column.name
    if isinstance(column, Datetime):
        if isinstance(value, (bool, np.bool_, numbers.Number)):
            raise DataError(f"{parameter}: column {name!r} is a datetime column; give ISO 8601 text or a timestamp")
        try:
            stamp = pd.Timestamp(value)
            if stamp.tzinfo is not None:
                stamp = stamp.tz_convert("UTC").tz_localize(None)
            nanoseconds = stamp.as_unit("ns").value
        except (TypeError, ValueError, OverflowError):
            raise DataError(f"{parameter}: column {name!r}: {value!r} is not a date or time") from None
        if not column.lower_timestamp.value <= nanoseconds <= column.upper_timestamp.value:
            raise DataError(
                f"{parameter}: column {name!r}: {value!r} is outside its bounds [{column.lower}, {column.upper}]"
            )
        return int(nanoseconds)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise DataError(f"{parameter}: column {name!r} is numeric; got {value!r}")
    number = float(value)
    if not math.isfinite(number) or not column.lower <= number <= column.upper:
        raise DataError(
            f"{parameter}: column {name!r}: {value!r} is outside its bounds "
            f"[{_plain(column.lower)}, {_plain(column.upper)}]"
        )
    if column.integer and not number.is_integer():
        raise DataError(f"{parameter}: column {name!r} holds whole numbers; got {value!r}")
    return number


def _plain(number: float) -> int | float:
    return int(number) if float(number).is_integer() else number


def _bin_of(column: Numeric | Datetime, point: float) -> int:
    return int(np.clip(np.searchsorted(column.bin_edges, point, side="right") - 1, 0, column.bins - 1))


def _whole(column: Numeric | Datetime) -> bool:
    """Whether values are integers (integer numeric columns, datetimes in nanoseconds)."""
    return isinstance(column, Datetime) or column.integer


def _bin_sizes(column: Numeric | Datetime) -> np.ndarray:
    """Width of each bin, or its number of integers (nanoseconds) for whole-valued columns."""
    return np.diff(np.asarray(column.bin_edges, dtype=float))


def _output(column: Numeric | Datetime, values: np.ndarray) -> np.ndarray:
    if isinstance(column, Datetime):
        return np.asarray(values, dtype=np.int64).view("datetime64[ns]")
    return np.asarray(values, dtype=np.int64 if column.integer else float)


def _points_plan(column: Numeric | Datetime, values: list) -> _ConditionPlan:
    name = column.name
    mass = np.zeros(column.size)
    missing = [v for v in values if _is_missing(v)]
    if missing and not column.missing:
        raise DataError(f"conditions: column {name!r} has no missing values (declared missing=false)")
    points = np.array(sorted({_point(column, v, "conditions") for v in values if not _is_missing(v)}))
    if missing:
        mass[column.missing_code] = 1.0
    if points.size and missing and not _whole(column):
        raise DataError(
            f"conditions: column {name!r} is continuous: a single value has probability zero next to "
            "missing values; condition on the values alone, or on a range (pandas.Interval) and None separately"
        )
    if not points.size:
        return _ConditionPlan(mass)
    codes = np.array([_bin_of(column, p) for p in points])
    counts = np.bincount(codes, minlength=column.bins)
    mass[: column.bins] = counts / _bin_sizes(column)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])  # points are sorted, so grouped by bin

    def draw(column_codes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        mask = column_codes < column.bins  # not the missing code
        rows = column_codes[mask]
        chosen = starts[rows] + rng.integers(0, counts[rows])
        return mask, _output(column, points[chosen])

    return _ConditionPlan(mass, draw)


def _range_plan(column: Numeric | Datetime, interval: pd.Interval) -> _ConditionPlan:
    name = column.name
    edges = np.asarray(column.bin_edges)
    left: float
    right: float
    if isinstance(column, Datetime):
        left, right = (_point_unbounded(column, e) for e in (interval.left, interval.right))
    else:
        endpoints = (interval.left, interval.right)
        if not all(isinstance(e, numbers.Real) and not isinstance(e, (bool, np.bool_)) for e in endpoints):
            raise DataError(f"conditions: column {name!r} is numeric; its range needs numeric endpoints")
        # Endpoints beyond the bounds change nothing but could overflow the integer arithmetic.
        left = max(float(interval.left), column.lower - 1.0)
        right = min(float(interval.right), column.upper + 1.0)
    mass = np.zeros(column.size)
    if _whole(column):
        # Integers in the range, then per bin [e_o, e_{o+1} - 1] the integers of both.
        low = math.ceil(left) + (1 if interval.open_left and float(left).is_integer() else 0)
        high = math.floor(right) - (1 if interval.open_right and float(right).is_integer() else 0)
        edges = edges.astype(np.int64)
        first = np.maximum(edges[:-1], low)
        last = np.minimum(edges[1:] - 1, high)
        inside = np.maximum(last - first + 1, 0)
        mass[: column.bins] = inside / _bin_sizes(column)
    else:
        first = np.maximum(edges[:-1], left)
        last = np.minimum(edges[1:], right)
        inside = np.maximum(last - first, 0.0)
        mass[: column.bins] = inside / _bin_sizes(column)
    if not mass.any():
        raise DataError(
            f"conditions: column {name!r}: the range {interval} holds no value the column can take "
            f"(bounds [{column.lower}, {column.upper}])"
        )

    def draw(column_codes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        mask = column_codes < column.bins
        rows = column_codes[mask]
        if _whole(column):
            return mask, _output(column, rng.integers(first[rows], last[rows] + 1))
        low, high = first[rows], last[rows]
        values = np.minimum(rng.uniform(low, high), np.nextafter(high, low))  # bins are half-open
        if interval.open_left:  # u = 0 exactly would give the excluded left end
            values = np.maximum(values, np.nextafter(left, np.inf))
        return mask, _output(column, values)

    return _ConditionPlan(mass, draw)


def _point_unbounded(column: Datetime, value: Any) -> int:
    """A range endpoint in nanoseconds (it may lie outside the bounds)."""
    try:
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return int(stamp.as_unit("ns").value)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"conditions: column {column.name!r}: range endpoint {value!r} is not a date or time") from None


def _condition_plan(column: Any, spec: Any) -> _ConditionPlan:
    """What a condition on ``column`` allows, as a plan (see :class:`_ConditionPlan`)."""
    values = _as_list(spec, column.name)
    if isinstance(column, (Categorical, Ordinal)):
        mass = np.zeros(column.size)
        for value in values:
            mass[_category_code(column, value, "conditions")] = 1.0
        return _ConditionPlan(mass)
    intervals = [v for v in values if isinstance(v, pd.Interval)]
    if intervals:
        if len(values) > 1:
            raise DataError(
                f"conditions: column {column.name!r}: give a range as one pandas.Interval on its own, "
                "not in a list with other values"
            )
        return _range_plan(column, intervals[0])
    return _points_plan(column, values)


def _value_code(column: Any, value: Any, parameter: str) -> int:
    """The code a single value falls in: its category, its bin, or the missing code."""
    if isinstance(column, (Categorical, Ordinal)):
        return _category_code(column, value, parameter)
    if _is_missing(value):
        if not column.missing:
            raise DataError(f"{parameter}: column {column.name!r} has no missing values (declared missing=false)")
        return column.missing_code
    return _bin_of(column, _point(column, value, parameter))


def _target(column: Any, spec: Any) -> np.ndarray:
    """A rebalance target as one probability per original code, validated and normalised."""
    name = column.name
    if isinstance(spec, Mapping):
        target = np.zeros(column.size)
        seen: dict[int, Any] = {}
        for key, probability in spec.items():
            code = _value_code(column, key, "rebalance")
            if code in seen:
                raise DataError(f"rebalance: column {name!r}: {seen[code]!r} and {key!r} fall in the same code")
            seen[code] = key
            target[code] = _probability(name, probability)
    elif isinstance(spec, (list, tuple, np.ndarray, pd.Series)):
        target = np.array([_probability(name, p) for p in spec], dtype=float)
        if target.shape != (column.size,):
            raise DataError(
                f"rebalance: column {name!r} needs {column.size} probabilities, one per code in code order "
                f"(categories or bins, then other, then missing); got {len(target)}"
            )
    else:
        raise DataError(
            f"rebalance: column {name!r} takes a list of probabilities or a mapping from values to probabilities; "
            f"got {type(spec).__name__}"
        )
    if np.any(target < 0):
        raise DataError(f"rebalance: column {name!r}: probabilities must be non-negative")
    if abs(target.sum() - 1.0) > 1e-6:
        raise DataError(
            f"rebalance: column {name!r}: probabilities must sum to 1 (within 1e-6); they sum to {target.sum():.8g}"
        )
    return target / target.sum()


def _probability(name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise DataError(f"rebalance: column {name!r}: each probability must be a finite number; got {value!r}")
    return float(value)
