"""Exact copies of unique records: the counts, the p-value under the null and under epsilon-DP,
and the verdict it gives to a generator that memorises a few rare records.

Fast: counts on a table built by hand; the p-value matches the binomial tail; memorising 60 rare
training records FAILs on this check alone, naming it, while the same release without them
PASSes; a stated epsilon allows its factor e^epsilon.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dpsynth.attacks.copies import CopyResult, unique_copies
from dpsynth.attacks.suite import run_attacks
from dpsynth.certificate.policy import evaluate_policy
from dpsynth.schema import Categorical, Numeric, Schema

SCHEMA = Schema((
    Categorical("a", tuple("abcdef")),
    Categorical("b", tuple("uvwxyz")),
    Numeric("n", 0.0, 1e6, integer=True),
))


def rows(n: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({
        "a": rng.choice(list("abcdef"), n),
        "b": rng.choice(list("uvwxyz"), n),
        "n": rng.integers(0, 1_000_001, n),
    })


def test_counts_rows_that_occur_once_and_their_exact_copies():
    train = pd.DataFrame({"a": ["a", "a", "b", "c"], "b": ["u", "u", "v", "w"], "n": [1, 1, 2, 3]})
    holdout = pd.DataFrame({"a": ["c", "d", "e"], "b": ["w", "x", "y"], "n": [3, 4, 5]})
    synthetic = pd.DataFrame({"a": ["a", "b", "d", "f"], "b": ["u", "v", "x", "z"], "n": [1, 2, 4, 6]})
    copies = unique_copies(train, holdout, synthetic, SCHEMA)
    # ("a","u",1) occurs twice and ("c","w",3) once per side: neither is unique among the real rows
    assert copies == CopyResult(unique_train=1, unique_holdout=2, copied_train=1, copied_holdout=1)


def test_the_p_value_is_the_binomial_tail_and_a_stated_epsilon_raises_it():
    copies = CopyResult(unique_train=800, unique_holdout=200, copied_train=30, copied_holdout=0)
    assert copies.p_value() == pytest.approx(0.8**30)
    odds = 4 * math.exp(1.0)
    assert copies.p_value(1.0) == pytest.approx(stats.binom.sf(29, 30, odds / (1 + odds)))
    assert copies.p_value(1.0) > copies.p_value()
    assert CopyResult(800, 200, 0, 0).p_value() == 1.0
    assert copies.to_dict()["p_value"] == pytest.approx(0.8**30)


def test_memorising_rare_records_fails_on_exact_copies_alone_and_the_reason_names_it():
    rng = np.random.default_rng(5)
    real = rows(2500, rng)
    train, holdout = real.iloc[:2000].reset_index(drop=True), real.iloc[2000:].reset_index(drop=True)
    clean = rows(2000, np.random.default_rng(6))  # drawn from the population, never from train
    verdict, reasons, _ = evaluate_policy(run_attacks(train, holdout, clean, SCHEMA, level="quick", random_state=1), None)
    assert verdict == "PASS", reasons
    leaky = pd.concat([clean.iloc[60:], train.iloc[:60]], ignore_index=True)
    result = run_attacks(train, holdout, leaky, SCHEMA, level="quick", random_state=1)
    verdict, reasons, checks = evaluate_policy(result, None)
    assert verdict == "FAIL"
    assert [check["name"] for check in checks if check["passed"] is False] == ["unique_copies"]
    assert any(reason.startswith("exact copies of unique records (unique_copies)") for reason in reasons)
    # 60 copies among 2,000 unique training rows stay within what epsilon 3 allows
    assert evaluate_policy(result, 3.0)[0] == "PASS"
