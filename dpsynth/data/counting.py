"""Exact contingency tables of integer codes: one flat index and one ``np.bincount``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def flat_index(codes: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Row-major cell index of each row of ``codes`` (shape (n, k)) in a table of ``sizes``."""
    index = np.zeros(codes.shape[0], dtype=np.int64)
    for j, size in enumerate(sizes):
        index *= int(size)
        index += codes[:, j]
    return index


def contingency(codes: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Counts of every cell of the table over ``codes``' columns, shaped ``sizes``."""
    cells = int(np.prod(sizes, dtype=np.int64))
    counts = np.bincount(flat_index(codes, sizes), minlength=cells)
    return counts.reshape(tuple(int(s) for s in sizes))
