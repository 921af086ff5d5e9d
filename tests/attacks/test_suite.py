"""The attack suite: levels, skipped attacks, bad input, and the sanity cases of issue 6.

Fast: a copy of the training data is caught by every kind of attack; independent draws from
binned marginals are not; a planted unique outlier is found by the shadow-model attack of a
leaky non-DP generator. Slow: the exact values of a near-unique column are caught by singling
out while the distance-based membership attacks miss them.
"""

import itertools
import json
import math
from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd
import pytest

from dpsynth.attacks.risk import RiskResult
from dpsynth.attacks.suite import LEVELS, AuditResult, run_attacks
from dpsynth.certificate.policy import evaluate_policy
from dpsynth.datasets import example_path
from dpsynth.errors import DataError
from dpsynth.schema import Categorical, Numeric, Schema, decode, encode
from tests.conftest import example_adult

SUMMARY_KEYS = {
    "membership_auc",
    "membership_tpr_at_fpr_0.01",
    "epsilon_lower_bound",
    "singling_out_risk",
    "linkage_risk",
    "inference_risk",
}


@cache
def adult() -> pd.DataFrame:
    return example_adult()


@cache
def adult_schema() -> Schema:
    return Schema.load(example_path("adult")[1])


def adult_split(seed: int, sizes: tuple[int, ...]) -> list[pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(adult()))
    edges = np.cumsum((0,) + sizes)
    return [adult().iloc[order[a:b]].reset_index(drop=True) for a, b in itertools.pairwise(edges)]


