"""Distances between real and synthetic tables on a fixed discretisation.

These read the real data exactly: they describe a release to its custodian and are not part
of the DP guarantee.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from dpsynth.data.counting import contingency


def marginal_tvd(real: np.ndarray, synthetic: np.ndarray, sizes: Sequence[int], columns: Sequence[int]) -> float:
    """Total variation distance between the two tables' marginals over ``columns``."""
    shape = [sizes[c] for c in columns]
    p = contingency(real[:, columns], shape).ravel() / len(real)
    q = contingency(synthetic[:, columns], shape).ravel() / len(synthetic)
    return 0.5 * float(np.abs(p - q).sum())


def mean_kway_tvd(real: np.ndarray, synthetic: np.ndarray, sizes: Sequence[int], k: int) -> float:
    """Mean TVD over all k-way marginals of integer-coded tables (columns in the same order)."""
    subsets = itertools.combinations(range(real.shape[1]), k)
    return float(np.mean([marginal_tvd(real, synthetic, sizes, list(s)) for s in subsets]))
