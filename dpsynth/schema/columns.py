"""Column kinds of a schema: what a column holds and how it maps to integer codes.

Every kind is a frozen dataclass that checks itself on creation (a :class:`SchemaError` naming
the column) and round-trips through :meth:`describe` and :func:`column_from_dict`. Everything
in a column is public metadata, so messages may quote it.

Matching data to categories: a value matches a category when their string forms are equal
(``str``), so a column read from CSV as integers or as text matches the same schema. A whole
float such as ``3.0`` (how pandas reads an integer column with missing cells) matches ``3``.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from dpsynth.errors import SchemaError

OTHER_LABEL = "other"
IDENTIFIER_ROLES = ("drop", "key", "unit")
KEY_FORMATS = ("integer", "text")
KEY_PREFIX = "syn-"
# Integer bounds must be exact in float64, where numeric values are compared.
MAX_INTEGER_BOUND = 2**53


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name:
        raise SchemaError(f"a column name must be a non-empty string; got {type(name).__name__}")


def _check_flag(name: str, field: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise SchemaError(f"column {name!r}: {field} must be true or false; got {type(value).__name__}")


def _check_bins(name: str, bins: Any) -> int:
    if isinstance(bins, (bool, np.bool_)) or not isinstance(bins, numbers.Integral) or bins < 1:
        raise SchemaError(f"column {name!r}: bins must be a positive integer; got {bins!r}")
    return int(bins)


def _number(name: str, field: str, value: Any) -> float:
    """A finite float from a number, or from text such as YAML's ``1.5e6`` (which it reads as text)."""
    if isinstance(value, (bool, np.bool_)):
        raise SchemaError(f"column {name!r}: {field} must be a number; got a boolean")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SchemaError(f"column {name!r}: {field} must be a number; got {value!r}") from None
    if not math.isfinite(number):
        raise SchemaError(f"column {name!r}: {field} must be finite; got {value!r}")
    return number


def _categories(name: str, categories: Any, allow_empty: bool) -> tuple:
    if isinstance(categories, (str, bytes, Mapping)) or not isinstance(categories, Iterable):
        raise SchemaError(f"column {name!r}: categories must be a list of strings or integers")
    kept: list[int | str] = []
    for category in categories:
        if isinstance(category, (bool, np.bool_)):
            raise SchemaError(
                f"column {name!r}: category {category!r} is a boolean; write it as text "
                "(in YAML, quote yes/no/true/false)"
            )
        if isinstance(category, numbers.Integral):
            kept.append(int(category))
        elif isinstance(category, str):
            kept.append(str(category))
        else:
            raise SchemaError(
                f"column {name!r}: categories must be strings or integers; got {type(category).__name__}"
            )
    if not kept and not allow_empty:
        raise SchemaError(f"column {name!r}: categories must not be empty")
    seen = set()
    for category in kept:
        if str(category) in seen:
            raise SchemaError(
                f"column {name!r}: category {category!r} is listed twice "
                "(categories are compared by their string form)"
            )
        seen.add(str(category))
    return tuple(kept)


def _plain(value: float) -> int | float:
    """A whole float as int, so schema files read ``100`` rather than ``100.0``."""
    return int(value) if float(value).is_integer() else float(value)


def _whole_edges(edges: tuple[float, ...], upper: float) -> np.ndarray:
    """Integer boundaries of explicit edges: an integer k lies in [e_i, e_{i+1}) iff ceil(e_i) <= k < ceil(e_{i+1})."""
    return np.ceil(np.array(edges[:-1] + (upper + 1,)))


