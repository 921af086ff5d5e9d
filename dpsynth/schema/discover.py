"""Schema discovery under DP, charged to the ``domain`` part through the door.

Nothing here reads rows: it asks the :class:`~dpsynth.data.PrivateTable` for noisy histograms
and turns them into bounds, bins and category sets (post-processing). Column kinds come from
the columns' types (numeric or not), which are treated as public metadata like the names.

* Numeric columns: a noisy histogram over a fixed public grid of magnitudes (0, +-1, 2, 5 x
  10^k) gives bounds that need nothing read from the data; a second noisy histogram of 64
  uniform bins within those bounds tightens them and, with ``binning="quantile"``, places the
  encoding's bin edges at DP quantiles.
* Other columns: a thresholded noisy histogram keeps the values whose noisy count clears a
  threshold set by the share of delta reserved for it; the rest fold into one "other" code.
* Every discovered column keeps a code for missing values, whether or not any are missing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.errors import BudgetExceeded, SchemaError
from dpsynth.privacy.accountant import PlannedMeasurement
from dpsynth.privacy.budget import DOMAIN
from dpsynth.schema.columns import Categorical, Identifier, Numeric
from dpsynth.schema.schema import Schema

# Fraction of the release's delta set aside for the thresholded category histograms.
DOMAIN_DELTA_RESERVE = 0.1
# A bin is "supported" when its noisy count clears this many noise deviations: at 4.5 the
# chance that pure noise clears it is 3.4e-6 per bin, so a spurious extreme bound is rare.
SUPPORT_SIGMAS = 4.5
FINE_BINS = 64

_MAGNITUDES = np.array([m * 10.0**k for k in range(-3, 10) for m in (1.0, 2.0, 5.0)])
PUBLIC_GRID = np.concatenate([-_MAGNITUDES[::-1], [0.0], _MAGNITUDES])


def _supported_span(counts: np.ndarray, sigma: float) -> tuple[int, int] | None:
    """First and last index whose noisy count clears SUPPORT_SIGMAS noise deviations."""
    supported = np.flatnonzero(counts > SUPPORT_SIGMAS * sigma)
    if supported.size == 0:
        return None
    return int(supported[0]), int(supported[-1])


def _numeric_bounds(table: Any, column: str, sigma: float) -> tuple[float, float]:
    counts = table.numeric_histogram(column, PUBLIC_GRID, sigma, part=DOMAIN)
    # counts[0] is below the grid, counts[i] is [grid[i-1], grid[i]), counts[-2] is above it.
    span = _supported_span(counts[:-1], sigma)
    if span is None:
        return 0.0, 1.0
    first, last = span
    extended = np.concatenate([[PUBLIC_GRID[0] * 10], PUBLIC_GRID, [PUBLIC_GRID[-1] * 10]])
    return float(extended[first]), float(extended[last + 1])


def _refine(
    table: Any, column: str, lower: float, upper: float, sigma: float, integer: bool, bins: int, binning: str
) -> Numeric:
    fine = np.linspace(lower, upper, FINE_BINS + 1)
    counts = table.numeric_histogram(column, fine, sigma, part=DOMAIN)[1:-2]
    span = _supported_span(counts, sigma)
    if span is not None:
        lower, upper = float(fine[span[0]]), float(fine[span[1] + 1])
        counts = counts[span[0] : span[1] + 1]
    if integer:
        # Bins are half-open [a, b): the largest integer inside the last one is ceil(b) - 1.
        lower, upper = math.floor(lower), max(math.ceil(upper) - 1, math.floor(lower) + 1)
    edges = None
    if binning == "quantile" and counts.size > 1:
        mass = np.cumsum(np.clip(counts, 0, None)).astype(float)
        if mass[-1] > 0:
            grid = np.linspace(lower, upper, counts.size + 1)
            targets = np.linspace(0, mass[-1], bins + 1)[1:-1]
            inner = np.interp(targets, np.concatenate([[0.0], mass]), grid)
            if integer:
                inner = np.round(inner)
            inner = np.unique(inner[(inner > lower) & (inner < upper)])
            edges = tuple(float(x) for x in np.concatenate([[lower], inner, [upper]]))
    return Numeric(column, float(lower), float(upper), integer=integer, bins=bins, edges=edges, missing=True)


def _threshold(sigma: float, scale: int, delta_share: float) -> float:
    """Smallest threshold whose stability delta, scale * exp(-(t - scale)^2 / 2 sigma^2), is delta_share."""
    return scale + sigma * math.sqrt(2.0 * math.log(scale / delta_share))


def discover_schema(table: Any, bins: int = 32, binning: str = "uniform") -> Schema:
    """Discover a schema for every column of ``table`` under DP (spends all of ``domain``).

    ``binning`` is "uniform" (equal-width bins between the DP bounds) or "quantile" (bin
    edges at DP quantiles of the second noisy histogram).
    """
    if binning not in ("uniform", "quantile"):
        raise SchemaError(f"binning must be 'uniform' or 'quantile'; got {binning!r}")
    accountant = table.accountant
    rho = accountant.rho_remaining(DOMAIN)
    if rho <= 0:
        raise BudgetExceeded("the allocation gives schema discovery ('domain') no budget")
    columns = table.columns
    numeric = {c: table.is_numeric(c) for c in columns}
    plan = []
    for column in columns:
        plan += [PlannedMeasurement(table.sensitivity_scale, 0.5)] * (2 if numeric[column] else 1)
    sigmas = iter(accountant.calibrate(DOMAIN, plan, rho=rho))
    n_categorical = sum(not v for v in numeric.values())
    reserve = accountant.budget.delta * accountant.budget.delta_reserve
    delta_share = reserve * (1 - 1e-6) / max(n_categorical, 1)
    discovered = []
    for column in columns:
        if numeric[column]:
            lower, upper = _numeric_bounds(table, column, next(sigmas))
            integer = table.is_integer(column)
            discovered.append(_refine(table, column, lower, upper, next(sigmas), integer, bins, binning))
        else:
            sigma = next(sigmas)
            threshold = _threshold(sigma, table.sensitivity_scale, delta_share)
            counts = table.category_counts(column, sigma, threshold, part=DOMAIN)
            discovered.append(Categorical(column, tuple(sorted(counts)), other=True, missing=True))
    if table.unit.column is not None:
        discovered.append(Identifier(table.unit.column, role="unit"))
    return Schema(discovered, provenance="dp")


def column_is_numeric(series: pd.Series) -> bool:
    """Whether a column's type (public metadata) is numeric (booleans are categories)."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
