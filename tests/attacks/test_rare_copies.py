"""Exact copies of the rarest records: the ranking, the guesses, the p-value and the verdict.

Fast: the rarity ranking puts rows with rare values first and never reads the sides; the guesses
of a hand-built table; the p-value is the tail of the two binomials and a stated epsilon raises
it; a generator that memorises 20 rare records of 1,000 with a holdout share of 0.3 (where the
unique-copies test reads about 0.008) FAILs naming this attack, and the same release with no
memorised record, or with the rare rows only held out, PASSes; the detectable counts match a
simulation of the attack.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dpsynth.attacks.copies import unique_copies
from dpsynth.attacks.rare_copies import (
    Guesses,
    RareCopyResult,
    detectable_records,
    gap_prefix,
    guess_rates,
    rare_copies,
    rarity,
)
from dpsynth.attacks.suite import run_attacks
from dpsynth.certificate.policy import evaluate_policy, load_policy
from dpsynth.certificate.readings import audit_limits
from dpsynth.schema import Categorical, Numeric, Schema

LETTERS = tuple("abcdefghij")
SCHEMA = Schema((
    Categorical("a", LETTERS),
    Categorical("b", LETTERS),
    Numeric("n", 0.0, 1e6, integer=True),
))
COMMON = [0.3, 0.3, 0.2, 0.19, 0.005, 0.005, 0.0, 0.0, 0.0, 0.0]


def population(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Common rows: a and b among their frequent letters, n near the middle of its range."""
    return pd.DataFrame({
        "a": rng.choice(list(LETTERS), n, p=COMMON),
        "b": rng.choice(list(LETTERS), n, p=COMMON),
        "n": rng.integers(400_000, 600_001, n),
    })


