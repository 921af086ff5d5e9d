"""A made-up wide table with a public schema: categoricals of 2 to 300 categories and binned
numerics, correlated through a few latent variables, drawn from one seeded numpy Generator.

It stands in for the wide hospital and census tables of issue 20 (not shipped): its column
count, domain sizes and dependence are what make the marginal generators' selection and model
size grow, and nothing in it is real.

    frame, schema = wide_table(n_rows=100_000, n_columns=50, seed=0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dpsynth.schema import Categorical, Numeric, Schema

#: Categories per categorical column, cycled: mostly small, a few wide (codes, industries).
CATEGORY_SIZES = (2, 5, 12, 3, 40, 7, 2, 150, 4, 9, 25, 300, 6, 3, 60)
#: Every fifth column is numeric, cut into this many uniform bins.
NUMERIC_BINS = 20
LATENT = 4


def wide_table(n_rows: int = 100_000, n_columns: int = 50, seed: int = 0) -> tuple[pd.DataFrame, Schema]:
    """``n_rows`` rows of ``n_columns`` columns and their public schema (no missing values).

    Column j loads on latent variable j mod 4 with a loading in [0.5, 0.95]; a categorical
    cuts that score at quantiles of a Zipf-like distribution over its categories (so some are
    rare), a numeric scales it onto [0, 100].
    """
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_rows, LATENT))
    data: dict[str, np.ndarray] = {}
    columns: list[Categorical | Numeric] = []
    for j in range(n_columns):
        loading = rng.uniform(0.5, 0.95)
        score = loading * latent[:, j % LATENT] + np.sqrt(1 - loading**2) * rng.standard_normal(n_rows)
        name = f"c{j:02d}"
        if j % 5 == 4:
            data[name] = np.clip(50 + 15 * score, 0, 100)
            columns.append(Numeric(name, 0, 100, bins=NUMERIC_BINS, missing=False))
            continue
        size = CATEGORY_SIZES[(j - j // 5) % len(CATEGORY_SIZES)]
        share = 1.0 / np.arange(1, size + 1) ** 0.8
        cuts = np.quantile(score, np.cumsum(share / share.sum())[:-1])
        labels = rng.permutation(size)
        data[name] = labels[np.searchsorted(cuts, score)]
        columns.append(Categorical(name, categories=tuple(range(size)), other=False, missing=False))
    return pd.DataFrame(data), Schema(tuple(columns), provenance="public")
