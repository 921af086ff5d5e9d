"""The in-memory engine: the codes held once, column-major, at the narrowest dtype the schema allows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from dpsynth.data.counting import columns_contingency
from dpsynth.data.engines.groups import Query


class NumpyCodes:
    """Encoded rows in memory (uint8 or uint16 for schema-sized domains); marginals by one bincount.

    Column-major: every count reads whole columns, so each is one contiguous block.
    """

    def __init__(self, codes: np.ndarray, columns: Sequence[str]) -> None:
        self._codes = np.asfortranarray(codes)
        self._index = {name: j for j, name in enumerate(columns)}

    @property
    def matrix(self) -> np.ndarray:
        """The codes, one column per encoded column (read by DP-SGD)."""
        return self._codes

    def column(self, name: str) -> np.ndarray:
        return self._codes[:, self._index[name]]

    def counts(self, clique: Sequence[str], maps: Mapping[str, np.ndarray], sizes: Sequence[int]) -> np.ndarray:
        """The exact marginal over ``clique``, codes merged by ``maps`` first, shaped ``sizes``
        (the empty clique: the number of rows, as the SQL engines count it)."""
        if not clique:
            return np.array(self._codes.shape[0], dtype=np.int64)
        return columns_contingency([self.column(name) for name in clique], sizes, [maps.get(name) for name in clique])

    def count_set(self, queries: Sequence[Query]) -> list[np.ndarray]:
        """The exact marginal of each query (see :meth:`counts`): one bincount each, in memory."""
        return [self.counts(*query) for query in queries]

    def coarsened(self, maps: Mapping[str, np.ndarray]) -> NumpyCodes:
        """The same rows with some columns' codes merged by ``maps`` (old code -> new code)."""
        codes = self._codes.copy(order="F")
        for name, merge in maps.items():
            j = self._index[name]
            codes[:, j] = merge[codes[:, j]]
        return NumpyCodes(codes, list(self._index))
