"""Positions within a bin: integers round-trip, every cell decodes inside its bin and cell."""

import numpy as np
import pytest

from dpsynth.schema.fine import fine_position, value_in_cell

F = 16


@pytest.mark.parametrize("width", [1, 2, 3, 5, 8])
def test_integers_in_narrow_bins_round_trip_exactly(width):
    rng = np.random.default_rng(0)
    values = np.arange(40, 40 + width, dtype=float).repeat(50)
    low, high = np.full(values.shape, 40.0), np.full(values.shape, 40.0 + width)
    cells = fine_position(values, low, high, True, F)
    assert np.array_equal(value_in_cell(cells, low, high, True, F, rng), values.astype(np.int64))


@pytest.mark.parametrize("width", [3, 11, 16, 40, 3125])
def test_every_integer_cell_decodes_inside_its_bin_and_a_held_centre_stays_in_its_cell(width):
    rng = np.random.default_rng(1)
    cells = np.repeat(np.arange(F), 200)
    low, high = np.zeros(cells.shape), np.full(cells.shape, float(width))
    values = value_in_cell(cells, low, high, True, F, rng)
    assert values.dtype == np.int64 and values.min() >= 0 and values.max() <= width - 1
    holds_a_centre = np.floor((np.arange(width) + 0.5) / width * F)
    back = fine_position(values.astype(float), low, high, True, F)
    kept = np.isin(cells, holds_a_centre)
    assert np.array_equal(back[kept], cells[kept])
    if width >= F:  # each cell then holds at least one centre: cell 0 draws among its own
        first_cell = np.arange(np.ceil(width / F - 0.5))
        assert np.isin(values[cells == 0], first_cell).all()
        if width <= 40:
            assert np.array_equal(np.unique(values[cells == 0]), first_cell)


def test_float_cells_decode_inside_their_cell():
    rng = np.random.default_rng(2)
    cells = np.repeat(np.arange(F), 100)
    low, high = np.full(cells.shape, -2.5), np.full(cells.shape, 7.25)
    values = value_in_cell(cells, low, high, False, F, rng)
    assert np.all((values >= -2.5) & (values < 7.25))
    assert np.array_equal(fine_position(values, low, high, False, F), cells)
