"""Writing a synthetic table as CSV, Parquet, Arrow IPC (Feather) or Excel.

The format is the caller's choice, else the input file's (a table given in memory is written as
CSV). Nulls are written with the user's null token (the first of their ``na_values``: public,
they typed it) in CSV and Excel; Parquet and Arrow keep nulls as nulls and every dtype as it is.
A table given as chunks (:func:`write_chunks`) is written chunk by chunk, so memory stays that of
one chunk however many rows there are (Excel, which has no appending writer, excepted).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from dpsynth.data.frames import optional, pandas_to_arrow
from dpsynth.data.load import ARROW, CSV, EXCEL, PARQUET
from dpsynth.errors import DataError

SUFFIXES = {CSV: ".csv", PARQUET: ".parquet", ARROW: ".arrow", EXCEL: ".xlsx"}
FORMATS = tuple(SUFFIXES)
EXCEL_MAX_ROWS = 1_048_576  # rows in a sheet, the header's included


def output_format(requested: str | None, source: str | None) -> str:
    """The format to write: the one requested, else the input file's, else CSV."""
    if requested is None:
        return source or CSV
    if requested not in SUFFIXES:
        raise DataError(f"format must be one of {list(FORMATS)}; got {requested!r}")
    return requested


def file_name(stem: str, fmt: str) -> str:
    """``stem`` with the format's suffix (synthetic.csv, synthetic.parquet, ...)."""
    return stem + SUFFIXES[fmt]


def null_token(na_values: Sequence[str]) -> str:
    """The token written for a null in text formats: the user's first ``na_values``, else empty."""
    tokens = [na_values] if isinstance(na_values, str) else list(na_values)
    return tokens[0].strip() if tokens else ""


def write_table(frame: pd.DataFrame, path: str | os.PathLike, fmt: str, na_token: str = "") -> None:
    """Write ``frame`` (no index) to ``path`` in ``fmt``."""
    path = Path(path)
    if fmt == CSV:
        frame.to_csv(path, index=False, na_rep=na_token)
    elif fmt == PARQUET:
        optional("pyarrow.parquet", "writing a Parquet file").write_table(pandas_to_arrow(frame), path)
    elif fmt == ARROW:
        optional("pyarrow.feather", "writing an Arrow file").write_feather(pandas_to_arrow(frame), path)
    elif fmt == EXCEL:
        optional("openpyxl", "writing an Excel file")
        if len(frame) >= EXCEL_MAX_ROWS:  # the row count is the caller's or a DP estimate: public
            raise DataError(
                f"an Excel sheet holds at most {EXCEL_MAX_ROWS - 1} rows under its header; choose another format"
            )
        # Excel has no time zones: times are written as wall-clock times in their own zone.
        naive = {name: frame[name].dt.tz_localize(None) for name in frame.columns
                 if isinstance(frame[name].dtype, pd.DatetimeTZDtype)}
        frame.assign(**naive).to_excel(path, index=False, na_rep=na_token, engine="openpyxl")
    else:
        raise DataError(f"format must be one of {list(FORMATS)}; got {fmt!r}")


def write_chunks(chunks: Iterable[pd.DataFrame], path: str | os.PathLike, fmt: str, na_token: str = "") -> None:
    """Write the rows of ``chunks`` (frames with the same columns) to ``path`` in ``fmt`` as one table,
    holding one chunk at a time: CSV appended, Parquet one row group and Arrow one batch per chunk.

    A column's pandas dtype may differ between chunks (a flag column is nullable only in chunks
    that hold a null), so each later chunk is cast to the first chunk's Arrow schema.
    """
    path = Path(path)
    if fmt not in SUFFIXES:
        raise DataError(f"format must be one of {list(FORMATS)}; got {fmt!r}")
    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None or fmt == EXCEL:
        rest = [] if first is None else [first, *chunks]
        write_table(pd.concat(rest, ignore_index=True) if rest else pd.DataFrame(), path, fmt, na_token)
        return
    with open(path, "wb") as handle:
        if fmt == CSV:
            first.to_csv(handle, index=False, na_rep=na_token)
            for chunk in chunks:
                chunk.to_csv(handle, index=False, header=False, na_rep=na_token)
            return
        table = pandas_to_arrow(first)
        schema = table.schema
        writer = _arrow_writer(handle, schema, fmt)
        writer.write_table(table)
        for chunk in chunks:
            writer.write_table(pandas_to_arrow(chunk).cast(schema))
        writer.close()


def _arrow_writer(handle: Any, schema: Any, fmt: str) -> Any:
    if fmt == PARQUET:
        return optional("pyarrow.parquet", "writing a Parquet file").ParquetWriter(handle, schema)
    return optional("pyarrow.ipc", "writing an Arrow file").new_file(handle, schema)