def outliers(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Rare rows: letters nobody else has and n far out in its upper tail."""
    return pd.DataFrame({
        "a": rng.choice(list("ghij"), n),
        "b": rng.choice(list("ghij"), n),
        "n": rng.integers(900_000, 1_000_001, n),
    })


def test_the_ranking_puts_rare_values_first_and_reads_only_the_values():
    values = np.array([[0, 0, 0, 1, 0], [5.0, 4.0, 3.0, 100.0, np.nan]])
    score = rarity(values, np.array([False, True]))
    # column 0: shared by 4, 4, 4, 1, 4; column 1 (numeric, the rows at least as far out on the
    # value's nearer side): 2 (5 and 100), 2 (3 and 4), 1, 1; the missing value: 1 missing
    assert np.allclose(score, np.log([4 * 2, 4 * 2, 4 * 1, 1 * 1, 4 * 1]))
    assert np.argmin(score) == 3


def test_guesses_of_a_hand_built_table():
    train = pd.DataFrame({"a": ["g", "h", "a", "a"], "b": ["g", "h", "a", "b"], "n": [990_000, 980_000, 5e5, 5e5]})
    holdout = pd.DataFrame({"a": ["i", "b"], "b": ["i", "b"], "n": [970_000, 5e5]})
    synthetic = pd.DataFrame({"a": ["g", "h", "a"], "b": ["g", "h", "b"], "n": [990_000, 980_000, 5e5]})
    result = rare_copies(train, holdout, synthetic, SCHEMA)
    assert (result.unique_train, result.unique_holdout) == (4, 2)
    # ranking: g (n the largest), h, the held-out i, then the common rows; prefixes holding all
    # three copies (the last one a common row), two (ceil of half) and one; the gap prefix (the
    # largest jump among the rarest two rows) is the last one again
    assert result.prefixes == (
        Guesses(rows=6, copied=3, copied_train=3, missed=3, missed_holdout=2),
        Guesses(rows=2, copied=2, copied_train=2, missed=0, missed_holdout=0),
        Guesses(rows=1, copied=1, copied_train=1, missed=0, missed_holdout=0),
    )


def test_the_p_value_is_the_tail_of_two_binomials_and_a_stated_epsilon_raises_it():
    result = RareCopyResult(700, 300, (Guesses(rows=20, copied=14, copied_train=14, missed=6, missed_holdout=6),))
    assert result.p_value() == pytest.approx(4 * 0.7**14 * 0.3**6)
    rate_in, rate_out = guess_rates(0.7, 1.0)
    assert rate_in == pytest.approx(0.7 * math.e / (0.7 * math.e + 0.3))
    assert rate_out == pytest.approx(0.3 * math.e / (0.3 * math.e + 0.7))
    assert result.p_value(1.0) == pytest.approx(4 * rate_in**14 * rate_out**6)
    assert result.p_value(1.0) > result.p_value()
    partial = RareCopyResult(700, 300, (Guesses(rows=20, copied=14, copied_train=12, missed=6, missed_holdout=5),))
    tail = sum(stats.binom.pmf(i, 14, 0.7) * stats.binom.sf(16 - i, 6, 0.3) for i in range(15))
    assert partial.p_value() == pytest.approx(4 * tail)
    assert RareCopyResult(700, 300, ()).p_value() == 1.0
    assert RareCopyResult(700, 300, ()).to_dict()["p_value"] == 1.0


def memoriser_tables(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, np.ndarray]:
    """1,000 real rows (20 of them rare) with sides by coins of share 0.3, and a clean release."""
    rng = np.random.default_rng(seed)
    real = pd.concat([population(980, rng), outliers(20, rng)], ignore_index=True)
    held = rng.random(len(real)) < 0.3
    rare = np.arange(len(real)) >= 980
    clean = population(len(real) - int(held.sum()), rng)
    return real[~held].reset_index(drop=True), real[held].reset_index(drop=True), clean, rare[~held]


def test_memorising_twenty_rare_records_fails_where_the_unique_copies_cannot_see_it():
    train, holdout, clean, rare = memoriser_tables(3)
    leaky = pd.concat([clean.iloc[: len(clean) - rare.sum()], train[rare]], ignore_index=True)
    assert unique_copies(train, holdout, leaky, SCHEMA).p_value() > 0.001
    result = run_attacks(train, holdout, leaky, SCHEMA, level="quick", random_state=1)
    assert result.rare is not None and result.rare.p_value() < 1e-5
    verdict, reasons, checks = evaluate_policy(result, None)
    assert verdict == "FAIL"
    assert "rare_copies" in [check["name"] for check in checks if check["passed"] is False]
    assert any(reason.startswith("exact copies of rare records (rare_copies): among the") for reason in reasons)
    # the neighbouring release that memorised nothing, and one whose rare rows are all held out
    for release in (clean, pd.concat([clean.iloc[: len(clean) - 5], holdout.tail(5)], ignore_index=True)):
        assert run_attacks(train, holdout, release, SCHEMA, level="quick", random_state=1).rare.p_value() > 0.001


def test_the_sides_do_not_move_the_ranking():
    train, holdout, clean, rare = memoriser_tables(4)
    leaky = pd.concat([clean.iloc[: len(clean) - rare.sum()], train[rare]], ignore_index=True)
    swapped = rare_copies(holdout, train, leaky, SCHEMA)
    straight = rare_copies(train, holdout, leaky, SCHEMA)
    assert [g.rows for g in swapped.prefixes] == [g.rows for g in straight.prefixes]
    assert swapped.p_value() > 0.001 > straight.p_value()


def test_the_gap_prefix_ends_before_the_largest_jump_among_the_rarest_rows():
    ranked = np.concatenate([[1.0, 1.2, 1.5, 4.0, 4.1], np.linspace(4.2, 30.0, 95)])
    assert gap_prefix(ranked) == 3  # the window is the rarest 5 rows; the jump after 1.5
    assert gap_prefix(np.array([1.0, 9.0, 9.5, 30.0])) == 1  # at least two rows: the jump after 1.0
    assert gap_prefix(np.array([2.0])) == 1


def with_a_chance_copy(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The memoriser of twenty rare records whose release also holds one common held-out row."""
    train, holdout, clean, rare = memoriser_tables(seed)
    common = holdout[~holdout["a"].isin(list("ghij"))].tail(1)
    leaky = pd.concat([clean.iloc[: len(clean) - rare.sum() - 1], train[rare], common], ignore_index=True)
    return train, holdout, leaky


def test_one_chance_copy_of_a_common_row_no_longer_hides_the_memorised_block():
    train, holdout, leaky = with_a_chance_copy(3)
    result = rare_copies(train, holdout, leaky, SCHEMA)
    rate_in, rate_out = guess_rates(result.share, 0.0)
    by_share, gap = result.prefixes[:-1], result.prefixes[-1]
    # the three share prefixes alone would read no better than 0.001; the gap prefix holds the 20
    assert 3 * min(g.tail(rate_in, rate_out) for g in by_share) > 0.001
    assert gap.rows == 20 and result.p_value() < 1e-4


def test_a_generator_that_ignores_the_sides_fails_no_more_often_than_the_level():
    """Neighbouring inputs: one pool and one output (it copies the 20 rarest rows and one common
    row whatever the sides), the sides redrawn; P(p <= 0.05) may not exceed 0.05."""
    rng = np.random.default_rng(7)
    pool = pd.concat([population(980, rng), outliers(20, rng)], ignore_index=True)
    output = pd.concat([population(700, rng), pool.tail(21)], ignore_index=True)
    p = []
    for _ in range(400):
        held = rng.random(len(pool)) < 0.3
        p.append(rare_copies(pool[~held], pool[held], output, SCHEMA).p_value())
    assert np.mean(np.array(p) <= 0.05) <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 400)