def _integer_edges(lower: int, upper: int, bins: int) -> np.ndarray:
    """``bins + 1`` integer edges from ``lower`` to ``upper + 1``; bin i holds [e_i, e_{i+1}).

    Python integers keep this exact for nanosecond timestamps; ``bins`` never exceeds the number
    of integers, so every bin holds at least one.
    """
    count = upper - lower + 1
    return np.array([lower + (count * i) // bins for i in range(bins + 1)], dtype=np.int64)


class _CategoryCodes:
    """Codes shared by Categorical and Ordinal: categories, then "other", then missing."""

    # Declared for the type checker; each subclass defines them (Ordinal's ``other`` is a
    # class constant, False, hence a read-only property here).
    categories: tuple
    missing: bool
    if TYPE_CHECKING:

        @property
        def other(self) -> bool: ...

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """String form of each category, the form data values are matched by."""
        return tuple(str(category) for category in self.categories)

    @property
    def other_code(self) -> int | None:
        return len(self.categories) if self.other else None

    @property
    def missing_code(self) -> int | None:
        return len(self.categories) + int(self.other) if self.missing else None

    @property
    def size(self) -> int:
        return len(self.categories) + int(self.other) + int(self.missing)


@dataclass(frozen=True)
class Categorical(_CategoryCodes):
    """Unordered categories: one code each, then "other" if ``other``, then missing if ``missing``.

    With ``other``, values not in ``categories`` fold into one code (used when the set was
    discovered under DP and rare values were folded); decoding writes it as ``other_label``.
    ``categories`` may then be empty. Without ``other``, a value outside the list is an error.
    """

    name: str
    categories: tuple
    other: bool = False
    missing: bool = True
    other_label: str = OTHER_LABEL
    kind: ClassVar[str] = "categorical"

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_flag(self.name, "other", self.other)
        _check_flag(self.name, "missing", self.missing)
        object.__setattr__(self, "categories", _categories(self.name, self.categories, allow_empty=self.other))
        if not isinstance(self.other_label, str):
            raise SchemaError(f"column {self.name!r}: other_label must be a string")
        if self.other and self.other_label in self.labels:
            raise SchemaError(
                f"column {self.name!r}: the other label {self.other_label!r} is also a category; "
                "choose another other_label"
            )

    def describe(self) -> dict[str, Any]:
        """The column as a plain dict (the schema file's form)."""
        described = {
            "name": self.name,
            "kind": self.kind,
            "categories": list(self.categories),
            "other": bool(self.other),
            "missing": bool(self.missing),
        }
        if self.other_label != OTHER_LABEL:
            described["other_label"] = self.other_label
        return described


@dataclass(frozen=True)
class Ordinal(_CategoryCodes):
    """Ordered categories (codes follow the given order), then missing if ``missing``; no "other"."""

    name: str
    categories: tuple
    missing: bool = True
    kind: ClassVar[str] = "ordinal"
    other: ClassVar[bool] = False

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_flag(self.name, "missing", self.missing)
        object.__setattr__(self, "categories", _categories(self.name, self.categories, allow_empty=False))

    def describe(self) -> dict[str, Any]:
        """The column as a plain dict (the schema file's form)."""
        return {
            "name": self.name, "kind": self.kind, "categories": list(self.categories), "missing": bool(self.missing)
        }


# A value is a spike when it holds SPIKE_RATIO times the mean of the other values of its bin;
# at most MAX_SPIKES per column (each cuts up to two more bins). DP discovery applies the rule to
# noisy counts, a drafted schema (infer_schema) to exact ones.
SPIKE_RATIO = 4.0
MAX_SPIKES = 8


@dataclass(frozen=True)
class Numeric:
    """Numbers clipped into [lower, upper] and cut into bins; codes 0..bins-1, then missing.

    Bins are uniform unless ``edges`` are given (strictly increasing, from ``lower`` to
    ``upper``: DP-quantile bins arrive this way; ``bins`` then becomes ``len(edges) - 1``).
    Integer columns need whole bounds, get at most one bin per integer (``bins`` is capped),
    and every integer belongs to exactly one bin, so bins of width one round-trip exactly.

    ``spikes`` are values that hold a large share of rows (0 in amounts, 40 in hours, a top
    code): each gets a bin of its own that holds only it, cut out of the bin it falls in, so
    it decodes exactly (``bins`` then counts those bins too; :meth:`describe` keeps the
    declared number). ``decimals`` is the precision values are written at: decoded values
    are rounded to it.
    """

    name: str
    lower: float
    upper: float
    integer: bool = False
    bins: int = 32
    edges: tuple[float, ...] | None = None
    missing: bool = True
    spikes: tuple[float, ...] = ()
    decimals: int | None = None
    # The number of bins declared (or capped, or given by ``edges``), before spikes cut theirs.
    _declared_bins: int = dataclasses.field(default=0, init=False, repr=False, compare=False)
    kind: ClassVar[str] = "numeric"

    def __post_init__(self) -> None:
        _check_name(self.name)
        name = self.name
        _check_flag(name, "integer", self.integer)
        _check_flag(name, "missing", self.missing)
        lower, upper = _number(name, "lower", self.lower), _number(name, "upper", self.upper)
        if not lower < upper:
            raise SchemaError(f"column {name!r}: lower ({lower}) must be below upper ({upper})")
        if self.integer:
            if not (lower.is_integer() and upper.is_integer()):
                raise SchemaError(f"column {name!r}: an integer column needs whole-number bounds")
            if max(abs(lower), abs(upper)) > MAX_INTEGER_BOUND:
                raise SchemaError(f"column {name!r}: integer bounds must lie within +-2**53")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        bins = _check_bins(name, self.bins)
        if self.edges is None:
            if self.integer:
                bins = min(bins, int(upper - lower) + 1)
        else:
            edges = self._checked_edges(lower, upper)
            object.__setattr__(self, "edges", edges)
            bins = len(edges) - 1
        object.__setattr__(self, "_declared_bins", bins)
        object.__setattr__(self, "spikes", _checked_spikes(name, self.spikes, lower, upper, self.integer))
        object.__setattr__(self, "decimals", _checked_decimals(name, self.decimals))
        object.__setattr__(self, "bins", len(self.bin_edges) - 1)

    def _checked_edges(self, lower: float, upper: float) -> tuple[float, ...]:
        name = self.name
        if isinstance(self.edges, (str, bytes)) or not isinstance(self.edges, Iterable):
            raise SchemaError(f"column {name!r}: edges must be a list of numbers")
        edges = tuple(_number(name, "an edge", edge) for edge in self.edges)
        if len(edges) < 2:
            raise SchemaError(f"column {name!r}: edges need at least two values (one bin)")
        if np.any(np.diff(edges) <= 0):
            raise SchemaError(f"column {name!r}: edges must be strictly increasing")
        if edges[0] != lower or edges[-1] != upper:
            raise SchemaError(f"column {name!r}: edges must start at lower ({lower}) and end at upper ({upper})")
        if self.integer and np.any(np.diff(_whole_edges(edges, upper)) <= 0):
            raise SchemaError(f"column {name!r}: with integer values every bin between edges must hold an integer")
        return edges

    @cached_property
    def bin_edges(self) -> np.ndarray:
        """The ``bins + 1`` boundaries: bin i holds values in [e_i, e_{i+1}).

        Continuous columns run from ``lower`` to ``upper`` (the last bin also holds ``upper``);
        integer columns from ``lower`` to ``upper + 1``, so each bin holds whole integers.
        """
        bins = self._declared_bins
        if self.integer:
            if self.edges is None:
                edges = _integer_edges(int(self.lower), int(self.upper), bins).astype(float)
            else:
                edges = _whole_edges(self.edges, self.upper)
        elif self.edges is None:
            edges = np.linspace(self.lower, self.upper, bins + 1)
        else:
            edges = np.array(self.edges)
        edges = _cut_out_spikes(edges, self.spikes, self.integer)
        edges.flags.writeable = False
        return edges

    @cached_property
    def spike_codes(self) -> np.ndarray:
        """The bin code of each spike (in the order of ``spikes``)."""
        return np.searchsorted(self.bin_edges, np.asarray(self.spikes, dtype=float), side="right") - 1

    @property
    def missing_code(self) -> int | None:
        return self.bins if self.missing else None

    @property
    def size(self) -> int:
        return self.bins + int(self.missing)

    def describe(self) -> dict[str, Any]:
        """The column as a plain dict (the schema file's form); spikes and decimals only when set."""
        described: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "lower": _plain(self.lower),
            "upper": _plain(self.upper),
            "integer": bool(self.integer),
            "bins": self._declared_bins,
            "edges": None if self.edges is None else [_plain(edge) for edge in self.edges],
            "missing": bool(self.missing),
        }
        if self.spikes:
            described["spikes"] = [_plain(spike) for spike in self.spikes]
        if self.decimals is not None:
            described["decimals"] = self.decimals
        return described


# More digits than a float64 holds exactly are no precision a value is written at.
MAX_DECIMALS = 15


def _checked_spikes(name: str, spikes: Any, lower: float, upper: float, integer: bool) -> tuple[float, ...]:
    if isinstance(spikes, (str, bytes, Mapping)) or not isinstance(spikes, Iterable):
        raise SchemaError(f"column {name!r}: spikes must be a list of numbers")
    values = sorted({_number(name, "a spike", spike) for spike in spikes})
    for value in values:
        if not lower <= value <= upper:
            raise SchemaError(f"column {name!r}: spike {_plain(value)} is outside [{_plain(lower)}, {_plain(upper)}]")
        if integer and not value.is_integer():
            raise SchemaError(f"column {name!r}: spike {value} is not a whole number (the column is integer)")
    return tuple(values)


def _checked_decimals(name: str, decimals: Any) -> int | None:
    if decimals is None:
        return None
    if isinstance(decimals, (bool, np.bool_)) or not isinstance(decimals, numbers.Integral):
        raise SchemaError(f"column {name!r}: decimals must be a whole number or null; got {decimals!r}")
    if not 0 <= int(decimals) <= MAX_DECIMALS:
        raise SchemaError(f"column {name!r}: decimals must lie in 0..{MAX_DECIMALS}; got {decimals}")
    return int(decimals)


def _cut_out_spikes(edges: np.ndarray, spikes: tuple[float, ...], integer: bool) -> np.ndarray:
    """``edges`` with a bin [s, s') of its own for each spike s: s' is s + 1 for integers, else the
    next float, so the bin holds s alone and a draw within it is s. The bin a spike fell in keeps
    its parts on either side (those that are not empty)."""
    if not spikes:
        return edges
    values = np.asarray(spikes, dtype=float)
    after = values + 1.0 if integer else np.nextafter(values, np.inf)
    return np.unique(np.concatenate([edges, values, after]))


def _timestamp(name: str, field: str, value: Any) -> tuple[str, pd.Timestamp]:
    """The bound as given (ISO text) and as a nanosecond timestamp; YAML reads dates as objects."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        value = value.isoformat()
    if not isinstance(value, str):
        raise SchemaError(f"column {name!r}: {field} must be an ISO 8601 date or time; got {type(value).__name__}")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise SchemaError(f"column {name!r}: {field} {value!r} is not an ISO 8601 date or time") from None
    if stamp is pd.NaT:
        raise SchemaError(f"column {name!r}: {field} must be a date, not missing")
    if stamp.tzinfo is not None:
        raise SchemaError(f"column {name!r}: {field} {value!r} has a time zone; give it as UTC without one")
    try:
        stamp = stamp.as_unit("ns")
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        raise SchemaError(
            f"column {name!r}: {field} {value!r} is outside the datetimes pandas holds (years 1678 to 2261)"
        ) from None
    return value, stamp


# Calendar units a Datetime column may be binned by, as pandas period frequencies.
CALENDAR_UNITS = {"day": "D", "month": "M", "year": "Y"}


def calendar_edges(lower: pd.Timestamp, upper: pd.Timestamp, unit: str) -> np.ndarray:
    """Nanosecond starts of each ``unit`` from the one holding ``lower`` to the one after
    ``upper``, the first and last moved in to ``lower`` and ``upper`` + 1ns."""
    frequency = CALENDAR_UNITS[unit]
    first, last = lower.to_period(frequency), upper.to_period(frequency) + 1
    edges = pd.period_range(first, last, freq=frequency).to_timestamp().as_unit("ns").asi8.astype(np.int64)
    edges[0], edges[-1] = lower.value, upper.value + 1
    return edges


@dataclass(frozen=True)
class Datetime:
    """Timestamps binned like an integer Numeric on nanoseconds since the epoch; codes, then missing.

    Bounds are ISO 8601 text without a time zone (UTC-naive); data with a time zone is
    converted to UTC first. Decoding gives ``datetime64[ns]`` values.

    ``unit`` ("day", "month" or "year") cuts bins at calendar boundaries instead: one bin per
    unit from the one holding ``lower`` to the one holding ``upper`` (``bins`` then counts
    them). ``dates`` says values have no time of day: decoded values are whole days.
    """

    name: str
    lower: str
    upper: str
    bins: int = 32
    missing: bool = True
    unit: str | None = None
    dates: bool = False
    kind: ClassVar[str] = "datetime"

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_flag(self.name, "missing", self.missing)
        _check_flag(self.name, "dates", self.dates)
        lower, lower_stamp = _timestamp(self.name, "lower", self.lower)
        upper, upper_stamp = _timestamp(self.name, "upper", self.upper)
        if not lower_stamp < upper_stamp:
            raise SchemaError(f"column {self.name!r}: lower ({lower}) must be before upper ({upper})")
        if self.unit is not None and self.unit not in CALENDAR_UNITS:
            raise SchemaError(
                f"column {self.name!r}: unit must be one of {list(CALENDAR_UNITS)} or null; got {self.unit!r}"
            )
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        bins = min(_check_bins(self.name, self.bins), upper_stamp.value - lower_stamp.value + 1)
        if self.unit is not None:
            bins = len(self.bin_edges) - 1
        object.__setattr__(self, "bins", bins)

    @cached_property
    def lower_timestamp(self) -> pd.Timestamp:
        return pd.Timestamp(self.lower).as_unit("ns")

    @cached_property
    def upper_timestamp(self) -> pd.Timestamp:
        return pd.Timestamp(self.upper).as_unit("ns")

    @cached_property
    def bin_edges(self) -> np.ndarray:
        """``bins + 1`` int64 nanosecond boundaries; bin i is [e_i, e_{i+1}). Uniform from lower
        to upper + 1ns, or the calendar ``unit``'s boundaries around [lower, upper]."""
        if self.unit is None:
            edges = _integer_edges(self.lower_timestamp.value, self.upper_timestamp.value, self.bins)
        else:
            edges = calendar_edges(self.lower_timestamp, self.upper_timestamp, self.unit)
        edges.flags.writeable = False
        return edges

    @property
    def missing_code(self) -> int | None:
        return self.bins if self.missing else None

    @property
    def size(self) -> int:
        return self.bins + int(self.missing)

    def describe(self) -> dict[str, Any]:
        """The column as a plain dict (the schema file's form); unit and dates when set."""
        described: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "lower": self.lower,
            "upper": self.upper,
            "bins": self.bins,
            "missing": bool(self.missing),
        }
        if self.unit is not None:
            described["unit"] = self.unit
        if self.dates:
            described["dates"] = True
        return described


