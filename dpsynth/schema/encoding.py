"""Encoding a DataFrame into small integer codes per column, and decoding codes back to values.

Errors name the column and the problem and never quote a value or a count from the data: the
data is private and messages end up in logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from dpsynth.errors import DataError, SchemaError
from dpsynth.schema.columns import Categorical, Datetime, EncodedColumn, Identifier, Numeric, Ordinal
from dpsynth.schema.kinds import parse_numbers
from dpsynth.schema.schema import Schema

_NAT = np.iinfo(np.int64).min
_DAY_NS = 86_400 * 10**9
# The code of a cell its column has no code for (in lenient encoding); the row is then unfit.
UNFIT = -1
# Rows :func:`encode` codes at once: its int64 temporaries take a block's memory, not the table's.
ENCODE_BLOCK_ROWS = 1 << 18


@dataclass(frozen=True)
class EncodedTable:
    """Integer codes of a table: one column per encoded schema column, in schema order.

    ``clipped`` counts, per numeric and datetime column, the cells moved into the declared
    bounds. It is PRIVATE (an exact statistic of the data): never report or log it without
    noise; it exists so the door can measure it under DP. ``unfit`` marks the rows holding a
    cell their column has no code for (missing, or an unknown category, where the column is
    declared without a missing or "other" code); their codes there are 0. It is PRIVATE too.
    Neither these nor the codes appear in the repr.
    """

    codes: np.ndarray = field(repr=False)
    columns: tuple[str, ...]
    sizes: tuple[int, ...]
    clipped: Mapping[str, int] = field(repr=False)
    unfit: np.ndarray = field(repr=False)


def string_forms(values: pd.Index) -> np.ndarray:
    """The string form of each value, by which data matches categories, decided value by value.

    Whole floats lose their ``.0``: pandas reads an integer column with missing cells as floats.
    A float in an object column gets the same form as in a float column, so one other cell that
    turns the column's dtype to object changes no value's form.
    """
    if ptypes.is_float_dtype(values.dtype):
        return _float_forms(values.to_numpy(dtype=float))
    forms = values.astype(str).to_numpy(dtype=object, copy=True)
    if values.dtype == object:
        raw = values.to_numpy(dtype=object)
        floats = _is_float(raw).astype(bool)
        if floats.any():
            forms[floats] = _float_forms(raw[floats].astype(float))
    return forms


_is_float = np.frompyfunc(lambda value: isinstance(value, (float, np.floating)), 1, 1)


def _float_forms(numbers: np.ndarray) -> np.ndarray:
    whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (np.abs(numbers) < 2.0**63)
    forms = numbers.astype(str).astype(object)
    forms[whole] = numbers[whole].astype(np.int64).astype(str)
    return forms


# ----------------------------------------------------------------------------- encoding
def check_columns(frame: pd.DataFrame, schema: Schema) -> None:
    """Refuse a frame whose column names (public metadata) do not match the schema's."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame; got {type(frame).__name__}")
    if not isinstance(schema, Schema):
        raise SchemaError(f"schema must be a Schema; got {type(schema).__name__}")
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        raise DataError(f"column {duplicated[0]!r} appears more than once in the data")
    absent = [name for name in schema.encoded_columns if name not in frame.columns]
    if absent:
        raise SchemaError(f"column(s) {absent} are in the schema but not in the data")
    undeclared = [name for name in frame.columns if name not in schema]
    if undeclared:
        raise SchemaError(
            f"column(s) {undeclared} are in the data but not in the schema: declare them, or declare "
            "them with kind 'identifier' (role 'drop') to leave them out"
        )


def _missing_or_unfit(column: EncodedColumn) -> int:
    """The code of a missing cell: the column's missing code, or :data:`UNFIT` without one."""
    code = column.missing_code
    return UNFIT if code is None else code


