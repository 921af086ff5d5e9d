"""Values no other real row shares: does the synthetic table hold a training row's unique value
more often than a held-out row's?

A generator that keeps each column's exact values but never a whole row (each column shuffled on
its own, say) copies no row, so the copy tests see nothing; on coded columns singling out finds
little. But a value that occurs once among the training and holdout rows together (an age of 90,
a country one person comes from) appears in such a synthetic table exactly when its row was
trained on. For each real row holding such a value (in any encoded column) the attack guesses
"training" when the synthetic table holds one of those values in the same column, "held out"
otherwise. Which rows hold such a value is read from training and holdout rows together, never
from their sides, so this is the one-run audit of :mod:`dpsynth.attacks.rare_copies` (Steinke,
Nasr and Jagielski 2023) with one set of guesses and the training share of all real rows. Runs
on the custodian's side and is not part of the DP guarantee.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.attacks.rare_copies import Guesses, guess_rates
from dpsynth.attacks.risk import AttackColumns
from dpsynth.schema import Schema
from dpsynth.validation import number


@dataclass(frozen=True)
class UniqueValueResult:
    """The guesses on the real rows holding a value no other real row shares, with the sides' sizes."""

    n_train: int
    n_holdout: int
    guesses: Guesses  # "copied": the synthetic table holds one of the row's unique values

    def p_value(self, epsilon: float = 0.0) -> float:
        """p-value of the right guesses for an epsilon-DP generator (0: one that ignores its
        training rows); 1 when no row holds such a value."""
        epsilon = number("epsilon", epsilon, low=0.0)
        if self.guesses.rows == 0 or self.n_holdout == 0:
            return 1.0
        return self.guesses.tail(*guess_rates(self.n_train / (self.n_train + self.n_holdout), epsilon))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, with the p-value of a generator that ignores its training rows."""
        return {**asdict(self), "p_value": self.p_value()}


def unique_values(
    train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema
) -> UniqueValueResult:
    """Guess each real row holding a value no other real row shares by whether ``synthetic`` holds it."""
    columns = AttackColumns.of(schema, list(schema.encoded_columns))
    real = np.concatenate([columns.values(train, "train"), columns.values(holdout, "holdout")], axis=1)
    fake = columns.values(synthetic, "synthetic")
    holding = np.zeros(real.shape[1], dtype=bool)
    shown = np.zeros(real.shape[1], dtype=bool)
    for values, made in zip(real, fake, strict=True):
        present = ~np.isnan(values)
        _, inverse, counts = np.unique(values[present], return_inverse=True, return_counts=True)
        alone = np.zeros_like(present)
        alone[present] = counts[inverse] == 1
        holding |= alone
        shown |= alone & np.isin(values, made[~np.isnan(made)])
    side = np.arange(real.shape[1]) < len(train)
    return UniqueValueResult(
        n_train=len(train),
        n_holdout=len(holdout),
        guesses=Guesses(
            rows=int(np.count_nonzero(holding)),
            copied=int(np.count_nonzero(shown)),
            copied_train=int(np.count_nonzero(shown & side)),
            missed=int(np.count_nonzero(holding & ~shown)),
            missed_holdout=int(np.count_nonzero(holding & ~shown & ~side)),
        ),
    )
