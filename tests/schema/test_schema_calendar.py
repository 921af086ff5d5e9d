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
