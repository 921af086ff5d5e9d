"""Column kinds that are public before anything is measured, and reading cells one value at a time.

A column's kind (categorical, numeric, integer, datetime, identifier) decides how every cell is encoded,
so it must never come from something a parser inferred from the private cells: one cell
``age=CANARY`` would turn a whole column categorical. Kinds come from a declaration (a full
schema, a kinds-only declaration, or dtypes the user states are public) or from a DP decision
over :data:`VALUE_CLASSES` counts (see :mod:`dpsynth.data.discover`). The helpers here read
each cell on its own, so one record changes only its own row's class and value.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pandas.api import types as ptypes

from dpsynth.errors import SchemaError

KIND_NAMES = ("categorical", "numeric", "integer", "datetime", "identifier")
KINDS_FORMAT_KEY = "dpsynth_kinds"
KINDS_FORMAT_VERSION = 1

# Classes of a single cell: the DP kind decision counts them per column. A number with a
# fractional part is classed by its decimals: 1..MAX_DECIDED_DECIMALS (the DECIMALS classes,
# in order), or more (FRACTIONAL); the counts decide a numeric column's precision too.
MAX_DECIDED_DECIMALS = 4
# A cell that is no number but a date (a datetime value, or ISO 8601 text) is a DATE when it
# has no time of day, else a DATETIME; TEXT is what is left.
MISSING, WHOLE, FRACTIONAL, TEXT = range(4)
DECIMALS = tuple(range(4, 4 + MAX_DECIDED_DECIMALS))
DATE, DATETIME = 4 + MAX_DECIDED_DECIMALS, 5 + MAX_DECIDED_DECIMALS
VALUE_CLASSES = ("missing", "whole number", "fractional number", "not a number") + tuple(
    f"number with {d} decimal{'s' if d > 1 else ''}" for d in range(1, MAX_DECIDED_DECIMALS + 1)
) + ("date", "date and time")
_DAY_NS = 86_400 * 10**9
_ISO_START = re.compile(r"\s*[+-]?\d{4}-\d{2}")
# A number has d decimals when rounding it to d changes it by no more than float64 error.
_DECIMAL_TOLERANCE = 1e-9


def parse_numbers(series: pd.Series) -> np.ndarray:
    """Each cell as a finite float64, NaN where missing or not a finite number (cell by cell)."""
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype) or ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        return np.full(len(series), np.nan)
    if ptypes.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
    else:
        # Each distinct value is read once (text columns repeat few values); a cell's number is
        # still its own value's.
        codes, uniques = pd.factorize(series)
        distinct = pd.Series(uniques, dtype=object)
        read = pd.to_numeric(distinct, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
        # A bool is no number, whatever column holds it: one missing cell turns a bool column
        # into an object one, and its other cells must not become 0 and 1 because of it.
        read[_is_bool(distinct.to_numpy(dtype=object)).astype(bool)] = np.nan
        values = np.full(len(series), np.nan)
        values[codes >= 0] = read[codes[codes >= 0]]
    # inf parses as a number but has no place in bounds or bins: it is read as not a number.
    return np.where(np.isfinite(values), values, np.nan)


def parse_instants(series: pd.Series) -> np.ndarray:
    """Each cell as nanoseconds since the epoch (UTC; float64), NaN where missing or not a date.

    Datetime values count as they are (converted to UTC when they have a zone), text when it
    reads as ISO 8601 on its own; numbers never do (a year such as ``2020`` is a number).
    """
    dtype = series.dtype
    if ptypes.is_datetime64_any_dtype(dtype):
        parsed = series if getattr(dtype, "tz", None) is None else series.dt.tz_convert("UTC").dt.tz_localize(None)
    elif ptypes.is_numeric_dtype(dtype) or ptypes.is_bool_dtype(dtype):
        return np.full(len(series), np.nan)
    else:
        # Each distinct value is read once, and only text that starts as an ISO date (YYYY-MM)
        # is handed to the parser: the answer for a cell is still its own value's.
        codes, uniques = pd.factorize(series)
        distinct = pd.Series(uniques, dtype=object)
        text = distinct.where(lambda v: v.map(_looks_iso, na_action="ignore") == True)  # noqa: E712
        read = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601").dt.tz_localize(None)
        # A datetime value counts as it would in a datetime column: one text cell turns such a
        # column into an object one, and its other cells must stay dates because of it.
        stamps = distinct.map(_is_instant, na_action="ignore") == True  # noqa: E712
        if stamps.any():
            read[stamps] = pd.to_datetime(distinct[stamps], utc=True).dt.tz_localize(None)
        instants = _nanoseconds(read)
        return np.where(codes >= 0, instants[np.maximum(codes, 0)] if len(instants) else np.nan, np.nan)
    return _nanoseconds(parsed)


def _is_instant(value: object) -> bool:
    return isinstance(value, (datetime.date, np.datetime64)) and not pd.isna(value)


def _looks_iso(value: object) -> bool:
    return isinstance(value, str) and _ISO_START.match(value) is not None


def _nanoseconds(parsed: pd.Series) -> np.ndarray:
    nanoseconds = parsed.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(float)
    return np.where(parsed.isna().to_numpy(), np.nan, nanoseconds)


_is_bool = np.frompyfunc(lambda value: isinstance(value, (bool, np.bool_)), 1, 1)
# A code written with a leading zero (zip 02134, 007): as a number it would lose the zero.
_LEADING_ZERO = re.compile(r"[+-]?0\d+")
_is_code = np.frompyfunc(lambda value: isinstance(value, str) and bool(_LEADING_ZERO.fullmatch(value.strip())), 1, 1)


def value_classes(series: pd.Series) -> np.ndarray:
    """The class of each cell (:data:`VALUE_CLASSES` index), decided by that cell alone."""
    missing = series.isna().to_numpy()
    numbers = parse_numbers(series)
    # A cell written with a leading zero is text: the kind decision then keeps the zeros.
    number = ~np.isnan(numbers) & ~_is_code(series.to_numpy(dtype=object)).astype(bool)
    whole = number & (numbers == np.round(numbers))
    classes = np.full(len(series), TEXT, dtype=np.int64)
    classes[number] = FRACTIONAL
    # Fewest decimals first: a cell keeps the first class whose rounding leaves it unchanged.
    undecided = number & ~whole
    scale = _DECIMAL_TOLERANCE * np.maximum(np.abs(np.nan_to_num(numbers)), 1.0)
    for decimals, value_class in enumerate(DECIMALS, start=1):
        fits = undecided & (np.abs(np.round(numbers, decimals) - numbers) <= scale)
        classes[fits] = value_class
        undecided &= ~fits
    classes[whole] = WHOLE
    instants = parse_instants(series)
    dated = ~np.isnan(instants)
    classes[dated] = np.where(np.mod(instants[dated], _DAY_NS) == 0, DATE, DATETIME)
    classes[missing] = MISSING
    return classes


def check_kinds(kinds: object) -> dict[str, str]:
    """A validated copy of a kinds declaration (column name -> one of :data:`KIND_NAMES`)."""
    if not isinstance(kinds, Mapping):
        raise SchemaError("a kinds declaration must map column names to kinds")
    checked: dict[str, str] = {}
    for name, kind in kinds.items():
        if not isinstance(name, str) or not name:
            raise SchemaError("a kinds declaration's column names must be non-empty strings")
        if kind not in KIND_NAMES:
            raise SchemaError(f"column {name!r}: unknown kind {kind!r}; expected one of {list(KIND_NAMES)}")
        checked[name] = kind
    return checked


def kinds_from_dtypes(frame: pd.DataFrame) -> dict[str, str]:
    """Kinds read from a DataFrame's dtypes, for a caller who states those dtypes are public.

    Only sound when the dtypes were declared by the user (a typed source), not guessed by a
    parser from the private cells: that is the caller's statement, recorded in the release.
    """
    kinds = {}
    for name in frame.columns:
        dtype = frame[name].dtype
        if ptypes.is_datetime64_any_dtype(dtype):
            kinds[str(name)] = "datetime"
        elif ptypes.is_bool_dtype(dtype) or not ptypes.is_numeric_dtype(dtype):
            kinds[str(name)] = "categorical"
        elif ptypes.is_integer_dtype(dtype):
            kinds[str(name)] = "integer"
        else:
            kinds[str(name)] = "numeric"
    return kinds


def is_kinds_document(document: Any) -> bool:
    """Whether a parsed schema file is a kinds-only declaration."""
    return isinstance(document, Mapping) and KINDS_FORMAT_KEY in document


def kinds_from_document(document: Mapping[str, Any]) -> dict[str, str]:
    """The kinds of a ``{"dpsynth_kinds": 1, "columns": {name: kind}}`` document."""
    version = document.get(KINDS_FORMAT_KEY)
    if isinstance(version, bool) or version != KINDS_FORMAT_VERSION:
        raise SchemaError(
            f"kinds format version {version!r} is not supported (this dpsynth reads {KINDS_FORMAT_VERSION})"
        )
    unknown = sorted(str(key) for key in document if key not in (KINDS_FORMAT_KEY, "columns"))
    if unknown:
        raise SchemaError(f"unknown kinds key(s) {unknown}; allowed: '{KINDS_FORMAT_KEY}', 'columns'")
    return check_kinds(document.get("columns"))


def read_document(path: Path) -> Any:
    """A JSON (by its suffix) or YAML file's parsed content, or None when it cannot be read as one."""
    try:
        # utf-8-sig: a byte-order mark some editors write is not part of the JSON.
        text = path.read_text(encoding="utf-8-sig")
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return None


def read_kinds(path: str | os.PathLike) -> dict[str, str] | None:
    """The kinds a kinds-only declaration file gives, or None when the file is not one
    (unreadable files too: :meth:`Schema.load` then says what is wrong with them). A file that
    is a kinds declaration but a wrong one is refused with what is wrong in it."""
    path = Path(path)
    document = read_document(path)
    if not is_kinds_document(document):
        return None
    try:
        return kinds_from_document(document)
    except SchemaError as error:
        raise SchemaError(f"kinds file '{path}': {error}") from None
