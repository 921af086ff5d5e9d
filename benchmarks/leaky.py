"""Leaky generators: non-DP ways to make a synthetic table that the audit must catch.

Each is ``generator(train, schema, rng, planted)`` -> synthetic table with ``train``'s columns;
``planted`` marks the training rows planted as rare outliers (:func:`plant_outliers`), read only
by the generator that memorises them. They measure the certificate's miss rate (issue 23): a
certificate that PASSes one of these has missed a leak.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from dpsynth.generators import create
from dpsynth.privacy.budget import PrivacyUnit
from dpsynth.schema import Numeric, Schema
from dpsynth.workflows.release import ReleaseRefit

JITTER_SHARE = 0.01  # a numeric value moves by up to this share of its column's public range
DP_EPSILON = 1.0  # the DP part of the half-copy and outlier generators
OUTLIER_SHARE = 0.02  # share of a table's rows planted as rare outliers
RARE_QUANTILE = 0.99  # a planted numeric value lies between this quantile and the maximum
RARE_CATEGORIES = 3  # a planted categorical value is one of this many least frequent values

Leaky = Callable[[pd.DataFrame, Schema, np.random.Generator, np.ndarray], pd.DataFrame]


def _shuffled(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)


def _dp(train: pd.DataFrame, schema: Schema, rng: np.random.Generator) -> pd.DataFrame:
    """MST at :data:`DP_EPSILON` with ``schema`` fixed: the part of a generator that is DP."""
    refit = ReleaseRefit("mst", {}, schema, DP_EPSILON, 1e-9, create("mst").parts, PrivacyUnit())
    return refit(train, rng)[list(train.columns)]


def exact_copy(train: pd.DataFrame, schema: Schema, rng: np.random.Generator, planted: np.ndarray) -> pd.DataFrame:
    """The training rows, in a random order."""
    return _shuffled(train, rng)


def jitter(train: pd.DataFrame, schema: Schema, rng: np.random.Generator, planted: np.ndarray) -> pd.DataFrame:
    """The training rows with each numeric value moved by up to JITTER_SHARE of its public range
    (whole numbers by at least 1); coded columns are copied."""
    out = train.copy()
    for name in schema.encoded_columns:
        column = schema[name]
        if not isinstance(column, Numeric) or name not in out.columns:
            continue
        values = pd.to_numeric(out[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        step = JITTER_SHARE * (column.upper - column.lower)
        if column.integer:
            step = max(1.0, np.floor(step))
            moved = values + rng.integers(-step, step + 1, len(values))
        else:
            moved = values + rng.uniform(-step, step, len(values))
        moved = np.clip(moved, column.lower, column.upper)
        out[name] = pd.array(moved, dtype="Int64") if column.integer else moved
    return _shuffled(out, rng)


def half_copy(train: pd.DataFrame, schema: Schema, rng: np.random.Generator, planted: np.ndarray) -> pd.DataFrame:
    """Half the rows copies of a random half of the training rows, half an MST release of them."""
    copied = train.iloc[rng.choice(len(train), len(train) // 2, replace=False)]
    private = _dp(train, schema, rng)
    return _shuffled(pd.concat([copied, private.iloc[: len(train) - len(copied)]], ignore_index=True), rng)


def memorised_outliers(
    train: pd.DataFrame, schema: Schema, rng: np.random.Generator, planted: np.ndarray
) -> pd.DataFrame:
    """An MST release with exact copies of the planted rare training rows in place of some of its rows."""
    private = _dp(train, schema, rng)
    kept = private.iloc[: max(len(private) - int(planted.sum()), 0)]
    return _shuffled(pd.concat([kept, train[planted]], ignore_index=True), rng)


def independent(train: pd.DataFrame, schema: Schema, rng: np.random.Generator, planted: np.ndarray) -> pd.DataFrame:
    """Each column an independent permutation of its training values: no row kept whole, every
    value exact (a unique value of the training data stays unique in the output)."""
    return pd.DataFrame({name: train[name].to_numpy()[rng.permutation(len(train))] for name in train.columns})


LEAKY: dict[str, Leaky] = {
    "exact copy": exact_copy,
    "copy with jitter": jitter,
    "half copy, half MST": half_copy,
    "memorised rare outliers": memorised_outliers,
    "independent columns, exact values": independent,
}


def plant_outliers(
    frame: pd.DataFrame, rng: np.random.Generator, count: int | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """``frame`` with ``count`` of its rows (default OUTLIER_SHARE of them) replaced by rare ones,
    and the mask of those rows.

    Each planted value is drawn on its own: numeric columns between their RARE_QUANTILE quantile
    and their maximum, other columns among their RARE_CATEGORIES least frequent values; the rows
    are planted before the holdout is drawn, so training and holdout rows hold them alike.
    """
    out = frame.copy()
    planted = np.zeros(len(frame), dtype=bool)
    count = max(int(OUTLIER_SHARE * len(frame)), 1) if count is None else count
    planted[rng.choice(len(frame), count, replace=False)] = True
    for name in frame.columns:
        values = frame[name].dropna()
        if pd.api.types.is_numeric_dtype(values) and values.nunique() > 2 * RARE_CATEGORIES:
            tail = np.sort(values[values >= values.quantile(RARE_QUANTILE)].unique())
            drawn = rng.choice(tail, count)
        else:
            rare = values.value_counts(ascending=True).index[:RARE_CATEGORIES].to_numpy()
            drawn = rng.choice(rare, count)
        out.loc[planted, name] = drawn
    return out, planted
