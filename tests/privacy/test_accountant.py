"""The accountant never overspends, refuses before it changes, and calibrates exactly."""

import math

import dp_accounting
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpsynth.errors import BudgetError, BudgetExceeded
from dpsynth.privacy.accountant import Accountant, PlannedMeasurement
from dpsynth.privacy.budget import Allocation, Budget
from dpsynth.privacy.conversion import zcdp_epsilon
from dpsynth.privacy.events import (
    DiscreteGaussianMechanism,
    DiscreteLaplaceMechanism,
    ExponentialMechanism,
    GaussianMechanism,
    LaplaceMechanism,
    SubsampledGaussianMechanism,
    ThresholdedHistogramMechanism,
)
from dpsynth.privacy.noise import discrete_gaussian_sigma_used


def three_parts(epsilon=1.0, delta=1e-9):
    return Accountant(
        Budget(epsilon, delta, Allocation({"domain": 0.1, "marginal": 0.6, "neural": 0.3}))
    )


def state(accountant):
    return (accountant.charges, {p: accountant.rho_spent(p) for p in accountant.budget.allocation.parts})


def test_event_rhos_follow_the_published_formulas():
    assert GaussianMechanism(2.0, sensitivity=3.0).rho == pytest.approx(9 / 8)
    assert DiscreteGaussianMechanism(2.0, sensitivity=2).rho == pytest.approx(0.5)
    assert ExponentialMechanism(0.4).rho == pytest.approx(0.02)
    assert LaplaceMechanism(2.0).rho is None and DiscreteLaplaceMechanism(4.0, sensitivity=2).epsilon == 0.5


@pytest.mark.parametrize("field,kwargs", [
    ("sigma", {"sigma": 0.0}),
    ("sigma", {"sigma": math.inf}),
    ("sensitivity", {"sigma": 1.0, "sensitivity": -1.0}),
])
def test_invalid_event_parameters(field, kwargs):
    with pytest.raises(BudgetError, match=field):
        GaussianMechanism(**kwargs)


def test_zcdp_part_spends_its_share_exactly():
    accountant = three_parts()
    allowance = accountant.rho_allowance("marginal")
    assert allowance == pytest.approx(0.6 * accountant.rho_total)
    sigmas = accountant.calibrate("marginal", [PlannedMeasurement(1.0, 1.0)] * 10)
    for sigma in sigmas:
        accountant.charge("marginal", DiscreteGaussianMechanism(sigma))
    assert accountant.rho_spent("marginal") == pytest.approx(allowance, rel=1e-8)
    with pytest.raises(BudgetExceeded, match="marginal"):
        accountant.charge("marginal", DiscreteGaussianMechanism(1e3))


def test_refusal_names_part_asked_and_left_and_changes_nothing():
    accountant = three_parts()
    accountant.charge("marginal", GaussianMechanism(20.0))
    before = state(accountant)
    with pytest.raises(BudgetExceeded) as info:
        accountant.charge("marginal", GaussianMechanism(0.1))
    message = str(info.value)
    assert "marginal" in message and "asked" in message and "left" in message
    assert state(accountant) == before


def test_unknown_part_is_a_clear_error():
    with pytest.raises(BudgetError, match="'other'"):
        three_parts().charge("other", GaussianMechanism(1.0))


def test_joint_is_tighter_than_naive_and_within_total():
    accountant = three_parts(epsilon=1.0)
    for part in ("domain", "marginal", "neural"):
        rho = accountant.rho_remaining(part)
        accountant.charge(part, DiscreteGaussianMechanism(1.0 / math.sqrt(2 * rho)))
    spent, naive = accountant.spent(), accountant.naive_sum()
    assert spent.epsilon <= 1.0
    assert spent.epsilon == pytest.approx(1.0, rel=1e-6)
    assert naive.epsilon > spent.epsilon * 1.3


def test_continuous_gaussians_report_the_tighter_pld_figure():
    accountant = three_parts(epsilon=1.0)
    rho = accountant.rho_remaining("marginal")
    accountant.charge("marginal", GaussianMechanism(1.0 / math.sqrt(2 * rho)))
    spent = accountant.spent()
    assert spent.conversion.startswith("privacy loss")
    assert spent.epsilon < zcdp_epsilon(rho, 1e-9)


