"""Datetime columns under DP discovery: ISO text is decided a datetime kind, bounded under DP,
binned at calendar units and decoded to datetimes (whole days where the input has no times)."""

import warnings

import numpy as np
import pandas as pd

from dpsynth.data.discover import decide_kind
from dpsynth.errors import PrivacyWarning
from dpsynth.generators import create
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Datetime
from dpsynth.schema.kinds import VALUE_CLASSES, kinds_from_dtypes, value_classes
from dpsynth.workflows.root import open_door, plan_fit


def _visits(n: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    admitted = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 6 * 365, n), unit="D")
    seen = admitted + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    return pd.DataFrame({
        "admitted": admitted.strftime("%Y-%m-%d"),
        "seen": seen.strftime("%Y-%m-%dT%H:%M:%S"),
        "ward": rng.choice(["a", "b", "c"], n),
    })


def test_iso_dates_are_decided_datetime_by_their_noisy_value_classes():
    counts = np.bincount(value_classes(pd.Series(["2020-01-05"] * 990 + ["x"] * 10)), minlength=len(VALUE_CLASSES))
    assert decide_kind(counts.astype(float), sigma=5.0) == "datetime"
    numbers = np.bincount(value_classes(pd.Series(["2020", "2021"] * 500)), minlength=len(VALUE_CLASSES))
    assert decide_kind(numbers.astype(float), sigma=5.0) == "integer"  # a year alone is a number
    assert kinds_from_dtypes(pd.DataFrame({"t": pd.to_datetime(["2020-01-01"])})) == {"t": "datetime"}


def test_dates_are_bounded_binned_by_month_and_come_back_as_datetimes():
    frame = _visits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        table, _ = open_door(frame, plan_fit(frame, epsilon=1.0, delta=1e-9), NoiseSource(0))
    schema = table.require_schema()
    admitted, seen = schema["admitted"], schema["seen"]
    assert isinstance(admitted, Datetime) and admitted.unit == "month" and admitted.dates
    assert isinstance(seen, Datetime) and not seen.dates
    assert admitted.lower_timestamp <= pd.Timestamp("2015-02-01") and admitted.upper_timestamp >= pd.Timestamp("2020-11-30")
    synthetic = create("mst").fit(table).sample(2000, random_state=0)
    assert pd.api.types.is_datetime64_any_dtype(synthetic["admitted"])
    days = synthetic["admitted"].dropna()
    assert (days == days.dt.normalize()).all() and days.between(admitted.lower_timestamp, admitted.upper_timestamp).all()
    real_by_year = pd.to_datetime(frame["admitted"]).dt.year.value_counts(normalize=True).sort_index()
    synthetic_by_year = days.dt.year.value_counts(normalize=True).reindex(real_by_year.index, fill_value=0)
    assert np.abs(real_by_year - synthetic_by_year).max() < 0.05


def test_dates_with_no_year_above_the_noise_get_the_placeholder_year():
    """With no year above the noise the bounds are the placeholder year 2000. Before, the
    placeholder was taken for a grid index (the year 3677): no month edges, and the release
    stopped with an internal error after its budget was spent (one run in ten of the corpus's
    mixed-date-formats case)."""
    from dpsynth.data import discover

    class Noise:
        def numeric_histogram(self, column, edges, sigma, part, dates):
            return np.zeros(len(edges) + 2)

    found, problems = discover._datetime_column(Noise(), "day", iter([1.0, 1.0]), 32, True)
    assert found.lower_timestamp == pd.Timestamp("2000-01-01")
    assert found.upper_timestamp == pd.Timestamp("2000-12-31")
    assert [p.column for p in problems] == ["day"]
