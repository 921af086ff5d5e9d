"""DP discovery finds spikes and decimals, and the spikes it finds (or the shipped Adult schema
declares) come back at their real share in a release at epsilon 1."""

import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.data.discover import decide_decimals
from dpsynth.datasets import example_path
from dpsynth.errors import PrivacyWarning
from dpsynth.generators import create
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema.kinds import VALUE_CLASSES, value_classes
from dpsynth.workflows.root import open_door, plan_fit
from tests.conftest import example_adult


def _fit_door(frame: pd.DataFrame, seed: int, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        plan = plan_fit(frame, epsilon=1.0, delta=1e-9, **options)
        return open_door(frame, plan, NoiseSource(seed))[0]


def _amounts(n: int, rng: np.random.Generator) -> pd.DataFrame:
    amount = np.where(rng.random(n) < 0.6, 0, rng.integers(1, 50_000, n))
    hours = np.where(rng.random(n) < 0.45, 40, rng.integers(1, 99, n))
    return pd.DataFrame({
        "amount": amount.astype(str),
        "hours": hours.astype(str),
        "age": rng.integers(17, 91, n).astype(str),
        "price": np.round(rng.uniform(0, 500, n), 2).astype(str),
    })


def test_discovery_finds_the_spikes_and_no_spike_where_values_are_spread():
    frame = _amounts(20_000, np.random.default_rng(3))
    schema = _fit_door(frame, seed=1).require_schema()
    assert 0 in schema["amount"].spikes
    assert 40 in schema["hours"].spikes
    assert schema["age"].spikes == ()
    assert schema["price"].integer is False and schema["price"].decimals == 2


def test_decimals_follow_the_noisy_value_classes():
    def classes(values: list[str]) -> np.ndarray:
        return np.bincount(value_classes(pd.Series(values)), minlength=len(VALUE_CLASSES)).astype(float)

    assert decide_decimals(classes(["1.5", "2.25", "3"] * 1000), sigma=1.0) == 2
    assert decide_decimals(classes(["1.5", "2", "3.5"] * 1000), sigma=1.0) == 1
    assert decide_decimals(classes(["3.14159265"] * 1000), sigma=1.0) is None
    # One record with more decimals is noise, not the column's precision.
    assert decide_decimals(classes(["1.5"] * 1000 + ["1.23456"]), sigma=1.0) == 1


@pytest.mark.parametrize("schema", ["discovered under DP", "shipped"])
def test_adult_spikes_keep_their_share_at_epsilon_1(schema):
    """P(capital-gain = 0) within 1 point and P(hours-per-week = 40) within 2 of the real shares."""
    frame = example_adult().astype(str).replace("nan", None) if schema != "shipped" else example_adult()
    options = {"schema": str(example_path("adult")[1])} if schema == "shipped" else {}
    table = _fit_door(frame, seed=5, **options)
    synthetic = create("mst").fit(table).sample(len(frame), random_state=5)
    for column, value, tolerance in (("capital-gain", 0, 0.01), ("hours-per-week", 40, 0.02)):
        real = (pd.to_numeric(frame[column]) == value).mean()
        assert abs((pd.to_numeric(synthetic[column]) == value).mean() - real) < tolerance, column
