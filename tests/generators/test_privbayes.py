"""PrivBayes spends its part exactly, learns a bounded DAG with a correctly scored exponential
mechanism, models the data it measured, and follows the generator protocol."""

import itertools
import json
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dpsynth.data import PrivateTable
from dpsynth.data.counting import contingency
from dpsynth.data.scores import R_SCORE_SENSITIVITY, r_score
from dpsynth.errors import BudgetError, DataError, NotFittedError
from dpsynth.generators.privbayes import PrivBayes, maximal_parent_sets
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Budget
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Schema
from tests.generators.conftest import fit_generator


def fitted(adult, epsilon=1.0, **params):
    return fit_generator(PrivBayes(**params), adult, epsilon)


@pytest.fixture(scope="module")
def default_fit(adult):
    return fitted(adult)


@pytest.fixture(scope="module")
def degree_two_fit(adult):
    return fitted(adult, epsilon=2.0, degree=2, max_iters=300)


# ------------------------------------------------------------------------------ privacy spend
def _mechanisms(accountant):
    return [c.event.mechanism for c in accountant.charges]


def test_degree_k_spends_the_part_exactly_with_d_minus_1_selections(adult, degree_two_fit):
    _model, accountant = degree_two_fit
    d = len(adult[1].encoded_columns)
    assert accountant.rho_spent("marginal") == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-9)
    assert accountant.spent().epsilon <= 2.0
    events = _mechanisms(accountant)
    assert events.count("exponential") == d - 1
    assert events.count("discrete_gaussian") == d
    assert len(events) == 2 * d - 1
    # The structure spends its share (beta = 0.3) exactly; the measurements the rest.
    selection_rho = sum(c.event.rho for c in accountant.charges if c.event.mechanism == "exponential")
    assert selection_rho == pytest.approx(0.3 * accountant.rho_allowance("marginal"), rel=1e-9)


def test_theta_rule_spends_the_part_exactly(adult, default_fit):
    """With degree=None the last step may leave one allowed parent set: then it needs no
    selection, and its share goes to the measurements; the part is still spent exactly."""
    model, accountant = default_fit
    d = len(adult[1].encoded_columns)
    assert accountant.rho_spent("marginal") == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-9)
    assert accountant.spent().epsilon <= 1.0
    events = _mechanisms(accountant)
    last_child = model.conditionals_[-1][0]
    inside = [child for child, _ in model.conditionals_[:-1]]
    sizes = adult[1].domain_sizes()
    forced = len(maximal_parent_sets(inside, sizes, model.cell_limit_ / sizes[last_child])) == 1
    assert events.count("exponential") == d - 1 - forced
    assert events.count("discrete_gaussian") == d


def test_a_refused_charge_never_happens_in_a_normal_fit(adult, monkeypatch):
    """Every charge PrivBayes asks for is one the accountant accepts (checked before each)."""
    refusals = []
    original = Accountant.charge

    def checked(self, part, event, count=1):
        if not self.can_charge(part, event, count):
            refusals.append(event)
        return original(self, part, event, count)

    monkeypatch.setattr(Accountant, "charge", checked)
    for epsilon, params in [(0.3, {}), (3.0, {"degree": 1, "structure_share": 0.5})]:
        params["max_iters"] = 100
        _, accountant = fitted(adult, epsilon=epsilon, **params)
        assert accountant.rho_remaining("marginal") <= 1e-9 * accountant.rho_allowance("marginal")
    assert refusals == []


def test_bad_parameters_are_refused_before_anything_is_spent(adult):
    frame, schema = adult
    for params, error in [
        ({"structure_share": 1.0}, BudgetError),
        ({"degree": 0}, DataError),
        ({"theta": -1.0}, DataError),
        ({"max_cells": 100}, DataError),
        ({"max_cells_per_conditional": 0}, DataError),
        ({"max_iters": 0}, DataError),
        ({"discrepancy": 1.5}, DataError),
        ({"discrepancy": True}, DataError),
    ]:
        accountant = Accountant(Budget(1.0, 1e-9))
        table = PrivateTable(frame, accountant, NoiseSource())
        table.encode(schema)
        with pytest.raises(error):
            PrivBayes(**params).fit(table)
        assert accountant.charges == ()


