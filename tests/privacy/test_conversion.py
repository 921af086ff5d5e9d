"""The conversions reproduce the published formulas and agree with dp-accounting and Opacus."""

import math

import dp_accounting
import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import binom, norm

from dpsynth.errors import BudgetError
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
    DiscreteSubsampledGaussianMechanism,
    GaussianMechanism,
    LaplaceMechanism,
    SubsampledGaussianMechanism,
)
from dpsynth.privacy.subsampling import poisson_subsampled_rdp, zhu_wang_rdp

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


# ------------------------------------------------- Poisson subsampling, Zhu & Wang 2019
def gaussian_base(multiplier):
    return lambda ell: ell / (2.0 * multiplier**2)


def test_zhu_wang_at_order_two_is_the_closed_form():
    # (1-q)(2q - q + 1) + q^2 e^eps(2) = 1 + q^2 (e^eps(2) - 1); no l >= 3 terms at alpha = 2.
    q, eps2 = 0.03, 0.7
    bound = zhu_wang_rdp(q, lambda ell: np.full(ell.shape, eps2 / 2) * ell, np.array([2]))
    assert bound[0] == pytest.approx(math.log(1 + q**2 * math.expm1(eps2)), rel=1e-12)


@pytest.mark.parametrize("rate,multiplier", [(0.01, 1.0), (0.004, 0.8), (0.1, 4.0), (0.3, 2.0)])
def test_zhu_wang_bounds_the_exact_sampled_gaussian_within_log3(rate, multiplier):
    # For the Gaussian the exact curve (MTZ 2019; dp-accounting at integer orders) is the same
    # binomial sum with factor 1 where Zhu & Wang have 3, so 0 <= ZW - exact <= log(3)/(alpha-1).
    orders = np.arange(2, 257)
    exact = dp_accounting.rdp.RdpAccountant(orders.astype(float))
    exact.compose(dp_accounting.PoissonSampledDpEvent(rate, dp_accounting.GaussianDpEvent(multiplier)))
    exact_curve = np.asarray(exact._rdp)
    ours = zhu_wang_rdp(rate, gaussian_base(multiplier), orders)
    assert np.all(ours >= exact_curve * (1 - 1e-9) - 1e-15)
    assert np.all(ours - exact_curve <= np.log(3) / (orders - 1) + 1e-12)
    assert np.all(poisson_subsampled_rdp(rate, gaussian_base(multiplier), orders) >= exact_curve * (1 - 1e-9))


def test_at_rate_one_zhu_wang_adds_log3_and_the_combined_bound_is_the_base():
    orders = np.arange(2, 40)
    base = gaussian_base(1.3)(orders)
    zhu_wang = zhu_wang_rdp(1.0, gaussian_base(1.3), orders)
    assert zhu_wang[0] == pytest.approx(base[0], rel=1e-12)
    assert zhu_wang[1:] == pytest.approx(base[1:] + np.log(3) / (orders[1:] - 1), rel=1e-12)
    assert poisson_subsampled_rdp(1.0, gaussian_base(1.3), orders) == pytest.approx(base, rel=1e-12)


@pytest.mark.parametrize(
    "multiplier,rate,order,golden",
    [
        # autodp 0.2.x, autodp.rdp_acct.general_upperbound(RDP_gaussian({'sigma': s}), order, q)
        # / (order - 1), computed in a scratch venv (it sums the same bound in another form).
        (1.0, 0.01, 3, 0.00028471208055375063),
        (1.0, 0.01, 10, 0.0885883738406837),
        (2.0, 0.05, 32, 0.9518087156458489),
        (0.8, 0.1, 10, 5.376147963363976),
    ],
)
def test_zhu_wang_matches_autodp_golden_values(multiplier, rate, order, golden):
    ours = zhu_wang_rdp(rate, gaussian_base(multiplier), np.array([order]))
    assert ours[0] == pytest.approx(golden, rel=1e-9)


def test_combined_bound_vanishes_with_the_noise_where_zhu_wang_does_not():
    orders = np.array([2, 8, 32, 128])
    zhu_wang = zhu_wang_rdp(0.02, gaussian_base(1e4), orders)
    combined = poisson_subsampled_rdp(0.02, gaussian_base(1e4), orders)
    # Zhu & Wang keep log(1 + 2 P[Bin(alpha, q) >= 3]) / (alpha-1) at zero base cost.
    floor = np.log1p(2 * binom.sf(2, orders, 0.02)) / (orders - 1)
    assert np.all(zhu_wang[1:] >= floor[1:] * 0.999)
    # At alpha = 2 Zhu & Wang's q^2 (e^eps(2) - 1) is the smaller; above it joint convexity's
    # q eps(alpha) = 0.02 alpha / (2 * 1e8), which vanishes with the noise.
    assert combined[0] == pytest.approx(0.02**2 * 2 / 2e8, rel=1e-3)
    assert combined[1:] == pytest.approx(0.02 * orders[1:] / 2e8, rel=1e-3)


def test_subsampling_bound_refuses_non_integer_orders_and_bad_rates():
    with pytest.raises(BudgetError, match="integers"):
        zhu_wang_rdp(0.1, gaussian_base(1.0), np.array([2.5]))
    with pytest.raises(BudgetError, match="sampling_rate"):
        poisson_subsampled_rdp(1.5, gaussian_base(1.0), np.array([2]))


def test_discrete_dpsgd_curve_takes_the_next_integer_and_bounds_the_continuous_one():
    discrete = rdp_curve(DiscreteSubsampledGaussianMechanism(0.02, 1.2, 300))
    continuous = rdp_curve(SubsampledGaussianMechanism(0.02, 1.2, 300))
    assert np.all(discrete >= continuous * (1 - 1e-9))
    ceiling = np.maximum(np.ceil(RDP_ORDERS - 1e-9), 2)
    expected = 300 * poisson_subsampled_rdp(0.02, gaussian_base(1.2), np.unique(ceiling))
    assert discrete == pytest.approx(expected[np.searchsorted(np.unique(ceiling), ceiling)], rel=1e-12)
    assert not DiscreteSubsampledGaussianMechanism(0.02, 1.2, 300).pld_supported


def test_a_conversion_out_of_floating_point_range_raises_instead_of_looping():
    with pytest.raises(OverflowError):
        epsilon_to_zcdp(1e307, 1e-9)
