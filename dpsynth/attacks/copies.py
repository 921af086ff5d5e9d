"""Exact copies of unique records: does the synthetic table reproduce whole real rows that occur
only once, more often when the generator saw them than when it did not?

A generator that memorises a few rare records (outliers, say) moves no average: its membership
AUC and Anonymeter risks stay near a clean release's, since only those few records are exposed.
This test looks at those records alone. The rows that occur exactly once among the training and
holdout rows together are split between the two sides by the holdout's coins, each row alike,
so a generator that never looked at them copies a training one with probability
``p = training uniques / all uniques`` per copied unique. An (epsilon, delta)-DP generator can
raise a record's chance to be copied by at most ``exp(epsilon)`` when it is trained on it
(Kairouz, Oh and Viswanath 2015; delta is neglected), which moves ``p`` to
``q = p e^epsilon / (p e^epsilon + 1 - p)``. The p-value is that of the training copies counted,
one-sided, under Binomial(copies, q): as the empirical epsilon bounds, it treats the records as
independent trials, the customary two-sample approximation. Runs on the custodian's side and is
not part of the DP guarantee.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dpsynth.attacks.risk import AttackColumns
from dpsynth.schema import Schema
from dpsynth.validation import number


@dataclass(frozen=True)
class CopyResult:
    """How many rows that occur once among the real rows have an exact copy in the synthetic table."""

    unique_train: int
    unique_holdout: int
    copied_train: int
    copied_holdout: int

    def p_value(self, epsilon: float = 0.0) -> float:
        """One-sided p-value of this many training copies for a generator that is epsilon-DP
        (0: one that ignores which records it was trained on); 1 when nothing was copied."""
        epsilon = number("epsilon", epsilon, low=0.0)
        copies = self.copied_train + self.copied_holdout
        if copies == 0 or self.unique_holdout == 0:
            return 1.0
        share = self.unique_train / (self.unique_train + self.unique_holdout)
        odds = share / (1 - share) * math.exp(min(epsilon, 700.0))
        return float(stats.binom.sf(self.copied_train - 1, copies, odds / (1 + odds)))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, with the p-value of a generator that ignores its training rows."""
        return {**asdict(self), "p_value": self.p_value()}


def _row_hashes(columns: AttackColumns, frame: pd.DataFrame, argument: str) -> np.ndarray:
    values = columns.values(frame, argument)
    return pd.util.hash_pandas_object(pd.DataFrame(values.T), index=False).to_numpy()


@dataclass(frozen=True)
class CopyMarks:
    """The training rows then the holdout rows, each marked: its side, whether it occurs once among
    them all, whether ``synthetic`` holds an exact copy; with the row hashes and encoded values."""

    columns: AttackColumns
    values: np.ndarray
    hashes: np.ndarray
    train: np.ndarray
    once: np.ndarray
    copied: np.ndarray


def copy_marks(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> CopyMarks:
    """Mark every real row (every encoded column equal: schema codes, raw numeric values)."""
    columns = AttackColumns.of(schema, list(schema.encoded_columns))
    values = np.concatenate([columns.values(train, "train"), columns.values(holdout, "holdout")], axis=1)
    real = pd.util.hash_pandas_object(pd.DataFrame(values.T), index=False).to_numpy()
    _, inverse, counts = np.unique(real, return_inverse=True, return_counts=True)
    return CopyMarks(
        columns=columns,
        values=values,
        hashes=real,
        train=np.arange(len(real)) < len(train),
        once=counts[inverse] == 1,
        copied=np.isin(real, _row_hashes(columns, synthetic, "synthetic")),
    )


def unique_copies(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> CopyResult:
    """Count the training and holdout rows that occur once among both and are copied exactly
    (every encoded column equal: schema codes, raw numeric values) into ``synthetic``."""
    marks = copy_marks(train, holdout, synthetic, schema)
    once, side, copied = marks.once, marks.train, marks.copied
    return CopyResult(
        unique_train=int(np.count_nonzero(once & side)),
        unique_holdout=int(np.count_nonzero(once & ~side)),
        copied_train=int(np.count_nonzero(once & side & copied)),
        copied_holdout=int(np.count_nonzero(once & ~side & copied)),
    )