@dataclass(frozen=True)
class Identifier:
    """A column that is never encoded: ``drop`` is left out of the synthetic table, ``key`` is
    regenerated there as fresh keys, and ``unit`` names the unit of privacy (regenerated too).

    Fresh keys never come from the real ones: ``format`` "integer" gives -1, -2, ... (ids are
    not negative), "text" gives ``prefix`` and a zero-padded row number (``syn-001``); both
    are decided by the schema alone, so they say nothing of the real keys. A real text key of
    that very form would equal one: declare a ``prefix`` no real key starts with.
    """

    name: str
    role: str = "drop"
    format: str = "text"
    prefix: str = KEY_PREFIX
    kind: ClassVar[str] = "identifier"
    size: ClassVar[int] = 0

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.role not in IDENTIFIER_ROLES:
            raise SchemaError(f"column {self.name!r}: role must be one of {IDENTIFIER_ROLES}; got {self.role!r}")
        if self.format not in KEY_FORMATS:
            raise SchemaError(f"column {self.name!r}: format must be one of {KEY_FORMATS}; got {self.format!r}")
        if not isinstance(self.prefix, str) or not self.prefix:
            raise SchemaError(f"column {self.name!r}: prefix must be non-empty text (it marks keys as synthetic)")

    @property
    def regenerated(self) -> bool:
        """Whether the synthetic table holds this column (as fresh keys)."""
        return self.role != "drop"

    def describe(self) -> dict[str, Any]:
        """The column as a plain dict (the schema file's form); format and prefix when not default."""
        described = {"name": self.name, "kind": self.kind, "role": self.role}
        if self.format != "text":
            described["format"] = self.format
        if self.prefix != KEY_PREFIX:
            described["prefix"] = self.prefix
        return described


