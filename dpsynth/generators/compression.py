"""Domain compression (McKenna, Miklau & Sheldon 2021): merge the codes of a column whose
noisy 1-way count is below a few noise deviations into one code, before measuring larger
marginals. The maps are computed from noisy counts only, so they are public post-processing;
:class:`~dpsynth.generators.base.MarginalGenerator` un-merges sampled codes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

SUPPORT_THRESHOLD = 3.0
"""Codes whose noisy count is below this many noise standard deviations are merged."""


def merge_maps(one_way: Mapping[str, np.ndarray], sigmas: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Code maps (old code -> new code) merging each column's unsupported codes into one."""
    merges = {}
    for column, counts in one_way.items():
        supported = counts >= SUPPORT_THRESHOLD * sigmas[column]
        if supported.all() or (~supported).sum() < 2:
            continue
        new = np.cumsum(supported) - 1
        new[~supported] = int(supported.sum())
        merges[column] = new.astype(np.int64)
    return merges


def merged_size(size: int, merge: np.ndarray | None) -> int:
    """Number of codes of a column after its merge (if any)."""
    return size if merge is None else int(merge.max()) + 1


def merge_counts(counts: np.ndarray, merge: np.ndarray | None) -> np.ndarray:
    """Noisy 1-way counts on the merged codes (merged counts add up)."""
    if merge is None:
        return counts
    return np.bincount(merge, weights=counts, minlength=int(merge.max()) + 1)
