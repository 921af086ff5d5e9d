"""One accountant per release: it composes every event of every part jointly, refuses before
it overspends, and calibrates noise so a part's share is used exactly.

The currency of the allocation is zCDP. The total (epsilon, delta) is turned into the largest
rho whose exact CKS conversion stays within it; part ``p`` may spend ``fraction[p] * rho``.

* A part whose events are all zCDP (Gaussian, discrete Gaussian, exponential mechanism) is
  within its share when the sum of its rhos is.
* A part with events that are not zCDP (DP-SGD, Laplace) is within its share when its events,
  composed with every other part at its full zCDP share, stay within the total (epsilon, delta)
  by the RDP accountant. That is the joint meaning of "its share": the other parts can still
  spend all of theirs.
* Independently of the parts, the composition of everything charged must stay within the
  total. Every check happens before the event is recorded, and before the caller draws noise.

Mechanisms with an additive delta (thresholded histograms) spend from the fraction of delta the
budget reserves for them; the curve is converted at the rest of delta.

With delta = 0 only pure-DP events can be charged, shares are shares of epsilon and
composition is the sum of epsilons (the tight composition for pure DP).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from dp_accounting.rdp.rdp_privacy_accountant import (
    compute_epsilon as compute_rdp_epsilon,
)

from dpsynth.errors import BudgetError, BudgetExceeded
from dpsynth.privacy.budget import Budget
from dpsynth.privacy.conversion import (
    RDP_ORDERS,
    epsilon_to_zcdp,
    pld_epsilon,
    rdp_curve,
    rdp_epsilon,
    zcdp_epsilon,
)
from dpsynth.privacy.events import (
    DiscreteGaussianMechanism,
    DiscreteLaplaceMechanism,
    DiscreteSubsampledGaussianMechanism,
    Event,
    GaussianMechanism,
    LaplaceMechanism,
    SubsampledGaussianMechanism,
)
from dpsynth.validation import integer, number

# The zCDP budget is computed for (1 - _EPSILON_MARGIN) * epsilon, so that float rounding in
# sums of many rhos can never carry the release past its stated epsilon.
_EPSILON_MARGIN = 1e-9
_RHO_TOLERANCE = 1e-12

CONVERSION_CKS = "zCDP, exact conversion of Canonne, Kamath & Steinke 2020"
CONVERSION_RDP = "Renyi DP (dp-accounting RdpAccountant, conversion of Balle et al. 2020)"
CONVERSION_PLD = "privacy loss distributions (dp-accounting PLDAccountant)"
CONVERSION_PURE = "pure DP, sum of epsilons"


@dataclass(frozen=True)
class Charge:
    """One recorded charge: ``count`` runs of ``event`` spent by ``part``."""

    part: str
    event: Event
    count: int = 1

    @property
    def rho(self) -> float:
        """The zCDP rho of all ``count`` runs; BudgetError for an event that is not zCDP."""
        rho = self.event.rho
        if rho is None:
            raise BudgetError(f"{type(self.event).__name__} is not zCDP: its charge has no rho")
        return self.count * rho


@dataclass(frozen=True)
class PlannedMeasurement:
    """One measurement in a calibration plan: its sensitivity and its share weight."""

    sensitivity: float = 1.0
    weight: float = 1.0


@dataclass(frozen=True)
class Spend:
    """Joint (epsilon, delta) of everything charged, and how it was converted."""

    epsilon: float
    delta: float
    conversion: str


_CURVES: dict[tuple[Any, int], np.ndarray] = {}


def event_curve(event: Event, count: int = 1) -> np.ndarray:
    """:func:`rdp_curve`, cached by the event's dp-accounting value (which holds everything the
    curve depends on): a DP-SGD curve costs up to a second, and the same event is calibrated,
    charged and reported. The array is read-only."""
    key = (event.to_dp_accounting(), count)
    curve = _CURVES.get(key)
    if curve is None:
        if len(_CURVES) >= 256:
            _CURVES.clear()
        curve = rdp_curve(event, count)
        curve.flags.writeable = False
        _CURVES[key] = curve
    return curve


_NOISE_EXPONENT = {
    # scale_i = s * sensitivity_i / weight_i ** exponent spends budget in proportion to weight:
    # rho_i = weight_i / (2 s^2) for Gaussians, epsilon_i = weight_i / s for Laplace.
    GaussianMechanism: 0.5,
    DiscreteGaussianMechanism: 0.5,
    LaplaceMechanism: 1.0,
    DiscreteLaplaceMechanism: 1.0,
}


def _pure_epsilon(event: Event) -> float | None:
    return getattr(event, "epsilon", None) if isinstance(
        event, (LaplaceMechanism, DiscreteLaplaceMechanism)
    ) else None


class _Totals:
    """Running totals of a set of charges: zCDP rho, Renyi curve, pure epsilon."""

    def __init__(self) -> None:
        self.rho = 0.0
        self.delta_cost = 0.0
        self.curve = np.zeros_like(RDP_ORDERS)
        self.pure_epsilon = 0.0
        self.all_zcdp = True
        self.all_pure = True
        self.empty = True

    @classmethod
    def of(cls, charges: Sequence[Charge]) -> _Totals:
        out = cls()
        for charge in charges:
            out.empty = False
            out.delta_cost += charge.count * charge.event.delta_cost
            rho = charge.event.rho
            if rho is None:
                out.all_zcdp = False
                out.curve += event_curve(charge.event, charge.count)
            else:
                out.rho += charge.count * rho
                out.curve += charge.count * rho * RDP_ORDERS
            pure = _pure_epsilon(charge.event)
            if pure is None:
                out.all_pure = False
            else:
                out.pure_epsilon += charge.count * pure
        return out

    def __add__(self, other: _Totals) -> _Totals:
        out = _Totals()
        out.rho = self.rho + other.rho
        out.delta_cost = self.delta_cost + other.delta_cost
        out.curve = self.curve + other.curve
        out.pure_epsilon = self.pure_epsilon + other.pure_epsilon
        out.all_zcdp = self.all_zcdp and other.all_zcdp
        out.all_pure = self.all_pure and other.all_pure
        out.empty = self.empty and other.empty
        return out


class Accountant:
    """Composes all events of one release under one :class:`~dpsynth.privacy.budget.Budget`."""

    def __init__(self, budget: Budget) -> None:
        if not isinstance(budget, Budget):
            raise BudgetError("budget must be a dpsynth.privacy.Budget")
        self.budget = budget
        self.delta_for_curve = budget.delta * (1.0 - budget.delta_reserve)
        self.rho_total = epsilon_to_zcdp(
            budget.epsilon * (1.0 - _EPSILON_MARGIN), self.delta_for_curve
        )
        self._charges: list[Charge] = []
        self._total = _Totals()
        self._parts = {part: _Totals() for part in budget.allocation.parts}

    # ----------------------------------------------------------------------------- shares
    def rho_allowance(self, part: str) -> float:
        """The zCDP share of ``part``."""
        return self.budget.allocation[self._known(part)] * self.rho_total

    def rho_spent(self, part: str) -> float:
        """Sum of rho of the zCDP events charged to ``part``."""
        return self._parts[self._known(part)].rho

    def rho_remaining(self, part: str) -> float:
        """What is left of a zCDP part's share (0 once a non-zCDP event was charged to it)."""
        state = self._parts[self._known(part)]
        if not state.all_zcdp:
            return 0.0
        return max(self.rho_allowance(part) - state.rho, 0.0)

    @property
    def charges(self) -> tuple[Charge, ...]:
        return tuple(self._charges)

    # ----------------------------------------------------------------------------- checks
    def _known(self, part: str) -> str:
        if part not in self._parts:
            raise BudgetError(
                f"part {part!r} has no share in the allocation; parts are {list(self._parts)}"
            )
        return part

    def _refusal(self, part: str, charges: Sequence[Charge]) -> str | None:
        """Why these charges cannot be made now, or ``None`` if they can."""
        eps, delta = self.budget.epsilon, self.delta_for_curve
        fraction = self.budget.allocation[part]
        added = _Totals.of(charges)
        state = self._parts[part] + added
        total = self._total + added
        if delta == 0:
            if not state.all_pure:
                return "with delta = 0 only pure-DP mechanisms (Laplace, discrete Laplace) can run"
            if state.pure_epsilon > fraction * eps * (1 + _RHO_TOLERANCE):
                left = max(fraction * eps - self._parts[part].pure_epsilon, 0.0)
                asked = state.pure_epsilon - self._parts[part].pure_epsilon
                return f"asked epsilon={asked:.6g}, {left:.6g} left of its share"
            if total.pure_epsilon > eps * (1 + _RHO_TOLERANCE):
                return f"the release would spend epsilon={total.pure_epsilon:.6g} > {eps:.6g}"
            return None
        reserve = self.budget.delta * self.budget.delta_reserve
        if total.delta_cost > reserve * (1 + _RHO_TOLERANCE):
            return (
                f"asked an additive delta of {total.delta_cost - self._total.delta_cost:.3g}; "
                f"{max(reserve - self._total.delta_cost, 0.0):.3g} is left of the reserved delta"
            )
        if state.all_zcdp:
            allowance = self.rho_allowance(part)
            if state.rho > allowance * (1 + _RHO_TOLERANCE):
                left = max(allowance - self._parts[part].rho, 0.0)
                asked = state.rho - self._parts[part].rho
                return f"asked rho={asked:.6g}, {left:.6g} left of its share rho={allowance:.6g}"
        else:
            others = (self.rho_total - self.rho_allowance(part)) * RDP_ORDERS
            joint = rdp_epsilon(others + state.curve, delta)
            if joint > eps:
                return (
                    f"with the other parts at their full shares the release would reach "
                    f"epsilon={joint:.6g} > {eps:.6g}"
                )
        spent = self._joint_check_epsilon(total)
        if spent > eps:
            return f"the release would spend epsilon={spent:.6g} > {eps:.6g} in total"
        return None

    def _joint_check_epsilon(self, state: _Totals) -> float:
        if state.empty:
            return 0.0
        if state.all_zcdp:
            return zcdp_epsilon(state.rho, self.delta_for_curve)
        return rdp_epsilon(state.curve, self.delta_for_curve)

    def can_charge(self, part: str, event: Event, count: int = 1) -> bool:
        """Whether :meth:`charge` would accept this event now (changes nothing)."""
        return self._refusal(self._known(part), [Charge(part, event, self._count(count))]) is None

    @staticmethod
    def _count(count: int) -> int:
        return integer("count", count, error=BudgetError)

    def charge(self, part: str, event: Event, count: int = 1) -> None:
        """Record ``count`` runs of ``event`` against ``part``, or raise before any change.

        Callers draw noise only after this returns. :class:`BudgetExceeded` says which part,
        what was asked and what is left; the accountant is unchanged after a refusal.
        """
        if not isinstance(event, Event):
            raise BudgetError(f"event must be a dpsynth privacy Event; got {type(event).__name__}")
        charge = Charge(self._known(part), event, self._count(count))
        reason = self._refusal(part, [charge])
        if reason is not None:
            raise BudgetExceeded(f"refused {event.mechanism} for part '{part}': {reason}")
        added = _Totals.of([charge])
        self._charges.append(charge)
        self._parts[part] = self._parts[part] + added
        self._total = self._total + added

    # ------------------------------------------------------------------------- calibrate
    def calibrate(
        self,
        part: str,
        plan: Sequence[PlannedMeasurement],
        mechanism: type[GaussianMechanism | LaplaceMechanism | DiscreteLaplaceMechanism] = DiscreteGaussianMechanism,
        rho: float | None = None,
    ) -> list[float]:
        """Noise scales for a plan of measurements that spend what is left of ``part`` exactly.

        With ``rho`` (Gaussian mechanisms only) the plan spends exactly that much of the part
        instead of all that is left, for generators that split their share between steps.

        Measurement i gets ``scale_i = s * sensitivity_i / weight_i ** k`` (k = 1/2 for
        Gaussians, so rho_i is proportional to weight_i; k = 1 for Laplace, so epsilon_i is);
        ``s`` is the smallest value the accountant accepts for the whole plan, found by
        bisection and then nudged up so that charging the plan afterwards cannot be refused.
        Returns sigmas (Gaussians) or scales (Laplace), in plan order.
        """
        self._known(part)
        if mechanism not in _NOISE_EXPONENT:
            raise BudgetError(f"cannot calibrate {mechanism.__name__}; use a Gaussian or Laplace")
        plan = list(plan)
        if not plan:
            raise BudgetError("plan must contain at least one measurement")
        for item in plan:
            for name in ("sensitivity", "weight"):
                number(f"plan {name}", getattr(item, name), low=0.0, low_open=True, error=BudgetError)
        exponent = _NOISE_EXPONENT[mechanism]
        unit = [item.sensitivity / item.weight**exponent for item in plan]

        if rho is not None:
            if exponent != 0.5:
                raise BudgetError("rho applies only to Gaussian mechanisms")
            number("rho", rho, low=0.0, low_open=True, error=BudgetError)

        def accepted(s: float) -> bool:
            charges = [
                Charge(part, mechanism(s * u, sensitivity=item.sensitivity))
                for u, item in zip(unit, plan)
            ]
            if rho is not None:
                spent = math.fsum(c.rho for c in charges)
                if spent > rho * (1 + _RHO_TOLERANCE):
                    return False
            return self._refusal(part, charges) is None

        s = self._smallest_accepted(accepted)
        return [s * u for u in unit]

    def calibrate_subsampled_gaussian(
        self,
        part: str,
        sampling_rate: float,
        steps: int,
        mechanism: type[SubsampledGaussianMechanism] = DiscreteSubsampledGaussianMechanism,
    ) -> float:
        """Smallest DP-SGD noise multiplier that ``part`` can afford for these steps.

        ``mechanism`` is the event the run will be charged as: by default dpsynth's DP-SGD
        (discrete Gaussian noise, Zhu & Wang 2019 curve); the continuous-noise event for runs
        of other tools. The search runs on subsets of :data:`RDP_ORDERS`: first every 8th
        order, then a window of the dense grid around the orders that were tightest. A
        conversion over fewer orders is a minimum over fewer valid bounds, so a multiplier
        accepted on a subset is accepted on the full grid; the answer is still checked there
        (the check :meth:`charge` makes) and nudged up if needed.
        """
        self._known(part)
        mechanism(sampling_rate, 1.0, steps)  # validates the arguments

        def event(multiplier: float) -> SubsampledGaussianMechanism:
            return mechanism(sampling_rate, multiplier, steps)

        coarse = np.arange(0, RDP_ORDERS.size, 8)
        found = self._smallest_accepted(
            lambda m: self._dpsgd_fits(part, event(m), coarse) is not None, 1e-3
        )
        window = self._dpsgd_fits(part, event(found), coarse)
        assert window is not None  # found is a multiplier the search accepted, so its check passed
        found = self._smallest_accepted(
            lambda m: self._dpsgd_fits(part, event(m), window) is not None, 1e-3
        )
        for _ in range(20):
            if self._refusal(part, [Charge(part, event(found))]) is None:
                return found
            found *= 1.0 + 1e-3
        raise BudgetExceeded(f"no DP-SGD noise multiplier fits part '{part}'")

    def _dpsgd_fits(
        self, part: str, event: SubsampledGaussianMechanism, index: np.ndarray
    ) -> np.ndarray | None:
        """The RDP checks of :meth:`_refusal` for one DP-SGD event, on the orders
        ``RDP_ORDERS[index]`` only (upper bounds of the full-grid ones); ``None`` if refused,
        else the dense-grid indices within 12 places of the orders where each check is
        tightest (the window the next search uses)."""
        delta, eps = self.delta_for_curve, self.budget.epsilon
        if delta == 0:
            return None
        orders = RDP_ORDERS[index]
        added = rdp_curve(event, orders=orders)
        others = (self.rho_total - self.rho_allowance(part)) * orders
        tightest = []
        for curve in (others + self._parts[part].curve[index] + added,
                      self._total.curve[index] + added):
            epsilon, order = compute_rdp_epsilon(orders, curve, delta)
            if epsilon > eps:
                return None
            tightest.append(int(np.searchsorted(RDP_ORDERS, order)))
        near = [np.arange(max(t - 12, 0), min(t + 13, RDP_ORDERS.size)) for t in tightest]
        return np.union1d(*near)

    @staticmethod
    def _smallest_accepted(
        accepted: Callable[[float], bool], relative_tolerance: float = 1e-10
    ) -> float:
        """Bisection (in log space) for the smallest noise scale ``accepted`` says yes to."""
        hi = 1.0
        while not accepted(hi):
            hi *= 4.0
            if hi > 1e12:
                raise BudgetExceeded("no noise scale fits: the part has no budget left")
        lo = hi / 4.0
        while accepted(lo):
            hi, lo = lo, lo / 4.0
            if lo < 1e-12:
                return hi
        while hi - lo > relative_tolerance * hi:
            mid = math.sqrt(lo * hi)
            if accepted(mid):
                hi = mid
            else:
                lo = mid
        return hi

    # --------------------------------------------------------------------------- reports
    def spent(self) -> Spend:
        """The joint (epsilon, delta) of everything charged, by the tightest valid conversion."""
        delta = self.delta_for_curve
        state = self._total
        if state.empty:
            return Spend(0.0, 0.0, "nothing charged")
        if delta == 0:
            return Spend(state.pure_epsilon, 0.0, CONVERSION_PURE)
        total_delta = delta + state.delta_cost
        # The smallest of the conversions that apply. Adding an event can only remove
        # conversions from the applicable set, and each one is monotone, so the reported
        # epsilon never decreases as events are added.
        candidates = [Spend(rdp_epsilon(state.curve, delta), total_delta, CONVERSION_RDP)]
        if state.all_zcdp:
            candidates.append(Spend(zcdp_epsilon(state.rho, delta), total_delta, CONVERSION_CKS))
        pld = pld_epsilon(((c.event, c.count) for c in self._charges), delta)
        if pld is not None:
            candidates.append(Spend(pld, total_delta, CONVERSION_PLD))
        return min(candidates, key=lambda spend: spend.epsilon)

    def part_epsilon(self, part: str, delta: float) -> float:
        """(epsilon at ``delta``) of ``part``'s events alone."""
        state = self._parts[self._known(part)]
        if state.empty:
            return 0.0
        if delta == 0:
            return state.pure_epsilon if state.all_pure else math.inf
        if state.all_zcdp:
            return zcdp_epsilon(state.rho, delta)
        return rdp_epsilon(state.curve, delta)

    def naive_sum(self) -> Spend:
        """What converting each part alone (at its fraction of delta) and summing would say."""
        delta = self.delta_for_curve
        used = [p for p, s in self._parts.items() if not s.empty]
        epsilon = math.fsum(
            self.part_epsilon(p, delta * self.budget.allocation[p]) for p in used
        )
        total_delta = delta + self._total.delta_cost if used else 0.0
        return Spend(epsilon, total_delta, "sum over parts of each part's own conversion")

    def report(self) -> dict[str, Any]:
        """Everything a release record states about privacy (all public: no data in it)."""
        spent, naive = self.spent(), self.naive_sum()
        parts: dict[str, Any] = {}
        for part, state in self._parts.items():
            parts[part] = {
                "fraction": self.budget.allocation[part],
                "rho_allowance": self.rho_allowance(part),
                "rho_spent": state.rho if state.all_zcdp else None,
                "epsilon_alone": self.part_epsilon(part, self.delta_for_curve),
                "events": [
                    dict(c.event.describe(), count=c.count) for c in self._charges if c.part == part
                ],
            }
        return {
            "budget": self.budget.describe(),
            "rho_total": self.rho_total,
            "parts": parts,
            "joint": {"epsilon": spent.epsilon, "delta": spent.delta, "conversion": spent.conversion},
            "naive_sum": {"epsilon": naive.epsilon, "delta": naive.delta},
        }
