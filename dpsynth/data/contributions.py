"""The person-level cap's rule: at most K rows per person, the first of each person's rows in a random order.

Each row naming a person gets a priority of 63 random bits from the release's generator, drawn
in the rows' order (file order, after the holdout) in chunks, so an engine that never holds the
rows can draw the same priorities chunk by chunk, in memory flat in the rows; a person keeps
their rows of lowest (priority, position). Ties have probability below n^2 / 2^64 and are broken
by position. The choice depends only on the person's own rows and fresh randomness, so adding or
removing a person changes at most K rows of what is measured.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from dpsynth.errors import DataError
from dpsynth.privacy.budget import PrivacyUnit

# Priorities drawn at a time: 8 MiB. The stream does not depend on it (random_raw draws the bit
# generator's words in order, whatever the block).
PRIORITY_CHUNK = 1 << 20


def priority_chunks(n_rows: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """The priorities of ``n_rows`` named rows, in order, in blocks of at most PRIORITY_CHUNK (int64)."""
    for start in range(0, n_rows, PRIORITY_CHUNK):
        raw = rng.bit_generator.random_raw(min(PRIORITY_CHUNK, n_rows - start))
        # 63 bits, so engines without an unsigned 64-bit integer (Spark) order them alike.
        yield (raw >> np.uint64(1)).astype(np.int64)


def unit_order(
    frame: pd.DataFrame, unit: PrivacyUnit, rng: np.random.Generator
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The rows that name a person and the order the cap reads them in (None without a unit column)."""
    if unit.column is None:
        return frame, None
    if unit.column not in frame.columns:
        raise DataError(f"privacy unit column '{unit.column}' is not in the data")
    # A row that names no person is left out rather than refused: refusing would tell whether
    # such a row is there, and leaving a row out only protects it more.
    named = frame[frame[unit.column].notna().to_numpy()]
    priorities = np.concatenate([np.empty(0, dtype=np.int64), *priority_chunks(len(named), rng)])
    # A stable sort orders by (priority, position), the engines' ORDER BY.
    return named, np.argsort(priorities, kind="stable")


def bound_contributions(named: pd.DataFrame, order: np.ndarray | None, unit: PrivacyUnit) -> pd.DataFrame:
    """Keep at most ``unit.max_rows`` rows per person: the first of the person's rows in ``order``.

    The DuckDB and Spark engines apply the same rule as a window (row_number over the person,
    by the position in ``order``).
    """
    if order is None:
        return named
    shuffled = named.iloc[order]
    rank = shuffled.groupby(unit.column, sort=False).cumcount().to_numpy()
    return shuffled[rank < unit.max_rows].reset_index(drop=True)


def rank_of(order: np.ndarray | None) -> np.ndarray | None:
    """Each row's position in ``order`` (the rank the cap sorts a person's rows by)."""
    if order is None:
        return None
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank
