"""Converting composed privacy curves to (epsilon, delta).

Three conversions, each a valid upper bound; the accountant reports the smallest that applies:

* zCDP -> (epsilon, delta): the conversion of Canonne, Kamath & Steinke 2020 (Prop. 12 /
  Cor. 13), optimised exactly over the Renyi order rather than on a grid;
* Renyi DP -> (epsilon, delta): dp-accounting's RDP accountant (conversion of Balle et al. 2020
  / Asoodeh et al. 2021) on a dense grid of orders, extended here with the Renyi curves of the
  discrete Laplace mechanism and of DP-SGD with discrete Gaussian noise, which it lacks;
* privacy-loss distributions: dp-accounting's PLD accountant, for events it supports.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np
from dp_accounting import pld, rdp
from dp_accounting.dp_event import DiscreteLaplaceDpEvent
from dp_accounting.rdp.rdp_privacy_accountant import compute_epsilon as _rdp_epsilon
from scipy.special import logsumexp

from dpsynth.privacy.events import Event, SubsampledDiscreteGaussianDpEvent
from dpsynth.privacy.subsampling import poisson_subsampled_rdp

# Dense grid: fine fractional steps at small orders (where large budgets and DP-SGD sit) and
# log-spaced integer orders above (where small budgets sit; dp-accounting's subsampled-Gaussian
# curve is exact and convergent at integer orders).
RDP_ORDERS = np.unique(
    np.concatenate(
        [np.linspace(1.05, 12.0, 220), np.round(np.geomspace(12.0, 4096.0, 120))]
    )
)

_BISECTION_STEPS = 200


def _doubled(bound: float) -> float:
    """The next upper bracket of a bisection; an overflow would loop forever, so it raises."""
    if not bound < 1e300:
        raise OverflowError("the privacy parameters are too large to convert")
    return 2.0 * bound


def zcdp_delta(rho: float, epsilon: float) -> float:
    """Smallest delta such that rho-zCDP implies (epsilon, delta)-DP (CKS 2020, Cor. 13).

    delta = min over alpha > 1 of exp((alpha-1)(alpha rho - epsilon) + alpha log(1 - 1/alpha))
    / (alpha - 1). The exponent is convex in alpha; its derivative
    (2 alpha - 1) rho - epsilon + log(1 - 1/alpha) increases, so its root is found by bisection.
    Any alpha gives a valid bound, so an imprecise root only loosens delta.
    """
    if rho < 0 or epsilon < 0:
        raise ValueError("rho and epsilon must be non-negative")
    if rho == 0:
        return 0.0
    lo, hi = 1.0 + 1e-12, max((epsilon + 1.0) / (2.0 * rho) + 2.0, 2.0)
    for _ in range(_BISECTION_STEPS):
        alpha = 0.5 * (lo + hi)
        derivative = (2.0 * alpha - 1.0) * rho - epsilon + math.log1p(-1.0 / alpha)
        if derivative < 0:
            lo = alpha
        else:
            hi = alpha
        if hi - lo <= 1e-13 * hi:
            break
    alpha = 0.5 * (lo + hi)
    log_delta = (alpha - 1.0) * (alpha * rho - epsilon) + alpha * math.log1p(-1.0 / alpha)
    log_delta -= math.log(alpha - 1.0)
    return min(math.exp(log_delta), 1.0) if log_delta < 700 else 1.0


def zcdp_epsilon(rho: float, delta: float) -> float:
    """Smallest epsilon such that rho-zCDP implies (epsilon, delta)-DP (CKS 2020).

    Bisection on epsilon, keeping the upper end (always a valid epsilon).
    """
    if not 0 < delta < 1:
        return 0.0 if rho == 0 else math.inf
    if rho == 0:
        return 0.0
    lo, hi = 0.0, rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta)) + 1.0
    while zcdp_delta(rho, hi) > delta:
        hi = _doubled(hi)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if zcdp_delta(rho, mid) <= delta:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-14 * hi:
            break
    return hi


def epsilon_to_zcdp(epsilon: float, delta: float) -> float:
    """Largest rho such that rho-zCDP implies (epsilon, delta)-DP (bisection, lower end kept)."""
    if delta <= 0:
        return 0.0
    lo, hi = 0.0, epsilon + 1.0
    while zcdp_epsilon(hi, delta) <= epsilon:
        hi = _doubled(hi)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if zcdp_epsilon(mid, delta) <= epsilon:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    return lo


def discrete_laplace_rdp(noise_parameter: float, sensitivity: int, orders: np.ndarray) -> np.ndarray:
    """Renyi divergence of the discrete Laplace mechanism at each order (exact, closed form).

    P has pmf c exp(-a|x|) with c = tanh(a/2), Q is P shifted by the sensitivity s. Summing
    p^alpha q^(1-alpha) over x <= 0, 0 < x < s and x >= s gives three geometric pieces:
    c [ (e^{a(alpha-1)s} + e^{-a alpha s}) / (1 - e^{-a}) + sum_{x=1}^{s-1}
    e^{a(alpha-1)s - a(2 alpha - 1) x} ]. The mechanism is symmetric, so D(P||Q) = D(Q||P).
    """
    a, s = float(noise_parameter), int(sensitivity)
    orders = np.asarray(orders, dtype=float)
    log_c = math.log(math.tanh(a / 2.0))
    log_tail = -math.log(-math.expm1(-a))
    terms = [
        a * (orders - 1.0) * s + log_tail,
        -a * orders * s + log_tail,
    ]
    for x in range(1, s):
        terms.append(a * (orders - 1.0) * s - a * (2.0 * orders - 1.0) * x)
    log_moment = log_c + logsumexp(np.stack(terms), axis=0)
    return np.minimum(log_moment / (orders - 1.0), a * s)


def subsampled_discrete_gaussian_rdp(
    sampling_rate: float, noise_multiplier: float, orders: np.ndarray
) -> np.ndarray:
    """Renyi curve of one DP-SGD step with discrete Gaussian noise, at any orders > 1.

    The base step (no sampling) is (l, l / (2 m^2))-RDP in both directions at integer l (m is
    the noise multiplier; proof in :mod:`dpsynth.privacy.dpsgd`, point 4); Poisson sampling
    is bounded by Zhu & Wang 2019 (Thm. 6) at integer orders. A fractional order gets the
    bound of the next integer: Renyi divergence does not decrease with the order (van Erven &
    Harremoes 2014, Thm. 3), and the bound is only proven at integers.
    """
    orders = np.asarray(orders, dtype=float)
    # The tolerance keeps grid orders such as 2.0000000000000004 on their integer.
    ceiling = np.maximum(np.ceil(orders - 1e-9), 2.0)
    integers, position = np.unique(ceiling, return_inverse=True)
    scale = 1.0 / (2.0 * float(noise_multiplier) ** 2)
    bound = poisson_subsampled_rdp(sampling_rate, lambda ell: ell * scale, integers)
    return bound[position]


class RdpAccountant(rdp.RdpAccountant):
    """dp-accounting's RDP accountant, taught the discrete Laplace and discrete-noise DP-SGD
    curves it lacks."""

    def _maybe_compose(self, event, count, do_compose):  # dp-accounting's hook
        if isinstance(event, DiscreteLaplaceDpEvent):
            if do_compose:
                self._rdp += count * discrete_laplace_rdp(
                    event.noise_parameter, event.sensitivity, self._orders
                )
            return None
        if isinstance(event, SubsampledDiscreteGaussianDpEvent):
            if do_compose:
                self._rdp += count * subsampled_discrete_gaussian_rdp(
                    event.sampling_probability, event.noise_multiplier, self._orders
                )
            return None
        return super()._maybe_compose(event, count, do_compose)


def rdp_curve(event: Event, count: int = 1, orders: np.ndarray = RDP_ORDERS) -> np.ndarray:
    """Renyi curve of ``count`` runs of ``event`` on ``orders`` (by default :data:`RDP_ORDERS`)."""
    accountant = RdpAccountant(np.asarray(orders, dtype=float))
    accountant.compose(event.to_dp_accounting(), count)
    return np.array(accountant._rdp, dtype=float)


def rdp_epsilon(curve: np.ndarray, delta: float) -> float:
    """(epsilon at delta) of a composed Renyi curve, by dp-accounting's conversion."""
    if np.all(curve == 0):
        return 0.0
    epsilon, _ = _rdp_epsilon(RDP_ORDERS, curve, delta)
    return float(epsilon)


def pld_epsilon(events: Iterable[tuple[Event, int]], delta: float) -> float | None:
    """(epsilon at delta) from dp-accounting's PLD accountant, or ``None`` if not applicable."""
    grouped: Counter[Event] = Counter()
    for event, count in events:
        if not event.pld_supported:
            return None
        grouped[event] += count
    if not grouped or delta <= 0:
        return None
    accountant = pld.PLDAccountant()
    for event, count in grouped.items():
        accountant.compose(event.to_dp_accounting(), count)
    return float(accountant.get_epsilon(delta))