@pytest.mark.parametrize("columns", [["a"], ["a", "b"]])
def test_tiny_tables_spend_exactly_without_needless_selections(tmp_path, columns):
    """One column: no network to learn, the whole part measures it. Two: the second column's
    only candidate is (b, {a}) or (a, {b}), so no selection is needed either."""
    sizes = {"a": 3, "b": 2}
    (tmp_path / "domain.json").write_text(json.dumps({c: sizes[c] for c in columns}))
    schema = Schema.load(tmp_path / "domain.json")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({c: rng.integers(0, sizes[c], size=500) for c in columns})
    accountant = Accountant(Budget(1.0, 1e-9))
    table = PrivateTable(frame, accountant, NoiseSource())
    table.encode(schema)
    model = PrivBayes().fit(table)
    assert accountant.rho_spent("marginal") == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-9)
    assert _mechanisms(accountant) == ["discrete_gaussian"] * len(columns)
    assert len(model.conditionals_) == len(columns) and len(model.sample(50).columns) == len(columns)


# ------------------------------------------------------------------------------ the network
@pytest.mark.parametrize("which", ["default", "degree2"])
def test_network_is_a_dag_over_all_columns_with_bounded_in_degree(adult, which, default_fit, degree_two_fit):
    model, _ = default_fit if which == "default" else degree_two_fit
    columns = list(adult[1].encoded_columns)
    sizes = adult[1].domain_sizes()
    graph = model.network_
    assert isinstance(graph, nx.DiGraph) and nx.is_directed_acyclic_graph(graph)
    assert sorted(graph.nodes) == sorted(columns)
    assert [child for child, _ in model.conditionals_] != [] and len(model.conditionals_) == len(columns)
    assert sorted(child for child, _ in model.conditionals_) == sorted(columns)
    # Each child's parents come before it, and the graph is exactly the listed conditionals.
    seen = set()
    for child, parents in model.conditionals_:
        assert set(parents) <= seen
        assert set(graph.predecessors(child)) == set(parents)
        seen.add(child)
        if parents:
            assert math.prod(sizes[a] for a in (child, *parents)) <= model.max_cells_per_conditional
    if which == "degree2":
        assert max(d for _, d in graph.in_degree) <= 2
        # Everything fits on Adult at degree 2 except large triples, so most children get 2.
        assert sum(len(p) == 2 for _, p in model.conditionals_) >= 5
    else:
        assert model.degree_ == max(d for _, d in graph.in_degree)
        for child, parents in model.conditionals_[1:]:
            if parents:  # a child larger than the bound alone gets no parents
                assert math.prod(sizes[a] for a in (child, *parents)) <= model.cell_limit_
    # The model was estimated from exactly these marginals.
    measured = {frozenset((c, *p)) for c, p in model.conditionals_}
    for clique in measured:
        assert any(clique <= set(c) for c in model.model_.cliques)


def test_maximal_parent_sets_are_the_k_subsets_when_everything_fits():
    pool = ["a", "b", "c", "d"]
    sizes = dict.fromkeys(pool, 2)
    found = maximal_parent_sets(pool, sizes, cell_limit=1e9, max_size=2)
    assert sorted(found) == sorted(itertools.combinations(pool, 2))
    assert maximal_parent_sets(pool[:1], sizes, cell_limit=1e9, max_size=2) == [("a",)]
    # A cell bound keeps only the maximal sets under it; a child too large gets no parents.
    sizes = {"a": 2, "b": 3, "c": 10, "d": 2}
    assert sorted(maximal_parent_sets(pool, sizes, cell_limit=12)) == [("a", "b", "d"), ("c",)]
    assert maximal_parent_sets(pool, sizes, cell_limit=0.5) == [()]


# ------------------------------------------------------------------------ score sensitivity
def _rows(rng, sizes, n):
    return np.stack([rng.integers(0, s, size=n) for s in sizes], axis=1) if n else np.zeros((0, len(sizes)), int)


def _score_rows(rows, sizes):
    return r_score(contingency(rows, sizes)) if len(rows) else r_score(np.zeros(sizes))


