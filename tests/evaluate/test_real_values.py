"""Fidelity on the real values: a fixed coding rule that does not depend on the schema."""

import numpy as np
import pandas as pd
import pytest

from dpsynth.evaluate.real_values import VALUE_BINS, real_value_fidelity, schema_loss, value_codes
from dpsynth.schema import Categorical, Datetime, Numeric, Schema

AGE = Numeric("age", 0, 100, integer=True, bins=5)


def test_few_distinct_values_each_get_a_code_and_missing_its_own():
    real, fake, size = value_codes(pd.Series([1, 2, 2, None]), pd.Series([3, 1]), AGE)
    # Values 1, 2, 3 and missing: four codes; a value only the synthetic rows hold has its own.
    assert size == 4 and list(real) == [0, 1, 1, 3] and list(fake) == [2, 0]


def test_many_values_are_cut_at_pooled_quantiles():
    values = pd.Series(np.arange(1000.0))
    real, fake, size = value_codes(values, values, AGE)
    assert size == VALUE_BINS + 1 and np.array_equal(real, fake)
    assert np.bincount(real).tolist() == [50] * VALUE_BINS


def test_categories_are_compared_as_they_are_not_as_the_schema_folds_them():
    schema = Schema([Categorical("c", ("a",), other=True), AGE])
    train = pd.DataFrame({"c": ["a", "b", "c", "d"] * 50, "age": [30] * 200})
    synthetic = pd.DataFrame({"c": ["a", "z", "z", "z"] * 50, "age": [30] * 200})
    figures = real_value_fidelity(train, synthetic, schema)
    assert figures["tvd_1way"] == pytest.approx(0.75 / 2) and figures["tvd_2way"] == pytest.approx(0.75)
    assert real_value_fidelity(train, train, schema) == {"tvd_1way": 0.0, "tvd_2way": 0.0}


def test_schema_loss_counts_dates_outside_their_bounds():
    schema = Schema([Datetime("day", "2020-01-01", "2020-12-31", bins=12)])
    frame = pd.DataFrame({"day": ["2019-06-01"] * 20 + ["2020-06-01"] * 60 + ["2021-06-01"] * 20})
    row = schema_loss(frame, schema)["columns"][0]
    assert row == {"column": "day", "folded": 0.0, "below_bounds": 0.2, "above_bounds": 0.2}
