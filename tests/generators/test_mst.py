"""MST spends its part exactly, follows the protocol, and models the data it measured."""

import json

import numpy as np
import pandas as pd
import pytest

from dpsynth.data import PrivateTable
from dpsynth.errors import DataError, NotFittedError
from dpsynth.generators import available, create
from dpsynth.generators.mst import MST
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Budget
from dpsynth.privacy.noise import NoiseSource
from tests.generators.conftest import fit_generator


def fitted(adult, epsilon=1.0, **params):
    return fit_generator(MST(**params), adult, epsilon)


def test_registry_knows_mst():
    assert "mst" in available() and isinstance(create("mst"), MST)


def test_mst_spends_the_marginal_part_exactly(adult):
    _model, accountant = fitted(adult)
    assert accountant.rho_spent("marginal") == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-9)
    assert accountant.spent().epsilon <= 1.0
    events = [c.event.mechanism for c in accountant.charges]
    d = len(adult[1].encoded_columns)
    assert events.count("discrete_gaussian") == d + (d - 1)
    assert events.count("exponential") == d - 1


@pytest.mark.parametrize("params", [{"max_iters": 0}, {"max_iters": 2.5}, {"discrepancy": 1.5},
                                    {"discrepancy": -0.1}, {"discrepancy": True}, {"max_cells": False}])
def test_bad_settings_are_refused_before_anything_is_spent(adult, params):
    frame, schema = adult
    accountant = Accountant(Budget(1.0, 1e-9))
    table = PrivateTable(frame, accountant, NoiseSource())
    table.encode(schema)
    with pytest.raises(DataError, match=next(iter(params))):
        MST(**params).fit(table)
    assert not accountant.charges


def test_mst_samples_decoded_rows_with_a_dp_row_count(adult):
    model, _ = fitted(adult, epsilon=3.0)
    synthetic = model.sample()
    assert list(synthetic.columns) == list(adult[1].encoded_columns)
    assert abs(len(synthetic) - len(adult[0])) < 0.05 * len(adult[0])
    assert len(model.sample(123)) == 123


def test_mst_captures_dependence_at_high_epsilon(adult):
    """On the pairs with the strongest dependence, MST's 2-way marginals beat independence."""
    frame, _ = adult
    model, _ = fitted(adult, epsilon=10.0)
    synthetic = model.sample(100_000)
    gains = []
    for a, b in [("relationship", "sex"), ("marital-status", "relationship"), ("age", "marital-status")]:
        real = pd.crosstab(frame[a], frame[b], normalize=True)
        independent = np.outer(real.sum(axis=1), real.sum(axis=0))
        synth = pd.crosstab(synthetic[a], synthetic[b], normalize=True)
        synth = synth.reindex(index=real.index, columns=real.columns, fill_value=0.0)
        gains.append(np.abs(real - synth).to_numpy().sum() / np.abs(real.to_numpy() - independent).sum())
    assert max(gains) < 0.5


def test_not_fitted_and_save_load_round_trip(adult, tmp_path):
    with pytest.raises(NotFittedError):
        MST().sample(10)
    model, _ = fitted(adult, epsilon=2.0)
    path = tmp_path / "model.json"
    model.save(path)
    assert json.loads(path.read_text())["method"] == "mst"
    loaded = MST.load(path, random_state=np.random.default_rng(5))
    again = MST.load(path, random_state=np.random.default_rng(5))
    pd.testing.assert_frame_equal(loaded.sample(500), again.sample(500))
    assert loaded.n_rows_estimate == model.n_rows_estimate


def test_no_global_random_state_is_used(adult):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    model, _ = fitted(adult, epsilon=2.0)
    model.sample(100)
    assert np.array_equal(np.random.get_state()[1], before)