def test_score_moves_by_at_most_its_sensitivity_when_one_row_changes():
    """Add or remove one row of many random small tables (skewed and uniform)."""
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(3000):
        sizes = [int(rng.integers(1, 5)) for _ in range(int(rng.integers(1, 4)))]
        n = int(rng.integers(0, 40))
        rows = _rows(rng, sizes, n)
        if n and rng.random() < 0.5:  # skew: most rows in one cell, so margins are extreme
            rows[: int(0.9 * n)] = rows[0]
        added = np.vstack([rows, _rows(rng, sizes, 1)])
        worst = max(worst, abs(_score_rows(added, sizes) - _score_rows(rows, sizes)))
        if n:
            removed = np.delete(rows, int(rng.integers(n)), axis=0)
            worst = max(worst, abs(_score_rows(removed, sizes) - _score_rows(rows, sizes)))
    assert worst <= R_SCORE_SENSITIVITY + 1e-9


def test_score_sensitivity_is_nearly_attained():
    """The declared bound is not loose: a row in a new cell of a concentrated table moves R by ~2."""
    counts = np.zeros((3, 3))
    counts[0, 0] = 1000
    after = counts.copy()
    after[1, 1] += 1
    assert abs(r_score(after) - r_score(counts)) > 0.99 * R_SCORE_SENSITIVITY


@settings(max_examples=300, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    data=st.data(),
)
def test_score_sensitivity_property(shape, data):
    cells = math.prod(shape)
    counts = np.array(data.draw(st.lists(st.integers(0, 6), min_size=cells, max_size=cells))).reshape(shape)
    cell = tuple(data.draw(st.integers(0, s - 1)) for s in shape)
    after = counts.copy()
    after[cell] += 1
    assert abs(r_score(after) - r_score(counts)) <= R_SCORE_SENSITIVITY + 1e-9


def test_score_is_zero_without_parents_or_under_independence():
    assert r_score(np.array([3, 5, 0])) == 0.0
    assert r_score(np.outer([1, 2, 3], [4, 4])) == pytest.approx(0.0, abs=1e-9)
    assert r_score(np.array([[10, 0], [0, 10]])) == pytest.approx(10.0)


# ------------------------------------------------------------------------------ utility
def test_privbayes_captures_dependence_at_high_epsilon(adult):
    """On strongly dependent pairs, PrivBayes' 2-way marginals beat independence."""
    frame, _ = adult
    model, _ = fitted(adult, epsilon=10.0)
    synthetic = model.sample(100_000)
    assert list(synthetic.columns) == list(adult[1].encoded_columns)
    gains = []
    for a, b in [("relationship", "sex"), ("marital-status", "relationship")]:
        real = pd.crosstab(frame[a], frame[b], normalize=True)
        independent = np.outer(real.sum(axis=1), real.sum(axis=0))
        synth = pd.crosstab(synthetic[a], synthetic[b], normalize=True)
        synth = synth.reindex(index=real.index, columns=real.columns, fill_value=0.0)
        gains.append(np.abs(real - synth).to_numpy().sum() / np.abs(real.to_numpy() - independent).sum())
    assert max(gains) < 0.25  # both pairs: typically below 0.06


def test_samples_have_a_dp_row_count(adult, degree_two_fit):
    model, _ = degree_two_fit
    synthetic = model.sample()
    assert abs(len(synthetic) - len(adult[0])) < 0.05 * len(adult[0])
    assert len(model.sample(123)) == 123


# ------------------------------------------------------------------------------ protocol
def test_not_fitted_and_save_load_round_trip(degree_two_fit, tmp_path):
    with pytest.raises(NotFittedError):
        PrivBayes().sample(10)
    model, _ = degree_two_fit
    path = tmp_path / "model.json"
    model.save(path)
    document = json.loads(path.read_text())
    assert document["method"] == "privbayes"
    loaded = PrivBayes.load(path, random_state=np.random.default_rng(5))
    again = PrivBayes.load(path, random_state=np.random.default_rng(5))
    pd.testing.assert_frame_equal(loaded.sample(500), again.sample(500))
    assert loaded.n_rows_estimate == model.n_rows_estimate
    assert loaded.get_params() == model.get_params()
    assert loaded.conditionals_ == model.conditionals_
    assert nx.utils.graphs_equal(loaded.network_, model.network_)


def test_no_global_random_state_is_used(adult):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    model, _ = fitted(adult, epsilon=2.0, degree=1, max_iters=100)
    model.sample(100)
    assert np.array_equal(np.random.get_state()[1], before)
