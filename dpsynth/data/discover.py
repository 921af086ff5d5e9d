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
  10^k) gives bounds that need nothing read from the data (the bins whose noisy count stands
  out, and the thin tail beyond them whose summed count does); a second noisy histogram of 64
  uniform bins within those bounds trims tails it shows nearly empty (bounds rounded outward)
  and, with ``binning="quantile"``, places the encoding's bin edges at DP quantiles; a third,
  thresholded histogram of exact values finds spikes (values holding far more rows than their
  neighbours: 0 in amounts, 40 in hours), which get bins of their own. A numeric column's
  decimals are decided from the value-class counts, as integer-ness is.
* Warnings: a column whose bounds collapse or leave out much of its noisy count, or whose kept
  categories do, gets a :class:`SchemaWarning` (logged, and listed in the release record),
  decided from the noisy counts only.
* Other columns: a thresholded noisy histogram keeps the values whose noisy count clears a
  threshold set by the share of delta reserved for it; the rest fold into one "other" code.
* Every discovered column keeps a code for missing values, whether or not any are missing, and
  a numeric column a code for the public top-code candidate past its bounds (99999 in amounts);
  the generator gives such a code no mass when its fitted count is within its own noise
  (:mod:`dpsynth.generators.empty_codes`).
* A column declared an identifier is regenerated as fresh keys (role "key"), integers when its
  value-class counts say whole numbers, else text; the unit column keeps role "unit".
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dpsynth.data.private_table import PrivateTable
from dpsynth.errors import BudgetExceeded, SchemaError
from dpsynth.privacy.accountant import PlannedMeasurement
from dpsynth.privacy.budget import DOMAIN
from dpsynth.privacy.noise import discrete_gaussian_sigma_used
from dpsynth.schema.columns import (
    CALENDAR_UNITS,
    MAX_SPIKES,
    OTHER_LABEL,
    SPIKE_RATIO,
    Categorical,
    Column,
    Datetime,
    Identifier,
    Numeric,
)
from dpsynth.schema.kinds import (
    DATE,
    DATETIME,
    DECIMALS,
    FRACTIONAL,
    MAX_DECIDED_DECIMALS,
    MISSING,
    TEXT,
    WHOLE,
    check_kinds,
)
from dpsynth.schema.schema import Schema, SchemaWarning

logger = logging.getLogger(__name__)

# Share of the domain part's rho spent on the kind decision (of undeclared columns and identifiers).
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
# The fine histogram trims a tail only when the tail holds at most TAIL_SHARE of the column's
# noisy count (see _trimmed).
TAIL_SHARE = 0.005
# Trimmed bounds are rounded outward to a step of at least this many fine bins.
ROUND_BINS = 2
# A column is warned about when its bounds or kept categories hold clearly (by WARN_SIGMAS
# deviations of the noise involved) less than this share of its noisy count.
COVER_SHARE = 0.9
WARN_SIGMAS = 2.0
# A category set is also warned about when it leaves out more than this share of the noisy
# count while the threshold is above it.
FOLD_SHARE = 0.05
# Each of a numeric column's three measurements weighs this against one category histogram:
# a category's threshold is what small tables fail to clear, so it gets the larger share.
NUMERIC_WEIGHT = 0.5
# Top-code candidates (see with_top_code) have at least this many nines, and at most 2**53.
TOP_CODE_DIGITS = 2
MAX_TOP_CODE = 2.0**53

