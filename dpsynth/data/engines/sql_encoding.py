"""Schema codes as SQL: one expression per encoded column, the same code as
:func:`dpsynth.schema.encode` gives each cell, or None where SQL cannot say it exactly.

Everything in an expression comes from the public schema (labels, bounds, bin edges, spike bins,
the missing and "other" codes) and the source column's SQL type. A cell's code depends on that
cell alone, as in memory; :data:`UNFIT` marks a cell its column has no code for.

Not expressible here: datetime columns (pandas' ISO 8601 reading with offsets), numbers written
as text (pandas' to_numeric rules), and columns of any type other than text, numbers and
booleans; the engine codes those another way (:mod:`dpsynth.data.engines.duckdb_codes`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from dpsynth.schema.columns import Categorical, EncodedColumn, Numeric, Ordinal
from dpsynth.schema.encoding import UNFIT

TEXT = ("VARCHAR",)
INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT")
FLOATS = ("FLOAT", "DOUBLE")
BOOLEAN = "BOOLEAN"


def quoted(name: str) -> str:
    """``name`` as an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _spark_text(value: str) -> str:
    # Spark reads backslash escapes in literals unless configured not to: the UTF-8 bytes in hex
    # mean the same text under every setting.
    return f"decode(unhex('{value.encode('utf-8').hex()}'), 'UTF-8')"


def _spark_finite(value: str) -> str:
    # Spark SQL has no isfinite; isnan of NULL is false, and the comparison keeps NULL unknown.
    return f"(NOT isnan({value}) AND abs({value}) < CAST('Infinity' AS DOUBLE))"


@dataclass(frozen=True)
class Dialect:
    """What an engine's SQL writes its own way: a text literal, and the test that a number is finite."""

    text: Callable[[str], str]
    finite: Callable[[str], str]


DUCKDB_SQL = Dialect(_text, lambda value: f"isfinite({value})")
SPARK_SQL = Dialect(_spark_text, _spark_finite)


def _double(value: float) -> str:
    # repr round-trips a float64 exactly; the cast keeps DuckDB from reading it as a DECIMAL.
    return f"CAST('{value!r}' AS DOUBLE)"


def _missing(column: EncodedColumn) -> int:
    code = column.missing_code
    return UNFIT if code is None else code


def _float_form(value: float) -> str:
    """The string form a float cell has in memory (:func:`dpsynth.schema.encoding.string_forms`)."""
    if math.isfinite(value) and value == round(value) and abs(value) < 2.0**63:
        return str(int(value))
    return str(value)


def _label_values(labels: tuple[str, ...], sql_type: str, dialect: Dialect) -> list[str | None]:
    """Each label as the SQL value a cell of ``sql_type`` must hold to have that label as its
    string form (None: no such cell exists)."""
    values: list[str | None] = []
    for label in labels:
        if sql_type in TEXT:
            values.append(dialect.text(label))
        elif sql_type == BOOLEAN:
            values.append({"True": "true", "False": "false"}.get(label))
        elif sql_type in INTEGERS:
            try:
                number = int(label)
            except ValueError:
                number = None
            values.append(str(number) if number is not None and str(number) == label else None)
        else:
            try:
                real = float(label)
            except ValueError:
                real = None
            # A float cell's form is that of its value: a label matches the one float whose form it is.
            values.append(_double(real) if real is not None and _float_form(real) == label else None)
    return values


def _is_null(cell: str, sql_type: str) -> str:
    # A NaN read from a file is a missing cell, as pandas' isna says.
    return f"({cell} IS NULL OR isnan({cell}))" if sql_type in FLOATS else f"{cell} IS NULL"


def _category_sql(cell: str, column: Categorical | Ordinal, sql_type: str, dialect: Dialect) -> str:
    values = _label_values(column.labels, sql_type, dialect)
    unknown = column.other_code if column.other_code is not None else _missing(column)
    cases = [f"WHEN {cell} = {value} THEN {code}" for code, value in enumerate(values) if value is not None]
    known = f"CASE {' '.join(cases)} ELSE {unknown} END" if cases else str(unknown)
    return f"CASE WHEN {_is_null(cell, sql_type)} THEN {_missing(column)} ELSE {known} END"


def _clipped_sql(cell: str, column: Numeric, sql_type: str, dialect: Dialect) -> str:
    """The cell as a number clipped into the bounds, NULL where missing or not a finite number."""
    if sql_type == BOOLEAN:
        # A bool is no number: every cell reads as missing, as in memory.
        return "CAST(NULL AS DOUBLE)"
    value = f"CAST({cell} AS DOUBLE)"
    clipped = f"least(greatest({value}, {_double(column.lower)}), {_double(column.upper)})"
    return f"CASE WHEN {dialect.finite(value)} THEN {clipped} END"


def _bin_sql(clipped: str, column: Numeric) -> str:
    # Bin i holds [e_i, e_{i+1}): the code is how many edges after the first lie at or below the
    # clipped value (np.searchsorted(edges, x, "right") - 1), the upper bound joining the last bin.
    code = _bisect(clipped, [float(edge) for edge in column.bin_edges[1:-1]], 0)
    return f"CASE WHEN {clipped} IS NULL THEN {_missing(column)} ELSE {code} END"


def _bisect(value: str, edges: list[float], first: int) -> str:
    """``first`` plus how many of the sorted ``edges`` lie at or below ``value``: a binary search
    of nested CASEs, so a row makes log2(len(edges)) comparisons."""
    if not edges:
        return str(first)
    middle = len(edges) // 2
    below = _bisect(value, edges[:middle], first)
    above = _bisect(value, edges[middle + 1:], first + middle + 1)
    return f"CASE WHEN {value} < {_double(edges[middle])} THEN {below} ELSE {above} END"


def code_sql(
    cell: str, prepared: str, column: EncodedColumn, sql_type: str, dialect: Dialect = DUCKDB_SQL
) -> tuple[str, str] | None:
    """SQL of ``column``'s code for a source cell ``cell`` of type ``sql_type``, in two steps: an
    expression of the cell, and the code as an expression of that value once it is named
    ``prepared`` (a numeric cell is read and clipped once, then binned). None where SQL cannot
    say it exactly (see the module docstring)."""
    if isinstance(column, (Categorical, Ordinal)) and sql_type in (*TEXT, BOOLEAN, *INTEGERS, *FLOATS):
        return cell, _category_sql(prepared, column, sql_type, dialect)
    if isinstance(column, Numeric) and sql_type in (BOOLEAN, *INTEGERS, *FLOATS):
        return _clipped_sql(cell, column, sql_type, dialect), _bin_sql(prepared, column)
    return None
