"""Splitting private rows before anything is measured, by an independent coin per unit.

A split whose sizes are a share of the exact row count (``round(0.1 n)``) moves: adding one
record can change the size, so the part that is fitted sees a swap of records, not an added
one, and the release's add/remove guarantee no longer holds. With a coin per unit (Poisson
sampling) adding a unit never moves another: the fitted part of D plus a record is the fitted
part of D, or it plus that record. Coins are exact integer draws, so the probability is the
stated one, not a float's rounding of it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dpsynth.errors import DataError

_RESOLUTION = 2**53


def coins(rng: np.random.Generator, n: int, probability: float) -> np.ndarray:
    """``n`` independent Bernoulli coins, each heads with ``probability`` rounded down to k / 2^53."""
    if not (isinstance(probability, (int, float)) and 0 < probability < 1):
        raise DataError(f"a split share must lie strictly between 0 and 1; got {probability!r}")
    return rng.integers(_RESOLUTION, size=n) < math.floor(probability * _RESOLUTION)


def unit_coins(
    frame: pd.DataFrame, unit_column: str | None, probability: float, rng: np.random.Generator
) -> np.ndarray:
    """One coin per unit (a row, or a person: all their rows together), per row of ``frame``.

    Persons get their coins in the order they first appear; rows naming no person are heads
    (never fitted: the door leaves them out anyway).
    """
    if unit_column is None:
        return coins(rng, len(frame), probability)
    codes, uniques = pd.factorize(frame[unit_column])
    person = coins(rng, len(uniques), probability)
    return np.where(codes >= 0, person[np.maximum(codes, 0)], True)


def cap_units(frame: pd.DataFrame, unit_column: str | None, cap: int, rng: np.random.Generator) -> pd.DataFrame:
    """At most ``cap`` units of ``frame``, a uniform choice among them (all of them when fewer)."""
    keys = frame[unit_column] if unit_column is not None else pd.Series(np.arange(len(frame)))
    units = pd.unique(keys.dropna())
    if len(units) <= cap:
        return frame
    chosen = rng.choice(units, size=cap, replace=False)  # type: ignore[arg-type]  # pandas-stubs: ExtensionArray lacks __array__
    return frame[np.isin(keys.to_numpy(), chosen)].reset_index(drop=True)