def independent_marginals(source: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Codes drawn independently per column from ``source``'s binned marginals, decoded (numeric
    values drawn within their bins): a generator that copies no row."""
    codes = encode(source, adult_schema()).codes
    draws = codes[rng.integers(len(codes), size=(n, codes.shape[1])), np.arange(codes.shape[1])]
    return decode(draws, adult_schema(), rng)


def test_a_copy_of_the_training_data_fails_every_kind_of_attack():
    train, holdout = adult_split(1, (3000, 600))
    result = run_attacks(train, holdout, train, adult_schema(), level="quick", random_state=1)
    summary = result.summary()
    assert SUMMARY_KEYS <= set(summary)
    assert summary["membership_auc"] > 0.95 and summary["membership_tpr_at_fpr_0.01"] > 0.9
    assert 2 < summary["epsilon_lower_bound"] <= summary["max_certifiable_epsilon"]
    assert summary["singling_out_risk"] > 0.9 and summary["inference_risk"] > 0.9
    assert min(r.risk_interval[0] for r in result.risks if r.name == "linkage") > 0.3
    verdict, reasons, _ = evaluate_policy(result, None)
    assert verdict == "FAIL" and len(reasons) == 7  # four risks, copies of unique and rare rows, unique values


def test_independent_marginals_pass():
    train, holdout, source = adult_split(2, (3000, 1000, 3000))
    synthetic = independent_marginals(source, 3000, np.random.default_rng(2))
    result = run_attacks(train, holdout, synthetic, adult_schema(), level="standard", random_state=2)
    summary = result.summary()
    assert summary["membership_auc"] < 0.56 and summary["epsilon_lower_bound"] < 0.5
    assert summary["linkage_risk"] < 0.05
    verdict, reasons, _ = evaluate_policy(result, None)
    assert verdict == "PASS", reasons


def test_levels_set_the_sizes_and_the_shadow_attack_needs_a_refit():
    train, holdout = adult_split(3, (800, 400))
    quick = run_attacks(train, holdout, train, adult_schema(), level="quick", random_state=0)
    assert quick.parameters["n_members"] == 400 and quick.membership[0].n_members == 400
    assert "no shadow refits" in quick.skipped["shadow_model"]
    assert sum(r.name == "attribute_inference" for r in quick.risks) == LEVELS["quick"].inference_secrets
    standard = run_attacks(train, holdout, train, adult_schema(), level="standard", random_state=0)
    assert "refit" in standard.skipped["shadow_model"]
    assert sum(r.name == "attribute_inference" for r in standard.risks) == len(adult_schema().encoded_columns)
    document = json.loads(json.dumps(standard.to_dict()))
    assert document["summary"]["membership_auc"] == standard.summary()["membership_auc"]
    assert set(document["seconds"]) >= {"distance_to_closest_record", "linkage", "attribute_inference"}


def test_the_same_seed_gives_the_same_audit():
    train, holdout = adult_split(4, (600, 300))
    first, second = (run_attacks(train, holdout, train, adult_schema(), level="quick", random_state=5) for _ in "ab")
    assert first.summary() == second.summary()


def test_bad_input_is_refused_naming_the_problem():
    train, holdout = adult_split(5, (200, 100))
    with pytest.raises(DataError, match="level must be one of"):
        run_attacks(train, holdout, train, adult_schema(), level="medium")
    with pytest.raises(DataError, match=r"synthetic lacks column\(s\) \['fnlwgt'\]"):
        run_attacks(train, holdout, train.drop(columns="fnlwgt"), adult_schema())
    with pytest.raises(DataError, match="synthetic has 0 rows"):
        run_attacks(train, holdout, train.iloc[:0], adult_schema())
    with pytest.raises(DataError, match="refit must be a callable"):
        run_attacks(train, holdout, train, adult_schema(), refit="mst")


def test_summary_of_unmeasured_risks_is_nan():
    train, holdout = adult_split(6, (300, 100))
    result = run_attacks(train, holdout, train, adult_schema(), level="quick", random_state=0)
    emptied = AuditResult(result.level, result.parameters, result.membership, (), {}, {})
    assert math.isnan(emptied.summary()["linkage_risk"])
    assert emptied.to_dict()["summary"]["linkage_risk"] is None


def test_the_summary_leaves_out_noise_it_cannot_interpret():
    train, holdout = adult_split(9, (300, 100))
    result = run_attacks(train, holdout, train, adult_schema(), level="quick", random_state=0)
    # A secret the control already guesses right 93% of the time, and no leak: its interval is
    # about 0.5 wide, so it does not enter the headline; with a leak (attack rate 1) it does.
    quiet = RiskResult.from_counts("attribute_inference", {"secret": "c"}, 1000, 930, 930, 900)
    leak = RiskResult.from_counts("attribute_inference", {"secret": "c"}, 1000, 1000, 930, 900)
    common = RiskResult.from_counts("attribute_inference", {"secret": "d"}, 1000, 500, 480, 400)
    assert quiet.risk_interval[1] > 0.3 and leak.risk_interval[0] > 0.5
    summary = AuditResult(result.level, result.parameters, result.membership, (quiet, common), {}, {}).summary()
    assert summary["inference_risk"] == common.risk_interval[1]
    summary = AuditResult(result.level, result.parameters, result.membership, (quiet, leak), {}, {}).summary()
    assert summary["inference_risk"] == 1.0
    # A membership attack on a handful of records gives no headline AUC, but its bound counts.
    tiny = replace(result.membership[0], n_members=3, n_nonmembers=3, auc=1.0)
    summary = AuditResult(result.level, result.parameters, (*result.membership, tiny), (), {}, {}).summary()
    assert summary["membership_auc"] == max(r.auc for r in result.membership)


# ------------------------------------------------------------------------------ shadow model
N_PLANTED = 6
PLANTED_SCHEMA = Schema(
    [
        Categorical("a", ("A", "B", "C") + tuple(f"T{i}" for i in range(2 * N_PLANTED)), missing=False),
        Categorical("b", ("x", "y"), missing=False),
        Numeric("n1", 0, 100, integer=True, missing=False),
        Numeric("n2", 0.0, 1.0, missing=False),
    ]
)


def ordinary_rows(n: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {"a": rng.choice(["A", "B", "C"], n), "b": rng.choice(["x", "y"], n), "n1": rng.integers(0, 101, n), "n2": rng.random(n)}
    )


def jittered_copy(train: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A leaky non-DP generator (module level, so it pickles): training rows with small numeric noise."""
    out = train.copy()
    out["n1"] = np.clip(out["n1"] + rng.integers(-2, 3, len(out)), 0, 100)
    out["n2"] = np.clip(out["n2"] + rng.normal(0, 0.02, len(out)), 0, 1)
    return out


