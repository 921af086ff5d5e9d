"""Exact copies of the rarest records: a one-run membership audit that also counts the copies missing.

The unique-copies test (:mod:`dpsynth.attacks.copies`) weighs only the rows that were copied:
``k`` training copies and none held out give ``s^k`` at a training share ``s``, so a generator
that memorises 30 rare records of 2,000 sits at the edge of p = 0.001. It ignores the other half
of the evidence: the held-out rare records that such a generator never copies. Here every row
that occurs once among the training and holdout rows is ranked by its rarity, the sum over
columns of the log of how many real rows share its value (a numeric value: how many lie at least
as far out on its side), computed on training and holdout rows together so that the ranking never
reads which side a row is on. Within a prefix of the ranking the attack guesses "training" for each
copied row and "held out" for each row not copied, and counts its correct guesses.

Each row's side is its own coin (:func:`dpsynth.workflows.release.split_holdout`), so this is the
one-run audit of Steinke, Nasr and Jagielski (2023, "Privacy auditing with one (1) training
run"): for an epsilon-DP generator each guess, given the output and every other row's side, is
right with probability at most ``s e^eps / (s e^eps + 1 - s)`` ("training") or
``(1 - s) e^eps / ((1 - s) e^eps + s)`` ("held out"), and the correct guesses are dominated by
independent Bernoulli trials with those rates (delta neglected; with a privacy-unit column a
person's rows share one coin and are not independent trials). ``s`` is the training share of the
rows that occur once. Epsilon 0 is a generator that ignores which rows it saw.

The prefixes are read from the ranking and the copies, never from the sides: the shortest holding
all the copied rows, half of them and a quarter of them (a memoriser's copies are the rarest
rows; a DP release's chance copies are common ones), and the rows before the largest jump in
rarity among the rarest 5% (a block of records far rarer than the rest, whatever else was copied:
one chance copy of a common row stretches the first prefix to the end and leaves the other two
few copies). The p-value is the smallest of the four times four (Bonferroni).

Why any such prefix keeps the test's level: given the output and every other row's side, a row's
side is still its own coin up to the e^epsilon factor, and a prefix chosen from the output and the
pooled rows alone is fixed once the output is; so the right guesses within it, taken in turn,
each have a conditional chance at most ``a`` or ``b`` given the ones before, and their count is
dominated by independent Bernoulli trials (Steinke, Nasr and Jagielski 2023, Theorem 3.1, given
the output). Bonferroni needs nothing about how the four rules depend on each other. Runs on the
custodian's side and is not part of the DP guarantee.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dpsynth.attacks.copies import copy_marks
from dpsynth.schema import Schema
from dpsynth.validation import number

SHARES_OF_COPIES = (1.0, 0.5, 0.25)  # each prefix holds this share of the copied rows (rounded up)
GAP_WINDOW = 0.05  # the rarity-gap prefix ends at the largest jump among this share of the rarest rows
PREFIX_RULES = len(SHARES_OF_COPIES) + 1  # the Bonferroni factor: the shares' prefixes and the gap's
POWER = 0.99  # the detection rate :func:`detectable_records` asks for


@dataclass(frozen=True)
class Guesses:
    """One prefix of the rarity ranking: its length and the guesses made in it."""

    rows: int
    copied: int
    copied_train: int
    missed: int
    missed_holdout: int

    def tail(self, rate_in: float, rate_out: float) -> float:
        """Chance of at least this many right guesses when each is right at most at these rates."""
        return guesses_tail(self.copied, rate_in, self.missed, rate_out, self.copied_train + self.missed_holdout)


@dataclass(frozen=True)
class RareCopyResult:
    """The guesses in each prefix, with the training share of the rows that occur once."""

    unique_train: int
    unique_holdout: int
    prefixes: tuple[Guesses, ...]

    @property
    def share(self) -> float:
        return self.unique_train / max(self.unique_train + self.unique_holdout, 1)

    def p_value(self, epsilon: float = 0.0) -> float:
        """Bonferroni p-value over the prefixes for an epsilon-DP generator (0: one that ignores
        its training rows); 1 when nothing was copied or nothing held out."""
        epsilon = number("epsilon", epsilon, low=0.0)
        if not self.prefixes or self.unique_holdout == 0 or self.unique_train == 0:
            return 1.0
        rate_in, rate_out = guess_rates(self.share, epsilon)
        return min(1.0, PREFIX_RULES * min(g.tail(rate_in, rate_out) for g in self.prefixes))

    def best(self, epsilon: float = 0.0) -> Guesses:
        """The prefix whose guesses are least likely for an epsilon-DP generator."""
        rate_in, rate_out = guess_rates(self.share, epsilon)
        return min(self.prefixes, key=lambda g: g.tail(rate_in, rate_out))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, with the p-value of a generator that ignores its training rows."""
        return {**asdict(self), "p_value": self.p_value()}


def guess_rates(share: float, epsilon: float) -> tuple[float, float]:
    """Largest chance that a "training" and a "held out" guess is right under epsilon-DP, for a
    row on the training side with probability ``share``: the prior odds times e^epsilon."""
    odds = share / (1 - share) * math.exp(min(epsilon, 700.0))
    held_odds = (1 - share) / share * math.exp(min(epsilon, 700.0))
    return odds / (1 + odds), held_odds / (1 + held_odds)


