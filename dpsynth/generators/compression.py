"""Domain compression (McKenna, Miklau & Sheldon 2021): merge the codes of a column whose
noisy 1-way count is below a few noise deviations into one code, before measuring larger
marginals. The maps are computed from noisy counts only, so they are public post-processing;
:class:`~dpsynth.generators.base.MarginalGenerator` un-merges sampled codes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from dpsynth.models.measurement import Measurement

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


def merged_measurement(column: str, counts: np.ndarray, merge: np.ndarray | None, sigma: float) -> Measurement:
    """The noisy 1-way counts on the merged codes: merged counts add up, and a cell that sums k
    noisy counts has variance k sigma^2, so its precision is 1 / k (private-pgm scales that
    cell's row by 1 / sqrt(k), the same weighting)."""
    if merge is None:
        return Measurement((column,), counts, sigma)
    size = int(merge.max()) + 1
    summed = np.bincount(merge, minlength=size)
    return Measurement((column,), np.bincount(merge, weights=counts, minlength=size), sigma, 1.0 / summed)