def test_delta_reserve_pays_for_thresholded_histograms():
    budget = Budget(1.0, 1e-6, Allocation({"domain": 0.5, "marginal": 0.5}), delta_reserve=0.1)
    accountant = Accountant(budget)
    sigma = 1 / math.sqrt(2 * accountant.rho_remaining("domain"))
    cheap = ThresholdedHistogramMechanism(sigma, threshold=1 + sigma * 6.0)
    assert cheap.delta_cost == pytest.approx(math.exp(-18.0))
    accountant.charge("domain", cheap)
    spent = accountant.spent()
    assert spent.delta == pytest.approx(0.9e-6 + math.exp(-18.0))
    assert spent.delta <= 1e-6
    greedy = ThresholdedHistogramMechanism(1e6, threshold=2.0)
    with pytest.raises(BudgetExceeded, match="reserved delta"):
        accountant.charge("domain", greedy)


def test_thresholded_histogram_delta_is_at_the_sigma_the_sampler_uses():
    # The sampler rounds sigma up; its wider tail crosses the threshold more often.
    sigma, threshold = 1 / 3, 3.0
    used = discrete_gaussian_sigma_used(sigma)
    assert used > sigma
    event = ThresholdedHistogramMechanism(sigma, threshold, max_new_cells=2)
    assert event.delta_cost == 2 * math.exp(-((threshold - 1) ** 2) / (2 * used**2))
    assert event.delta_cost > 2 * math.exp(-((threshold - 1) ** 2) / (2 * sigma**2))
    assert event.rho == 1 / (2 * sigma**2)


def test_joint_matches_dp_accounting_on_the_same_composed_event():
    accountant = Accountant(Budget(3.0, 1e-6, Allocation({"marginal": 0.5, "neural": 0.5})))
    accountant.charge("marginal", GaussianMechanism(8.0), count=5)
    accountant.charge("marginal", ExponentialMechanism(0.1), count=3)
    accountant.charge("neural", SubsampledGaussianMechanism(0.01, 1.5, 500))
    composed = dp_accounting.ComposedDpEvent([
        dp_accounting.SelfComposedDpEvent(dp_accounting.GaussianDpEvent(8.0), 5),
        dp_accounting.SelfComposedDpEvent(dp_accounting.ZCDpEvent(0.1**2 / 8), 3),
        SubsampledGaussianMechanism(0.01, 1.5, 500).to_dp_accounting(),
    ])
    reference = dp_accounting.rdp.RdpAccountant(np.geomspace(1.02, 4096, 2000))
    reference.compose(composed)
    assert accountant.spent().epsilon == pytest.approx(reference.get_epsilon(1e-6), rel=0.01)


def test_dpsgd_calibration_spends_the_neural_share_jointly():
    accountant = three_parts(epsilon=3.0, delta=1e-6)
    multiplier = accountant.calibrate_subsampled_gaussian(
        "neural", 0.02, 500, mechanism=SubsampledGaussianMechanism
    )
    accountant.charge("neural", SubsampledGaussianMechanism(0.02, multiplier, 500))
    with pytest.raises(BudgetExceeded, match="neural"):
        accountant.charge("neural", SubsampledGaussianMechanism(0.02, multiplier, 50))
    for part in ("domain", "marginal"):
        accountant.charge(part, GaussianMechanism(1 / math.sqrt(2 * accountant.rho_remaining(part))))
    spent = accountant.spent()
    # Shares are planned with the RDP accountant; the report may use the tighter PLD figure.
    assert 2.5 <= spent.epsilon <= 3.0
    assert accountant._joint_check_epsilon(accountant._total) == pytest.approx(3.0, rel=1e-2)
    assert spent.epsilon <= accountant.naive_sum().epsilon