def test_the_shadow_model_attack_finds_planted_unique_outliers_of_a_leaky_generator():
    rng = np.random.default_rng(7)
    planted = ordinary_rows(2 * N_PLANTED, rng).assign(a=[f"T{i}" for i in range(2 * N_PLANTED)])
    train = pd.concat([ordinary_rows(300 - N_PLANTED, rng), planted.iloc[:N_PLANTED]], ignore_index=True)
    holdout = pd.concat([ordinary_rows(300 - N_PLANTED, rng), planted.iloc[N_PLANTED:]], ignore_index=True)
    released = jittered_copy(train, rng)
    result = run_attacks(
        train, holdout, released, PLANTED_SCHEMA, level="thorough", refit=jittered_copy, random_state=7, n_jobs=1
    )
    shadow = next(r for r in result.membership if r.name == "shadow_model")
    targets = LEVELS["thorough"].shadow_targets
    assert shadow.n_members == shadow.n_nonmembers == targets
    assert shadow.parameters["n_shadows"] == LEVELS["thorough"].shadow_refits
    assert "most outlying" in shadow.parameters["target_rule"]
    assert shadow.tpr_at_fpr[0.01][0] == 1.0 and shadow.auc == 1.0
    assert "shadow_model" not in result.skipped


# ------------------------------------------------------------------------------ slow
@pytest.mark.slow
def test_exact_values_of_a_near_unique_column_are_caught_by_singling_out_not_by_distance():
    train, holdout, source = adult_split(8, (8000, 1000, 8000))
    rng = np.random.default_rng(8)
    leaky = independent_marginals(source, len(train), rng)
    leaky["fnlwgt"] = train["fnlwgt"].to_numpy()[rng.permutation(len(train))]
    result = run_attacks(train, holdout, leaky, adult_schema(), level="standard", random_state=8)
    summary = result.summary()
    assert summary["membership_auc_upper"] < 0.6 and summary["epsilon_lower_bound"] < 0.5
    univariate = next(r for r in result.risks if r.name == "singling_out_univariate")
    assert univariate.risk_interval[0] > 0.3
    verdict, reasons, _ = evaluate_policy(result, None)
    assert verdict == "FAIL" and any("singling-out" in reason for reason in reasons)


def test_only_conclusive_risks_that_beat_guessing_decide_the_verdict():
    """A DP release once FAILed on 5 singling-out predicates, and on a skewed column where the
    attack did no better than guessing; neither may decide a verdict, and a FAIL names its source."""
    train, holdout = adult_split(9, (300, 100))
    result = run_attacks(train, holdout, train, adult_schema(), level="quick", random_state=0)

    def verdict(*risks):
        audit = AuditResult(result.level, result.parameters, result.membership, risks, {}, {})
        return (*evaluate_policy(audit, 10.0)[:2], audit.risk_statuses())  # membership: not judged here

    few = RiskResult.from_counts("singling_out_univariate", {"n_attacks_requested": 2000}, 5, 2, 0, 0)
    guessing = RiskResult.from_counts("attribute_inference", {"secret": "skewed"}, 1000, 900, 600, 950)
    assert few.risk_interval[1] > 0.3 and guessing.risk_interval[1] > 0.5 and not guessing.beats_baseline
    outcome, reasons, statuses = verdict(few, guessing)
    assert outcome == "PASS", reasons
    assert statuses["singling_out_risk"] == {"status": "inconclusive", "n_attacks": 5, "attacks_requested": 2000}
    assert statuses["inference_risk"]["status"] == "not above baseline"
    assert any("inconclusive: only 5 of the 2000 attacks" in reason for reason in reasons)

    leak = RiskResult.from_counts("attribute_inference", {"secret": "income"}, 1000, 1000, 600, 500)
    outcome, reasons, statuses = verdict(guessing, leak)
    assert outcome == "FAIL"
    assert statuses["inference_risk"]["risk"] == leak.risk_interval[1]
    assert any("(attribute_inference, secret column 'income')" in reason for reason in reasons)
