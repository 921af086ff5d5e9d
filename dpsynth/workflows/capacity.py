"""What a plan will cost this machine, judged from public facts before any budget is reserved.

A request that cannot finish (more synthetic cells than memory holds, more columns than a
method's selection can search) is refused with the estimate and what to change, rather than
reserving budget and running for hours or dying of a MemoryError later. The facts used are
public: the number of columns (the header), the method, the rows asked for; never the private
row count.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dpsynth.errors import DataError
from dpsynth.validation import integer

# Bytes a synthetic cell costs at its peak: its code (8), the decoded value (a float or a
# Python string object, up to ~60 for short text) and the writer's copy.
BYTES_PER_CELL = 128


# Bytes a streamed synthetic cell takes on disk at least (a compressed Parquet code; CSV text
# takes more): a request whose file could not fit even so is refused before anything is spent.
DISK_BYTES_PER_CELL = 1


def check_stream_size(n_rows: int, n_columns: int, out: Path) -> int:
    """``n_rows`` if a file of that many streamed rows could fit on the disk ``out`` is written to."""
    place = out.absolute()
    while not place.exists():
        place = place.parent
    free = shutil.disk_usage(place).free
    need = n_rows * max(n_columns, 1) * DISK_BYTES_PER_CELL
    if need > free:
        most = free // (max(n_columns, 1) * DISK_BYTES_PER_CELL)
        raise DataError(
            f"n_rows: {n_rows:,} synthetic rows of {n_columns} columns need at least {need / 2**30:,.0f} GiB of "
            f"disk, more than the {free / 2**30:,.0f} GiB free where the release is written; ask for at most "
            f"{most:,} rows"
        )
    return n_rows


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


# The most columns each method takes at once. MST and PrivBayes search pairs (MST scores every
# remaining pair in each of its d - 1 rounds: about d^3 / 6 scorings, 4.5 million at 300
# columns, minutes with small domains); AIM scores up to 500 workload sets in each of its rounds
# (16 d planned, at most 160 up to 53 columns) and refits the model between them; the neural
# generators' cost grows with the vocabulary. Measured growth is on the results page (wide tables).
MAX_COLUMNS = {"mst": 400, "privbayes": 400, "aim": 100, "hybrid": 100, "neural": 1000}


def check_width(method: str, n_columns: int) -> None:
    """Refuse a table wider than ``method`` can be fitted to in reasonable time (public facts only)."""
    limit = MAX_COLUMNS.get(method)
    if limit is None or n_columns <= limit:
        return
    raise DataError(
        f"{n_columns} columns are more than {method} takes at once ({limit}): its search over column "
        f"pairs grows as the cube of the columns and would run for hours; release at most {limit} columns "
        "(leave out identifiers and free text, or split the table into groups of related columns)"
        + ("" if method == "mst" else ", or use mst (up to 400 columns)")
    )
