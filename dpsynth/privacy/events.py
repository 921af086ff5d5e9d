"""Privacy events: each mechanism dpsynth runs, described as an immutable value.

An event knows its privacy curve, not the data. The accountant composes events; it never needs
to know what was measured. Every event maps onto dp-accounting's event types (Google's library,
the composition engine) and, where the mechanism is zero-concentrated DP, states its ``rho``
(Bun & Steinke 2016) so a purely zCDP release can use the exact Canonne-Kamath-Steinke
conversion. Sensitivities are per unit of privacy: the door scales them by the number of rows
one person may contribute before it builds the event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import attr
import dp_accounting

from dpsynth.errors import BudgetError
from dpsynth.privacy.noise import discrete_gaussian_sigma_used
from dpsynth.validation import number


def _check_positive(name: str, value: float) -> float:
    return number(name, value, low=0.0, low_open=True, error=BudgetError)


def _check_integer_sensitivity(value: float) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise BudgetError(f"sensitivity of a discrete mechanism must be a positive integer; got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Event:
    """Base class: a mechanism run once, with the parameters its privacy depends on."""

    label: str = field(default="", compare=False, kw_only=True)

    mechanism = "event"

    @property
    def rho(self) -> float | None:
        """zCDP parameter if the mechanism is rho-zCDP, else ``None``."""
        return None

    @property
    def pld_supported(self) -> bool:
        """Whether dp-accounting's privacy-loss-distribution accountant handles this event."""
        return True

    @property
    def delta_cost(self) -> float:
        """Additive delta beyond the curve (approximate zCDP, Bun & Steinke 2016, Def. 1.8)."""
        return 0.0

    def to_dp_accounting(self) -> dp_accounting.DpEvent:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Parameters for the release record (public: no data is in an event)."""
        out: dict[str, Any] = {"mechanism": self.mechanism}
        for name in self.__dataclass_fields__:
            if name != "label":
                out[name] = getattr(self, name)
        if self.rho is not None:
            out["rho"] = self.rho
        if self.delta_cost:
            out["delta_cost"] = self.delta_cost
        if self.label:
            out["label"] = self.label
        return out


@dataclass(frozen=True)
class GaussianMechanism(Event):
    """Continuous Gaussian noise N(0, sigma^2) on a query of L2 sensitivity ``sensitivity``.

    rho = sensitivity^2 / (2 sigma^2) (Bun & Steinke 2016, Prop. 1.6).
    """

    sigma: float
    sensitivity: float = 1.0
    mechanism = "gaussian"

    def __post_init__(self) -> None:
        _check_positive("sigma", self.sigma)
        _check_positive("sensitivity", self.sensitivity)

    @property
    def rho(self) -> float:
        return self.sensitivity**2 / (2.0 * self.sigma**2)

    def to_dp_accounting(self) -> dp_accounting.DpEvent:
        return dp_accounting.GaussianDpEvent(self.sigma / self.sensitivity)


@dataclass(frozen=True)
class DiscreteGaussianMechanism(GaussianMechanism):
    """Discrete Gaussian noise on an integer query of integer L2 sensitivity.

    Canonne, Kamath & Steinke 2020 (Thm. 4 and Cor. 9 there): it satisfies
    sensitivity^2 / (2 sigma^2)-zCDP, the same curve as the continuous Gaussian. Its privacy
    loss distribution differs from the continuous one, so it is accounted through zCDP/RDP only.
    """

    mechanism = "discrete_gaussian"

    @property
    def pld_supported(self) -> bool:
        return False

    def to_dp_accounting(self) -> dp_accounting.DpEvent:
        return dp_accounting.ZCDpEvent(self.rho)


@dataclass(frozen=True)
class ThresholdedHistogramMechanism(Event):
    """Noisy counts of the values present in a column, released only above ``threshold``.

    The set of values is not public, so a value held only by the changed unit (at most
    ``sensitivity`` rows, in at most ``max_new_cells`` cells) could appear. Counts present in
    both neighbours are a discrete Gaussian measurement (rho = sensitivity^2 / (2 sigma^2)); a
    new cell is released only if its noisy count, at most ``sensitivity`` plus noise, exceeds
    the threshold, which happens with probability at most exp(-(threshold - sensitivity)^2 /
    (2 sigma^2)) per cell, since the discrete Gaussian is sigma^2-subgaussian (Canonne, Kamath
    & Steinke 2020). The union over new cells is the additive delta (stability-based histogram,
    Korolova et al. 2009; approximate zCDP, Bun & Steinke 2016, Def. 1.8).
    """

    sigma: float
    threshold: float
    sensitivity: float = 1.0
    max_new_cells: int = 1
    mechanism = "thresholded_histogram"

    def __post_init__(self) -> None:
        _check_positive("sigma", self.sigma)
        _check_positive("threshold", self.threshold)
        _check_integer_sensitivity(self.sensitivity)
        if isinstance(self.max_new_cells, bool) or int(self.max_new_cells) != self.max_new_cells:
            raise BudgetError(f"max_new_cells must be a positive integer; got {self.max_new_cells!r}")

    @property
    def rho(self) -> float:
        return self.sensitivity**2 / (2.0 * self.sigma**2)

    @property
    def delta_cost(self) -> float:
        gap = self.threshold - self.sensitivity
        if gap <= 0:
            return 1.0
        # The sampler rounds sigma up, and a wider Gaussian crosses the threshold more often,
        # so the tail bound takes the sigma it really uses (rho at the requested sigma is the
        # larger, hence conservative, one).
        sigma = discrete_gaussian_sigma_used(self.sigma)
        return min(1.0, self.max_new_cells * math.exp(-(gap**2) / (2.0 * sigma**2)))

    @property
    def pld_supported(self) -> bool:
        return False

    def to_dp_accounting(self) -> dp_accounting.DpEvent:
        return dp_accounting.ZCDpEvent(self.rho)


@dataclass(frozen=True)
class LaplaceMechanism(Event):
    """Laplace noise of scale ``scale`` on a query of L1 sensitivity ``sensitivity``.

    Pure (sensitivity / scale)-DP. dpsynth never samples it with the textbook float method
    (Mironov 2012); the event exists so continuous mechanisms of other tools can be accounted.
    """

    scale: float
    sensitivity: float = 1.0
    mechanism = "laplace"

    def __post_init__(self) -> None:
        _check_positive("scale", self.scale)
        _check_positive("sensitivity", self.sensitivity)

    @property
    def epsilon(self) -> float:
        return self.sensitivity / self.scale

    def to_dp_accounting(self) -> dp_accounting.DpEvent:
        return dp_accounting.LaplaceDpEvent(self.scale / self.sensitivity)


@dataclass(frozen=True)
class DiscreteLaplaceMechanism(Event):
    """Discrete Laplace noise (pmf proportional to exp(-|x|/scale)) on an integer query.

    Pure (sensitivity / scale)-DP. Its Renyi curve is not in dp-accounting's RDP accountant;
    :mod:`dpsynth.privacy.conversion` adds it.
    """

    scale: float
    sensitivity: float = 1.0
    mechanism = "discrete_laplace"

    def __post_init__(self) -> None:
        _check_positive("scale", self.scale)
        _check_integer_sensitivity(self.sensitivity)

    @property
    def epsilon(self) -> float:
        return self.sensitivity / self.scale

    def to_dp_accounting(self) -> dp_accounting.DpEvent:
        return dp_accounting.dp_event.DiscreteLaplaceDpEvent(1.0 / self.scale, int(self.sensitivity))


@dataclass(frozen=True)
class ExponentialMechanism(Event):
    """One selection by the exponential mechanism with parameter ``epsilon``.

    Probabilities proportional to exp(epsilon * score / (2 * score sensitivity)). It is
    epsilon-bounded-range (Durfee & Rogers 2019), hence epsilon^2/8-zCDP (Cesar & Rogers 2021),
    which is much tighter under composition than counting it as pure epsilon-DP.
    """

    epsilon: float
    mechanism = "exponential"

    def __post_init__(self) -> None:
        _check_positive("epsilon", self.epsilon)

    @property
    def rho(self) -> float:
        return self.epsilon**2 / 8.0

    @property
    def pld_supported(self) -> bool:
        return False

    def to_dp_accounting(self) -> dp_accounting.DpEvent:
        return dp_accounting.ZCDpEvent(self.rho)


@dataclass(frozen=True)
class SubsampledGaussianMechanism(Event):
    """DP-SGD: ``steps`` rounds of Poisson sampling at ``sampling_rate`` and Gaussian noise.

    ``noise_multiplier`` is sigma divided by the clipping norm (per-unit L2 sensitivity). Its
    Renyi curve is the one of Mironov, Talwar & Zhang 2019, computed by dp-accounting.
    """

    sampling_rate: float
    noise_multiplier: float
    steps: int
    mechanism = "subsampled_gaussian"

    def __post_init__(self) -> None:
        rate = _check_positive("sampling_rate", self.sampling_rate)
        if rate > 1:
            raise BudgetError(f"sampling_rate must be in (0, 1]; got {rate!r}")
        _check_positive("noise_multiplier", self.noise_multiplier)
        if isinstance(self.steps, bool) or int(self.steps) != self.steps or self.steps < 1:
            raise BudgetError(f"steps must be a positive integer; got {self.steps!r}")

    def to_dp_accounting(self) -> dp_accounting.DpEvent:
        step = dp_accounting.PoissonSampledDpEvent(
            self.sampling_rate, dp_accounting.GaussianDpEvent(self.noise_multiplier)
        )
        return dp_accounting.SelfComposedDpEvent(step, int(self.steps))


@attr.s(frozen=True, slots=True, auto_attribs=True)
class SubsampledDiscreteGaussianDpEvent(dp_accounting.DpEvent):
    """One DP-SGD step with discrete Gaussian noise, for dpsynth's RDP accountant, which
    bounds it by Zhu & Wang 2019 (dp-accounting does not know it, so never mistakes it for
    the continuous Gaussian)."""

    sampling_probability: float
    noise_multiplier: float


@dataclass(frozen=True)
class DiscreteSubsampledGaussianMechanism(SubsampledGaussianMechanism):
    """DP-SGD with gradients rounded to a grid and exact discrete Gaussian noise.

    ``noise_multiplier`` is sigma over the inflated sensitivity (see
    :mod:`dpsynth.privacy.dpsgd` for the argument). Each step's base curve is
    l / (2 noise_multiplier^2) at integer orders l, in both directions; the Poisson sampling is
    accounted by the general bound of Zhu & Wang 2019 (Thm. 6), not by the continuous
    Gaussian's subsampled curve or privacy-loss distribution, which are not proven for it.
    """

    clipping_norm: float = 1.0
    grid: float = 1.0
    dimension: int = 1
    mechanism = "subsampled_discrete_gaussian"

    @property
    def pld_supported(self) -> bool:
        return False

    def to_dp_accounting(self) -> dp_accounting.DpEvent:
        step = SubsampledDiscreteGaussianDpEvent(self.sampling_rate, self.noise_multiplier)
        return dp_accounting.SelfComposedDpEvent(step, int(self.steps))
