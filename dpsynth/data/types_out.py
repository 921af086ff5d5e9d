"""The dtypes of a synthetic table, decided from public facts only and applied after decoding.

PRIVACY: a dtype is a decision, so it may depend on the schema (kinds, categories and their
order, whether a column may be missing: declared or DP-decided), on the dtypes the user states
are public (``public_dtypes=True``: typed by the user, so copied exactly, time zone, unit, width
and category order included) and on the synthetic values themselves (post-processing). It never
depends on a dtype a parser guessed from the private cells: without ``public_dtypes`` the
input's dtypes are not read at all.

Without declared dtypes: an ordinal column is an ordered pandas Categorical in the schema's
order; a categorical column whose categories are ``True``/``False`` only is bool; an integer
column is int64, nullable Int64 only where the synthetic column holds nulls. A categorical column
that DP discovery found (its kind decided under noise, so on small tables whole numbers may come
out categorical) whose categories are all whole numbers written plainly is int64 too when the
synthetic column holds none of its "other" label (Int64 with nulls).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from dpsynth.schema import Schema
from dpsynth.schema.columns import Categorical, Ordinal
from dpsynth.schema.encoding import string_forms

_FLAGS = {"True": True, "False": False}
_INT64 = np.dtype(np.int64)


@dataclass(frozen=True)
class OutputTypes:
    """The dtypes the user declared public (column -> dtype; empty without ``public_dtypes``)."""

    declared: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, frame: pd.DataFrame, public_dtypes: bool) -> OutputTypes:
        """The declared dtypes of ``frame`` when the user states they are public, else none."""
        if not public_dtypes:
            return cls()
        return cls(MappingProxyType({str(name): frame[name].dtype for name in frame.columns}))

    def apply(self, synthetic: pd.DataFrame, schema: Schema) -> pd.DataFrame:
        """``synthetic`` (as decoded under ``schema``) with each column in its output dtype."""
        typed = {}
        for name in synthetic.columns:
            values = synthetic[name]
            column = schema[name] if name in schema else None
            dtype = self.declared.get(str(name))
            if dtype is not None:
                typed[name] = _declared(values, column, dtype)
            else:
                typed[name] = _from_schema(values, column, discovered=schema.provenance == "dp")
        return pd.DataFrame(typed, index=synthetic.index, columns=synthetic.columns)


def _from_schema(values: pd.Series, column: Any, discovered: bool) -> pd.Series:
    if isinstance(column, Ordinal):
        return _categorical(values, pd.CategoricalDtype(list(column.categories), ordered=True))
    if isinstance(column, Categorical) and not column.other and set(column.labels) <= set(_FLAGS):
        return _flags(values, nullable=bool(values.isna().any()))
    if isinstance(column, Categorical) and discovered and _plain_integers(column.labels):
        codes, labels = pd.factorize(values)
        if not (column.other and column.other_label in set(labels)):
            numbers = np.array([int(label) for label in labels] or [0], dtype=np.int64)[np.maximum(codes, 0)]
            return _whole(pd.Series(pd.arrays.IntegerArray(numbers, codes < 0), index=values.index), nullable=False)
    return _whole(values, nullable=False)


def _plain_integers(labels: tuple[str, ...]) -> bool:
    """Whether every label is a whole number as ``str(int)`` writes it (no leading zero, no sign
    but minus), so that reading it as an integer and writing it back gives the same text."""
    return bool(labels) and all(isinstance(label, str) and label == str(_integer(label)) for label in labels)


def _integer(label: str) -> int | None:
    try:
        return int(label)
    except ValueError:
        return None


def _declared(values: pd.Series, column: Any, dtype: Any) -> pd.Series:
    """``values`` in the dtype the user declared; left as decoded where they cannot take it."""
    # Nullable where the output holds nulls, or where the user's type was nullable and the
    # schema lets the column be missing.
    nullable = isinstance(dtype, pd.api.extensions.ExtensionDtype) and bool(getattr(column, "missing", True))
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical(values, dtype)
    if ptypes.is_bool_dtype(dtype):
        return _flags(values, nullable=nullable)
    if ptypes.is_datetime64_any_dtype(dtype) and ptypes.is_datetime64_any_dtype(values.dtype):
        return _timestamps(values, dtype)
    if ptypes.is_integer_dtype(dtype) and ptypes.is_numeric_dtype(values.dtype):
        return _whole(values, nullable, np.dtype(dtype.name.lower()))
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values


def _categorical(values: pd.Series, dtype: pd.CategoricalDtype) -> pd.Series:
    """Values matched to the dtype's categories by string form; others (the "other" label) appended."""
    categories = list(dtype.categories)
    by_form = dict(zip(string_forms(pd.Index(categories)), categories))
    present = values.notna()
    forms = pd.Series(string_forms(pd.Index(values[present])), index=values.index[present])
    matched = values.astype(object).copy()
    matched[present] = [by_form.get(form, form) for form in forms]
    extra = sorted({form for form in forms if form not in by_form})
    return pd.Series(pd.Categorical(matched, categories=categories + extra, ordered=dtype.ordered), index=values.index)


def _flags(values: pd.Series, nullable: bool) -> pd.Series:
    """True/False from their string forms; anything else (or missing) is NA."""
    present = values.notna()
    forms = pd.Series(string_forms(pd.Index(values[present])), index=values.index[present])
    flags = pd.array([pd.NA] * len(values), dtype="boolean")
    known = forms.isin(list(_FLAGS))
    flags[np.flatnonzero(present.to_numpy())[known.to_numpy()]] = forms[known].map(_FLAGS).to_numpy(dtype=bool)
    series = pd.Series(flags, index=values.index)
    return series if nullable or series.isna().any() else series.astype(bool)


def _whole(values: pd.Series, nullable: bool, width: np.dtype = _INT64) -> pd.Series:
    """Integer values as ``width`` (int64 unless declared), nullable where needed or declared so."""
    if not ptypes.is_integer_dtype(values.dtype):
        return values
    finite = values.dropna()
    info = np.iinfo(width)
    if len(finite) and (finite.min() < info.min or finite.max() > info.max):
        width = _INT64  # a bound past the declared width: wider, never wrapped
    if nullable or values.isna().any():
        return values.astype(pd.api.types.pandas_dtype(width.name.capitalize().replace("Uint", "UInt")))
    return values.astype(width)


def _timestamps(values: pd.Series, dtype: Any) -> pd.Series:
    """Decoded (naive UTC) datetimes in the declared time zone and unit."""
    if isinstance(dtype, pd.DatetimeTZDtype):
        return values.dt.tz_localize("UTC").dt.tz_convert(dtype.tz).dt.as_unit(dtype.unit)
    return values.dt.as_unit(np.datetime_data(dtype)[0])
