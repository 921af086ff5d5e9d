"""What the database engines share: non-empty groups counted in SQL made into a dense marginal.

An SQL engine returns one row per non-empty cell of the codes it holds; the public code maps
(a coarsened view's, then a count's own) merge cells here, in memory, on tables of public size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dpsynth.data.counting import columns_index

# One marginal asked of an engine: its columns, the public code maps merging them first, and
# the merged sizes the dense table takes.
Query = tuple[Sequence[str], Mapping[str, np.ndarray], Sequence[int]]


def dense_counts(
    clique: Sequence[str], codes: Sequence[np.ndarray], counts: np.ndarray, maps: Sequence[Mapping[str, np.ndarray]],
    sizes: Sequence[int],
) -> np.ndarray:
    """The marginal over ``clique`` shaped ``sizes``, from each group's ``codes`` (one array a
    column) and its count, every column's codes merged by each of ``maps`` in turn first."""
    shape = tuple(int(s) for s in sizes)
    columns = []
    for name, column in zip(clique, codes):
        merged = np.asarray(column, dtype=np.int64)
        for merge in maps:
            if name in merge:
                merged = merge[name][merged]
        columns.append(merged)
    dense = np.zeros(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)
    np.add.at(dense, columns_index(columns, shape), np.asarray(counts, dtype=np.int64))
    return dense.reshape(shape)


def composed(held: Mapping[str, np.ndarray], maps: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The code maps of a view that merges ``held`` codes further by ``maps`` (old code -> new code)."""
    result = dict(held)
    for name, merge in maps.items():
        result[name] = merge[result[name]] if name in result else np.asarray(merge)
    return result


def bounded_sets(sizes: Sequence[int], limit: int) -> list[list[int]]:
    """The positions of ``sizes`` in consecutive sets whose sizes sum to at most ``limit`` (a size
    past the limit alone in its set): queries split so that what one set holds stays bounded."""
    sets: list[list[int]] = []
    total = limit
    for i, size in enumerate(sizes):
        if not sets or total + size > limit:
            sets.append([])
            total = 0
        sets[-1].append(i)
        total += size
    return sets