def _category_codes(series: pd.Series, column: Categorical | Ordinal, strict: bool) -> np.ndarray:
    if series.dtype == object:
        # factorize hashes True, 1 and 1.0 as one value and keeps whichever comes first, so a
        # cell's form would depend on the other rows: in an object column every cell's form is
        # decided on its own, then factorized.
        present = series.notna().to_numpy()
        forms = np.full(len(series), None, dtype=object)
        forms[present] = string_forms(pd.Index(series.to_numpy()[present], dtype=object))
        codes, distinct = pd.factorize(forms)
        position = pd.Index(column.labels).get_indexer(pd.Index(distinct, dtype=object))
    else:
        # Factorize first so only the distinct values are turned into strings and looked up.
        codes, uniques = pd.factorize(series)
        position = pd.Index(column.labels).get_indexer(pd.Index(string_forms(pd.Index(uniques))))
    unknown = position < 0
    if unknown.any():
        if column.other_code is not None:
            position[unknown] = column.other_code
        elif not strict:
            position[unknown] = _missing_or_unfit(column)
        else:
            raise DataError(
                f"column {column.name!r} has values outside its declared categories ({column.kind}); "
                "declare them, or allow an 'other' code (categorical columns only)"
            )
    # factorize codes a missing cell -1, which indexes the lookup's last entry: one gather, no
    # row-sized temporaries beside the codes and the result.
    lookup = np.append(position, _missing_or_unfit(column)).astype(np.int64)
    return lookup[codes]


def _numbers(series: pd.Series, column: Numeric, missing: np.ndarray, strict: bool) -> np.ndarray:
    """The column as float64, NaN where missing or not a finite number (cell by cell).

    ``strict`` refuses what does not fit the declaration (a check for the custodian);
    otherwise such a cell is read as missing, so it changes only its own row's code.
    """
    dtype = series.dtype
    if strict and (
        ptypes.is_bool_dtype(dtype) or ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype)
    ):
        raise DataError(f"column {column.name!r} holds {dtype} values but is declared numeric")
    values = parse_numbers(series)
    if not strict:
        return values
    if np.any(np.isnan(values) & ~missing):
        raise DataError(f"column {column.name!r} has values that are not finite numbers (declared numeric)")
    if column.integer:
        finite = values[np.isfinite(values)]
        if np.any(finite != np.round(finite)):
            raise DataError(f"column {column.name!r} has values that are not whole numbers (declared integer)")
    return values


def _bin_codes(values: np.ndarray, edges: np.ndarray, bins: int) -> np.ndarray:
    """Bin i of each value, for values already clipped into the bounds (upper joins the last bin)."""
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)


def _numeric_codes(series: pd.Series, column: Numeric, missing: np.ndarray, strict: bool) -> tuple[np.ndarray, int]:
    values = _numbers(series, column, missing, strict)
    missing = np.isnan(values)
    clipped = int(np.count_nonzero((values < column.lower) | (values > column.upper)))
    codes = _bin_codes(np.clip(values, column.lower, column.upper), column.bin_edges, column.bins)
    codes[missing] = _missing_or_unfit(column)
    return codes, clipped


def _timestamps(series: pd.Series, column: Datetime, missing: np.ndarray, strict: bool) -> pd.Series:
    """The column as UTC-naive datetimes, NaT where missing (or, unless ``strict``, not a date)."""
    dtype = series.dtype
    if ptypes.is_datetime64_any_dtype(dtype):
        parsed = series
    elif ptypes.is_numeric_dtype(dtype) or ptypes.is_bool_dtype(dtype):
        if strict:
            raise DataError(
                f"column {column.name!r} holds {dtype} values but is declared datetime (give ISO 8601 text)"
            )
        parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    else:
        # utc=True reads naive text as UTC and converts text with offsets, so mixed zones agree.
        parsed = pd.to_datetime(series, errors="coerce", utc=True, format="ISO8601")
        if strict and np.any(parsed.isna().to_numpy() & ~missing):
            raise DataError(
                f"column {column.name!r} has values that are not dates (declared datetime); "
                "write them as ISO 8601"
            )
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


def _datetime_codes(series: pd.Series, column: Datetime, missing: np.ndarray, strict: bool) -> tuple[np.ndarray, int]:
    parsed = _timestamps(series, column, missing, strict)
    missing = parsed.isna().to_numpy()
    lower, upper = column.lower_timestamp, column.upper_timestamp
    clipped = int(((parsed < lower) | (parsed > upper)).sum())
    # Clip before the cast to nanoseconds: values outside the bounds may not fit in it.
    # pandas-stubs types clip's bounds as numbers only; a datetime Series takes Timestamps.
    clipped_stamps = parsed.clip(lower, upper)  # type: ignore[call-overload]
    nanoseconds = clipped_stamps.to_numpy(dtype="datetime64[ns]").view(np.int64)
    codes = _bin_codes(nanoseconds, column.bin_edges, column.bins)
    codes[missing] = _missing_or_unfit(column)
    return codes, clipped


