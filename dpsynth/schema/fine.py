"""Positions within a numeric bin: the detail the neural and hybrid generators learn.

A bin ``[low, high)`` is cut into ``fine_bins`` equal cells. A float value sits in the cell
holding it. An integer ``k`` stands for the unit ``[k, k + 1)``, so it sits in the cell holding
its centre ``k + 0.5``, and a cell decodes to an integer whose centre it holds: with bins no
wider than ``fine_bins / 2`` integers every integer round-trips exactly. Placing ``k`` at its
left end instead, and flooring a uniform draw in the cell, shifted values by up to a unit, which
on raw Adult cost more than decoding uniformly within the bins did (see
``benchmarks/notes/2026-11-23-neural-and-hybrid.md``).
"""

from __future__ import annotations

import numpy as np


def fine_position(
    values: np.ndarray, low: np.ndarray, high: np.ndarray, integer: bool, fine_bins: int
) -> np.ndarray:
    """Cell (0..fine_bins-1) of each value within its bin ``[low, high)``."""
    offset = 0.5 if integer else 0.0
    position = np.floor((values - low + offset) / (high - low) * fine_bins)
    return np.clip(position, 0, fine_bins - 1).astype(np.int64)


def value_in_cell(
    cell: np.ndarray, low: np.ndarray, high: np.ndarray, integer: bool, fine_bins: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """A value drawn uniformly in each cell of its bin: a float in the cell, or an integer
    whose centre the cell holds (the one whose unit holds the cell's centre if none does)."""
    width = high - low
    if not integer:
        values = low + (cell + rng.random(cell.shape)) / fine_bins * width
        return np.minimum(values, np.nextafter(high, low))
    # Offsets j in 0..width-1 with j + 0.5 in [cell * width / F, (cell + 1) * width / F).
    first = np.ceil(cell * width / fine_bins - 0.5)
    last = np.ceil((cell + 1) * width / fine_bins - 0.5) - 1
    nearest = np.floor((cell + 0.5) * width / fine_bins)
    count = np.maximum(last - first + 1, 0)
    drawn = first + np.floor(rng.random(cell.shape) * count)
    offset = np.where(count > 0, drawn, nearest)
    return (low + np.clip(offset, 0, width - 1)).astype(np.int64)