_MAGNITUDES = np.array([m * 10.0**k for k in range(-3, 10) for m in (1.0, 2.0, 5.0)])
PUBLIC_GRID = np.concatenate([-_MAGNITUDES[::-1], [0.0], _MAGNITUDES])
# Integer columns skip the magnitudes below one, which hold none of their values: 0 and 1 are
# then neighbours, and a tail reached through empty bins pays for fewer of them.
WHOLE_GRID = PUBLIC_GRID[(np.abs(PUBLIC_GRID) >= 1) | (PUBLIC_GRID == 0)]
# Dates: January 1st of every year pandas holds at nanosecond resolution, as nanoseconds.
FIRST_YEAR, LAST_YEAR = 1678, 2261
# A calendar unit bins a datetime column when it gives at most this many bins (or ``bins``).
CALENDAR_BINS = 100
YEAR_GRID = pd.period_range(str(FIRST_YEAR), str(LAST_YEAR), freq="Y").to_timestamp().as_unit("ns").asi8.astype(float)


def _supported_span(counts: np.ndarray, sigma: float) -> tuple[int, int] | None:
    """First and last index whose noisy count clears SUPPORT_SIGMAS noise deviations."""
    supported = np.flatnonzero(counts > SUPPORT_SIGMAS * sigma)
    if supported.size == 0:
        return None
    return int(supported[0]), int(supported[-1])


@dataclass(frozen=True)
class _Noisy:
    """A sum of noisy counts and the variance of its noise."""

    value: float
    variance: float

    def __add__(self, other: _Noisy) -> _Noisy:
        return _Noisy(self.value + other.value, self.variance + other.variance)

    def clearly_above(self, level: float) -> bool:
        """Whether the sum exceeds ``level`` by more than WARN_SIGMAS deviations of its noise."""
        return self.value - WARN_SIGMAS * math.sqrt(self.variance) > level


def _summed(counts: np.ndarray, sigma: float) -> _Noisy:
    return _Noisy(float(np.sum(counts)), counts.size * sigma**2)


def _reach(beyond: np.ndarray, sigma: float) -> int:
    """How many bins past the supported span the bounds take in: the most k whose first k bins
    together clear SUPPORT_SIGMAS deviations of their summed noise. A tail spread thin over many
    bins (values after a sentinel, amounts after a spike at 0) has no bin of its own above the
    noise, but its sum is."""
    if beyond.size == 0:
        return 0
    k = np.arange(1, beyond.size + 1)
    clear = np.flatnonzero(np.cumsum(beyond) > SUPPORT_SIGMAS * sigma * np.sqrt(k))
    return int(clear[-1]) + 1 if clear.size else 0


def _numeric_bounds(
    table: PrivateTable, column: str, sigma: float, grid: np.ndarray
) -> tuple[float, float, _Noisy] | None:
    """Bounds on the public ``grid`` around its supported bins, and the noisy count of numbers
    outside them; None when no bin stands above the noise."""
    counts = table.numeric_histogram(column, grid, sigma, part=DOMAIN)[:-1].astype(float)
    # counts[0] is below the grid, counts[i] is [grid[i-1], grid[i]), counts[-1] is above it.
    span = _supported_span(counts, sigma)
    if span is None:
        return None
    first, last = _reached(counts, span, sigma)
    extended = np.concatenate([[grid[0] * 10], grid, [grid[-1] * 10]])
    outside = np.concatenate([counts[:first], counts[last + 1 :]])
    return float(extended[first]), float(extended[last + 1]), _summed(outside, sigma)


def _trimmed(counts: np.ndarray, tolerance: float) -> int:
    """How many bins at the start of ``counts`` can go: every tail cut holds at most
    ``tolerance`` rows, counting each bin at its noisy count clipped at zero.

    Clipping makes the tails' sums err upward (an empty bin adds sigma / sqrt(2 pi) on
    average) and keeps negative noise from hiding a tail's rows, so a cut is made only where
    the noisy histogram shows the tail is nearly empty: bounds keep the data's thin tails
    rather than stopping at the last bin whose own count stands above the noise.
    """
    fails = np.flatnonzero(np.cumsum(np.clip(counts, 0.0, None)) > tolerance)
    return int(fails[0]) if fails.size else counts.size - 1


