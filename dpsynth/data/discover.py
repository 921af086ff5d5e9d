"""Schema discovery under DP, charged to the ``domain`` part through the door.

Nothing here reads rows: it asks the :class:`~dpsynth.data.PrivateTable` for noisy histograms
and turns them into kinds, bounds, bins and category sets (post-processing).

* Kinds: a column's kind is declared (``kinds``) or decided under DP, never read from a dtype
  that a parser guessed from the private cells. The decision measures, per undeclared column,
  noisy counts of its cells that are missing, whole numbers, fractional numbers and not numbers
  (:data:`~dpsynth.schema.kinds.VALUE_CLASSES`, a :data:`KIND_SHARE` of the domain part split
  evenly): a column is numeric when numbers clearly dominate, integer when fractional numbers
  are no more than noise or a small share. Cells that do not fit the decided kind are coded
  missing (non-numbers in a numeric column) or binned where they fall (fractions in an integer
  column), so one odd cell changes only its own row.

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
from collections.abc import Mapping

import numpy as np

from dpsynth.data.private_table import PrivateTable
from dpsynth.errors import BudgetExceeded, SchemaError
from dpsynth.privacy.accountant import PlannedMeasurement
from dpsynth.privacy.budget import DOMAIN
from dpsynth.privacy.noise import discrete_gaussian_sigma_used
from dpsynth.schema.columns import OTHER_LABEL, Categorical, Column, Identifier, Numeric
from dpsynth.schema.kinds import FRACTIONAL, TEXT, WHOLE, check_kinds
from dpsynth.schema.schema import Schema

# Share of the domain part's rho spent on the kind decision (when some kinds are undeclared).
KIND_SHARE = 0.1
# Numeric when cells that are not numbers are at most this share of the present cells...
TEXT_SHARE = 0.1
# ...integer when fractional numbers are at most this share of the numbers; either test also
# passes when the count is within DECISION_SIGMAS noise deviations of zero.
FRACTION_SHARE = 0.01
DECISION_SIGMAS = 3.0
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


def _numeric_bounds(table: PrivateTable, column: str, sigma: float) -> tuple[float, float]:
    counts = table.numeric_histogram(column, PUBLIC_GRID, sigma, part=DOMAIN)
    # counts[0] is below the grid, counts[i] is [grid[i-1], grid[i]), counts[-2] is above it.
    span = _supported_span(counts[:-1], sigma)
    if span is None:
        return 0.0, 1.0
    first, last = span
    extended = np.concatenate([[PUBLIC_GRID[0] * 10], PUBLIC_GRID, [PUBLIC_GRID[-1] * 10]])
    return float(extended[first]), float(extended[last + 1])


def _refine(
    table: PrivateTable, column: str, lower: float, upper: float, sigma: float, integer: bool, bins: int, binning: str
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
    """Smallest threshold whose stability delta, scale * exp(-(t - scale)^2 / 2 sigma^2), is delta_share.

    At the sigma the sampler really uses (rounded up), which the mechanism's delta is charged at.
    """
    used = discrete_gaussian_sigma_used(sigma)
    return scale + used * math.sqrt(2.0 * math.log(scale / delta_share))


def decide_kind(counts: np.ndarray, sigma: float) -> str:
    """The kind ("numeric", "integer" or "categorical") that noisy value-class counts support."""
    whole, fractional, text = (max(float(counts[i]), 0.0) for i in (WHOLE, FRACTIONAL, TEXT))
    numbers = whole + fractional
    slack = DECISION_SIGMAS * sigma
    if numbers <= slack or text > max(TEXT_SHARE * (numbers + text), slack):
        return "categorical"
    return "integer" if fractional <= max(FRACTION_SHARE * numbers, slack) else "numeric"


def _decide_kinds(table: PrivateTable, columns: list[str], rho: float) -> dict[str, str]:
    """Kinds of ``columns`` decided from noisy value-class counts that spend ``rho`` of the domain part."""
    plan = [PlannedMeasurement(table.sensitivity_scale, 1.0)] * len(columns)
    sigmas = table.accountant.calibrate(DOMAIN, plan, rho=rho)
    return {
        column: decide_kind(table.value_class_counts(column, sigma, part=DOMAIN), sigma)
        for column, sigma in zip(columns, sigmas)
    }


def discover_schema(
    table: PrivateTable, bins: int = 32, binning: str = "uniform", kinds: Mapping[str, str] | None = None
) -> Schema:
    """Discover a schema for every column of ``table`` under DP (spends all of ``domain``).

    ``binning`` is "uniform" (equal-width bins between the DP bounds) or "quantile" (bin
    edges at DP quantiles of the second noisy histogram). ``kinds`` declares some or all
    columns' kinds as public (see :mod:`dpsynth.schema.kinds`); the others are decided under DP.
    """
    if binning not in ("uniform", "quantile"):
        raise SchemaError(f"binning must be 'uniform' or 'quantile'; got {binning!r}")
    kinds = check_kinds(kinds or {})
    accountant = table.accountant
    rho = accountant.rho_remaining(DOMAIN)
    if rho <= 0:
        raise BudgetExceeded("the allocation gives schema discovery ('domain') no budget")
    columns = table.columns
    unknown = sorted(set(kinds) - set(columns) - {table.unit.column})
    if unknown:
        raise SchemaError(f"column(s) {unknown} have a declared kind but are not in the data")
    undeclared = [c for c in columns if c not in kinds]
    decided = dict(kinds)
    if undeclared:
        decided.update(_decide_kinds(table, undeclared, KIND_SHARE * rho))
    measured = [c for c in columns if decided[c] != "identifier"]
    numeric = {c: decided[c] in ("numeric", "integer") for c in measured}
    plan = []
    for column in measured:
        plan += [PlannedMeasurement(table.sensitivity_scale, 0.5)] * (2 if numeric[column] else 1)
    discovered: list[Column] = []
    if plan:
        sigmas = iter(accountant.calibrate(DOMAIN, plan, rho=accountant.rho_remaining(DOMAIN)))
    n_categorical = sum(not v for v in numeric.values())
    reserve = accountant.budget.delta * accountant.budget.delta_reserve
    delta_share = reserve * (1 - 1e-6) / max(n_categorical, 1)
    for column in columns:
        if decided[column] == "identifier":
            discovered.append(Identifier(column, role="drop"))
        elif numeric[column]:
            lower, upper = _numeric_bounds(table, column, next(sigmas))
            integer = decided[column] == "integer"
            discovered.append(_refine(table, column, lower, upper, next(sigmas), integer, bins, binning))
        else:
            sigma = next(sigmas)
            threshold = _threshold(sigma, table.sensitivity_scale, delta_share)
            counts = table.category_counts(column, sigma, threshold, part=DOMAIN)
            kept = tuple(sorted(counts))
            # The fold label must not be a kept category (a release must not fail on which
            # categories the noise kept): decided from the noisy set, so post-processing.
            other_label = OTHER_LABEL
            while other_label in kept:
                other_label = f"({other_label})"
            discovered.append(Categorical(column, kept, other=True, missing=True, other_label=other_label))
    if table.unit.column is not None:
        discovered.append(Identifier(table.unit.column, role="unit"))
    return Schema(tuple(discovered), provenance="dp")