def guesses_tail(n_in: int, rate_in: float, n_out: int, rate_out: float, correct: int) -> float:
    """P(Binomial(n_in, rate_in) + Binomial(n_out, rate_out) >= correct)."""
    pmf = np.convolve(stats.binom.pmf(np.arange(n_in + 1), n_in, rate_in),
                      stats.binom.pmf(np.arange(n_out + 1), n_out, rate_out))
    return float(min(1.0, pmf[correct:].sum()))


def rarity(values: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """Per row of ``values`` (columns x rows): the sum over columns of log(how many rows share its
    value), a numeric value counting the rows at least as far out on its side (missing: the
    missing ones). Small is rare."""
    score = np.zeros(values.shape[1])
    for column, is_numeric in zip(values, numeric, strict=True):
        missing = np.isnan(column)
        if is_numeric:
            present = np.sort(column[~missing])
            below = np.searchsorted(present, column, side="right")
            above = len(present) - np.searchsorted(present, column, side="left")
            shared = np.where(missing, np.count_nonzero(missing), np.minimum(below, above))
        else:
            _, inverse, counts = np.unique(column, return_inverse=True, return_counts=True)
            shared = counts[inverse]
        score += np.log(np.maximum(shared, 1))
    return score


def rare_copies(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> RareCopyResult:
    """The guesses of each prefix of the rarity ranking of the real rows that occur once."""
    marks = copy_marks(train, holdout, synthetic, schema)
    rows = np.flatnonzero(marks.once)
    # Ties are broken by the row's hash, never by its position: training rows come first.
    score = rarity(marks.values[:, rows], marks.columns.numeric)
    ranking = np.lexsort((marks.hashes[rows], score))
    order = rows[ranking]
    copied, side = marks.copied[order], marks.train[order]
    at = np.flatnonzero(copied)
    lengths = [int(at[math.ceil(fraction * len(at)) - 1]) + 1 for fraction in SHARES_OF_COPIES] if len(at) else []
    if len(at):
        lengths.append(gap_prefix(score[ranking]))
    prefixes = []
    for length in lengths:
        hit, seen = copied[:length], side[:length]
        prefixes.append(Guesses(
            rows=length,
            copied=int(np.count_nonzero(hit)),
            copied_train=int(np.count_nonzero(hit & seen)),
            missed=int(np.count_nonzero(~hit)),
            missed_holdout=int(np.count_nonzero(~hit & ~seen)),
        ))
    return RareCopyResult(
        unique_train=int(np.count_nonzero(side)),
        unique_holdout=int(np.count_nonzero(~side)),
        prefixes=tuple(dict.fromkeys(prefixes)),
    )


def gap_prefix(ranked: np.ndarray, window: float = GAP_WINDOW) -> int:
    """How many of the rarest rows come before the largest jump in rarity score (``ranked``, the
    scores in ranking order) among the rarest ``window`` share of them (at least two rows)."""
    reach = min(max(math.ceil(window * len(ranked)), 2), len(ranked))
    if reach < 2:
        return len(ranked)
    return int(np.argmax(np.diff(ranked[:reach]))) + 1


def detectable_records(
    holdout_share: float,
    epsilon: float = 0.0,
    p_min: float = 0.001,
    power: float = POWER,
    limit: int = 100_000,
    tests: int = PREFIX_RULES,
) -> int | None:
    """Fewest memorised records this attack catches with probability ``power``, or None up to ``limit``.

    A memoriser copies exactly the records it saw of ``m`` records that are the rarest of the
    table; each is on the training side with probability ``s = 1 - holdout_share``. With ``t`` of
    them trained on, the best prefix holds the ``m`` records, ``t`` right "training" guesses and
    ``m - t`` right "held out" ones, so the p-value is ``4 a^t b^(m-t)`` (``a``, ``b``: the rates
    of :func:`guess_rates`; 4 is ``tests``, the Bonferroni factor). The count returned is the
    smallest ``m`` with ``P(4 a^t b^(m-t) <= p_min) >= power`` for ``t ~ Binomial(m, s)``: fewer,
    or more chance copies beside them, are caught less often.
    """
    share = 1 - number("holdout_share", holdout_share, low=0.0, high=1.0, low_open=True, high_open=True)
    rate_in, rate_out = guess_rates(share, number("epsilon", epsilon, low=0.0))
    budget = math.log(p_min / tests)

    def caught(m: int) -> bool:
        trained = np.arange(m + 1)
        small = trained * math.log(rate_in) + (m - trained) * math.log(rate_out) <= budget
        return bool(stats.binom.pmf(trained, m, share)[small].sum() >= power)

    # The detection rate grows with m up to the steps of a discrete binomial: the first m found
    # by doubling then bisecting, exact wherever the rate is monotone.
    high = 1
    while not caught(high):
        if high >= limit:
            return None
        high = min(2 * high, limit)
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if caught(middle) else (middle, high)
    return high