def _encode_column(series: pd.Series, column: EncodedColumn, strict: bool = False) -> tuple[np.ndarray, int]:
    """Codes of one column and how many of its cells were clipped into bounds (private).

    Unless ``strict``, every cell is coded by itself: one that does not fit its declaration
    becomes missing (or "other"), or :data:`UNFIT` when the column has no code for it, never
    an error that depends on the data.
    """
    missing = series.isna().to_numpy()
    if strict and missing.all():
        raise DataError(f"column {column.name!r} has no values: every value is missing")
    if strict and not column.missing and missing.any():
        raise DataError(f"column {column.name!r} has missing values but is declared with missing=false")
    if isinstance(column, Numeric):
        return _numeric_codes(series, column, missing, strict)
    if isinstance(column, Datetime):
        return _datetime_codes(series, column, missing, strict)
    return _category_codes(series, column, strict), 0


def encode_column(series: pd.Series, column: EncodedColumn) -> np.ndarray:
    """Codes of one column as :func:`encode` gives them, :data:`UNFIT` where it has no code for a cell."""
    return _encode_column(series, column)[0]


def validate(frame: pd.DataFrame, schema: Schema) -> None:
    """Check that ``frame`` matches ``schema``; raise SchemaError or DataError naming the column.

    Every encoded schema column must be in the data and every data column in the schema
    (identifier columns may be absent: they are never read). Each encoded column must have
    some values, values of its declared kind, no missing values when declared without, and no
    values outside its categories unless it has an "other" code.
    """
    check_columns(frame, schema)
    for name in schema.encoded_columns:
        _encode_column(frame[name], schema.encoded(name), strict=True)


def encode(frame: pd.DataFrame, schema: Schema) -> EncodedTable:
    """Codes of every encoded column of ``frame`` (validated as in :func:`validate`).

    Numeric and datetime values are clipped into their bounds before binning; missing values
    get the column's missing code, and so does a cell that does not fit its column (not a
    number, not a date, not a declared category without "other"), so that one record changes
    only its own codes. :func:`validate` reports such cells instead. Identifier columns are not
    encoded.
    """
    check_columns(frame, schema)
    names = schema.encoded_columns
    sizes = tuple(schema.encoded(name).size for name in names)
    # Column-major at the narrowest dtype the sizes allow: the door keeps this one copy.
    codes = np.empty((len(frame), len(names)), dtype=np.min_scalar_type(max(sizes, default=1) - 1), order="F")
    unfit = np.zeros(len(frame), dtype=bool)
    clipped = {}
    for j, name in enumerate(names):
        column = schema.encoded(name)
        clipped_here = 0
        # A block of rows at a time: every cell is coded by itself, so blocks code as the whole
        # column does.
        for start in range(0, len(frame), ENCODE_BLOCK_ROWS):
            rows = slice(start, start + ENCODE_BLOCK_ROWS)
            column_codes, count = _encode_column(frame[name].iloc[rows], column)
            unfit[rows] |= column_codes == UNFIT
            codes[rows, j] = np.maximum(column_codes, 0, out=column_codes)
            clipped_here += count
        if isinstance(column, (Numeric, Datetime)):
            clipped[name] = clipped_here
    return EncodedTable(codes, names, sizes, MappingProxyType(clipped), unfit)


# ----------------------------------------------------------------------------- decoding
def _present(codes: np.ndarray, column: EncodedColumn) -> np.ndarray:
    """Which codes are not the column's missing code."""
    if not column.missing:
        return np.ones(codes.shape, dtype=bool)
    return codes != column.missing_code


def _decode_categories(codes: np.ndarray, column: Categorical | Ordinal) -> pd.Series:
    present = _present(codes, column)
    if not column.other and all(isinstance(c, int) for c in column.categories):
        values = np.asarray(column.categories, dtype=np.int64)[np.where(present, codes, 0)]
        if column.missing:
            return pd.Series(pd.arrays.IntegerArray(values, ~present))
        return pd.Series(values)
    other = (column.other_label,) if isinstance(column, Categorical) and column.other else ()
    labels = np.array(column.labels + other, dtype=object)
    values = labels[np.where(present, codes, 0)]
    values[~present] = None  # type: ignore[call-overload]  # numpy's stubs leave None out of an object array's items
    return pd.Series(values, dtype="str")


