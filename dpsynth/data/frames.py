"""pandas, polars, pyarrow and Spark tables in, the same kind of table out: everything in between is pandas.

polars and pyarrow are imported only when such a table is given (or a Parquet or Arrow file is
read or written), so ``import dpsynth`` stays light. A polars frame and a Spark DataFrame go
through Arrow, so every reader turns one Arrow table into pandas the same way
(:func:`arrow_to_pandas`); a Spark DataFrame is collected to the driver here, on engines 'numpy'
and 'duckdb' (engine 'spark' reads it where Spark holds it:
:meth:`dpsynth.data.engines.spark_rows.SparkRows.from_frame`).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import pandas as pd

from dpsynth.errors import DataError

PANDAS, POLARS, PYARROW, PYSPARK = "pandas", "polars", "pyarrow", "pyspark"
# The extra that installs an optional reader, named in the error when it is missing.
_EXTRA = {"openpyxl": "excel"}


def optional(module: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or raise one line naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        extra = f"'dpsynth[{_EXTRA[package]}]' or " if package in _EXTRA else ""
        raise DataError(f"{purpose} needs {package}: pip install {extra}{package}") from None


def library_of(data: object) -> str | None:
    """Which library's table ``data`` is (pandas, polars, pyarrow or pyspark), read from its type only."""
    if isinstance(data, pd.DataFrame):
        return PANDAS
    root = type(data).__module__.split(".")[0]
    if root == POLARS and type(data).__name__ == "DataFrame":
        return POLARS
    if root == PYARROW and type(data).__name__ in ("Table", "RecordBatch"):
        return PYARROW
    if root == PYSPARK and type(data).__name__ == "DataFrame":
        return PYSPARK
    return None


def to_pandas(data: Any) -> pd.DataFrame:
    """A pandas DataFrame of a pandas, polars, pyarrow or Spark table (the same object for pandas)."""
    library = library_of(data)
    if library == PANDAS:
        return data
    if library == POLARS:
        return arrow_to_pandas(data.to_arrow())
    if library == PYARROW:
        return arrow_to_pandas(data)
    if library == PYSPARK:
        return arrow_to_pandas(data.toArrow())
    raise DataError(
        "data must be a pandas DataFrame, a polars, pyarrow or Spark table, or a file path; "
        f"got {type(data).__name__}"
    )


def arrow_to_pandas(table: Any) -> pd.DataFrame:
    """pandas columns that keep Arrow's types: integers and booleans as pandas' nullable types
    (an Arrow field may hold nulls), timestamps with their unit and time zone, dictionaries as
    categoricals (with their order), strings as text."""
    pa = optional("pyarrow", "reading Arrow data")
    nullable = {
        pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(), pa.bool_(): pd.BooleanDtype(),
    }
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    return table.to_pandas(types_mapper=nullable.get, coerce_temporal_nanoseconds=False)


def with_dtypes(frame: pd.DataFrame, header: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (an engine's cells, named as ``header``) cast to ``header``'s dtypes: the cells
    as :func:`dpsynth.data.load.read_data` gives them, whatever types the engine held them in."""
    for name, dtype in header.dtypes.items():
        frame[name] = in_dtype(frame[name], dtype)
    return frame


def in_dtype(values: pd.Series, dtype: Any) -> pd.Series:
    """``values`` cast to ``dtype``, a file's dtype read from its schema: a category dtype read
    there lists no categories (a schema holds none), so the cells' own labels become its categories."""
    if isinstance(dtype, pd.CategoricalDtype) and len(dtype.categories) == 0:
        dtype = pd.CategoricalDtype(ordered=dtype.ordered)
    return values if values.dtype == dtype else values.astype(dtype)


def pandas_to_arrow(frame: pd.DataFrame) -> Any:
    """An Arrow table of ``frame``'s columns (no index)."""
    pa = optional("pyarrow", "writing Arrow data")
    return pa.Table.from_pandas(frame, preserve_index=False)


def like(frame: pd.DataFrame, library: str) -> Any:
    """``frame`` as a table of ``library`` (pandas, polars, pyarrow or pyspark): what the caller gave."""
    if library == PYSPARK:
        from pyspark.sql import SparkSession

        return SparkSession.builder.getOrCreate().createDataFrame(pandas_to_arrow(frame))
    if library == POLARS:
        return optional("polars", "returning a polars table").from_arrow(pandas_to_arrow(frame))
    if library == PYARROW:
        return pandas_to_arrow(frame)
    return frame
