"""The epsilon a release states, recomputed from its record by code that shares nothing with dpsynth's.

Every event in ``release.json`` is rebuilt from its printed parameters: a discrete Gaussian of
scale sigma and sensitivity s is (s^2 / 2 sigma^2)-zCDP (Canonne, Kamath & Steinke 2020,
Theorem 14, at the sigma the sampler used, which the record prints rounded up), the
exponential mechanism epsilon^2/8-zCDP (Cesar & Rogers 2021, bounded range), a thresholded
histogram adds its delta. The zCDP total converts to (epsilon, delta) by CKS 2020's
Proposition 12, minimised here numerically over the order alpha with scipy.
"""

import math

import pytest
from scipy.optimize import brentq, minimize_scalar

from tests.guarantee.neighbours import base_table, seeded_release

METHODS = [("mst", {}), ("aim", {"workload": 2}), ("privbayes", {})]


def cks_delta(rho: float, epsilon: float) -> float:
    """delta(epsilon) of rho-zCDP: inf over alpha > 1 of
    exp((alpha - 1)(alpha rho - epsilon)) / (alpha - 1) * (1 - 1/alpha)^alpha."""

    def log_delta(log_excess: float) -> float:
        alpha = 1.0 + math.exp(log_excess)
        return ((alpha - 1) * (alpha * rho - epsilon) + alpha * math.log1p(-1 / alpha)) - math.log(alpha - 1)

    best = minimize_scalar(log_delta, bounds=(-30.0, 12.0), method="bounded", options={"xatol": 1e-12})
    return min(1.0, math.exp(best.fun))


def recomputed_epsilon(record: dict) -> float:
    events = [e for part in record["privacy"]["parts"].values() for e in part["events"]]
    rho, additive = 0.0, 0.0
    for event in events:
        count = event.get("count", 1)
        if event["mechanism"] in ("discrete_gaussian", "thresholded_histogram"):
            rho += count * event["sensitivity"] ** 2 / (2 * event["sigma"] ** 2)
        elif event["mechanism"] == "exponential":
            rho += count * event["epsilon"] ** 2 / 8
        else:
            pytest.fail(f"no independent rule for {event['mechanism']}")
        if event["mechanism"] == "thresholded_histogram":
            additive += count * event["delta_cost"]
    delta = record["privacy"]["joint"]["delta"] - additive
    return brentq(lambda eps: cks_delta(rho, eps) - delta, 1e-9, 100.0, xtol=1e-12)


@pytest.mark.parametrize("declared", [False, True], ids=["dp-schema", "public-schema"])
@pytest.mark.parametrize("method,params", METHODS, ids=[m for m, _ in METHODS])
def test_the_stated_epsilon_matches_an_independent_recomputation(method, params, declared, tmp_path):
    from dpsynth.datasets import example_path
    from dpsynth.schema import Schema

    frame = base_table()
    schema = None
    if declared:
        shipped = Schema.load(example_path("adult")[1])
        schema = Schema([shipped[name] for name in frame.columns])
    record = seeded_release(frame, tmp_path / "out", method=method, method_params=params, schema=schema)
    joint = record["privacy"]["joint"]
    assert recomputed_epsilon(record) == pytest.approx(joint["epsilon"], rel=1e-6)
    assert joint["epsilon"] <= record["privacy"]["budget"]["epsilon"]
    assert joint["delta"] <= record["privacy"]["budget"]["delta"]
