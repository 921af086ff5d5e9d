"""The privacy budget of a release: total (epsilon, delta), its split into parts, and the unit.

A release states one total (epsilon, delta) for one unit of privacy. The allocation splits it
between named parts so a user sees, before anything runs, what each part may spend:

============================  =========================================================
parts of the release          default fractions
============================  =========================================================
one part                      all of it
``domain`` + one other part   ``domain`` 0.1, the other 0.9
``domain`` + several others   ``domain`` 0.1, the rest split evenly between the others
no ``domain``, several parts  split evenly
``marginal`` + ``neural``     ``neural`` 0.2 and ``marginal`` 0.8 of what ``domain`` leaves
============================  =========================================================

The hybrid generator's split (``marginal`` + ``neural``) is set by measurement on raw Adult
(benchmarks/RESULTS.md, "Neural and hybrid generators"): the marginal model carries the 2-way
structure and the classifier signal, the network only the detail within bins, so most of the
budget goes to the marginal part.

``domain`` is only present when the schema is discovered under DP; with a public schema its
share goes to the parts that measure. Fractions are shares of the release's zCDP budget (see
:class:`dpsynth.privacy.accountant.Accountant`), so the parts compose jointly, not by summing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from dpsynth.errors import BudgetError
from dpsynth.validation import integer, number

DOMAIN = "domain"
MARGINAL = "marginal"
NEURAL = "neural"
DOMAIN_DEFAULT_FRACTION = 0.1
NEURAL_DEFAULT_FRACTION = 0.2
"""Share of the non-domain budget the ``neural`` part gets beside a ``marginal`` part."""
_FRACTION_TOLERANCE = 1e-9
# Above this an epsilon protects nothing, and the zCDP conversions' floating point (rho grows as
# epsilon squared) would overflow: such a budget is refused, not accounted.
MAX_EPSILON = 1e6


def check_epsilon(value: object) -> float:
    """A release's or a cap's epsilon: a finite number in (0, MAX_EPSILON]."""
    return number("epsilon", value, low=0.0, low_open=True, high=MAX_EPSILON, error=BudgetError)


def check_delta(value: object) -> float:
    """A release's or a cap's delta: a number in [0, 1)."""
    return number("delta", value, low=0.0, high=1.0, high_open=True, error=BudgetError)


@dataclass(frozen=True)
class PrivacyUnit:
    """Whose privacy is protected: one record, or one person identified by ``column``.

    The neighbouring relation is add/remove one unit. With a person column each person's
    contribution is bounded to ``max_rows`` rows by the door, and every sensitivity is
    multiplied by ``max_rows``.
    """

    column: str | None = None
    max_rows: int = 1

    def __post_init__(self) -> None:
        integer("max_rows_per_unit", self.max_rows, error=BudgetError)
        if self.column is None and self.max_rows != 1:
            raise BudgetError("max_rows applies only when a privacy unit column is named")
        if self.column is not None and (not isinstance(self.column, str) or not self.column):
            raise BudgetError("the privacy unit column must be a non-empty column name")

    @property
    def relation(self) -> str:
        """The neighbouring relation in words, as recorded in every release."""
        if self.column is None:
            return "add or remove one record"
        return (
            f"add or remove one person (all rows sharing a value of column '{self.column}', "
            f"at most {self.max_rows} per person)"
        )

    def describe(self) -> dict[str, object]:
        return {"column": self.column, "max_rows_per_unit": self.max_rows, "relation": self.relation}


@dataclass(frozen=True)
class Allocation:
    """Fractions of the release's budget per named part; they are finite, in [0, 1], sum to 1."""

    fractions: Mapping[str, float]

    def __post_init__(self) -> None:
        if not isinstance(self.fractions, Mapping) or not self.fractions:
            raise BudgetError("allocation must map at least one part name to a fraction")
        clean: dict[str, float] = {}
        for part, value in self.fractions.items():
            if not isinstance(part, str) or not part:
                raise BudgetError("allocation part names must be non-empty strings")
            clean[part] = number(f"allocation[{part!r}]", value, low=0.0, high=1.0, error=BudgetError)
        total = math.fsum(clean.values())
        if abs(total - 1.0) > _FRACTION_TOLERANCE:
            raise BudgetError(f"allocation fractions must sum to 1; they sum to {total!r}")
        object.__setattr__(self, "fractions", MappingProxyType(clean))

    @classmethod
    def default(cls, parts: Sequence[str]) -> Allocation:
        """The documented default split for these parts (see the module docstring)."""
        parts = list(dict.fromkeys(parts))
        if not parts:
            raise BudgetError("a release needs at least one part to allocate budget to")
        if len(parts) == 1:
            return cls({parts[0]: 1.0})
        others = [p for p in parts if p != DOMAIN]
        domain_share = DOMAIN_DEFAULT_FRACTION if DOMAIN in parts else 0.0
        fractions = {p: (1.0 - domain_share) / len(others) for p in others}
        if sorted(others) == [MARGINAL, NEURAL]:
            fractions = {
                MARGINAL: (1.0 - domain_share) * (1.0 - NEURAL_DEFAULT_FRACTION),
                NEURAL: (1.0 - domain_share) * NEURAL_DEFAULT_FRACTION,
            }
        if DOMAIN in parts:
            fractions[DOMAIN] = domain_share
        return cls(fractions)

    @classmethod
    def parse(cls, text: str) -> Allocation:
        """Parse ``"domain=0.1,marginal=0.9"`` (the CLI's ``--allocation``)."""
        fractions: dict[str, float] = {}
        for item in filter(None, (piece.strip() for piece in text.split(","))):
            name, sep, value = item.partition("=")
            if not sep:
                raise BudgetError(f"allocation item {item!r} must look like part=fraction")
            try:
                fractions[name.strip()] = float(value)
            except ValueError:
                raise BudgetError(f"allocation[{name.strip()!r}] must be a number") from None
        return cls(fractions)

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.fractions)

    def __getitem__(self, part: str) -> float:
        return self.fractions[part]