def _rounded_outward(lower: float, upper: float, fine: np.ndarray) -> tuple[float, float]:
    """Trimmed bounds moved outward to multiples of a round step (1, 2 or 5 times a power of ten,
    at least ROUND_BINS fine bins), within the first bounds: a tail too thin to show above the
    noise (Adult's ages up to 90) stays inside, and bounds read as a person would write them."""
    width = (fine[-1] - fine[0]) / (fine.size - 1) * ROUND_BINS
    power = 10.0 ** math.floor(math.log10(width))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= width)
    rounded_lower = max(math.floor(lower / step) * step, float(fine[0]))
    rounded_upper = min(math.ceil(upper / step) * step, float(fine[-1]))
    # Products such as 3 * 0.1 print as 0.30000000000000004; keep the round value.
    return float(f"{rounded_lower:.12g}"), float(f"{rounded_upper:.12g}")


@dataclass(frozen=True)
class _Fine:
    """The second noisy histogram of a numeric column: FINE_BINS bins over the first bounds."""

    edges: np.ndarray
    counts: np.ndarray
    sigma: float

    def mass(self, low: float, high: float) -> float:
        """Noisy count in [low, high), bins cut in part counted pro rata."""
        cumulative = np.concatenate([[0.0], np.cumsum(self.counts)])
        return float(np.interp(high, self.edges, cumulative) - np.interp(low, self.edges, cumulative))

    def outside(self, low: float, high: float) -> _Noisy:
        """Noisy count of the bins that lie wholly outside [low, high)."""
        out = (self.edges[1:] <= low) | (self.edges[:-1] >= high)
        return _summed(self.counts[out], self.sigma)

    def most(self, low: float, high: float) -> float:
        """:meth:`mass` plus DECISION_SIGMAS deviations of the noise of the bins it sums."""
        touched = np.count_nonzero((self.edges[1:] > low) & (self.edges[:-1] < high))
        return self.mass(low, high) + DECISION_SIGMAS * self.sigma * math.sqrt(max(int(touched), 1))


def _refine(
    table: PrivateTable, column: str, lower: float, upper: float, sigma: float, integer: bool, bins: int, binning: str
) -> tuple[Numeric, _Fine]:
    fine = np.linspace(lower, upper, FINE_BINS + 1)
    counts = table.numeric_histogram(column, fine, sigma, part=DOMAIN)[1:-2].astype(float)
    tolerance = TAIL_SHARE * max(float(counts.sum()), 0.0)
    start = _trimmed(counts, tolerance)
    stop = counts.size - _trimmed(counts[::-1], tolerance)
    kept = counts
    if start < stop:
        kept = counts[start:stop]
        lower, upper = _rounded_outward(float(fine[start]), float(fine[stop]), fine)
    if integer:
        # A trimmed upper bound was rounded up past the data's tail: it is included. The first
        # bounds are half-open [a, b): the largest integer inside is then ceil(b) - 1.
        top = math.floor(upper) if start < stop else math.ceil(upper) - 1
        lower, upper = math.floor(lower), max(top, math.floor(lower) + 1)
    edges = None
    if binning == "quantile" and kept.size > 1:
        mass = np.cumsum(np.clip(kept, 0, None)).astype(float)
        if mass[-1] > 0:
            grid = np.linspace(lower, upper, kept.size + 1)
            targets = np.linspace(0, mass[-1], bins + 1)[1:-1]
            inner = np.interp(targets, np.concatenate([[0.0], mass]), grid)
            if integer:
                inner = np.round(inner)
            inner = np.unique(inner[(inner > lower) & (inner < upper)])
            edges = tuple(float(x) for x in np.concatenate([[lower], inner, [upper]]))
    numeric = Numeric(column, float(lower), float(upper), integer=integer, bins=bins, edges=edges, missing=True)
    return numeric, _Fine(fine, counts, sigma)


