"""Values no other real row shares: the guesses, the p-value, and the verdict on shuffled columns.

Fast: the guesses of a hand-built table; the p-value is the tail of the two binomials at the
training share of all real rows; a generator that shuffles each column of 1,000 coded rows, 40
of which hold a value nobody else has, copies no row yet FAILs on this check, naming it; a release
drawn from the population, and a shuffle of training and held-out rows alike, PASS.
"""

import numpy as np
import pandas as pd
import pytest

from dpsynth.attacks.copies import unique_copies
from dpsynth.attacks.rare_copies import Guesses, guess_rates
from dpsynth.attacks.suite import run_attacks
from dpsynth.attacks.unique_values import UniqueValueResult, unique_values
from dpsynth.certificate.policy import evaluate_policy
from dpsynth.schema import Categorical, Numeric, Schema

CODES = tuple(f"c{i}" for i in range(60))
SCHEMA = Schema((Categorical("a", CODES), Categorical("b", tuple("uvwxyz")), Numeric("n", 0.0, 100.0)))


def test_guesses_of_a_hand_built_table():
    train = pd.DataFrame({"a": ["c0", "c0", "c1", "c2"], "b": ["u", "u", "v", "u"], "n": [1.0, 2.0, 2.0, np.nan]})
    holdout = pd.DataFrame({"a": ["c3", "c0"], "b": ["w", "u"], "n": [5.0, np.nan]})
    synthetic = pd.DataFrame({"a": ["c1", "c3"], "b": ["u", "u"], "n": [1.0, 9.0]})
    result = unique_values(train, holdout, synthetic, SCHEMA)
    # unique values: a c1, c2, c3; b v, w; n 1.0, 5.0 (missing is no value). Rows holding one:
    # train 0 (n 1.0, shown), 2 (c1 shown, v not), 3 (c2 not shown); holdout 0 (c3 shown)
    assert result == UniqueValueResult(4, 2, Guesses(rows=4, copied=3, copied_train=2, missed=1, missed_holdout=0))


def test_the_p_value_is_the_tail_of_two_binomials_at_the_share_of_all_rows():
    result = UniqueValueResult(800, 200, Guesses(rows=40, copied=32, copied_train=32, missed=8, missed_holdout=8))
    assert result.p_value() == pytest.approx(0.8**32 * 0.2**8)
    rate_in, rate_out = guess_rates(0.8, 1.0)
    assert result.p_value(1.0) == pytest.approx(rate_in**32 * rate_out**8)
    assert UniqueValueResult(800, 200, Guesses(0, 0, 0, 0, 0)).p_value() == 1.0


def population(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Coded rows whose values are all shared: a among 10 codes, b among 6, n on a coarse grid."""
    return pd.DataFrame({
        "a": rng.choice(list(CODES[:10]), n),
        "b": rng.choice(list("uvwxyz"), n),
        "n": rng.integers(0, 10, n).astype(float),
    })


def shuffled(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({name: frame[name].to_numpy()[rng.permutation(len(frame))] for name in frame.columns})


def test_shuffled_columns_fail_on_unique_values_alone_and_neighbours_pass():
    rng = np.random.default_rng(2)
    real = population(1000, rng)
    real.loc[:39, "a"] = CODES[10:50]  # 40 rows each hold a code nobody else has
    held = rng.random(len(real)) < 0.2
    train, holdout = real[~held].reset_index(drop=True), real[held].reset_index(drop=True)
    leaky = shuffled(train, rng)
    assert unique_copies(train, holdout, leaky, SCHEMA).p_value() > 0.001  # rows meet only by chance
    result = run_attacks(train, holdout, leaky, SCHEMA, level="quick", random_state=1)
    verdict, reasons, checks = evaluate_policy(result, None)
    assert verdict == "FAIL" and result.values is not None and result.values.p_value() < 1e-6
    assert "unique_values" in [check["name"] for check in checks if check["passed"] is False]
    assert any(reason.startswith("values no other real row shares (unique_values):") for reason in reasons)
    assert evaluate_policy(result, 1.0)[0] == "FAIL"
    clean = population(len(train), rng)
    assert unique_values(train, holdout, clean, SCHEMA).p_value() > 0.001
    # shuffling the columns of every real row, held-out ones too, ignores which rows were trained on
    ignoring = shuffled(real, rng).iloc[: len(train)]
    assert unique_values(train, holdout, ignoring, SCHEMA).p_value() > 0.001
