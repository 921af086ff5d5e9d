"""The contract every registered generator keeps (dpsynth.generators.protocol.Generator).

fit returns self and never spends past its parts; the same seed gives the same output; a dict
round trip samples identically; parameters come from the constructor and bad ones are refused
before anything is charged; what ``sample`` can do beyond rows is declared, not probed.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import DpsynthError, PrivacyWarning
from dpsynth.generators import available, create, generator_class, parameters
from dpsynth.generators.protocol import CONDITIONS, Generator
from dpsynth.privacy.budget import Allocation, Budget
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Categorical, Numeric, Schema
from dpsynth.workflows.root import Plan, open_door

NEEDS_TORCH = {"neural", "hybrid"}
SMALL = {"neural": {"epochs": 0.5}, "hybrid": {"epochs": 0.5, "backbone": "mst"}}
BAD_VALUE = {"mst": {"max_iters": 0}, "aim": {"max_iters": 0}, "privbayes": {"max_iters": 0},
             "neural": {"epochs": -1.0}, "hybrid": {"epochs": -1.0}}
SCHEMA = Schema([
    Categorical("colour", ("red", "green", "blue")),
    Categorical("size", ("s", "m", "l")),
    Numeric("age", 18, 90, integer=True, bins=8),
])


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], 1500)
    size = np.where(colour == "red", "l", rng.choice(["s", "m"], 1500))
    return pd.DataFrame({"colour": colour, "size": size, "age": rng.integers(18, 91, 1500)})


def door(name, frame, seed=1, epsilon=2.0):
    budget = Budget(epsilon, 1e-9, Allocation.default(list(generator_class(name).parts)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        table, _ = open_door(frame, Plan(budget, SCHEMA), NoiseSource(seed))
    return table


def generator(name, **params):
    if name in NEEDS_TORCH:
        pytest.importorskip("torch", reason="the neural extra is not installed")
    return create(name, **{**SMALL.get(name, {}), **params})


@pytest.fixture(scope="module", params=available())
def fitted(request, frame):
    name = request.param
    if name in NEEDS_TORCH:
        pytest.importorskip("torch", reason="the neural extra is not installed")
    table = door(name, frame)
    made = create(name, **SMALL.get(name, {}))
    return name, made, made.fit(table), table


def test_fit_returns_self_and_keeps_within_its_parts(fitted):
    name, made, returned, table = fitted
    assert returned is made and isinstance(made, Generator)
    accountant = table.accountant
    for part in made.parts:
        assert accountant.rho_spent(part) <= accountant.rho_allowance(part) * (1 + 1e-9) or not np.isfinite(
            accountant.rho_spent(part)
        )
    assert accountant.spent().epsilon <= accountant.budget.epsilon


def test_the_same_seed_gives_the_same_output(fitted, frame):
    name, made, _, _ = fitted
    again = generator(name).fit(door(name, frame))
    pd.testing.assert_frame_equal(made.sample(200, random_state=3), again.sample(200, random_state=3))


def test_a_dict_round_trip_samples_identically(fitted):
    name, made, _, _ = fitted
    document = made.to_dict()
    loaded = generator_class(name).from_dict(document)
    assert loaded.to_dict() == document
    pd.testing.assert_frame_equal(made.sample(200, random_state=4), loaded.sample(200, random_state=4))


def test_parameters_come_from_the_constructor(fitted):
    name, made, _, _ = fitted
    params = made.get_params()
    assert list(params) == parameters(name)
    assert type(made)(**params).get_params() == params


def test_capabilities_are_declared(fitted):
    name, made, _, _ = fitted
    if CONDITIONS in made.capabilities:
        column = "colour"
        sample = made.sample(100, random_state=5, conditions={column: "red"})
        assert (sample[column] == "red").all()


@pytest.mark.parametrize("name", available())
def test_bad_parameters_are_refused_before_any_charge(name, frame):
    with pytest.raises(DpsynthError, match="no parameter"):
        generator(name, not_a_parameter=1)
    table = door(name, frame)
    with pytest.raises(DpsynthError):
        generator(name, **BAD_VALUE[name]).fit(table)
    assert table.accountant.charges == ()
