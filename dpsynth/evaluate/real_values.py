"""Fidelity on the real values, and how much of the real data a schema folds or clips.

Every other fidelity figure is measured on the schema's codes, so it cannot see what the schema
itself loses: a schema discovered under DP at a small epsilon may fold most categories into
"other" and clip long tails, and then real and synthetic rows look alike on codes while their
values differ. Here each column is coded by a fixed rule that does not depend on the schema:
categories as they are, numbers and dates cut at :data:`VALUE_BINS` quantiles of the real and
synthetic values together (each value its own bin when there are no more distinct values than
that), missing cells as a value of their own. These figures read the real data exactly: they
describe a release to its custodian and are not part of the DP guarantee.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dpsynth.evaluate.fidelity import MAX_MARGINALS, mean_kway_tvd
from dpsynth.evaluate.quality import is_continuous, joint_codes, values
from dpsynth.schema import Categorical, Datetime, Numeric, Ordinal, Schema
from dpsynth.schema.columns import EncodedColumn
from dpsynth.schema.encoding import string_forms

VALUE_BINS = 20
VALUE_RULE = (
    f"categories as they are (not folded into 'other'); numbers and dates in {VALUE_BINS} bins at the "
    "quantiles of the real and synthetic values together (each value its own bin when there are no more "
    "distinct values); missing cells a value of their own"
)


def _continuous_codes(real: np.ndarray, synthetic: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes of both columns' values (real first), missing last, and the number of codes."""
    pooled = np.concatenate([real, synthetic])
    missing = np.isnan(pooled)
    present = pooled[~missing]
    distinct = np.unique(present)
    if distinct.size <= VALUE_BINS:
        codes = np.searchsorted(distinct, pooled)
        size = distinct.size
    else:
        edges = np.unique(np.quantile(present, np.linspace(0.0, 1.0, VALUE_BINS + 1)))
        # Bin i holds [edge i, edge i+1); the top edge joins the last bin.
        codes = np.searchsorted(edges[1:-1], pooled, side="right")
        size = edges.size - 1
    return np.where(missing, size, codes), size + 1


def value_codes(real: pd.Series, synthetic: pd.Series, column: EncodedColumn) -> tuple[np.ndarray, np.ndarray, int]:
    """Shared codes of one column's real and synthetic cells by the module's rule, and their number."""
    if is_continuous(column):
        codes, size = _continuous_codes(values(real, column), values(synthetic, column))
    else:
        first, second, size = joint_codes(real, synthetic)
        codes = np.concatenate([first, second])
        codes, size = np.where(codes < 0, size, codes), size + 1
    return codes[: len(real)], codes[len(real) :], size


def real_value_fidelity(train: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> dict[str, float | None]:
    """Mean TVD of the 1- and 2-way marginals on the real values (module docstring); 2-way sampled
    above :data:`MAX_MARGINALS` pairs with a fixed seed. None where a table has too few columns."""
    names = list(schema.encoded_columns)
    real = np.empty((len(train), len(names)), dtype=np.int64)
    fake = np.empty((len(synthetic), len(names)), dtype=np.int64)
    sizes = []
    for j, name in enumerate(names):
        real[:, j], fake[:, j], size = value_codes(train[name], synthetic[name], schema.encoded(name))
        sizes.append(size)
    figures: dict[str, float | None] = {}
    for k in (1, 2):
        tvd = mean_kway_tvd(real, fake, sizes, k, max_marginals=MAX_MARGINALS) if len(names) >= k else math.nan
        figures[f"tvd_{k}way"] = None if math.isnan(tvd) else tvd
    return figures


def _outside_categories(series: pd.Series, column: Categorical | Ordinal) -> np.ndarray:
    """Present cells whose value is not among the column's categories (as the encoder matches them)."""
    codes, uniques = pd.factorize(series)
    known = pd.Index(column.labels).get_indexer(pd.Index(string_forms(pd.Index(uniques))))
    return (codes >= 0) & (known[codes] < 0)


def _outside_bounds(series: pd.Series, column: Numeric | Datetime) -> tuple[np.ndarray, np.ndarray]:
    """Present cells below the lower bound, and above the upper bound (datetimes in nanoseconds)."""
    if isinstance(column, Datetime):
        lower, upper = float(column.lower_timestamp.value), float(column.upper_timestamp.value)
    else:
        lower, upper = float(column.lower), float(column.upper)
    numbers = values(series, column)
    return numbers < lower, numbers > upper


def _share(count: int, n: int, min_count: int) -> float | None:
    """``count / n``, or None for a count from 1 to ``min_count - 1`` (a small count is not shown)."""
    return None if 0 < count < min_count else count / n


def schema_loss(frame: pd.DataFrame, schema: Schema, min_count: int = 0) -> dict[str, object]:
    """How much of ``frame`` the schema does not represent as it is, per column and overall.

    Per column, the share of rows folded (a value outside a category list: into "other", or read
    as missing where the column has no "other") and clipped below or above the bounds (numbers,
    dates). Overall, the mean share of cells lost over the columns and the share of rows with at
    least one lost cell. A share resting on 1 to ``min_count - 1`` rows is None (not shown).
    """
    n = max(len(frame), 1)
    columns, lost_cells = [], []
    lost_rows = np.zeros(len(frame), dtype=bool)
    for name in schema.encoded_columns:
        column = schema.encoded(name)
        folded = below = above = 0
        if isinstance(column, (Categorical, Ordinal)):
            lost = _outside_categories(frame[name], column)
            folded = int(lost.sum())
        else:
            low, high = _outside_bounds(frame[name], column)
            below, above, lost = int(low.sum()), int(high.sum()), low | high
        lost_rows |= lost
        lost_cells.append(int(lost.sum()) / n)
        columns.append({
            "column": name,
            "folded": _share(folded, n, min_count),
            "below_bounds": _share(below, n, min_count),
            "above_bounds": _share(above, n, min_count),
        })
    return {
        "columns": columns,
        "cells": float(np.mean(lost_cells)) if lost_cells else None,
        "rows": _share(int(lost_rows.sum()), n, min_count),
        "suppressed_below": min_count,
    }
