"""Distances between real and synthetic tables on a fixed discretisation, and the one call that
gathers every fidelity figure.

These read the real data exactly: they describe a release to its custodian and are not part
of the DP guarantee.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from dpsynth.data.counting import contingency, flat_index
from dpsynth.evaluate.association import correlation_difference
from dpsynth.evaluate.distances import mean_scaled_wasserstein
from dpsynth.evaluate.quality import quality_scores
from dpsynth.evaluate.tstr import tstr_auc
from dpsynth.schema import Categorical, Schema, encode

# Above this many k-way marginals, a fixed-seed uniform sample of them is scored (Adult's 15
# columns have 455 three-way marginals; a wide table has far more).
MAX_MARGINALS = 300
KWAY = (1, 2, 3)


def marginal_tvd(real: np.ndarray, synthetic: np.ndarray, sizes: Sequence[int], columns: Sequence[int]) -> float:
    """Total variation distance between the two tables' marginals over ``columns``.

    Dense counts when the marginal has few cells; otherwise only the cells that occur are
    counted, so a marginal over large domains never allocates its full table.
    """
    columns = list(columns)
    shape = [int(sizes[c]) for c in columns]
    if math.prod(shape) <= 4 * (len(real) + len(synthetic)):
        p = contingency(real[:, columns], shape).ravel() / len(real)
        q = contingency(synthetic[:, columns], shape).ravel() / len(synthetic)
        return 0.5 * float(np.abs(p - q).sum())
    cells = np.concatenate([flat_index(real[:, columns], shape), flat_index(synthetic[:, columns], shape)])
    _, cell = np.unique(cells, return_inverse=True)
    weights = np.concatenate([np.full(len(real), 1.0 / len(real)), np.full(len(synthetic), -1.0 / len(synthetic))])
    return 0.5 * float(np.abs(np.bincount(cell, weights=weights)).sum())


def kway_subsets(n_columns: int, k: int, max_marginals: int | None = MAX_MARGINALS, seed: int = 0) -> list[tuple]:
    """All k-subsets of the columns, or a uniform sample of ``max_marginals`` of them (fixed seed)."""
    subsets = list(itertools.combinations(range(n_columns), k))
    if max_marginals is not None and len(subsets) > max_marginals:
        chosen = np.random.default_rng(seed).choice(len(subsets), size=max_marginals, replace=False)
        subsets = [subsets[i] for i in np.sort(chosen)]
    return subsets


def mean_kway_tvd(
    real: np.ndarray,
    synthetic: np.ndarray,
    sizes: Sequence[int],
    k: int,
    max_marginals: int | None = None,
    seed: int = 0,
) -> float:
    """Mean TVD over the k-way marginals of integer-coded tables (columns in the same order).

    With ``max_marginals``, at most that many marginals are scored, drawn uniformly with ``seed``.
    NaN when the tables have fewer than ``k`` columns.
    """
    subsets = kway_subsets(real.shape[1], k, max_marginals, seed)
    if not subsets:
        return math.nan
    return float(np.mean([marginal_tvd(real, synthetic, sizes, list(s)) for s in subsets]))


def schema_coverage(frame: pd.DataFrame, schema: Schema) -> float:
    """Share of ``frame``'s cells the schema represents as they are: not clipped into a numeric
    or datetime column's bounds, not folded into a categorical "other" code (mean over columns).

    Every other figure here is measured on the schema's codes, so it cannot see what the schema
    itself loses; a schema discovered under DP at a small epsilon may clip or fold a lot.
    """
    encoded = encode(frame, schema)
    lost = []
    for j, name in enumerate(encoded.columns):
        column = schema[name]
        if name in encoded.clipped:
            lost.append(encoded.clipped[name] / len(frame))
        elif isinstance(column, Categorical) and column.other:
            lost.append(float(np.mean(encoded.codes[:, j] == column.other_code)))
        else:
            lost.append(0.0)
    return 1.0 - float(np.mean(lost)) if lost else math.nan


def evaluate_fidelity(
    train: pd.DataFrame,
    test: pd.DataFrame | None,
    synthetic: pd.DataFrame,
    schema: Schema,
    target: str | None = None,
) -> dict[str, float]:
    """Every fidelity figure of ``synthetic`` against the ``train`` rows its generator saw.

    On the schema's codes: mean TVD of the 1-, 2- and 3-way marginals (3-way sampled above
    :data:`MAX_MARGINALS`) and the correlation difference; on values: the mean range-scaled
    Wasserstein distance of numeric columns; the mean column-shape and pair-trend scores
    (:mod:`dpsynth.evaluate.quality`). With ``target`` and ``test``: ROC AUC on ``test`` of a fixed
    model trained on ``synthetic`` (``tstr_auc``) and on ``train`` (``real_auc``). Lower is better
    for every figure except the scores and the AUCs; a figure that does not apply is NaN.
    """
    real = encode(train, schema)
    synth = encode(synthetic, schema).codes
    figures = {
        f"tvd_{k}way": mean_kway_tvd(real.codes, synth, real.sizes, k, max_marginals=MAX_MARGINALS) for k in KWAY
    }
    figures["wasserstein"] = mean_scaled_wasserstein(train, synthetic, schema)
    figures["correlation_difference"] = correlation_difference(train, synthetic, schema)
    scores = quality_scores(train, synthetic, schema)
    figures["column_shape"], figures["pair_trend"] = scores["column_shape"], scores["pair_trend"]
    if target is not None and test is not None:
        figures["tstr_auc"] = tstr_auc(synthetic, test, schema, target)
        figures["real_auc"] = tstr_auc(train, test, schema, target)
    return figures
