"""AIM spends its part exactly, in the paper's rounds, within its model-size limit, and beats MST."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.data import PrivateTable
from dpsynth.errors import (
    BudgetExceeded,
    DataError,
    NotFittedError,
    PrivacyWarning,
    SchemaError,
)
from dpsynth.evaluate.fidelity import mean_kway_tvd
from dpsynth.generators.aim import AIM
from dpsynth.generators.mst import MST
from dpsynth.models import model_size
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Budget, PrivacyUnit
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Schema, encode
from dpsynth.schema.columns import Identifier
from tests.conftest import shared_data

# A slice of Adult small enough for fast fits, with the strongly dependent columns.
COLUMNS = ["age", "workclass", "education-num", "marital-status", "occupation", "relationship", "sex", "income>50K"]


class RecordingAccountant(Accountant):
    """An accountant that counts the charges it refused (a normal fit must have none)."""

    refused = 0

    def charge(self, part, event, count=1):
        try:
            super().charge(part, event, count)
        except BudgetExceeded:
            self.refused += 1
            raise


def _columns_of(folder):
    frame = pd.read_csv(folder / "adult.csv").sample(8000, random_state=0).reset_index(drop=True)[COLUMNS]
    full = Schema.load(folder / "adult-domain.json")
    return frame, Schema(tuple(full[c] for c in COLUMNS))


@pytest.fixture(scope="module")
def adult(adult_codes_dir):
    """The columns of the shipped Adult, as codes in private-pgm's layout (tests/conftest.py)."""
    return _columns_of(adult_codes_dir)


@pytest.fixture(scope="module")
def adult_pgm():
    """The columns of private-pgm's own Adult (age in 85 codes), for the tests whose limits were
    set on its domain sizes; skipped where ../shared is absent."""
    return _columns_of(shared_data("adult", "private-pgm"))


def door(adult, epsilon, seed=None, unit=None, frame=None, schema=None):
    frame = adult[0] if frame is None else frame
    schema = adult[1] if schema is None else schema
    accountant = RecordingAccountant(Budget(epsilon, 1e-9, unit=unit or PrivacyUnit()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)  # a seed makes the test reproducible
        noise = NoiseSource(seed)
    table = PrivateTable(frame, accountant, noise)
    table.encode(schema)
    return table, accountant


def mechanisms(accountant):
    return [c.event.mechanism for c in accountant.charges]


@pytest.fixture(scope="module")
def default_fit(adult):
    table, accountant = door(adult, 1.0, seed=1)
    return AIM().fit(table), accountant


def test_aim_spends_the_marginal_part_exactly_in_rounds(adult, default_fit):
    _model, accountant = default_fit
    assert accountant.refused == 0
    assert accountant.rho_spent("marginal") == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-9)
    assert accountant.spent().epsilon <= 1.0
    d = len(COLUMNS)
    events = mechanisms(accountant)
    assert events[:d] == ["discrete_gaussian"] * d
    assert [c.event.label for c in accountant.charges[:d]] == [f"marginal {c}" for c in COLUMNS]
    rounds = events[d:]
    assert len(rounds) >= 4 and len(rounds) % 2 == 0
    assert rounds == ["exponential", "discrete_gaussian"] * (len(rounds) // 2)


@pytest.mark.parametrize(("epsilon", "max_rounds"), [(0.3, 8), (0.3, 20), (5.0, 12), (50.0, 9)])
def test_aim_last_round_uses_exactly_what_is_left(adult, epsilon, max_rounds):
    """Whatever the schedule, the last round is sized from what remains: no refusal, no leftover."""
    table, accountant = door(adult, epsilon)
    AIM(max_rounds=max_rounds, round_iters=20, max_iters=50).fit(table)
    assert accountant.refused == 0
    assert accountant.rho_spent("marginal") == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-9)
    assert accountant.spent().epsilon <= epsilon
    # At most T rounds: each one costs at least rho / T.
    assert mechanisms(accountant).count("exponential") <= max_rounds


