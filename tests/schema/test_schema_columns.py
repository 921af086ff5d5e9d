"""Column kinds check themselves, count their codes, and round-trip through describe()."""

import datetime
import math

import numpy as np
import pytest

from dpsynth.errors import SchemaError
from dpsynth.schema import Categorical, Datetime, Identifier, Numeric, Ordinal, column_from_dict


@pytest.mark.parametrize(
    "make,problem",
    [
        (lambda: Categorical("color", ()), "empty"),
        (lambda: Categorical("color", ("red", "red")), "twice"),
        (lambda: Categorical("color", (1, "1")), "twice"),
        (lambda: Categorical("color", (1.5, 2.5)), "strings or integers"),
        (lambda: Categorical("color", (True, False)), "boolean"),
        (lambda: Categorical("color", "red"), "list"),
        (lambda: Categorical("color", ("red", "other"), other=True), "other label"),
        (lambda: Categorical("color", ("red",), missing="yes"), "missing"),
        (lambda: Ordinal("color", ()), "empty"),
        (lambda: Ordinal("color", ("low", "high", "low")), "twice"),
        (lambda: Numeric("color", 10, 5), "below"),
        (lambda: Numeric("color", 5, 5), "below"),
        (lambda: Numeric("color", 0, math.inf), "finite"),
        (lambda: Numeric("color", math.nan, 1), "finite"),
        (lambda: Numeric("color", "low", 1), "number"),
        (lambda: Numeric("color", 0, 10, bins=0), "bins"),
        (lambda: Numeric("color", 0, 10, bins=2.5), "bins"),
        (lambda: Numeric("color", 0, 10, edges=(0, 5, 5, 10)), "increasing"),
        (lambda: Numeric("color", 0, 10, edges=(0, 7, 3, 10)), "increasing"),
        (lambda: Numeric("color", 0, 10, edges=(1, 5, 10)), "start at lower"),
        (lambda: Numeric("color", 0, 10, edges=(0, 5, 9)), "end at upper"),
        (lambda: Numeric("color", 0, 10, edges=(0,)), "two values"),
        (lambda: Numeric("color", 0.5, 10, integer=True), "whole"),
        (lambda: Numeric("color", 0, 10, integer=True, edges=(0, 0.2, 0.5, 10)), "hold an integer"),
        (lambda: Datetime("color", "2020-01-01", "2019-01-01"), "before"),
        (lambda: Datetime("color", "not a date", "2020-01-01"), "ISO 8601"),
        (lambda: Datetime("color", "2020-01-01T00:00+02:00", "2021-01-01"), "time zone"),
        (lambda: Datetime("color", "2020-01-01", "3000-01-01"), "outside"),
        (lambda: Datetime("color", "2020-01-01", "2021-01-01", bins=0), "bins"),
        (lambda: Identifier("color", role="owner"), "role"),
    ],
)
def test_invalid_column_names_it_and_the_problem(make, problem):
    with pytest.raises(SchemaError) as caught:
        make()
    assert "'color'" in str(caught.value)
    assert problem in str(caught.value)


@pytest.mark.parametrize("name", ["", None, 3])
def test_column_needs_a_name(name):
    with pytest.raises(SchemaError, match="non-empty string"):
        Categorical(name, ("a",))


def test_categorical_codes_follow_categories_then_other_then_missing():
    column = Categorical("color", ["red", "green", 7], other=True, missing=True)
    assert column.categories == ("red", "green", 7)
    assert (column.size, column.other_code, column.missing_code) == (5, 3, 4)
    assert Categorical("color", ("red",), other=False, missing=False).size == 1
    assert Categorical("color", (), other=True).size == 2


def test_ordinal_has_no_other_code():
    column = Ordinal("grade", ("low", "mid", "high"))
    assert (column.size, column.other_code, column.missing_code) == (4, None, 3)


def test_integer_bins_are_capped_at_the_number_of_integers():
    assert Numeric("age", 0, 10, integer=True, bins=32).bins == 11
    assert Numeric("age", 0, 10, integer=False, bins=32).bins == 32
    assert Numeric("age", 0, 10, edges=[0, 2, 10], bins=32).bins == 2
    assert Numeric("age", 0, 10, integer=True, missing=False).size == 11


@pytest.mark.parametrize("bins,edges", [(7, None), (101, None), (3, (0, 0.5, 42.2, 100))])
def test_every_integer_belongs_to_exactly_one_nonempty_bin(bins, edges):
    column = Numeric("age", 0, 100, integer=True, bins=bins, edges=edges)
    integers = np.arange(0, 101)
    boundaries = column.bin_edges
    owners = (integers[:, None] >= boundaries[None, :-1]) & (integers[:, None] < boundaries[None, 1:])
    assert np.all(owners.sum(axis=1) == 1)
    assert np.all(owners.sum(axis=0) >= 1)


def test_datetime_accepts_dates_as_yaml_reads_them():
    column = Datetime("when", datetime.date(2020, 1, 1), "2021-01-01", bins=12)
    assert column.lower == "2020-01-01"
    assert column.size == 13
    assert column.bin_edges[0] == column.lower_timestamp.value
    assert column.bin_edges[-1] == column.upper_timestamp.value + 1


def test_identifier_has_no_codes():
    assert Identifier("pid", role="unit").size == 0


@pytest.mark.parametrize(
    "column",
    [
        Categorical("color", ("red", 2), other=True, missing=False),
        Categorical("color", ("red",), other=True, other_label="(rare)"),
        Ordinal("grade", ("low", "high"), missing=False),
        Numeric("income", 0, 1.5e6, integer=True, bins=40),
        Numeric("ratio", -0.5, 2.25, edges=(-0.5, 0.1, 2.25)),
        Datetime("when", "2020-01-01T06:00:00", "2021-01-01", bins=5, missing=False),
        Identifier("pid", role="unit"),
    ],
)
def test_describe_round_trips(column):
    assert column_from_dict(column.describe()) == column


@pytest.mark.parametrize(
    "described,problem",
    [
        ({"name": "color", "kind": "colour"}, "unknown kind"),
        ({"name": "color"}, "unknown kind"),
        ({"name": "color", "kind": "categorical", "categories": ["a"], "catgories": ["a"]}, "unknown field"),
        ({"name": "color", "kind": "numeric", "lower": 0}, "needs the field"),
    ],
)
def test_column_from_dict_names_the_column_and_the_problem(described, problem):
    with pytest.raises(SchemaError) as caught:
        column_from_dict(described)
    assert "'color'" in str(caught.value)
    assert problem in str(caught.value)
