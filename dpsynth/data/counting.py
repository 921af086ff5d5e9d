"""Exact contingency tables of integer codes: one flat index and one ``np.bincount``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def columns_index(columns: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """Row-major cell index of each row, given its code in each column (one array a column)."""
    index = np.zeros(len(columns[0]) if columns else 0, dtype=np.int64)
    for column, size in zip(columns, sizes, strict=True):
        index *= int(size)
        index += column
    return index


def flat_index(codes: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Row-major cell index of each row of ``codes`` (shape (n, k)) in a table of ``sizes``."""
    return columns_index([codes[:, j] for j in range(len(sizes))], sizes)


def columns_contingency(columns: Sequence[np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """Counts of every cell of the table over ``columns`` (one code array each), shaped ``sizes``."""
    cells = int(np.prod(sizes, dtype=np.int64))
    counts = np.bincount(columns_index(columns, sizes), minlength=cells)
    return counts.reshape(tuple(int(s) for s in sizes))


def contingency(codes: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Counts of every cell of the table over ``codes``' columns, shaped ``sizes``."""
    return columns_contingency([codes[:, j] for j in range(len(sizes))], sizes)
