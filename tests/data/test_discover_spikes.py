"""DP discovery finds spikes and decimals, and the spikes it finds (or the shipped Adult schema
declares) come back at their real share in a release at epsilon 1."""

import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.data.discover import decide_decimals, with_top_code
from dpsynth.datasets import example_path
from dpsynth.errors import PrivacyWarning
from dpsynth.generators import create
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Numeric, Schema, decode
from dpsynth.schema.encoding import encode_column
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
    # Only the public top-code candidate past the bounds (see with_top_code), nothing from the data.
    assert schema["age"].spikes == (99.0,) and schema["age"].lower >= 0
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
    """P(capital-gain = 0) within 1 point, P(hours-per-week = 40) within 2 and the top code
    P(capital-gain = 99999), past the DP bounds, within 0.3 of the real shares."""
    frame = example_adult().astype(str).replace("nan", None) if schema != "shipped" else example_adult()
    options = {"schema": str(example_path("adult")[1])} if schema == "shipped" else {}
    table = _fit_door(frame, seed=5, **options)
    synthetic = create("mst").fit(table).sample(len(frame), random_state=5)
    spikes = (("capital-gain", 0, 0.01), ("hours-per-week", 40, 0.02), ("capital-gain", 99999, 0.003))
    for column, value, tolerance in spikes:
        real = (pd.to_numeric(frame[column]) == value).mean()
        assert abs((pd.to_numeric(synthetic[column]) == value).mean() - real) < tolerance, (column, value)


def test_the_top_code_candidate_gets_a_code_past_the_bounds_and_decodes_exactly():
    column = with_top_code(Numeric("gain", 0, 19000, integer=True, bins=32, spikes=(0,)))
    assert (column.lower, column.upper, column.spikes) == (0, 99999, (0, 99999))
    codes = encode_column(pd.Series([0, 18000, 41310, 99999, 250000, None]), column)
    # 41310 falls in the gap bin between the old bound and the cap; past the cap clips onto it.
    assert list(codes[3:5]) == [column.spike_codes[-1]] * 2 and codes[2] == column.spike_codes[-1] - 1
    assert codes[1] < codes[2] and codes[-1] == column.missing_code
    values = decode(np.array([[column.spike_codes[-1]]] * 5), Schema((column,)), np.random.default_rng(0))
    assert (values["gain"] == 99999).all()
    # A bound that reached past the cap: the all-nines value in the last bin becomes a spike there.
    reached = with_top_code(Numeric("gain", 0, 100000, integer=True, bins=32))
    assert reached.spikes == (99999, 999999)
    assert with_top_code(Numeric("rate", 0.0, 37.5, bins=8)).spikes == (99.0,)
    assert with_top_code(Numeric("below", -50, -1, integer=True)).spikes == ()
    assert with_top_code(Numeric("huge", 0.0, 1e20)).upper == 1e20
