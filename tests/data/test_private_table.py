"""The door charges before it counts, adds noise of the charged scale, and bounds persons."""

import copy
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.data import PrivateTable
from dpsynth.data.counting import contingency, flat_index
from dpsynth.data.scores import L1Error
from dpsynth.errors import BudgetExceeded, DataError, PrivacyWarning, SchemaError
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Allocation, Budget, PrivacyUnit
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Categorical, Identifier, Numeric, Schema


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "a": rng.choice(["x", "y", "z"], size=5000),
        "b": rng.integers(0, 10, size=5000),
    })


SCHEMA = Schema([Categorical("a", ("x", "y", "z")), Numeric("b", 0, 9, integer=True, bins=10)])


def table_for(frame, epsilon=1.0, unit=None, parts=("marginal",), reserve=0.0):
    budget = Budget(epsilon, 1e-9, Allocation.default(list(parts)), unit or PrivacyUnit(), delta_reserve=reserve)
    return PrivateTable(frame, Accountant(budget), NoiseSource())


def test_counting_is_a_flat_bincount():
    codes = np.array([[0, 1], [1, 2], [0, 1], [2, 0]])
    assert list(flat_index(codes, [3, 3])) == [1, 5, 1, 6]
    table = contingency(codes, [3, 3])
    assert table.shape == (3, 3) and table[0, 1] == 2 and table.sum() == 4


def test_marginal_noise_has_the_charged_scale(frame):
    sigma = 7.0
    big = pd.concat([frame] * 4, ignore_index=True)
    table = table_for(big, epsilon=50.0)
    table.encode(SCHEMA)
    exact = contingency(table._memory_codes().matrix, [4, 11])
    errors = []
    for _ in range(40):
        errors.append((table.marginal(("a", "b"), sigma) - exact).ravel())
    errors = np.concatenate(errors)
    # 1,760 draws: the sample std is within 5% of sigma with overwhelming probability.
    assert np.std(errors) == pytest.approx(sigma, rel=0.05)
    assert abs(np.mean(errors)) < 5 * sigma / math.sqrt(errors.size)
    events = table.accountant.report()["parts"]["marginal"]["events"]
    assert len(events) == 40 and events[0]["sigma"] == sigma and events[0]["sensitivity"] == 1


def test_refused_measurement_draws_no_noise_and_changes_nothing(frame):
    table = table_for(frame, epsilon=0.01)
    table.encode(SCHEMA)
    untouched = copy.deepcopy(table.noise.rng)
    with pytest.raises(BudgetExceeded):
        table.marginal(("a",), 0.5)
    assert table.noise.rng.integers(2**62, size=4).tolist() == untouched.integers(2**62, size=4).tolist()
    assert table.accountant.charges == ()


def test_person_level_unit_bounds_rows_and_scales_sensitivity():
    frame = pd.DataFrame({"pid": [1] * 10 + [2] * 3 + list(range(3, 50)), "a": ["x"] * 60})
    unit = PrivacyUnit("pid", max_rows=2)
    table = table_for(frame, epsilon=5.0, unit=unit)
    assert table.sensitivity_scale == 2
    assert table._frame.groupby("pid").size().max() == 2
    assert "pid" not in table.columns
    table.encode(Schema([Categorical("a", ("x",)), Identifier("pid", role="unit")]))
    table.marginal(("a",), 30.0)
    event = table.accountant.charges[0].event
    assert event.sensitivity == 2 and event.rho == pytest.approx(4 / (2 * 30.0**2))


def test_rows_naming_no_person_are_left_out_and_the_column_must_be_present():
    frame = pd.DataFrame({"pid": [1, None, 3], "a": ["x", "y", "x"]})
    assert table_for(frame, unit=PrivacyUnit("pid", 1))._frame["a"].tolist() == ["x", "x"]
    with pytest.raises(DataError, match="'person' is not in the data"):
        table_for(frame, unit=PrivacyUnit("person", 1))


def test_select_charges_bounded_range_and_prefers_the_best(frame):
    table = table_for(frame, epsilon=50.0)
    table.encode(SCHEMA)
    # The target misses b's marginal by all 5,000 rows and a's by nothing.
    exact_a = frame["a"].value_counts().reindex(["x", "y", "z"], fill_value=0).to_numpy()
    targets = {("a",): np.append(exact_a, 0), ("b",): np.zeros(11)}
    picks = [table.select([("a",), ("b",)], L1Error(targets.__getitem__), 2.0) for _ in range(5)]
    assert picks == [1] * 5
    assert table.accountant.rho_spent("marginal") == pytest.approx(5 * 2.0**2 / 8)