Column = Categorical | Ordinal | Numeric | Datetime | Identifier
#: The kinds that get integer codes (every kind but Identifier).
EncodedColumn = Categorical | Ordinal | Numeric | Datetime
COLUMN_KINDS: dict[str, type] = {kind.kind: kind for kind in (Categorical, Ordinal, Numeric, Datetime, Identifier)}


def column_from_dict(described: Mapping[str, Any]) -> Column:
    """The column a :meth:`describe` dict (or a schema file entry) stands for."""
    if not isinstance(described, Mapping):
        raise SchemaError("each column must be a mapping with a 'name' and a 'kind'")
    name = described.get("name")
    label = f"column {name!r}" if isinstance(name, str) else "a column"
    kind = described.get("kind")
    if not isinstance(kind, str) or kind not in COLUMN_KINDS:
        raise SchemaError(f"{label}: unknown kind {kind!r}; expected one of {sorted(COLUMN_KINDS)}")
    cls = COLUMN_KINDS[kind]
    fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
    unknown = sorted(str(key) for key in described if key != "kind" and key not in fields)
    if unknown:
        raise SchemaError(f"{label}: unknown field(s) {unknown} for kind {kind!r}; allowed: {sorted(fields)}")
    required = [
        field
        for field, spec in fields.items()
        if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
    ]
    absent = [field for field in required if field not in described]
    if absent:
        raise SchemaError(f"{label}: kind {kind!r} needs the field(s) {absent}")
    return cls(**{key: value for key, value in described.items() if key != "kind"})