def test_pure_dp_with_delta_zero():
    accountant = Accountant(Budget(1.0, 0.0, Allocation({"marginal": 1.0})))
    scales = accountant.calibrate("marginal", [PlannedMeasurement(1.0, 1.0)] * 4, DiscreteLaplaceMechanism)
    assert scales == pytest.approx([4.0] * 4, rel=1e-8)
    for scale in scales:
        accountant.charge("marginal", DiscreteLaplaceMechanism(scale))
    assert accountant.spent().epsilon <= 1.0
    with pytest.raises(BudgetExceeded, match="pure"):
        Accountant(Budget(1.0, 0.0)).charge("marginal", GaussianMechanism(10.0))


def test_calibrate_500_measurements_is_weighted_and_exact():
    # Its speed is measured by benchmarks/bench_calibrate.py, not asserted here.
    accountant = three_parts()
    plan = [PlannedMeasurement(1.0, 1.0 + i % 3) for i in range(500)]
    sigmas = accountant.calibrate("marginal", plan)
    rhos = [1 / (2 * s**2) for s in sigmas]
    assert rhos[1] / rhos[0] == pytest.approx(2.0)
    assert sum(rhos) == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-8)


def test_report_lists_events_and_both_figures():
    accountant = three_parts()
    accountant.charge("marginal", DiscreteGaussianMechanism(30.0, label="age"), count=2)
    report = accountant.report()
    events = report["parts"]["marginal"]["events"]
    assert events == [{"mechanism": "discrete_gaussian", "sigma": 30.0, "sensitivity": 1.0,
                       "rho": 1 / 1800, "label": "age", "count": 2}]
    assert report["joint"]["epsilon"] == pytest.approx(zcdp_epsilon(2 / 1800, 1e-9))
    assert "naive_sum" in report and report["budget"]["unit"]["relation"]


EVENTS = st.one_of(
    st.builds(GaussianMechanism, st.floats(0.05, 200)),
    st.builds(DiscreteGaussianMechanism, st.floats(0.05, 200)),
    st.builds(ExponentialMechanism, st.floats(0.001, 2.0)),
    st.builds(LaplaceMechanism, st.floats(0.2, 100)),
    st.builds(DiscreteLaplaceMechanism, st.floats(0.2, 100)),
)
CHARGES = st.lists(
    st.tuples(st.sampled_from(["domain", "marginal", "neural"]), EVENTS, st.integers(1, 5)),
    max_size=12,
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(CHARGES, st.sampled_from([0.1, 1.0, 5.0]))
def test_random_charge_sequences_never_exceed_the_total(charges, epsilon):
    accountant = three_parts(epsilon=epsilon)
    for part, event, count in charges:
        before = state(accountant)
        try:
            accountant.charge(part, event, count)
        except BudgetExceeded:
            assert state(accountant) == before
        assert accountant.spent().epsilon <= epsilon
        assert accountant.rho_spent(part) <= accountant.rho_allowance(part) * (1 + 1e-9)


@FAST
@given(CHARGES, EVENTS)
def test_more_events_never_lower_epsilon(charges, extra):
    accountant = three_parts(epsilon=50.0)
    for part, event, count in charges:
        try:
            accountant.charge(part, event, count)
        except BudgetExceeded:
            pass
    before = accountant.spent().epsilon
    try:
        accountant.charge("marginal", extra)
    except BudgetExceeded:
        return
    assert accountant.spent().epsilon >= before - 1e-12


@FAST
@given(
    st.lists(st.tuples(st.floats(0.1, 10), st.floats(0.01, 100)), min_size=1, max_size=40),
    st.sampled_from([DiscreteGaussianMechanism, GaussianMechanism]),
    st.floats(0.05, 10),
)
def test_calibrate_then_charge_never_raises(plan, mechanism, epsilon):
    accountant = three_parts(epsilon=epsilon)
    sigma = 1.0 / math.sqrt(2 * accountant.rho_remaining("marginal") / 3)
    accountant.charge("marginal", mechanism(sigma))
    planned = [PlannedMeasurement(s, w) for s, w in plan]
    for scale, item in zip(accountant.calibrate("marginal", planned, mechanism), planned):
        accountant.charge("marginal", mechanism(scale, sensitivity=item.sensitivity))
    assert accountant.rho_remaining("marginal") <= 1e-9 * accountant.rho_allowance("marginal")
