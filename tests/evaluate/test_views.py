"""Per-column views: bars for bins, spikes, outside values, other and missing, with small real counts suppressed."""

import numpy as np
import pandas as pd
import pytest

from dpsynth.evaluate.views import ABOVE, BELOW, MISSING, OTHER, column_view, column_views, spikes
from dpsynth.schema import Categorical, Datetime, Numeric, Schema


def test_integer_bins_with_a_spike_and_missing_cells():
    column = Numeric("hours", 0, 99, integer=True, bins=4)
    real = pd.Series([40] * 6 + [10, 90, None, None])
    synthetic = pd.Series([10, 30, 30, 90] * 2 + [40, 40])
    assert spikes(real, column) == ()  # 4 distinct values: none stands out
    assert spikes(pd.Series(list(range(30)) + [40] * 30), column) == (40.0,)
    view = column_view(real, synthetic, column, spike_values=(40.0,))
    # Bins of 25 integers; the spike 40 is a bar of its own, after the bin it is taken from.
    assert view.labels == ("0 to 24", "25 to 49", "= 40", "50 to 74", "75 to 99", MISSING)
    assert view.real == pytest.approx((0.1, 0.0, 0.6, 0.0, 0.1, 0.2))
    assert view.synthetic == pytest.approx((0.2, 0.4, 0.2, 0.0, 0.2, 0.0))
    assert view.axis == "value" and view.kind == "integer"


def test_values_outside_the_bounds_get_bars_of_their_own():
    column = Numeric("x", 0.0, 1.0, bins=2)
    view = column_view(pd.Series([-1.0, 0.2, 1.0, 3.0]), pd.Series([0.2, 0.7]), column)
    assert view.labels == (BELOW, "0 to 0.5", "0.5 to 1", ABOVE)
    # The upper bound itself lies in the last bin of a continuous column.
    assert view.real == pytest.approx((0.25, 0.25, 0.25, 0.25))


def test_categories_in_schema_order_then_other_and_missing():
    column = Categorical("c", ("b", "a"), other=True)
    view = column_view(pd.Series(["a", "a", "z", None]), pd.Series(["b", "other", "a", "a"]), column)
    assert view.labels == ("b", "a", OTHER, MISSING)
    assert view.real == pytest.approx((0.0, 0.5, 0.25, 0.25))
    assert view.synthetic == pytest.approx((0.25, 0.5, 0.25, 0.0))


def test_small_real_counts_are_suppressed_and_zero_is_not():
    column = Categorical("c", ("a", "b", "c", "d"), missing=False)
    real = pd.Series(["a"] * 12 + ["b"] * 3 + ["d"] * 2)
    view = column_view(real, pd.Series(["c"]), column, min_count=10)
    assert view.real == (12 / 17, None, 0.0, None)
    assert view.synthetic == (0.0, 0.0, 1.0, 0.0)


def test_a_lone_small_count_hides_the_smallest_shown_share_too():
    column = Categorical("c", ("a", "b", "c"), missing=False)
    real = pd.Series(["a"] * 30 + ["b"] * 3 + ["c"] * 20)
    # Alone, b's share would be 1 minus the others': c, the smallest shown, is hidden as well.
    assert column_view(real, real, column, min_count=10).real == (30 / 53, None, None)


def test_dates_lie_on_a_time_axis_labelled_by_day():
    column = Datetime("d", "2020-01-01", "2020-12-31", bins=4)
    real = pd.Series(pd.to_datetime(["2020-01-05", "2020-11-01"]))
    view = column_view(real, pd.Series(["2020-02-01", "2020-02-02"]), column)
    assert view.axis == "time" and view.labels[0] == "2020-01-01" and len(view.labels) == 4
    assert all(len(label) == 10 for label in view.labels)
    assert view.real == pytest.approx((0.5, 0.0, 0.0, 0.5)) and view.synthetic[0] == 1.0


def test_many_categories_are_pooled_beyond_the_largest():
    names = [f"k{i}" for i in range(60)]
    column = Categorical("c", tuple(names), missing=False)
    real = pd.Series(names + ["k0"] * 100)
    view = column_view(real, real, column)
    assert len(view.labels) == 40 and view.labels[-1] == "21 more" and "k0" in view.labels
    assert sum(view.real) == pytest.approx(1.0)


def test_column_views_cover_every_encoded_column_and_report_shape():
    schema = Schema([Numeric("x", 0, 10, bins=5), Categorical("c", ("a", "b"))])
    frame = pd.DataFrame({"x": np.arange(10.0), "c": ["a", "b"] * 5})
    views = column_views(frame, frame, schema, find_spikes=True)
    assert [v.column for v in views] == ["x", "c"] and all(v.shape == 1.0 for v in views)
    assert views[0].to_dict()["labels"][0] == "0 to 2"
