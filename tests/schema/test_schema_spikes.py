"""Spikes (values holding a large share of rows) get bins of their own and decode exactly;
decimals round decoded floats to the precision values are written at."""

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import SchemaError
from dpsynth.schema import Numeric, Schema, column_from_dict, decode, encode


def _roundtrip(column: Numeric, values: list[float]) -> pd.Series:
    schema = Schema((column,))
    encoded = encode(pd.DataFrame({column.name: values}), schema)
    return decode(encoded.codes, schema, np.random.default_rng(0))[column.name]


def test_an_integer_spike_is_a_bin_of_its_own_cut_from_its_bin():
    column = Numeric("hours", 0, 100, integer=True, bins=10, spikes=(45,))
    assert column.bins == 12  # [40, 50) became [40, 45), [45, 46) and [46, 50)
    code = int(column.spike_codes[0])
    assert column.bin_edges[code] == 45 and column.bin_edges[code + 1] == 46
    assert column.describe()["bins"] == 10 and column.describe()["spikes"] == [45]


@pytest.mark.parametrize("integer", [True, False])
def test_spikes_decode_exactly_at_the_bounds_and_inside(integer):
    column = Numeric("amount", 0, 100000, integer=integer, bins=8, spikes=(0, 40, 100000))
    values = [0, 40, 100000] * 200
    decoded = _roundtrip(column, values)
    assert decoded.tolist() == values


def test_values_beside_a_spike_stay_out_of_its_bin():
    column = Numeric("hours", 0, 100, integer=True, bins=4, spikes=(40,))
    decoded = _roundtrip(column, [39, 41] * 500)
    assert not (decoded == 40).any()


def test_spikes_and_decimals_round_trip_through_describe_and_schema_files(tmp_path):
    column = Numeric("amount", -5.0, 1e6, bins=16, spikes=(0, 99999.5), decimals=2)
    assert column_from_dict(column.describe()) == column
    for suffix in (".json", ".yaml"):
        Schema((column,)).save(tmp_path / f"s{suffix}")
        assert Schema.load(tmp_path / f"s{suffix}")["amount"] == column
    # Unset, they stay out of the file (older schema files read the same).
    assert "spikes" not in Numeric("x", 0, 1).describe() and "decimals" not in Numeric("x", 0, 1).describe()


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"spikes": (101,)}, "outside"),
        ({"spikes": (4.5,), "integer": True}, "whole number"),
        ({"spikes": "40"}, "list of numbers"),
        ({"spikes": (float("nan"),)}, "finite"),
        ({"decimals": -1}, "decimals"),
        ({"decimals": 2.5}, "decimals"),
        ({"decimals": True}, "decimals"),
    ],
)
def test_bad_spikes_and_decimals_are_refused_naming_the_column(options, problem):
    with pytest.raises(SchemaError, match=f"column 'x'.*{problem}"):
        Numeric("x", 0, 100, **options)


def test_decimals_round_decoded_floats_within_bounds():
    column = Numeric("price", 0.0, 10.0, bins=4, decimals=1)
    decoded = _roundtrip(column, list(np.linspace(0, 10, 1000)))
    assert np.allclose(decoded, np.round(decoded, 1)) and decoded.between(0, 10).all()
    assert decoded.nunique() > 50  # drawn, then rounded: not collapsed onto bin edges
