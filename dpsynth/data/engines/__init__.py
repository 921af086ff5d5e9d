"""Counting engines behind the door: where the exact marginals of the encoded rows are counted.

Every engine returns the same exact counts for the same rows (tests/data/test_engines*.py), so
the same seed gives the same release on each; noise is never drawn here but in the door.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

from dpsynth.errors import DataError

NUMPY = "numpy"
DUCKDB = "duckdb"
SPARK = "spark"
ENGINES = (NUMPY, DUCKDB, SPARK)
# The package each engine needs beyond dpsynth's own, and the extra that installs it.
_NEEDS = {DUCKDB: ("duckdb", "duckdb"), SPARK: ("pyspark", "spark")}


def check_engine(name: str) -> str:
    """``name`` when it is an engine this installation can run; DataError otherwise."""
    if name not in ENGINES:
        raise DataError(f"engine must be one of {list(ENGINES)}; got {name!r}")
    if name in _NEEDS and importlib.util.find_spec(_NEEDS[name][0]) is None:
        package, extra = _NEEDS[name]
        raise DataError(f"engine '{name}' needs the {package} package: pip install 'dpsynth[{extra}]'")
    # Spark's driver runs in a JVM: refused here, before anything is charged, rather than when
    # the rows are encoded (a Spark Connect client, SPARK_REMOTE, needs none).
    if name == SPARK and not (shutil.which("java") or "JAVA_HOME" in os.environ or "SPARK_REMOTE" in os.environ):
        raise DataError("engine 'spark' needs Java 17 or later (java on the PATH, or JAVA_HOME)")
    return name
