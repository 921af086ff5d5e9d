"""What a plan will cost this machine, judged from public facts before any budget is reserved.

A request that cannot finish (more synthetic cells than memory holds) is refused with the
estimate and what to change, rather than reserving budget and dying of a MemoryError later.
"""

from __future__ import annotations

import os

from dpsynth.errors import DataError
from dpsynth.validation import integer

# Bytes a synthetic cell costs at its peak: its code (8), the decoded value (a float or a
# Python string object, up to ~60 for short text) and the writer's copy.
BYTES_PER_CELL = 128


def physical_memory() -> int:
    """Bytes of physical memory (a large default where the platform does not say)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return 2**40


def check_sample_size(n_rows: int | None, n_columns: int) -> int | None:
    """``n_rows`` (a positive int, or None for the DP estimate) if its table fits in memory."""
    if n_rows is None:
        return None
    n_rows = integer("n_rows", n_rows)
    need = n_rows * max(n_columns, 1) * BYTES_PER_CELL
    have = physical_memory()
    if need > have:
        most = have // (max(n_columns, 1) * BYTES_PER_CELL)
        raise DataError(
            f"n_rows: {n_rows:,} synthetic rows of {n_columns} columns need about {need / 2**30:,.0f} GiB, "
            f"more than this machine's {have / 2**30:,.0f} GiB; ask for at most {most:,} rows (or sample "
            "more later from the saved model, which costs no budget)"
        )
    return n_rows