def _spikes(
    table: PrivateTable, numeric: Numeric, fine: _Fine, sigma: float, threshold: float
) -> tuple[float, ...]:
    """Values holding far more rows than their neighbours, from a thresholded noisy histogram of
    exact values (the category histogram of the column's cells, through the door).

    A released value is a spike when it lies within the bounds and holds at least SPIKE_RATIO
    times the mean count of the other values of its bin (from the fine histogram, taken at the
    top of its noise); in a continuous column any value that clears the threshold is a point mass. At
    most MAX_SPIKES, the largest first. All of it post-processes noisy counts.
    """
    counts = table.category_counts(numeric.name, sigma, threshold, part=DOMAIN)
    edges = numeric.bin_edges
    found: list[tuple[float, float]] = []
    for label, count in counts.items():
        try:
            value = float(label)
        except ValueError:
            continue
        if not (math.isfinite(value) and numeric.lower <= value <= numeric.upper):
            continue
        if numeric.integer:
            if not value.is_integer():
                continue
            code = min(int(np.searchsorted(edges, value, side="right")) - 1, numeric.bins - 1)
            low, high = float(edges[code]), float(edges[code + 1])
            width = high - low
            if width <= 1:
                continue  # a bin of one integer decodes it exactly already
            # The others' mean at the most the noise allows, so noise alone makes no spike.
            others = max(fine.most(low, high) - count, 0.0) / (width - 1)
            if count < SPIKE_RATIO * others:
                continue
        found.append((count, value))
    found.sort(reverse=True)
    return tuple(sorted(value for _, value in found[:MAX_SPIKES]))


def _threshold(sigma: float, scale: int, delta_share: float) -> float:
    """Smallest threshold whose stability delta, scale * exp(-(t - scale)^2 / 2 sigma^2), is delta_share.

    At the sigma the sampler really uses (rounded up), which the mechanism's delta is charged at.
    """
    used = discrete_gaussian_sigma_used(sigma)
    return scale + used * math.sqrt(2.0 * math.log(scale / delta_share))


def decide_kind(counts: np.ndarray, sigma: float) -> str:
    """The kind ("numeric", "integer", "datetime" or "categorical") that noisy value-class
    counts support: dates (ISO text or datetime values) when they clearly dominate, like numbers."""
    whole, text = max(float(counts[WHOLE]), 0.0), max(float(counts[TEXT]), 0.0)
    fractional = max(_finer_than(counts, 0), 0.0)
    numbers = whole + fractional
    slack = DECISION_SIGMAS * sigma
    dates = max(float(counts[DATE]) + float(counts[DATETIME]), 0.0)
    if dates > slack * math.sqrt(2) and numbers + text <= max(TEXT_SHARE * (numbers + text + dates), slack):
        return "datetime"
    # Text here is three classes' noisy counts summed (text, dates, date-times) before clipping:
    # its noise has deviation sqrt(3) sigma, so its slack is sqrt(3) times one count's (against
    # one count's, noise alone exceeded it with probability about 5%, not 0.13%, and turned
    # whole-number columns into text).
    text = max(float(counts[TEXT]) + float(counts[DATE]) + float(counts[DATETIME]), 0.0)
    if numbers <= slack or text > max(TEXT_SHARE * (numbers + text), slack * math.sqrt(3)):
        return "categorical"
    return "integer" if _nearly_none(_finer_than(counts, 0), numbers, sigma, 0) else "numeric"


def decide_decimals(counts: np.ndarray, sigma: float) -> int | None:
    """The fewest decimals (at least one) that noisy value-class counts say nearly every number
    is written with, by the rule that decides integer-ness; None: more than MAX_DECIDED_DECIMALS."""
    numbers = max(float(counts[WHOLE]) + _finer_than(counts, 0), 0.0)
    for decimals in range(1, MAX_DECIDED_DECIMALS + 1):
        if _nearly_none(_finer_than(counts, decimals), numbers, sigma, decimals):
            return decimals
    return None


def _finer_than(counts: np.ndarray, decimals: int) -> float:
    """Noisy count of numbers written with more than ``decimals`` decimals."""
    return float(counts[FRACTIONAL]) + float(sum(counts[i] for i in DECIMALS[decimals:]))