def test_aim_scales_noise_to_the_person_bound(adult):
    frame = adult[0].assign(person=np.arange(len(adult[0])) // 2)
    schema = Schema((*adult[1].columns, Identifier("person", role="unit")))
    table, accountant = door(adult, 2.0, unit=PrivacyUnit("person", 2), frame=frame, schema=schema)
    AIM(max_rounds=16, round_iters=20, max_iters=50).fit(table)
    assert accountant.refused == 0
    assert accountant.rho_spent("marginal") == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-9)
    first = accountant.charges[0].event
    assert first.sensitivity == 2
    # The 1-way step costs the paper's share 0.9 d / T of rho whatever the person bound.
    one_way = sum(c.event.rho for c in accountant.charges[: len(COLUMNS)])
    assert one_way == pytest.approx(0.9 * len(COLUMNS) / 16 * accountant.rho_allowance("marginal"), rel=1e-9)


def test_aim_respects_a_tiny_model_size_limit(adult_pgm, monkeypatch):
    rounds = []
    allowed_by = AIM._allowed

    def spy(domain, candidates, measured, limit, sizes=None):
        allowed = allowed_by(domain, candidates, measured, limit, sizes)
        rounds.append((limit, len(allowed), len(candidates)))
        return allowed

    monkeypatch.setattr(AIM, "_allowed", staticmethod(spy))
    table, accountant = door(adult_pgm, 5.0, seed=2)
    limit_mib = 0.005  # 655 float64 cells: the 1-way model fits, no 3-way table with age does
    model = AIM(max_model_size=limit_mib, max_rounds=24, round_iters=20, max_iters=50).fit(table)
    cells = model.model_.junction_tree.size()
    assert cells <= limit_mib * 2**20 / 8
    assert model_size(model.model_.domain, model.model_.cliques) == cells
    assert any(len(c) > 1 for c in model.model_.cliques)  # it did measure beyond the 1-way model
    limits = [limit for limit, _, _ in rounds]
    assert limits == sorted(limits) and limits[-1] == pytest.approx(limit_mib * 2**20 / 8)
    assert all(n_allowed < n_candidates for _, n_allowed, n_candidates in rounds)  # the limit binds
    assert accountant.rho_spent("marginal") == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-9)


def test_aim_selects_only_within_a_custom_workload(adult):
    workload = [["age", "marital-status"], ["education-num", "income>50K", "sex"]]
    table, accountant = door(adult, 5.0, seed=3)
    model = AIM(workload=workload, max_rounds=16, round_iters=20, max_iters=50).fit(table)
    allowed = [set(w) for w in workload]
    selected = [c for c in accountant.charges[len(COLUMNS):] if c.event.mechanism == "discrete_gaussian"]
    assert selected
    for charge in selected:
        measured = set(charge.event.label.removeprefix("marginal ").split(" x "))
        assert any(measured <= w for w in allowed), measured
    assert all(any(set(c) <= w for w in allowed) for c in model.model_.cliques if len(c) > 1)


@pytest.mark.parametrize(
    ("workload", "error", "match"),
    [
        ([["age", "not-a-column"]], SchemaError, "not-a-column"),
        ([["age", "age"]], DataError, "repeats"),
        ([], DataError, "at least one"),
        (0, DataError, "workload"),
        ("age", DataError, "workload"),
    ],
)
def test_aim_refuses_a_bad_workload_before_measuring(adult, workload, error, match):
    table, accountant = door(adult, 1.0)
    with pytest.raises(error, match=match):
        AIM(workload=workload).fit(table)
    assert accountant.charges == ()


@pytest.mark.parametrize(
    ("params", "match"),
    [({"max_rounds": 3}, "max_rounds"), ({"round_iters": 0}, "round_iters"), ({"max_model_size": -1.0}, "max_model_size"),
     ({"refit_stop": 0.0}, "refit_stop")],
)
def test_aim_refuses_bad_parameters_before_measuring(adult, params, match):
    table, accountant = door(adult, 1.0)
    with pytest.raises(DataError, match=match):
        AIM(**params).fit(table)
    assert accountant.charges == ()


