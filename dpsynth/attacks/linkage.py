"""Linkage in the style of Anonymeter (Giomi, Boenisch, Wehmeyer, Tasnádi 2023, PoPETs).

The attacker holds two datasets about the same people: one with the columns ``A`` of a target,
another with the columns ``B``. Neither links to the other directly; the synthetic data is the
bridge. For each target the attacker finds its ``n_neighbors`` nearest synthetic records on
``A`` and, separately, on ``B``; the two halves are linked when the two sets share a record.
The attack rate is the share of training targets linked, the control rate the share of control
targets linked, and the baseline the share linked when both sets are random synthetic records.

Distances are the Gower-like distance of :mod:`dpsynth.attacks.features` on the columns of each
half (numbers scaled by their public range, categories by mismatch). Ties between equally near
synthetic records are broken uniformly at random, independently for each half.

This attack runs on the custodian's side and reads the real training and control records: its
result describes a release and is not part of the DP guarantee.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dpsynth.attacks.features import AttackEncoding, EncodedRows, nearest_neighbours
from dpsynth.attacks.risk import RiskResult, check_attacks, sample_targets, sub_schema
from dpsynth.errors import DataError
from dpsynth.random_state import check_random_state
from dpsynth.schema import Schema
from dpsynth.validation import integer


def random_link_probability(n_synthetic: int, n_neighbors: int) -> float:
    """Chance that two independent uniform ``n_neighbors``-subsets of ``n_synthetic`` records
    share one: ``1 - C(N - k, k) / C(N, k) = 1 - prod_{i<k} (N - k - i) / (N - i)``."""
    i = np.arange(n_neighbors)
    return float(1.0 - np.prod((n_synthetic - n_neighbors - i) / (n_synthetic - i)))


class _Half:
    """One half of the attacker's knowledge: its columns, and the synthetic records on them in a
    random order (so that the first-found of equally near records is a uniform choice)."""

    def __init__(
        self, schema: Schema, names: Sequence[str], argument: str, synthetic: pd.DataFrame, rng: np.random.Generator
    ) -> None:
        self.encoding = AttackEncoding(sub_schema(schema, names, argument))
        self.order = rng.permutation(len(synthetic))
        self.synthetic: EncodedRows = self.encoding.transform(synthetic).take(self.order)

    def neighbours(self, targets: pd.DataFrame, k: int) -> np.ndarray:
        """Positions in the synthetic table of each target's ``k`` nearest records."""
        _, found = nearest_neighbours(self.encoding.transform(targets), self.synthetic, k)
        return self.order[found]


def linkage(
    train: pd.DataFrame,
    control: pd.DataFrame,
    synthetic: pd.DataFrame,
    schema: Schema,
    aux_cols: tuple[Sequence[str], Sequence[str]],
    *,
    n_attacks: int = 500,
    n_neighbors: int = 1,
    confidence: float = 0.95,
    random_state: None | int | np.random.Generator = None,
) -> RiskResult:
    """Linkage risk of ``synthetic`` for the records of ``train``, against ``control``.

    ``aux_cols`` is the pair ``(A, B)`` of column lists the two halves of the attacker's
    knowledge hold; they should not share a column. ``n_attacks`` training targets and as
    many control targets are drawn without replacement (fewer when a table is smaller); a
    target is linked when its ``n_neighbors`` nearest synthetic records on ``A`` and on ``B``
    share one. The baseline's successes are drawn from the binomial law of as many random
    pairs of ``n_neighbors``-subsets (:func:`random_link_probability`), which is exactly the
    law of Anonymeter's random-neighbour attacker.

    Runs on the custodian's side: the result is not part of the DP guarantee.
    """
    rng = check_random_state(random_state)
    if isinstance(aux_cols, (str, bytes)) or not isinstance(aux_cols, Sequence) or len(aux_cols) != 2:
        raise DataError("aux_cols must be a pair (A, B) of lists of column names")
    if set(aux_cols[0]) & set(aux_cols[1]):
        raise DataError(f"aux_cols: column(s) {sorted(set(aux_cols[0]) & set(aux_cols[1]))} are in both halves")
    if not isinstance(synthetic, pd.DataFrame) or len(synthetic) == 0:
        raise DataError("synthetic must be a pandas DataFrame with rows")
    integer("n_neighbors", n_neighbors, high=len(synthetic))
    for argument, frame in (("train", train), ("control", control)):
        if not isinstance(frame, pd.DataFrame):
            raise DataError(f"{argument} must be a pandas DataFrame; got {type(frame).__name__}")
    n = check_attacks(n_attacks, ("train", len(train)), ("control", len(control)))
    halves = [_Half(schema, aux_cols[i], f"aux_cols[{i}]", synthetic, rng) for i in (0, 1)]

    def linked(frame: pd.DataFrame) -> int:
        targets = frame.iloc[sample_targets(len(frame), n, rng)]
        first, second = (half.neighbours(targets, int(n_neighbors)) for half in halves)
        return int(np.count_nonzero((first[:, :, None] == second[:, None, :]).any(axis=(1, 2))))

    return RiskResult.from_counts(
        name="linkage",
        parameters={"aux_cols": [list(aux_cols[0]), list(aux_cols[1])], "n_neighbors": int(n_neighbors)},
        n_attacks=n,
        attack_successes=linked(train),
        control_successes=linked(control),
        baseline_successes=int(rng.binomial(n, random_link_probability(len(synthetic), int(n_neighbors)))),
        confidence=confidence,
    )
