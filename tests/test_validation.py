"""The scalar checks: one message shape, booleans refused, bounds open or closed as asked."""

import math

import numpy as np
import pytest

from dpsynth.errors import BudgetError, DataError, ParameterError
from dpsynth.validation import integer, number


@pytest.mark.parametrize("value,options,message", [
    (0, {}, "n must be a positive integer; got 0"),
    (True, {}, "n must be a positive integer; got True"),
    (2.0, {}, "n must be a positive integer; got 2.0"),
    (-1, {"low": 0}, "n must be a non-negative integer; got -1"),
    (1, {"low": 2}, "n must be an integer of at least 2; got 1"),
    (7, {"low": 1, "high": 6}, "n must be an integer from 1 to 6; got 7"),
])
def test_integers_outside_their_range_are_refused_naming_the_parameter(value, options, message):
    with pytest.raises(ParameterError) as caught:
        integer("n", value, **options)
    assert str(caught.value) == message


def test_integers_in_range_come_back_as_int():
    assert integer("n", np.int64(3)) == 3 and type(integer("n", np.int64(3))) is int
    assert integer("n", 0, low=0) == 0


@pytest.mark.parametrize("value,options,message", [
    (0.0, {"low": 0, "low_open": True}, "x must be a positive finite number; got 0.0"),
    (math.inf, {}, "x must be a finite number; got inf"),
    (math.nan, {"low": 0}, "x must be a finite number of at least 0; got nan"),
    (False, {}, "x must be a finite number; got False"),
    ("1", {}, "x must be a finite number; got '1'"),
    (1.0, {"low": 0, "high": 1, "low_open": True, "high_open": True}, "x must be a number strictly between 0 and 1"),
    (1.0, {"low": 0, "high": 1, "high_open": True}, "x must be a number in [0, 1); got 1.0"),
])
def test_numbers_outside_their_range_are_refused(value, options, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        number("x", value, **options)


def test_the_error_class_is_the_callers_and_every_one_is_a_data_error_by_default():
    with pytest.raises(BudgetError):
        number("share", 2.0, low=0, high=1, error=BudgetError)
    assert issubclass(ParameterError, DataError)
    assert number("x", 1) == 1.0 and number("x", 0.5, low=0, high=1) == 0.5
