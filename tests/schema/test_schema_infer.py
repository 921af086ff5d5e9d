"""The non-DP draft schema for review, and the check that refuses identifiers posing as categories."""

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import PrivacyWarning, SchemaError
from dpsynth.schema import Categorical, Datetime, Identifier, Numeric, Schema, infer_schema, suspect_identifiers
from dpsynth.schema.infer import nice_bounds


@pytest.mark.parametrize(
    "low,high,expected",
    [
        (17, 90, (0, 100)),
        (12285, 1490400, (0, 2000000)),
        (0, 99999, (0, 100000)),
        (0, 4356, (0, 5000)),
        (1, 99, (0, 100)),
        (-90, -17, (-100, 0)),
        (-3.2, 7.5, (-4, 8)),
        (0.0034, 0.0091, (0, 0.01)),
        (20, 90, (0, 100)),
    ],
)
def test_nice_bounds_round_outward(low, high, expected):
    lower, upper = nice_bounds(low, high)
    assert (lower, upper) == expected
    assert lower < low or lower == low == 0
    assert upper > high


def test_infer_schema_on_adult_warns_and_rounds_outward(adult_raw):
    frame = adult_raw.assign(row_id=[f"person-{i}" for i in range(len(adult_raw))])
    with pytest.warns(PrivacyWarning, match="WITHOUT noise"):
        schema = infer_schema(frame)
    assert isinstance(schema, Schema) and schema.provenance == "inferred-not-dp"
    # 17, the youngest age, is alone in its bin of 15-17: drafted as a spike, as the amounts' 0.
    assert schema["age"] == Numeric("age", 0, 100, integer=True, spikes=(17,))
    assert schema["capital-gain"].spikes == (0, 7298, 7688, 15024, 99999)
    assert 40 in schema["hours-per-week"].spikes and schema["fnlwgt"].spikes == ()
    assert (schema["fnlwgt"].lower, schema["fnlwgt"].upper) == (0, 2000000)
    assert schema["workclass"] == Categorical("workclass", tuple(sorted(adult_raw["workclass"].dropna().unique())))
    assert schema["education-num"] == Categorical("education-num", tuple(range(1, 17)))
    assert schema["row_id"] == Identifier("row_id", role="key")
    assert schema.unit_column is None


def test_infer_schema_other_kinds():
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime("2019-03-04") + pd.to_timedelta(rng.integers(0, 600, n), unit="D"),
            "city": [f"c{i % 80}" for i in range(n)],
            "score": rng.normal(50, 10, n),
            "whole": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 300, n)),
            "flag": rng.random(n) < 0.5,
            "empty": [None] * n,
        }
    )
    with pytest.warns(PrivacyWarning):
        schema = infer_schema(frame, max_categories=10)
    assert schema["when"] == Datetime("when", "2019-01-01", "2021-01-01")
    assert schema["city"].other and len(schema["city"].categories) == 10
    assert not schema["score"].integer
    assert schema["whole"].integer
    assert schema["flag"].categories == ("False", "True")
    assert schema["empty"] == Identifier("empty")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_infer_schema_checks_max_categories(bad):
    with pytest.raises(SchemaError, match="max_categories"):
        infer_schema(pd.DataFrame({"a": [1]}), max_categories=bad)


def test_suspect_identifiers_flags_nearly_unique_categories():
    n = 100
    frame = pd.DataFrame(
        {
            "name": [f"n{i}" for i in range(n)],
            "color": ["red", "blue"] * (n // 2),
            "size": np.arange(n),
        }
    )
    schema = Schema(
        [
            Categorical("name", ("n0",), other=True),
            Categorical("color", ("red", "blue")),
            Numeric("size", 0, 1000),
        ]
    )
    assert suspect_identifiers(frame, schema) == ["name"]
    assert suspect_identifiers(frame.head(40), schema) == []


def test_a_drafted_schema_keeps_point_masses_and_not_a_smooth_column():
    rng = np.random.default_rng(0)
    amounts = np.where(rng.random(5000) < 0.8, 0, rng.integers(1, 20000, 5000))
    smooth = rng.integers(18, 90, 5000)
    frame = pd.DataFrame({"amount": amounts, "age": smooth, "share": rng.random(5000)})
    with pytest.warns(PrivacyWarning):
        schema = infer_schema(frame)
    assert schema["amount"].spikes == (0,)
    assert schema["age"].spikes == () and schema["share"].spikes == ()
