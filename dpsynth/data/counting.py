"""Exact contingency tables of integer codes: a flat index and ``np.bincount``, a block of rows at a time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Rows counted at once: the flat index of a block is 2 MiB of int64.
BLOCK_ROWS = 1 << 18


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


def columns_contingency(
    columns: Sequence[np.ndarray], sizes: Sequence[int], maps: Sequence[np.ndarray | None] | None = None
) -> np.ndarray:
    """Counts of every cell of the table over ``columns`` (one code array each), shaped ``sizes``;
    a column's codes are first merged by its entry of ``maps`` (old code -> new code) if any.

    Rows are counted a block of :data:`BLOCK_ROWS` at a time, so the flat index and the merged
    codes, int64 arrays of the rows, take a block's memory, not the table's.
    """
    cells = int(np.prod(sizes, dtype=np.int64))
    maps = [None] * len(columns) if maps is None else list(maps)
    rows = len(columns[0]) if columns else 0
    counts = np.zeros(cells, dtype=np.int64)
    for start in range(0, rows, BLOCK_ROWS):
        block = [c[start:start + BLOCK_ROWS] if m is None else m[c[start:start + BLOCK_ROWS]]
                 for c, m in zip(columns, maps, strict=True)]
        counts += np.bincount(columns_index(block, sizes), minlength=cells)
    return counts.reshape(tuple(int(s) for s in sizes))


def contingency(codes: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Counts of every cell of the table over ``codes``' columns, shaped ``sizes``."""
    return columns_contingency([codes[:, j] for j in range(len(sizes))], sizes)
