"""Datetime columns binned at calendar units, and date-only columns decoded to whole days."""

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import SchemaError
from dpsynth.schema import Datetime, Schema, column_from_dict, decode, encode


def test_month_bins_start_on_the_first_of_each_month_within_the_bounds():
    column = Datetime("d", "2019-03-15", "2021-02-01", unit="month", dates=True)
    edges = pd.to_datetime(column.bin_edges)
    assert column.bins == 24 and edges[0] == pd.Timestamp("2019-03-15") and edges[1] == pd.Timestamp("2019-04-01")
    assert edges[-1] == pd.Timestamp("2021-02-01") + pd.Timedelta(1, "ns")
    assert column_from_dict(column.describe()) == column


def test_dates_decode_to_whole_days_inside_their_month():
    column = Datetime("d", "2019-01-01", "2019-12-31", unit="month", dates=True)
    schema = Schema((column,))
    values = pd.Series(pd.date_range("2019-01-01", "2019-12-31", freq="D").strftime("%Y-%m-%d"))
    encoded = encode(pd.DataFrame({"d": values}), schema)
    decoded = decode(encoded.codes, schema, np.random.default_rng(0))["d"]
    assert (decoded == decoded.dt.normalize()).all()
    assert (decoded.dt.month == pd.to_datetime(values).dt.month).all()


def test_a_unit_that_is_not_a_calendar_unit_is_refused():
    with pytest.raises(SchemaError, match="column 'd'.*unit"):
        Datetime("d", "2019-01-01", "2020-01-01", unit="week")


def test_a_text_cell_in_a_datetime_column_changes_no_other_cells_class():
    """One text cell turns a datetime column into an object one; its other cells stay dates."""
    from dpsynth.schema.kinds import parse_instants, value_classes

    column = pd.Series(pd.to_datetime(["2020-01-01", "2021-05-06 10:00", None], format="ISO8601"))
    neighbour = pd.Series([*column.tolist(), "CANARY"], dtype=object)
    assert list(value_classes(neighbour)[:3]) == list(value_classes(column))
    np.testing.assert_array_equal(parse_instants(neighbour)[:3], parse_instants(column))
    zoned = pd.Series(pd.to_datetime(["2020-01-01 10:00"]).tz_localize("Europe/Oslo"))
    assert parse_instants(pd.Series([*zoned.tolist(), "x"], dtype=object))[0] == parse_instants(zoned)[0]
