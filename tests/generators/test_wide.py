"""Wide tables: every marginal method works with its defaults on many columns, the limits that
keep its work bounded depend on the column count alone, and caching changes no output."""

import importlib.util
import itertools
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dpsynth.data import PrivateTable
from dpsynth.errors import PrivacyWarning
from dpsynth.generators import aim as aim_module
from dpsynth.generators import privbayes as privbayes_module
from dpsynth.generators.aim import AIM, MAX_WORKLOAD, MIN_ROUNDS_PER_COLUMN, ROUNDS_CAP, planned_rounds
from dpsynth.generators.mst import MST
from dpsynth.generators.privbayes import MAX_PARENT_SETS, PrivBayes, parent_cap
from dpsynth.models import Domain
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Budget
from dpsynth.privacy.noise import NoiseSource
from dpsynth.workflows.capacity import MAX_COLUMNS

AIM_MAX_COLUMNS = MAX_COLUMNS["aim"]
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _wide_table(n_rows, n_columns, seed=0):
    spec = importlib.util.spec_from_file_location("wide_table", BENCHMARKS / "wide_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.wide_table(n_rows, n_columns, seed)


def _fit(generator, frame, schema, seed=None):
    accountant = Accountant(Budget(1.0, 1e-9))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)  # a seed makes the test reproducible
        noise = NoiseSource(seed)
    table = PrivateTable(frame, accountant, noise)
    table.encode(schema)
    return generator.fit(table), accountant


@pytest.fixture(scope="module")
def wide():
    return _wide_table(5000, 30)


@pytest.mark.parametrize("method", [MST, pytest.param(AIM, marks=pytest.mark.slow), PrivBayes])
def test_every_method_fits_a_30_column_table_with_its_defaults(wide, method):
    """Seconds for MST and PrivBayes; AIM's fit takes half a minute here (the second CI step)."""
    frame, schema = wide
    generator, accountant = _fit(method(), frame, schema)
    assert accountant.rho_spent("marginal") == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-9)
    sample = generator.sample(200)
    assert list(sample.columns) == list(frame.columns) and len(sample) == 200


def test_privbayes_parent_cap_bounds_the_enumeration_by_the_column_count():
    for n_columns in (2, 10, 16, 17, 30, 50, 200):
        cap = parent_cap(n_columns)
        sets = sum(math.comb(n_columns - 1, k) for k in range(cap + 1))
        assert sets <= MAX_PARENT_SETS or cap == 1
        assert cap == n_columns - 1 or sets + math.comb(n_columns - 1, cap + 1) > MAX_PARENT_SETS
    assert parent_cap(15) == 14  # Adult's width: every set size allowed, as in the paper's rule


def test_privbayes_default_accepts_fifty_columns():
    """The default refused 36 and 46 columns ("more than 50,000 feasible parent sets")."""
    sizes = [2, 3, 2, 5, 2] * 10
    domain = Domain(tuple(f"c{j}" for j in range(50)), tuple(sizes))
    PrivBayes()._check_feasible(domain)


def test_aim_default_workload_is_bounded_and_unchanged_on_narrow_tables():
    rng = np.random.default_rng(0)
    narrow = [f"c{j}" for j in range(15)]
    assert AIM()._workload(narrow, rng) == list(itertools.combinations(narrow, 3))
    wide = [f"c{j}" for j in range(50)]
    drawn = AIM()._workload(wide, np.random.default_rng(0))
    assert len(drawn) == len(set(drawn)) == MAX_WORKLOAD
    assert all(len(c) == 3 and list(c) == sorted(c, key=wide.index) for c in drawn)
    assert drawn == sorted(drawn, key=lambda c: [wide.index(a) for a in c])


