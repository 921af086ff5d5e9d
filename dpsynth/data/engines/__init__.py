"""Counting engines behind the door: where the exact marginals of the encoded rows are counted.

Every engine returns the same exact counts for the same rows (tests/data/test_engines*.py), so
the same seed gives the same release on each; noise is never drawn here but in the door.
"""

from __future__ import annotations

import importlib.util

from dpsynth.errors import DataError

NUMPY = "numpy"
DUCKDB = "duckdb"
ENGINES = (NUMPY, DUCKDB)


def check_engine(name: str) -> str:
    """``name`` when it is an engine this installation can run; DataError otherwise."""
    if name not in ENGINES:
        raise DataError(f"engine must be one of {list(ENGINES)}; got {name!r}")
    if name == DUCKDB and importlib.util.find_spec("duckdb") is None:
        raise DataError("engine 'duckdb' needs the duckdb package: pip install 'dpsynth[duckdb]'")
    return name
