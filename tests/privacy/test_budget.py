"""Budgets and allocations reject bad input with errors that name the parameter."""

import math

import pytest

from dpsynth.errors import BudgetError
from dpsynth.privacy.budget import Allocation, Budget, PrivacyUnit


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"epsilon": 0.0, "delta": 1e-9}, "epsilon"),
        ({"epsilon": -1.0, "delta": 1e-9}, "epsilon"),
        ({"epsilon": math.inf, "delta": 1e-9}, "epsilon"),
        ({"epsilon": math.nan, "delta": 1e-9}, "epsilon"),
        ({"epsilon": "1", "delta": 1e-9}, "epsilon"),
        ({"epsilon": True, "delta": 1e-9}, "epsilon"),
        ({"epsilon": 1e307, "delta": 1e-9}, "epsilon"),
        ({"epsilon": 1.0, "delta": 1.0}, "delta"),
        ({"epsilon": 1.0, "delta": -1e-9}, "delta"),
        ({"epsilon": 1.0, "delta": math.nan}, "delta"),
        ({"epsilon": 1.0, "delta": 1e-3, "n_records": 1000}, "delta"),
        ({"epsilon": 1.0, "delta": 1e-9, "n_records": 0}, "n_records"),
    ],
)
def test_invalid_budget_names_the_parameter(kwargs, name):
    with pytest.raises(BudgetError, match=name):
        Budget(**kwargs)


def test_delta_below_one_over_n_is_accepted_and_message_hides_n():
    Budget(1.0, 9.9e-4, n_records=1000)
    with pytest.raises(BudgetError) as info:
        Budget(1.0, 1e-3, n_records=48842)
    assert "48842" not in str(info.value)


@pytest.mark.parametrize(
    "fractions,name",
    [
        ({"marginal": 0.5, "domain": 0.4}, "sum to 1"),
        ({"marginal": 1.2, "domain": -0.2}, "allocation"),
        ({"marginal": math.nan}, "allocation"),
        ({}, "allocation"),
        ({"": 1.0}, "part names"),
    ],
)
def test_invalid_allocation(fractions, name):
    with pytest.raises(BudgetError, match=name):
        Allocation(fractions)


def test_documented_defaults():
    assert dict(Allocation.default(["marginal"]).fractions) == {"marginal": 1.0}
    assert dict(Allocation.default(["domain", "marginal"]).fractions) == pytest.approx(
        {"domain": 0.1, "marginal": 0.9}
    )
    three = Allocation.default(["domain", "marginal", "neural"]).fractions
    assert three == pytest.approx({"domain": 0.1, "marginal": 0.72, "neural": 0.18})


def test_parse_allocation():
    parsed = Allocation.parse("domain=0.1, marginal=0.6,neural=0.3")
    assert dict(parsed.fractions) == pytest.approx({"domain": 0.1, "marginal": 0.6, "neural": 0.3})
    with pytest.raises(BudgetError, match="part=fraction"):
        Allocation.parse("domain:0.1")
    with pytest.raises(BudgetError, match="marginal"):
        Allocation.parse("marginal=lots")


def test_allocation_is_immutable():
    allocation = Allocation({"marginal": 1.0})
    with pytest.raises(TypeError):
        allocation.fractions["marginal"] = 0.5


def test_privacy_unit_relation():
    assert PrivacyUnit().relation == "add or remove one record"
    person = PrivacyUnit("pid", max_rows=4)
    assert "pid" in person.relation and "4" in person.relation
    with pytest.raises(BudgetError, match="max_rows"):
        PrivacyUnit("pid", max_rows=0)
    with pytest.raises(BudgetError, match="max_rows"):
        PrivacyUnit(None, max_rows=2)


def test_the_largest_epsilon_is_accounted_and_the_next_refused():
    """An epsilon of 1e307 once looped forever in the zCDP conversion; the cap refuses it first."""
    from dpsynth.privacy.accountant import Accountant
    from dpsynth.privacy.budget import MAX_EPSILON

    assert Accountant(Budget(MAX_EPSILON, 1e-9)).report()["budget"]["epsilon"] == MAX_EPSILON
    with pytest.raises(BudgetError, match=r"epsilon must be a number in \(0, 1e\+06\]"):
        Budget(MAX_EPSILON * 1.01, 1e-9)
