"""Per-column views of a real and a synthetic table: the share of rows in each bar, side by side.

A bar is one of the schema's bins (numeric, datetime), one category (categorical, ordinal), one
exact value that holds a large share of rows (a spike: 0 in amounts, 40 in hours), values below
or above the schema's bounds, "other" (values outside a category list) or missing cells, so
that a lost spike, a lost null or a clipped tail shows. A bin of a single value (a spike bin of
the schema, or an integer bin of width one) is labelled with that value. The views read the real
data exactly: custodian's side, outside the DP guarantee. ``min_count`` suppresses the real
share of every bar that holds between 1 and ``min_count - 1`` real rows (a page that may be
published shows no small count; where only one bar would be hidden, the smallest shown one is
hidden too, since the shares add up to one); synthetic shares are never suppressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dpsynth.evaluate.quality import column_shape, labels, values
from dpsynth.schema import Categorical, Datetime, Numeric, Ordinal, Schema
from dpsynth.schema.columns import EncodedColumn

# At most this many bars per view: categories beyond it are pooled, bins merged in runs.
MAX_BARS = 40
# A value that holds at least this share of a column's real present values is a spike.
SPIKE_SHARE = 0.05
MISSING, OTHER, BELOW, ABOVE = "missing", "other", "below the lower bound", "above the upper bound"


def _text(value: float) -> str:
    """A bound or spike as a bar label: whole numbers in full, others to 6 significant digits."""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


@dataclass(frozen=True)
class ColumnView:
    """Share of rows per bar of one column, real beside synthetic (None: suppressed), and its shape score."""

    column: str
    kind: str
    axis: str
    labels: tuple[str, ...]
    real: tuple[float | None, ...]
    synthetic: tuple[float, ...]
    shape: float

    def to_dict(self) -> dict[str, object]:
        """The view as plain data (the certificate's JSON form)."""
        return {
            "column": self.column, "kind": self.kind, "axis": self.axis, "labels": list(self.labels),
            "real": list(self.real), "synthetic": list(self.synthetic),
            "shape": None if np.isnan(self.shape) else self.shape,
        }


def spikes(series: pd.Series, column: EncodedColumn, share: float = SPIKE_SHARE) -> tuple[float, ...]:
    """The exact values holding at least ``share`` of the real present values, in a column with more
    than ``1 / share`` distinct values (custodian's side only: they are values of the data, for a
    page that is not published)."""
    if not isinstance(column, Numeric):
        return ()
    numbers = values(series, column)
    numbers = numbers[~np.isnan(numbers)]
    if not numbers.size:
        return ()
    found, counts = np.unique(numbers, return_counts=True)
    # With few distinct values every value holds a large share: none stands out as a point mass.
    if found.size * share <= 1:
        return ()
    return tuple(float(v) for v in found[counts >= share * numbers.size])


def _bin_label(low: float, high: float, column: Numeric | Datetime) -> str:
    if isinstance(column, Datetime):
        stamp = pd.Timestamp(int(low))
        # A time axis: bins of a day or more are labelled by the day they start on.
        return stamp.strftime("%Y-%m-%d") if high - low >= 86_400e9 else stamp.isoformat()
    if (column.integer and high - low == 1) or (not column.integer and np.nextafter(low, np.inf) >= high):
        return f"= {_text(low)}"
    if column.integer:
        return f"{_text(low)} to {_text(high - 1)}"
    return f"{_text(low)} to {_text(high)}"


def _merged(edges: np.ndarray) -> np.ndarray:
    """At most MAX_BARS bins: runs of neighbouring bins merged into one."""
    bins = edges.size - 1
    if bins <= MAX_BARS:
        return edges
    keep = np.unique(np.round(np.linspace(0, bins, MAX_BARS + 1)).astype(int))
    return edges[keep]


def _continuous_counts(
    series: pd.Series, column: Numeric | Datetime, edges: np.ndarray, spike_values: Sequence[float]
) -> dict[str, int]:
    """Counts per bar in the order of the axis: below, bins and spikes by value, above, missing."""
    numbers = values(series, column)
    present = ~np.isnan(numbers)
    bars: dict[str, tuple[tuple[float, int], int]] = {}
    taken = np.zeros(numbers.size, dtype=bool)
    for spike in spike_values:
        hit = present & (numbers == spike)
        bars[f"= {_text(spike)}"] = ((spike, 0), int(hit.sum()))
        taken |= hit
    rest = numbers[present & ~taken]
    # Bins are [e_i, e_i+1); the last bin of a continuous column also holds its upper bound.
    closed = isinstance(column, Numeric) and not column.integer
    top = rest > edges[-1] if closed else rest >= edges[-1]
    inside = rest[(rest >= edges[0]) & ~top]
    codes = np.clip(np.searchsorted(edges, inside, side="right") - 1, 0, edges.size - 2)
    for j, count in enumerate(np.bincount(codes, minlength=edges.size - 1)):
        label = _bin_label(edges[j], edges[j + 1], column)
        key, before = bars.get(label, ((edges[j], 1), 0))
        bars[label] = (key, before + int(count))
    bars[BELOW] = ((-np.inf, 0), int(np.sum(rest < edges[0])))
    bars[ABOVE] = ((np.inf, 0), int(np.sum(top)))
    bars[MISSING] = ((np.inf, 1), int(np.sum(~present)))
    return {label: count for label, (_, count) in sorted(bars.items(), key=lambda item: item[1][0])}


def _category_counts(series: pd.Series, column: Categorical | Ordinal) -> dict[str, int]:
    text = labels(series)
    known = list(column.labels)
    found = text.value_counts(dropna=True)
    counts = {label: int(found.get(label, 0)) for label in known}
    counts[OTHER] = int(found[~found.index.isin(known)].sum())
    counts[MISSING] = int(text.isna().sum())
    return counts


def _counts(
    series: pd.Series, column: EncodedColumn, edges: np.ndarray | None, spike_values: Sequence[float]
) -> dict[str, int]:
    if isinstance(column, (Numeric, Datetime)):
        assert edges is not None
        return _continuous_counts(series, column, edges, spike_values)
    return _category_counts(series, column)


def _order(real: dict[str, int], synthetic: dict[str, int], column: EncodedColumn) -> list[str]:
    """Bars in the counts' order, leaving out the optional bars (outside, other, missing) both sides lack,
    and pooling the smallest categories beyond MAX_BARS."""
    optional = {MISSING, OTHER, BELOW, ABOVE}
    order = [k for k in real if k not in optional or real[k] or synthetic.get(k, 0)]
    if isinstance(column, Categorical) and column.other and OTHER not in order:
        order.append(OTHER)
    return order


def column_view(
    real: pd.Series,
    synthetic: pd.Series,
    column: EncodedColumn,
    spike_values: Sequence[float] = (),
    min_count: int = 0,
) -> ColumnView:
    """The view of one column (see the module docstring)."""
    edges = None
    if isinstance(column, (Numeric, Datetime)):
        edges = _merged(np.asarray(column.bin_edges, dtype=float))
    real_counts = _counts(real, column, edges, spike_values)
    synthetic_counts = _counts(synthetic, column, edges, spike_values)
    order = _order(real_counts, synthetic_counts, column)
    if len(order) > MAX_BARS:
        ranked = sorted(order, key=lambda k: -(real_counts.get(k, 0) / max(len(real), 1)
                                               + synthetic_counts.get(k, 0) / max(len(synthetic), 1)))
        kept = set(ranked[: MAX_BARS - 1])
        pooled = f"{len(order) - MAX_BARS + 1} more"
        for tally in (real_counts, synthetic_counts):
            tally[pooled] = sum(tally.get(k, 0) for k in order if k not in kept)
        order = [k for k in order if k in kept] + [pooled]
    n_real, n_synthetic = max(len(real), 1), max(len(synthetic), 1)
    counts = np.array([real_counts.get(k, 0) for k in order])
    hidden = (counts > 0) & (counts < min_count)
    if hidden.sum() == 1:
        # Shares add up to one, so a lone hidden share would follow from the others: hide the
        # smallest shown one too (secondary suppression).
        shown = np.flatnonzero(~hidden & (counts > 0))
        if shown.size:
            hidden[shown[np.argmin(counts[shown])]] = True
    real_shares = tuple(None if hide else int(count) / n_real for hide, count in zip(hidden, counts, strict=True))
    axis = "time" if isinstance(column, Datetime) else "value" if isinstance(column, Numeric) else "category"
    kind = "integer" if isinstance(column, Numeric) and column.integer else column.kind
    return ColumnView(
        column=column.name, kind=kind, axis=axis, labels=tuple(order), real=real_shares,
        synthetic=tuple(synthetic_counts.get(k, 0) / n_synthetic for k in order),
        shape=column_shape(real, synthetic, column),
    )


def column_views(
    real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, *, find_spikes: bool = False, min_count: int = 0
) -> list[ColumnView]:
    """The view of every encoded column; ``find_spikes`` adds a bar per spike found in the real data
    (values of the data: only for pages that stay with the custodian)."""
    views = []
    for name in schema.encoded_columns:
        column = schema.encoded(name)
        found = spikes(real[name], column) if find_spikes else ()
        views.append(column_view(real[name], synthetic[name], column, found, min_count))
    return views
