"""Empirical distinguishability: the door's released counts obey the (epsilon, delta) bound.

Neighbouring tables differ in one row (or one person's k rows). For every threshold event
S = {noisy count >= t}, DP requires P_D(S) <= e^epsilon P_D'(S) + delta. We estimate both
probabilities from many runs of the real door and check the bound with one-sided 99.9%
Clopper-Pearson limits, at a budget where a wrongly scaled sampler would fail it.
"""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from dpsynth.data import PrivateTable
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Budget, PrivacyUnit
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Categorical, Identifier, Schema

RUNS = 20_000


def noisy_counts(frame, schema, unit, sigma):
    budget = Budget(1e6, 1e-3, unit=unit)
    table = PrivateTable(frame, Accountant(budget), NoiseSource())
    table.encode(schema)
    out = np.empty(RUNS, dtype=np.int64)
    for i in range(RUNS):
        out[i] = table.marginal(("a",), sigma)[0]
    return out, table.accountant


def lower(k, n):
    return beta.ppf(0.0005, k, n - k + 1) if k > 0 else 0.0


def upper(k, n):
    return beta.ppf(0.9995, k + 1, n - k) if k < n else 1.0


@pytest.mark.slow
@pytest.mark.parametrize("unit_rows", [1, 3])
def test_released_counts_are_indistinguishable_within_the_charged_epsilon(unit_rows):
    schema = Schema([Categorical("a", ("x", "y")), Identifier("pid", role="unit")])
    base = pd.DataFrame({"a": ["x"] * 50 + ["y"] * 50, "pid": range(100)})
    extra = pd.DataFrame({"a": ["x"] * unit_rows, "pid": [1000] * unit_rows})
    neighbour = pd.concat([base, extra], ignore_index=True)
    unit = PrivacyUnit("pid", max_rows=unit_rows)
    sigma = 1.5 * unit_rows
    with_row, accountant = noisy_counts(neighbour, schema, unit, sigma)
    without_row, _ = noisy_counts(base, schema, unit, sigma)
    # The charged event alone: rho = k^2 / (2 sigma^2); its epsilon at delta = 1e-3.
    from dpsynth.privacy.conversion import zcdp_epsilon

    rho = accountant.charges[0].event.rho
    epsilon, delta = zcdp_epsilon(rho, 1e-3), 1e-3
    for threshold in range(45, 60):
        for first, second in ((with_row, without_row), (without_row, with_row)):
            k1, k2 = int((first >= threshold).sum()), int((second >= threshold).sum())
            assert lower(k1, RUNS) <= np.exp(epsilon) * upper(k2, RUNS) + delta
    # The bound is not vacuous: the two distributions do differ measurably.
    assert abs(with_row.mean() - without_row.mean() - unit_rows) < 0.2