def _nearly_none(finer: float, numbers: float, sigma: float, decimals: int) -> bool:
    """Whether a count summed over the classes finer than ``decimals`` is no more than a small
    share of the numbers, or than DECISION_SIGMAS deviations of its summed noise."""
    classes = 1 + MAX_DECIDED_DECIMALS - decimals
    return finer <= max(FRACTION_SHARE * numbers, DECISION_SIGMAS * sigma * math.sqrt(classes))


def _decide_kinds(table: PrivateTable, columns: list[str], rho: float) -> dict[str, tuple[np.ndarray, float]]:
    """Noisy value-class counts of ``columns`` spending ``rho`` of the domain part, and their sigma."""
    plan = [PlannedMeasurement(table.sensitivity_scale, 1.0)] * len(columns)
    sigmas = table.accountant.calibrate(DOMAIN, plan, rho=rho)
    return {
        column: (table.value_class_counts(column, sigma, part=DOMAIN), sigma) for column, sigma in zip(columns, sigmas)
    }


def discover_schema(
    table: PrivateTable, bins: int = 32, binning: str = "uniform", kinds: Mapping[str, str] | None = None
) -> Schema:
    """Discover a schema for every column of ``table`` under DP (spends all of ``domain``).

    ``binning`` is "uniform" (equal-width bins between the DP bounds) or "quantile" (bin
    edges at DP quantiles of the second noisy histogram). ``kinds`` declares some or all
    columns' kinds as public (see :mod:`dpsynth.schema.kinds`); the others are decided under DP.
    Columns that come out poorly represented get a :class:`SchemaWarning` (logged, and kept on
    the schema for the release record).

    What a table needs (the smallest table each default handles well). A category, or a
    spike, is kept when its noisy count clears a threshold of ``1 + sigma * sqrt(2 ln(k /
    delta_reserve))`` rows: k thresholded histograms (one per column), ``delta_reserve`` the
    DOMAIN_DELTA_RESERVE share of delta, sigma the noise of one histogram, which grows with the
    number of columns and shrinks with the domain share. At epsilon 1, delta 1e-9 and the
    default allocation (a tenth for the domain) a 15- to 17-column table needs about 600 rows
    in a category: every category of 5% survives from about 12,000 rows, and on 4,521 rows only
    those above about 14% do (allocation ``domain=0.4`` brings that to about 7%). Numeric bounds
    need a few hundred rows in the bulk of the values; thinner tails are kept, not trimmed.
    Below that, the warnings say which columns lost what: declare those columns (kinds with
    categories or bounds), or give the domain part a larger share.
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
    # Identifiers' value classes decide their keys' format (integer or text) as kinds are decided.
    classified = [c for c in columns if c not in kinds or kinds[c] == "identifier"]
    decided = dict(kinds)
    classes = _decide_kinds(table, classified, KIND_SHARE * rho) if classified else {}
    for column, (counts, sigma) in classes.items():
        if column not in kinds:
            decided[column] = decide_kind(counts, sigma)
    rows = _rows_estimate(classes)
    measured = [c for c in columns if decided[c] != "identifier"]
    numeric = {c: decided[c] in ("numeric", "integer") for c in measured}
    plan = []
    for column in measured:
        if numeric[column]:
            plan += [PlannedMeasurement(table.sensitivity_scale, NUMERIC_WEIGHT)] * 3
        elif decided[column] == "datetime":
            plan += [PlannedMeasurement(table.sensitivity_scale, NUMERIC_WEIGHT)] * 2
        else:
            plan += [PlannedMeasurement(table.sensitivity_scale, 1.0)]
    discovered: list[Column] = []
    warned: list[SchemaWarning] = []
    if plan:
        sigmas = iter(accountant.calibrate(DOMAIN, plan, rho=accountant.rho_remaining(DOMAIN)))
    reserve = accountant.budget.delta * accountant.budget.delta_reserve
    # One thresholded histogram per measured column: categories, or a numeric column's spikes.
    delta_share = reserve * (1 - 1e-6) / max(len(measured), 1)
    for column in columns:
        if decided[column] == "identifier":
            whole = decide_kind(*classes[column]) == "integer"
            discovered.append(Identifier(column, role="key", format="integer" if whole else "text"))
        elif decided[column] == "datetime":
            dates = column in classes and _nearly_no_times(*classes[column])
            found_dates, problems = _datetime_column(table, column, sigmas, bins, dates)
            discovered.append(found_dates)
            warned += problems
        elif numeric[column]:
            integer = decided[column] == "integer"
            decimals = None
            if not integer and column in classes:
                decimals = decide_decimals(*classes[column])
            found, problems = _numeric_column(table, column, sigmas, integer, bins, binning, delta_share, decimals)
            discovered.append(found)
            warned += problems
        else:
            sigma = next(sigmas)
            threshold = _threshold(sigma, table.sensitivity_scale, delta_share)
            found_categories = table.category_counts(column, sigma, threshold, part=DOMAIN)
            kept = tuple(sorted(found_categories))
            # The fold label must not be a kept category (a release must not fail on which
            # categories the noise kept): decided from the noisy set, so post-processing.
            other_label = OTHER_LABEL
            while other_label in kept:
                other_label = f"({other_label})"
            discovered.append(Categorical(column, kept, other=True, missing=True, other_label=other_label))
            present = _present_estimate(rows, classes.get(column))
            kept_count = _summed(np.array(list(found_categories.values())), sigma)
            warned += category_warnings(column, kept_count, present, len(kept), threshold)
    if table.unit.column is not None:
        discovered.append(Identifier(table.unit.column, role="unit"))
    for warning in warned:
        logger.warning("schema discovery: column '%s': %s; %s", warning.column, warning.problem, warning.fix)
    return Schema(tuple(discovered), provenance="dp", warnings=tuple(warned))


def _numeric_column(
    table: PrivateTable, column: str, sigmas: Iterator[float], integer: bool, bins: int, binning: str,
    delta_share: float, decimals: int | None,
) -> tuple[Numeric, list[SchemaWarning]]:
    """A numeric column from three noisy histograms (public grid, fine bins, exact values)."""
    bounds_sigma, fine_sigma, spike_sigma = next(sigmas), next(sigmas), next(sigmas)
    bounds = _numeric_bounds(table, column, bounds_sigma, WHOLE_GRID if integer else PUBLIC_GRID)
    if bounds is None:
        # Nothing stands above the noise: a placeholder range, still measured (the plan is fixed).
        lower, upper, outside = 0.0, 1.0, _Noisy(0.0, 0.0)
    else:
        lower, upper, outside = bounds
    numeric, fine = _refine(table, column, lower, upper, fine_sigma, integer, bins, binning)
    threshold = _threshold(spike_sigma, table.sensitivity_scale, delta_share)
    spikes = _spikes(table, numeric, fine, spike_sigma, threshold)
    numeric = dataclasses.replace(numeric, bins=bins, spikes=spikes, decimals=decimals)
    if bounds is None:
        return numeric, [SchemaWarning(column, "no range of its values stood above the noise", FIX)]
    high = numeric.upper + (1 if integer else 0)
    outside = outside + fine.outside(numeric.lower, high)
    numbers = fine.mass(numeric.lower, high) + outside.value
    return with_top_code(numeric), numeric_warnings(numeric, outside, numbers)


def with_top_code(numeric: Numeric) -> Numeric:
    """``numeric`` with a code of its own for the top-code candidate past its upper bound, and a
    bin for the values between them; a candidate in its last bin becomes a spike there.

    A top code (capital-gain = 99999 in Adult, half a percent of its rows) lies far past the
    bulk, so the bounds leave it out, and a thresholded histogram needs hundreds of rows more
    than it holds to release its value. The candidate is public instead: the smallest all-nines
    value (99, 999, ...) above the DP upper bound, the form such caps take, and any all-nines
    value in the last bin, where the bounds reached past the cap. It is kept whatever the data
    hold (no decision, so nothing to pay); the generator gives it no mass when its fitted count
    is within its noise (:mod:`dpsynth.generators.empty_codes`).
    """
    upper = numeric.upper
    nines = 10.0 ** np.arange(TOP_CODE_DIGITS, 17) - 1
    beyond = nines[nines > upper]
    if upper < 0 or beyond.size == 0 or beyond[0] > MAX_TOP_CODE:
        return numeric
    code = float(beyond[0])
    plain = dataclasses.replace(numeric, spikes=()).bin_edges
    inside = tuple(float(value) for value in nines[(nines >= plain[-2]) & (nines <= upper)])
    if numeric.integer:
        # Explicit integer edges end at the upper bound; the gap bin starts after the old one.
        edges = tuple(plain[:-1]) + ((upper + 1,) if upper + 1 < code else ()) + (code,)
    else:
        edges = tuple(plain) + (code,)
    return Numeric(numeric.name, numeric.lower, code, integer=numeric.integer, edges=tuple(float(e) for e in edges),
                   missing=numeric.missing, spikes=numeric.spikes + inside + (code,), decimals=numeric.decimals)


def _nearly_no_times(counts: np.ndarray, sigma: float) -> bool:
    """Whether the dates carry no time of day, but for noise or a small share (as integer-ness)."""
    dates, times = max(float(counts[DATE]), 0.0), float(counts[DATETIME])
    return times <= max(FRACTION_SHARE * (dates + max(times, 0.0)), DECISION_SIGMAS * sigma)


def _datetime_column(
    table: PrivateTable, column: str, sigmas: Iterator[float], bins: int, dates: bool
) -> tuple[Datetime, list[SchemaWarning]]:
    """A datetime column from two noisy histograms: whole years over the years pandas holds,
    then months within the years supported; binned by day, month or year, the finest unit
    that gives at most ``bins`` (or CALENDAR_BINS) bins, uniform bins beyond that."""
    years_sigma, months_sigma = next(sigmas), next(sigmas)
    counts = table.numeric_histogram(column, YEAR_GRID, years_sigma, part=DOMAIN, dates=True)[:-1].astype(float)
    span = _supported_span(counts, years_sigma)
    # counts[i] is the year FIRST_YEAR + i - 1 (counts[0] is before the grid); with no year
    # above the noise the placeholder is the year 2000.
    placeholder = 2000 - FIRST_YEAR + 1
    first, last = (placeholder, placeholder) if span is None else _reached(counts, span, years_sigma)
    first_year, last_year = FIRST_YEAR + max(first - 1, 0), FIRST_YEAR + min(last - 1, YEAR_GRID.size - 2)
    months = pd.period_range(f"{first_year}-01", f"{last_year + 1}-01", freq="M")
    edges = months.to_timestamp().as_unit("ns").asi8.astype(float)
    monthly = table.numeric_histogram(column, edges, months_sigma, part=DOMAIN, dates=True)[1:-2].astype(float)
    tolerance = TAIL_SHARE * max(float(monthly.sum()), 0.0)
    start, stop = _trimmed(monthly, tolerance), monthly.size - _trimmed(monthly[::-1], tolerance)
    if start >= stop:
        start, stop = 0, monthly.size
    lower, upper = months[start].to_timestamp(), (months[stop - 1] + 1).to_timestamp() - pd.Timedelta(days=1)
    unit = next((u for u in ("day", "month", "year") if _units(lower, upper, u) <= max(bins, CALENDAR_BINS)), None)
    found = Datetime(column, lower.date().isoformat(), upper.date().isoformat(), bins=bins, unit=unit, dates=dates)
    if span is None:
        return found, [SchemaWarning(column, "no range of its dates stood above the noise", FIX)]
    return found, []


def _units(lower: pd.Timestamp, upper: pd.Timestamp, unit: str) -> int:
    frequency = CALENDAR_UNITS[unit]
    return upper.to_period(frequency).ordinal - lower.to_period(frequency).ordinal + 1


def _reached(counts: np.ndarray, span: tuple[int, int], sigma: float) -> tuple[int, int]:
    """The supported span taken out to the thin tails whose summed count stands out."""
    first, last = span
    return first - _reach(counts[:first][::-1], sigma), last + _reach(counts[last + 1 :], sigma)


FIX = (
    "declare the column in a schema (its kind, and its bounds or categories), or give schema "
    "discovery a larger share of the budget (allocation domain=...)"
)


def numeric_warnings(numeric: Numeric, outside: _Noisy, numbers: float) -> list[SchemaWarning]:
    """Warnings for bounds of one or two values, or that leave out clearly more than
    1 - COVER_SHARE of the noisy count of numbers (beyond the noise of what they leave out)."""
    problems = []
    if numeric.integer and numeric.upper - numeric.lower < 2:
        problems.append(SchemaWarning(numeric.name, "its bounds collapsed to one or two values", FIX))
    if numbers > 0 and outside.clearly_above((1 - COVER_SHARE) * numbers):
        problems.append(SchemaWarning(
            numeric.name,
            f"its bounds [{numeric.lower:g}, {numeric.upper:g}] leave out about {outside.value / numbers:.0%} "
            "of its noisy count of numbers (clipped to the bounds)",
            FIX,
        ))
    return problems


def category_warnings(
    column: str, kept: _Noisy, present: _Noisy | None, categories: int, threshold: float
) -> list[SchemaWarning]:
    """Warnings for a category set of at most one category, or one that leaves out of the
    column's noisy count of present cells clearly (by WARN_SIGMAS deviations of the noise)
    more than 1 - COVER_SHARE, or more than FOLD_SHARE where the threshold is also above that
    share (categories that small cannot be told from noise at this budget)."""
    if categories <= 1:
        return [SchemaWarning(
            column,
            f"{'one category' if categories else 'no category'} stood above the noise: the rest fold into "
            "one code",
            FIX,
        )]
    if present is None or present.value <= 0:
        return []
    folded = _Noisy(present.value - kept.value, present.variance + kept.variance)
    unseen = threshold > FOLD_SHARE * present.value and folded.value > FOLD_SHARE * present.value
    if unseen or folded.clearly_above((1 - COVER_SHARE) * present.value):
        return [SchemaWarning(
            column,
            f"the categories kept ({categories}) hold about {max(kept.value, 0.0) / present.value:.0%} of its "
            f"noisy count and the rest fold into one code: a category needs about "
            f"{threshold / present.value:.0%} of the rows to be kept at this budget",
            FIX,
        )]
    return []


def _rows_estimate(classes: Mapping[str, tuple[np.ndarray, float]]) -> _Noisy | None:
    """The number of rows from the value-class counts: each column's total, averaged."""
    if not classes:
        return None
    totals = [_summed(counts, sigma) for counts, sigma in classes.values()]
    return _Noisy(
        sum(t.value for t in totals) / len(totals), sum(t.variance for t in totals) / len(totals) ** 2
    )


def _present_estimate(rows: _Noisy | None, classes: tuple[np.ndarray, float] | None) -> _Noisy | None:
    """The noisy count of a column's present cells: rows less its noisy missing count when its
    value classes were measured (else all rows, which only makes a warning likelier)."""
    if rows is None or classes is None:
        return rows
    counts, sigma = classes
    if counts[MISSING] <= DECISION_SIGMAS * sigma:
        return rows  # no missing cells but for noise: its noise would only blur the estimate
    return _Noisy(rows.value - float(counts[MISSING]), rows.variance + sigma**2)
