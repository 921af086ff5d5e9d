"""The conversions reproduce the published formulas and agree with dp-accounting and Opacus."""

import math

import dp_accounting
import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm

from dpsynth.privacy.conversion import (
    RDP_ORDERS,
    discrete_laplace_rdp,
    epsilon_to_zcdp,
    pld_epsilon,
    rdp_curve,
    rdp_epsilon,
    zcdp_delta,
    zcdp_epsilon,
)
from dpsynth.privacy.events import (
    DiscreteLaplaceMechanism,
    GaussianMechanism,
    LaplaceMechanism,
    SubsampledGaussianMechanism,
)

RHOS = [1e-4, 1e-3, 0.015, 0.1, 1.0, 5.0]
DELTAS = [1e-9, 1e-6, 1e-3]


def cks_delta_on_grid(rho, epsilon):
    """CKS 2020 Cor. 13 evaluated on a very fine grid of orders, independently of the bisection."""
    alpha = 1.0 + np.geomspace(1e-6, 1e6, 400_000)
    log_delta = (
        (alpha - 1) * (alpha * rho - epsilon) + alpha * np.log1p(-1 / alpha) - np.log(alpha - 1)
    )
    return min(float(np.exp(log_delta.min())), 1.0)


@pytest.mark.parametrize("rho", RHOS)
@pytest.mark.parametrize("epsilon", [0.1, 1.0, 3.0])
def test_zcdp_delta_reproduces_cks_formula(rho, epsilon):
    expected = cks_delta_on_grid(rho, epsilon)
    assert zcdp_delta(rho, epsilon) == pytest.approx(expected, rel=1e-5, abs=1e-300)
    assert zcdp_delta(rho, epsilon) <= expected * (1 + 1e-9)


@pytest.mark.parametrize("rho", RHOS)
@pytest.mark.parametrize("delta", DELTAS)
def test_zcdp_epsilon_matches_dp_accounting_and_is_no_looser(rho, delta):
    # dp-accounting's default orders stop at 256, too low for tiny rho; give it a dense grid.
    accountant = dp_accounting.rdp.RdpAccountant(np.geomspace(1.02, 1e6, 3000))
    accountant.compose(dp_accounting.ZCDpEvent(rho))
    reference = accountant.get_epsilon(delta)
    ours = zcdp_epsilon(rho, delta)
    assert ours == pytest.approx(reference, rel=0.01)
    assert ours <= reference * (1 + 1e-9)
    assert zcdp_delta(rho, ours) <= delta * (1 + 1e-9)


@pytest.mark.parametrize("epsilon", [0.1, 0.3, 1.0, 3.0, 10.0])
@pytest.mark.parametrize("delta", DELTAS)
def test_epsilon_to_zcdp_inverts_and_never_overshoots(epsilon, delta):
    rho = epsilon_to_zcdp(epsilon, delta)
    assert zcdp_epsilon(rho, delta) <= epsilon
    assert zcdp_epsilon(rho * (1 + 1e-6), delta) > epsilon * (1 - 1e-6)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 3.0, 10.0])
@pytest.mark.parametrize("epsilon", [0.5, 1.0, 2.0])
def test_cks_bound_is_valid_for_the_gaussian_mechanism(sigma, epsilon):
    """The exact (epsilon, delta) curve of the Gaussian (Balle & Wang 2018) lies below CKS."""
    mu = 1.0 / sigma
    exact = norm.cdf(mu / 2 - epsilon / mu) - math.exp(epsilon) * norm.cdf(-mu / 2 - epsilon / mu)
    assert exact <= zcdp_delta(1.0 / (2 * sigma**2), epsilon) + 1e-15


@pytest.mark.parametrize("a", [0.1, 0.7, 2.0])
@pytest.mark.parametrize("sensitivity", [1, 2, 4])
def test_discrete_laplace_rdp_matches_direct_summation(a, sensitivity):
    x = np.arange(-2000, 2001)
    log_c = math.log(math.tanh(a / 2))
    log_p = log_c - a * np.abs(x)
    log_q = log_c - a * np.abs(x - sensitivity)
    orders = np.array([1.5, 2.0, 4.0, 16.0, 64.0])
    direct = [logsumexp(o * log_p + (1 - o) * log_q) / (o - 1) for o in orders]
    np.testing.assert_allclose(discrete_laplace_rdp(a, sensitivity, orders), direct, rtol=1e-9)
    assert np.all(discrete_laplace_rdp(a, sensitivity, orders) <= a * sensitivity + 1e-12)


@pytest.mark.parametrize("scale", [0.5, 2.0, 10.0])
def test_discrete_laplace_rdp_and_pld_agree(scale):
    event = DiscreteLaplaceMechanism(scale)
    by_rdp = rdp_epsilon(rdp_curve(event, 20), 1e-6)
    by_pld = pld_epsilon([(event, 20)], 1e-6)
    assert by_pld <= by_rdp * 1.01
    assert by_pld <= 20 / scale + 1e-9


@pytest.mark.parametrize("sigma,count", [(1.0, 1), (5.0, 10), (20.0, 500)])
@pytest.mark.parametrize("delta", [1e-9, 1e-5])
def test_gaussian_composition_matches_dp_accounting(sigma, count, delta):
    ours = rdp_epsilon(rdp_curve(GaussianMechanism(sigma), count), delta)
    reference = dp_accounting.rdp.RdpAccountant()
    reference.compose(dp_accounting.GaussianDpEvent(sigma), count)
    assert ours == pytest.approx(reference.get_epsilon(delta), rel=0.01)


@pytest.mark.parametrize("scale,count", [(1.0, 1), (4.0, 10)])
def test_laplace_composition_matches_dp_accounting(scale, count):
    ours = rdp_epsilon(rdp_curve(LaplaceMechanism(scale), count), 1e-6)
    reference = dp_accounting.rdp.RdpAccountant()
    reference.compose(dp_accounting.LaplaceDpEvent(scale), count)
    assert ours == pytest.approx(reference.get_epsilon(1e-6), rel=0.01)


DPSGD_CASES = [(0.01, 1.1, 1000), (0.004, 0.8, 5000), (0.1, 4.0, 100), (0.02, 1.5, 2000)]


@pytest.mark.parametrize("rate,multiplier,steps", DPSGD_CASES)
def test_dpsgd_matches_dp_accounting_and_opacus(rate, multiplier, steps):
    opacus_rdp = pytest.importorskip("opacus.accountants.analysis.rdp")
    ours = rdp_epsilon(rdp_curve(SubsampledGaussianMechanism(rate, multiplier, steps)), 1e-5)
    reference = dp_accounting.rdp.RdpAccountant()
    reference.compose(
        dp_accounting.SelfComposedDpEvent(
            dp_accounting.PoissonSampledDpEvent(rate, dp_accounting.GaussianDpEvent(multiplier)),
            steps,
        )
    )
    assert ours == pytest.approx(reference.get_epsilon(1e-5), rel=0.01)
    orders = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
    curve = opacus_rdp.compute_rdp(q=rate, noise_multiplier=multiplier, steps=steps, orders=orders)
    opacus_epsilon, _ = opacus_rdp.get_privacy_spent(orders=orders, rdp=curve, delta=1e-5)
    assert ours == pytest.approx(opacus_epsilon, rel=0.01)


def test_orders_grid_is_sorted_and_above_one():
    assert np.all(np.diff(RDP_ORDERS) > 0) and RDP_ORDERS[0] > 1