def test_select_takes_only_the_doors_own_scores(frame):
    """A caller's function of the exact marginal could return anything about the data."""
    table = table_for(frame, epsilon=50.0)
    table.encode(SCHEMA)
    with pytest.raises(DataError, match="door's scores"):
        table.select([("a",), ("b",)], lambda clique, counts: float(counts[0]), 2.0)
    assert table.accountant.charges == ()


def test_category_counts_are_thresholded_and_pay_delta(frame):
    rare = pd.concat([frame, pd.DataFrame({"a": ["rare"] * 3, "b": [0] * 3})], ignore_index=True)
    table = table_for(rare, epsilon=10.0, parts=("domain", "marginal"), reserve=0.5)
    found = table.category_counts("a", sigma=10.0, threshold=80.0)
    assert set(found) == {"x", "y", "z"}
    event = table.accountant.charges[0].event
    assert event.delta_cost == pytest.approx(math.exp(-(79.0**2) / 200))


def test_numeric_histogram_partitions_every_value():
    frame = pd.DataFrame({"v": [-5.0, 0.5, 1.5, 99.0, None] * 200})
    table = table_for(frame, epsilon=1e6, parts=("domain",))
    counts = table.numeric_histogram("v", [0.0, 1.0, 2.0], sigma=1e-3)
    assert list(counts) == [200, 200, 200, 200, 200]


def test_schema_is_required_before_measuring(frame):
    table = table_for(frame)
    with pytest.raises(SchemaError, match="encode"):
        table.marginal(("a",), 10.0)
    with pytest.raises(SchemaError, match="encode"):
        table.marginals([("a",)], [10.0])
    assert table.accountant.spent().epsilon == 0


def test_exact_marginals_are_counted_once_and_every_measurement_is_still_charged(frame, monkeypatch):
    """MST's rounds score the same candidates again: the door keeps their exact tables (read-only)
    instead of recounting, which changes no answer and no charge."""
    import dpsynth.data.engines.numpy_codes as engine
    import dpsynth.data.private_table as door

    table = table_for(frame, epsilon=50.0)
    table.encode(SCHEMA)
    counted = []
    real = engine.columns_contingency
    monkeypatch.setattr(engine, "columns_contingency", lambda *args: counted.append(1) or real(*args))
    first = table._true_counts(("a", "b"))
    assert table._true_counts(("a", "b")) is first and len(counted) == 1
    assert not first.flags.writeable
    np.testing.assert_array_equal(first, contingency(table._memory_codes().matrix, [4, 11]))
    merge = np.array([0, 0, 1, 1])
    merged = table._true_counts(("a",), {"a": merge})
    assert merged.shape == (2,) and len(counted) == 2 and merged.sum() == first.sum()
    for _ in range(3):
        table.marginal(("a", "b"), 5.0)
    assert len(table.accountant.report()["parts"]["marginal"]["events"]) == 3 and len(counted) == 2
    monkeypatch.setattr(door, "CACHE_CELLS", 0)  # a full cache keeps nothing more, and still counts right
    fresh = table_for(frame, epsilon=50.0)
    fresh.encode(SCHEMA)
    np.testing.assert_array_equal(fresh._true_counts(("b",)), fresh._true_counts(("b",)))
    assert len(counted) == 4


@pytest.mark.parametrize("cache_cells", [2**24, 20])
def test_a_set_of_marginals_answers_and_charges_as_one_marginal_at_a_time(frame, monkeypatch, cache_cells):
    """The same charges and noisy answers (the noise drawn in the same order) as marginal() in turn;
    the engine is asked once per query set of at most CACHE_CELLS cells (a larger marginal alone)."""
    import dpsynth.data.private_table as door

    monkeypatch.setattr(door, "CACHE_CELLS", cache_cells)
    cliques, sigmas = [("a",), ("b",), ("a", "b"), ()], [2.0, 3.0, 4.0, 5.0]
    budget = Budget(50.0, 1e-9, Allocation.default(["marginal"]), PrivacyUnit())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        tables = [PrivateTable(frame, Accountant(budget), NoiseSource(3)) for _ in range(2)]
    for table in tables:
        table.encode(SCHEMA)
    asked = []
    codes = tables[0]._codes
    real = codes.count_set
    monkeypatch.setattr(codes, "count_set", lambda queries: asked.append(len(queries)) or real(queries))
    together = tables[0].marginals(cliques, sigmas)
    apart = [tables[1].marginal(clique, sigma) for clique, sigma in zip(cliques, sigmas)]
    for one, other in zip(together, apart):
        np.testing.assert_array_equal(one, other)
    assert tables[0].accountant.report() == tables[1].accountant.report()
    assert asked == ([4] if cache_cells == 2**24 else [2, 1, 1])
    with pytest.raises(DataError, match="one sigma per clique"):
        tables[0].marginals(cliques, sigmas[:2])