def test_aim_model_size_cache_changes_no_output(monkeypatch):
    """The per-graph model sizes AIM keeps are a pure cache: the same seed gives the same rows."""
    frame, schema = _wide_table(2000, 8, seed=1)
    params = {"max_model_size": 0.05, "round_iters": 30, "max_iters": 60}
    cached, _ = _fit(AIM(**params), frame, schema, seed=3)

    def uncached(self, domain, measured, candidate, limit):
        return aim_module.model_size(domain, [*measured, candidate])

    monkeypatch.setattr(aim_module._ModelSizes, "size", uncached)
    recomputed, _ = _fit(AIM(**params), frame, schema, seed=3)
    assert cached.model_.cliques == recomputed.model_.cliques
    pd.testing.assert_frame_equal(cached.sample(500, random_state=5), recomputed.sample(500, random_state=5))


def test_aim_planned_rounds_are_the_papers_up_to_the_cap_and_read_the_column_count_only():
    """T = 16 d (McKenna et al. 2022) on narrow tables; on wide ones no more than ``ROUNDS_CAP``,
    and never so few that the 1-way step (0.9 d / T of the budget) takes more than
    0.9 / MIN_ROUNDS_PER_COLUMN."""
    assert planned_rounds(8) == 128 and planned_rounds(10) == planned_rounds(15) == 160
    previous = 0
    for n_columns in range(1, AIM_MAX_COLUMNS + 1):
        rounds = planned_rounds(n_columns)
        if 16 * n_columns <= ROUNDS_CAP:
            assert rounds == 16 * n_columns
        assert MIN_ROUNDS_PER_COLUMN * n_columns <= rounds <= max(ROUNDS_CAP, MIN_ROUNDS_PER_COLUMN * n_columns)
        assert rounds >= previous
        previous = rounds
    assert AIM()._check_params(50) == planned_rounds(50) < 16 * 50


def test_aim_capped_plan_spends_the_part_exactly_and_the_same_on_neighbours(monkeypatch):
    """With the cap below 16 d the budget still adds up exactly, the 1-way step costs 0.9 d / T
    of it, and the plan is the same on a neighbouring table (one row fewer): the rounds are
    decided from the column count, never from the data."""
    frame, schema = _wide_table(3000, 12, seed=2)
    monkeypatch.setattr(aim_module, "ROUNDS_CAP", 64)
    rounds = planned_rounds(12)
    assert rounds == 64 < 16 * 12
    one_way = []
    for rows in (frame, frame.iloc[1:]):
        _, accountant = _fit(AIM(workload=2, round_iters=10, max_iters=20), rows, schema, seed=4)
        allowance = accountant.rho_allowance("marginal")
        assert accountant.rho_spent("marginal") == pytest.approx(allowance, rel=1e-9)
        first = [c.event.rho for c in accountant.charges[:12]]
        assert sum(first) == pytest.approx(0.9 * 12 / rounds * allowance, rel=1e-9)
        one_way.append(first)
    assert one_way[0] == one_way[1]


def test_privbayes_size_check_by_component_changes_no_output(monkeypatch):
    """PrivBayes' size check through GraphSizes gives model_size's verdicts: the same seed gives the
    same network and rows as a whole-graph check, with a cap that refuses some candidates."""
    frame, schema = _wide_table(2000, 10, seed=1)
    params = {"max_cells": 290, "max_iters": 60}  # 1-way tables alone: 261 cells
    by_component, _ = _fit(PrivBayes(**params), frame, schema, seed=3)
    refused = []

    class WholeGraph:
        def __init__(self, domain, cliques):
            self.domain, self.cliques = domain, list(cliques)

        def with_clique(self, clique, limit=None):
            size = privbayes_module.model_size(self.domain, [*self.cliques, clique])
            refused.append(size > limit)
            return size

    monkeypatch.setattr(privbayes_module, "GraphSizes", WholeGraph)
    whole_graph, _ = _fit(PrivBayes(**params), frame, schema, seed=3)
    assert any(refused) and not all(refused)
    assert by_component.conditionals_ == whole_graph.conditionals_
    pd.testing.assert_frame_equal(by_component.sample(500, random_state=5), whole_graph.sample(500, random_state=5))
