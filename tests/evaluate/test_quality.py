"""Column-shape and pair-trend scores on tables whose answers are worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from dpsynth.evaluate.quality import (
    column_shape,
    column_shapes,
    ks_statistic,
    pair_codes,
    pair_trends,
    quality_scores,
)
from dpsynth.schema import Categorical, Datetime, Identifier, Numeric, Schema

SCHEMA = Schema([
    Numeric("a", 0, 10),
    Numeric("b", 0, 10),
    Categorical("c", ("x", "y")),
    Identifier("id"),
])


def test_ks_statistic_is_the_largest_gap_between_the_two_ecdfs():
    # ECDFs at 1: 1/4 against 3/4; at 2: 2/4 against 4/4.
    assert ks_statistic(np.array([1.0, 2, 3, 4]), np.array([1.0, 1, 1, 2])) == pytest.approx(0.5)
    assert ks_statistic(np.array([1.0, 2]), np.array([2.0, 1])) == 0.0
    assert ks_statistic(np.array([0.0]), np.array([1.0])) == 1.0


def test_column_shape_of_numbers_ignores_missing_cells():
    real = pd.Series([1, 2, 3, 4, None])
    synthetic = pd.Series([1.0, 1.0, 1.0, 2.0])
    assert column_shape(real, synthetic, SCHEMA.encoded("a")) == pytest.approx(0.5)


def test_column_shape_of_categories_is_one_minus_tvd_over_present_values():
    # Present real values: x 2/3, y 1/3; synthetic: x 1/4, y 3/4; TVD = 5/12.
    real = pd.Series(["x", "x", "y", None])
    synthetic = pd.Series(["x", "y", "y", "y"])
    assert column_shape(real, synthetic, SCHEMA.encoded("c")) == pytest.approx(7 / 12)


def test_categories_match_by_their_string_form():
    column = Categorical("n", (1, 2))
    assert column_shape(pd.Series([1.0, 2.0, None]), pd.Series(["1", "2"]), column) == 1.0


def test_column_with_no_present_value_has_no_score():
    assert math.isnan(column_shape(pd.Series([None, None]), pd.Series(["x"]), SCHEMA.encoded("c")))


def test_datetime_shapes_compare_instants():
    column = Datetime("d", "2020-01-01", "2020-12-31")
    real = pd.Series(pd.to_datetime(["2020-01-01", "2020-06-01"]))
    synthetic = pd.Series(["2020-01-01", "2020-01-01"])
    assert column_shape(real, synthetic, column) == pytest.approx(0.5)


def test_numeric_pair_trend_is_one_minus_half_the_correlation_difference():
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 2, 3, 4], "c": ["x"] * 4, "id": range(4)})
    flipped = frame.assign(b=[4, 3, 2, 1])
    # r = 1 against r = -1: the largest difference, score 0; the same table scores 1.
    assert pair_trends(frame, flipped, SCHEMA, [("a", "b")])[("a", "b")] == pytest.approx(0.0)
    assert pair_trends(frame, frame, SCHEMA, [("a", "b")])[("a", "b")] == pytest.approx(1.0)


def test_constant_column_has_no_correlation_score():
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [5, 5, 5], "c": ["x"] * 3, "id": range(3)})
    assert math.isnan(pair_trends(frame, frame, SCHEMA, [("a", "b")])[("a", "b")])


def test_categorical_pair_trend_is_one_minus_tvd_of_the_contingency_tables():
    schema = Schema([Categorical("c", ("x", "y")), Categorical("d", ("x", "y"))])
    real = pd.DataFrame({"c": ["x", "x", "y", "y"], "d": ["x", "y", "x", "y"]})
    synthetic = pd.DataFrame({"c": ["x", "x", "y", "y"], "d": ["x", "x", "y", "y"]})
    # Real cells 1/4 each; synthetic (x,x) 1/2 and (y,y) 1/2: TVD = (1/4 + 1/4 + 1/4 + 1/4) / 2.
    assert pair_trends(real, synthetic, schema)[("c", "d")] == pytest.approx(0.5)


def test_missing_is_a_value_of_its_own_in_a_contingency_table():
    schema = Schema([Categorical("c", ("x",)), Categorical("d", ("x",))])
    real = pd.DataFrame({"c": ["x", None], "d": ["x", "x"]})
    synthetic = pd.DataFrame({"c": ["x", "x"], "d": ["x", "x"]})
    assert pair_trends(real, synthetic, schema)[("c", "d")] == pytest.approx(0.5)


def test_numbers_in_a_mixed_pair_are_cut_into_ten_bins_of_their_own_range():
    # 0..10 cut into ten bins of width 1: the maximum and missing cells share the code after them.
    codes = pair_codes(np.array([0.0, 0.5, 1.0, 9.99, 10.0, np.nan]))
    assert codes.tolist() == [1, 1, 2, 10, 11, 11]
    schema = Schema([Numeric("a", 0, 100), Categorical("c", ("x", "y"))])
    real = pd.DataFrame({"a": [0, 10, 20], "c": ["x", "y", "y"]})
    # Scaled by ten, each value keeps its bin: the tables agree.
    synthetic = pd.DataFrame({"a": [0, 100, 200], "c": ["x", "y", "y"]})
    assert pair_trends(real, synthetic, schema)[("a", "c")] == pytest.approx(1.0)


def test_identifiers_are_not_scored_and_means_skip_what_cannot_be_scored():
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [7, 7, 7, 7], "c": ["x", "x", "y", "y"], "id": range(4)})
    shapes = column_shapes(frame, frame, SCHEMA)
    assert list(shapes) == ["a", "b", "c"]
    scores = quality_scores(frame, frame, SCHEMA)
    # (a, b) has no correlation score (b is constant); the other two pairs are identical.
    assert scores == pytest.approx({"column_shape": 1.0, "pair_trend": 1.0, "quality": 1.0})