def test_aim_beats_mst_on_the_workload_at_high_epsilon(adult_pgm):
    """3-way TVD of the sampled tables against the data, on every 3-way workload clique."""
    frame, schema = adult_pgm
    real = encode(frame, schema).codes
    sizes = list(schema.domain_sizes().values())
    results = {}
    # A 1 MiB model and 100 iterations a round keep the test fast; the defaults only do better.
    for name, generator in [("mst", MST()), ("aim", AIM(max_model_size=1.0, round_iters=100))]:
        table, _ = door(adult_pgm, 10.0, seed=4)
        generator.fit(table)
        synthetic = encode(generator.sample(len(frame), random_state=5), schema).codes
        results[name] = mean_kway_tvd(real, synthetic, sizes, 3)
    assert results["aim"] <= 0.85 * results["mst"], results  # 0.67 to 0.69 over seeds 0-6


def test_aim_samples_save_and_load(adult, default_fit, tmp_path):
    with pytest.raises(NotFittedError):
        AIM().sample(10)
    model, _ = default_fit
    synthetic = model.sample()
    assert list(synthetic.columns) == COLUMNS
    assert abs(len(synthetic) - len(adult[0])) < 0.05 * len(adult[0])
    path = tmp_path / "aim.json"
    model.save(path)
    document = json.loads(path.read_text())
    assert document["method"] == "aim" and document["params"]["workload"] == 3
    loaded = AIM.load(path, random_state=np.random.default_rng(5))
    again = AIM.load(path, random_state=np.random.default_rng(5))
    assert isinstance(loaded, AIM) and loaded.get_params() == model.get_params()
    pd.testing.assert_frame_equal(loaded.sample(500), again.sample(500))
    assert loaded.n_rows_estimate == model.n_rows_estimate
    with pytest.raises(DataError):
        MST.load(path)


def test_aim_compresses_rare_codes_and_decodes_them(adult_pgm, tmp_path):
    _frame, schema = adult_pgm
    table, accountant = door(adult_pgm, 0.3, seed=6)
    model = AIM(compress=True, max_rounds=16, round_iters=20, max_iters=50).fit(table)
    assert accountant.rho_spent("marginal") == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-9)
    merged = model.model_.domain.size("age")
    assert "age" in model.merges_ and merged < schema.domain_sizes()["age"]
    ages = encode(model.sample(5000, random_state=1), schema).codes[:, COLUMNS.index("age")]
    assert ages.min() >= 0 and ages.max() < schema.domain_sizes()["age"]
    assert len(np.unique(ages)) > merged  # the merged code is spread back over its original codes
    path = tmp_path / "aim.json"
    model.save(path)
    loaded = AIM.load(path)
    assert {k: v.tolist() for k, v in loaded.merges_.items()} == {k: v.tolist() for k, v in model.merges_.items()}


def test_aim_saves_a_custom_workload(adult, tmp_path):
    table, _ = door(adult, 2.0)
    workload = [("age", "sex"), ("relationship", "income>50K")]
    model = AIM(workload=workload, max_rounds=10, round_iters=10, max_iters=20).fit(table)
    path = tmp_path / "aim.json"
    model.save(path)
    loaded = AIM.load(path)
    assert loaded.workload == [["age", "sex"], ["relationship", "income>50K"]]
    assert len(loaded.sample(50)) == 50


def test_aim_uses_no_global_random_state(adult):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    table, _ = door(adult, 1.0)
    AIM(max_rounds=12, round_iters=10, max_iters=20).fit(table).sample(100)
    assert np.array_equal(np.random.get_state()[1], before)


def test_a_refit_stop_cuts_the_refits_steps_and_spends_the_same(adult, caplog):
    """With refit_stop the warm-started refits stop early: fewer Private-PGM steps a refit than
    the round_iters every refit runs without it; the part is still spent exactly."""
    per_refit = {}
    for key, stop in (("none", None), ("stop", 0.5)):
        caplog.clear()
        table, accountant = door(adult, 1.0)
        with caplog.at_level("DEBUG", logger="dpsynth.models.estimation"):
            AIM(max_rounds=16, round_iters=200, max_iters=50, refit_stop=stop).fit(table)
        assert accountant.rho_spent("marginal") == pytest.approx(accountant.rho_allowance("marginal"), rel=1e-9)
        # Every fit logs its trial steps: the first (from the 1-way step), the refits, the final one.
        trials = [r.args[0] for r in caplog.records if r.msg.startswith("Private-PGM: %d trial steps")]
        per_refit[key] = trials[1:-1]
    assert per_refit["none"] and set(per_refit["none"]) == {200}
    assert per_refit["stop"] and np.mean(per_refit["stop"]) < 100