def test_moving_one_row_between_the_sides_moves_no_prefix():
    train, holdout, leaky = with_a_chance_copy(4)
    moved = rare_copies(train.iloc[1:], pd.concat([holdout, train.iloc[:1]]), leaky, SCHEMA)
    straight = rare_copies(train, holdout, leaky, SCHEMA)
    assert [g.rows for g in moved.prefixes] == [g.rows for g in straight.prefixes]


def test_a_stated_epsilon_of_one_allows_what_its_factor_allows():
    result = RareCopyResult(700, 300, (Guesses(rows=20, copied=14, copied_train=14, missed=6, missed_holdout=6),))
    assert result.p_value() < 0.001 < result.p_value(1.0)


@pytest.mark.parametrize(("holdout_share", "epsilon", "fewest"), [(0.2, 0.0, 31), (0.3, 0.0, 20), (0.5, 1.0, 27)])
def test_the_detectable_count_is_what_a_simulated_memoriser_shows(holdout_share, epsilon, fewest):
    assert detectable_records(holdout_share, epsilon) == fewest
    rng = np.random.default_rng(0)
    share = 1 - holdout_share

    def caught(m: int) -> float:
        """Share of 4,000 simulated audits that FAIL a memoriser of m rare records (the ideal prefix)."""
        sides = (round(10_000 * share), round(10_000 * holdout_share))
        p = np.array([RareCopyResult(*sides, (Guesses(m, t, t, m - t, m - t),)).p_value(epsilon) for t in range(m + 1)])
        return float(np.mean(p[rng.binomial(m, share, 4000)] <= 0.001))

    assert caught(fewest) >= 0.985 and caught(fewest - 3) < 0.99


def test_the_certificate_states_what_the_copy_checks_could_see():
    train, holdout, clean, _ = memoriser_tables(5)
    result = run_attacks(train, holdout, clean, SCHEMA, level="quick", random_state=1)
    share = len(holdout) / (len(train) + len(holdout))
    _, _, checks = evaluate_policy(result, 1.0)
    rare = next(check for check in checks if check["name"] == "rare_copies")
    fewest = detectable_records(round(share, 2), 1.0)
    assert f"at least {detectable_records(share, 1.0)} of the rarest real records" in rare["description"]
    assert abs(detectable_records(share, 1.0) - fewest) <= 2
    limits = audit_limits(load_policy().thresholds(), share, None)
    assert f"at least {detectable_records(share, 0.0)} of the rarest" in limits[1]
    assert f"at least {math.ceil(math.log(0.001) / math.log(1 - share))} exact copies" in limits[0]
    assert f"at least {detectable_records(share, 0.0, tests=1)} real rows" in limits[2]
    assert "one-way counts" in limits[3]