def _draw_in_bins(codes: np.ndarray, edges: np.ndarray, whole: bool, rng: np.random.Generator) -> np.ndarray:
    """One value per code, uniform within its bin [e_i, e_{i+1}) (among integers when ``whole``)."""
    low, high = edges[codes], edges[codes + 1]
    if whole:
        return rng.integers(low.astype(np.int64), high.astype(np.int64))
    # low + (high - low) * u can round up to high; keep every draw inside its bin.
    return np.minimum(rng.uniform(low, high), np.nextafter(high, low))


def _decode_numeric(codes: np.ndarray, column: Numeric, rng: np.random.Generator) -> pd.Series:
    present = _present(codes, column)
    drawn = _draw_in_bins(codes[present], column.bin_edges, column.integer, rng)
    if not column.integer:
        if column.decimals is not None:
            # At the written precision; a spike is a value as written, so rounding keeps it.
            drawn = np.clip(np.round(drawn, column.decimals), column.lower, column.upper)
        values = np.full(codes.shape, np.nan)
        values[present] = drawn
        return pd.Series(values)
    values = np.zeros(codes.shape, dtype=np.int64)
    values[present] = drawn
    if column.missing:
        return pd.Series(pd.arrays.IntegerArray(values, ~present))
    return pd.Series(values)


def _decode_datetime(codes: np.ndarray, column: Datetime, rng: np.random.Generator) -> pd.Series:
    present = _present(codes, column)
    values = np.full(codes.shape, _NAT, dtype=np.int64)
    drawn = _draw_in_bins(codes[present], column.bin_edges, True, rng)
    if column.dates:
        # Whole days; a calendar bin starts on a day, so the day stays in its bin.
        drawn = drawn - np.mod(drawn, _DAY_NS)
    values[present] = drawn
    return pd.Series(values.view("datetime64[ns]"))


def fresh_keys(column: Identifier, n_rows: int) -> pd.Series:
    """Keys for ``n_rows`` synthetic rows, none drawn from the real keys (see :class:`Identifier`)."""
    numbers = np.arange(1, n_rows + 1, dtype=np.int64)
    if column.format == "integer":
        return pd.Series(-numbers)
    padded = np.char.zfill(numbers.astype(str), len(str(n_rows)))
    return pd.Series(np.char.add(column.prefix, padded).astype(object), dtype="str")


def decode(codes: np.ndarray, schema: Schema, rng: np.random.Generator) -> pd.DataFrame:
    """Values for codes (one column per encoded schema column), and fresh keys for identifiers
    with role "key" or "unit" (:func:`fresh_keys`), in schema order; "drop" columns are left out.

    Categories decode to their labels (the "other" code to the column's ``other_label``,
    "other" by default) as text, or as integers when every category is an integer and there is
    no "other" code; missing codes decode to NA. Numeric and datetime bins decode to a value
    drawn uniformly within the bin (integer columns: uniformly among the bin's integers; a
    spike's bin holds the spike alone), rounded to the column's ``decimals`` when it has them.
    dtypes: str for text categories, int64 (Int64 with a missing code) for integers, float64,
    datetime64[ns].
    """
    if not isinstance(rng, np.random.Generator):
        raise DataError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    codes = np.asarray(codes)
    names = schema.encoded_columns
    if codes.ndim != 2 or codes.shape[1] != len(names):
        raise DataError(f"codes must be a 2-d array with one column per encoded schema column ({len(names)})")
    if not ptypes.is_integer_dtype(codes.dtype):
        raise DataError(f"codes must be integers; got {codes.dtype}")
    decoded = {}
    for j, name in enumerate(names):
        column = schema.encoded(name)
        column_codes = codes[:, j].astype(np.int64)
        if np.any((column_codes < 0) | (column_codes >= column.size)):
            raise DataError(f"column {name!r}: codes must lie in 0..{column.size - 1}")
        if isinstance(column, Numeric):
            decoded[name] = _decode_numeric(column_codes, column, rng)
        elif isinstance(column, Datetime):
            decoded[name] = _decode_datetime(column_codes, column, rng)
        else:
            decoded[name] = _decode_categories(column_codes, column)
    keys = [c for c in schema.columns if isinstance(c, Identifier) and c.regenerated]
    for key in keys:
        decoded[key.name] = fresh_keys(key, len(codes))
    order = [c.name for c in schema.columns if c.name in decoded]
    return pd.DataFrame(decoded, index=pd.RangeIndex(len(codes)), columns=order)