@dataclass(frozen=True)
class Budget:
    """Total (epsilon, delta) of a release, its allocation and its unit of privacy.

    ``n_records``, when known, enforces delta < 1/n: a larger delta would allow releasing a
    record outright with non-negligible probability. ``delta_reserve`` is the fraction of delta
    set aside for mechanisms with an additive delta (thresholded histograms that discover
    category sets); the rest of delta is used to convert the composed curve.
    """

    epsilon: float
    delta: float
    allocation: Allocation = field(default_factory=lambda: Allocation({"marginal": 1.0}))
    unit: PrivacyUnit = field(default_factory=PrivacyUnit)
    n_records: int | None = None
    delta_reserve: float = 0.0

    def __post_init__(self) -> None:
        epsilon = check_epsilon(self.epsilon)
        delta = check_delta(self.delta)
        if not isinstance(self.allocation, Allocation):
            raise BudgetError("allocation must be an Allocation")
        if not isinstance(self.unit, PrivacyUnit):
            raise BudgetError("unit must be a PrivacyUnit")
        if self.n_records is not None:
            integer("n_records", self.n_records, error=BudgetError)
            if delta * self.n_records >= 1.0:
                raise BudgetError(
                    "delta must be smaller than 1/n, the inverse of the number of records "
                    f"(units) in the data; got delta={delta!r}"
                )
        reserve = number("delta_reserve", self.delta_reserve, low=0.0, high=1.0, high_open=True, error=BudgetError)
        if reserve > 0 and delta == 0:
            raise BudgetError(
                "delta is 0, but discovering category sets under DP needs a positive delta: "
                "give a delta above 0 or declare a public schema"
            )
        object.__setattr__(self, "delta_reserve", reserve)
        object.__setattr__(self, "epsilon", epsilon)
        object.__setattr__(self, "delta", delta)

    def describe(self) -> dict[str, object]:
        return {
            "epsilon": self.epsilon,
            "delta": self.delta,
            "allocation": dict(self.allocation.fractions),
            "delta_reserve": self.delta_reserve,
            "unit": self.unit.describe(),
        }
