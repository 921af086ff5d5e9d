"""Exact contingency tables counted a block of rows at a time."""

import numpy as np
import pytest

from dpsynth.data import counting
from dpsynth.data.counting import columns_contingency


@pytest.mark.parametrize("block", [1, 7, 100, 10**9])
def test_blocks_of_rows_count_as_the_whole_table(block, monkeypatch):
    # Blocks (the last one partial) add up to the table's counts, merged codes included.
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 250).astype(np.uint8), rng.integers(0, 3, 250).astype(np.uint8)
    merge = np.array([0, 0, 1, 1, 2])
    monkeypatch.setattr(counting, "BLOCK_ROWS", block)
    counts = columns_contingency([a, b], [3, 3], [merge, None])
    expected = np.zeros((3, 3), dtype=np.int64)
    np.add.at(expected, (merge[a], b), 1)
    np.testing.assert_array_equal(counts, expected)
    assert columns_contingency([a], [5]).sum() == 250


def test_no_rows_give_a_table_of_zeros():
    empty = np.array([], dtype=np.uint8)
    np.testing.assert_array_equal(columns_contingency([empty, empty], [2, 3]), np.zeros((2, 3), dtype=np.int64))
