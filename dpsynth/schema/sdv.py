"""SDV single-table metadata: read as a public declaration of column kinds, and written from a schema.

SDV's metadata (https://docs.sdv.dev/sdv/reference/metadata-spec/single-table-metadata-json)
gives each column an ``sdtype``; it has no bounds and no category lists, which DP needs before
it measures anything. So a metadata file is read as a kinds-only declaration (bounds and
categories are then discovered under DP, see :mod:`dpsynth.schema.kinds`), and as a full
:class:`~dpsynth.schema.Schema` only where every column is complete without them (identifiers
and booleans); otherwise the error names the first column that lacks what DP needs.

sdtype mapping: ``categorical`` and ``boolean`` -> categorical; ``numerical`` -> integer when its
``computer_representation`` is an integer type (``Int64``, ``UInt8``, ...), else numeric;
``datetime`` -> datetime (it needs bounds: a dpsynth schema); ``id``, ``unknown`` and every PII
sdtype (``email``, ``phone_number``, anything with ``"pii": true``) -> an identifier, never
learned from. Both SDV 1.x forms are read: ``SINGLE_TABLE_V1`` and a ``V1`` multi-table file
holding one table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dpsynth.errors import SchemaError
from dpsynth.schema.columns import Categorical, Column, Datetime, Identifier, Numeric, Ordinal
from dpsynth.schema.kinds import KIND_NAMES, read_document
from dpsynth.schema.schema import Schema

VERSION_KEY = "METADATA_SPEC_VERSION"
SINGLE_TABLE = "SINGLE_TABLE_V1"
MULTI_TABLE = "V1"
# sdtypes whose values dpsynth models; every other sdtype is an identifier or PII.
_MODELLED = {"categorical": "categorical", "boolean": "categorical", "numerical": "numeric", "datetime": "datetime"}
_NEEDS = {"categorical": "list of categories", "numeric": "bounds", "integer": "bounds",
          "datetime": "bounds (lower and upper dates)"}
BOOLEAN_CATEGORIES = ("False", "True")


def is_sdv_metadata(document: Any) -> bool:
    """Whether a parsed file is SDV metadata (its spec version key, or columns given sdtypes)."""
    if not isinstance(document, Mapping):
        return False
    if VERSION_KEY in document:
        return True
    columns = document.get("columns")
    return isinstance(columns, Mapping) and bool(columns) and all(
        isinstance(spec, Mapping) and "sdtype" in spec for spec in columns.values()
    )


def _table(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The one table of a single-table file, or of a multi-table file that holds one."""
    version = document.get(VERSION_KEY, SINGLE_TABLE)
    if version == MULTI_TABLE:
        tables = document.get("tables")
        if not isinstance(tables, Mapping) or len(tables) != 1:
            count = len(tables) if isinstance(tables, Mapping) else 0
            raise SchemaError(f"SDV metadata holds {count} tables; dpsynth reads one table's metadata")
        document = next(iter(tables.values()))
    elif version != SINGLE_TABLE:
        raise SchemaError(f"SDV metadata version {version!r} is not supported (dpsynth reads {SINGLE_TABLE} and V1)")
    columns = document.get("columns") if isinstance(document, Mapping) else None
    if not isinstance(columns, Mapping) or not columns:
        raise SchemaError("SDV metadata has no 'columns' mapping")
    return columns


def _kind(name: Any, spec: Any) -> str:
    if not isinstance(name, str) or not name:
        raise SchemaError("SDV metadata column names must be non-empty strings")
    if not isinstance(spec, Mapping) or not isinstance(spec.get("sdtype"), str):
        raise SchemaError(f"column {name!r}: SDV metadata gives it no sdtype")
    sdtype = spec["sdtype"]
    if sdtype not in _MODELLED or spec.get("pii") is True:
        return "identifier"
    if sdtype == "numerical":
        representation = str(spec.get("computer_representation", "Float"))
        return "integer" if representation.lstrip("U").startswith("Int") else "numeric"
    return _MODELLED[sdtype]


def kinds_from_sdv(document: Mapping[str, Any]) -> dict[str, str]:
    """The kinds-only declaration (column -> kind) that SDV metadata states."""
    kinds = {}
    for name, spec in _table(document).items():
        kind = _kind(name, spec)
        if kind not in KIND_NAMES:
            raise SchemaError(
                f"column {name!r}: an SDV {kind} column needs its {_NEEDS[kind]}, which a kinds-only declaration "
                f"cannot hold; declare it in a dpsynth schema (kind '{kind}')"
            )
        kinds[name] = kind
    return kinds


def read_sdv_kinds(path: str | os.PathLike) -> dict[str, str] | None:
    """The kinds an SDV metadata file declares, or None when the file is not SDV metadata
    (unreadable files too: :meth:`Schema.load` then says what is wrong with them)."""
    path = Path(path)
    document = read_document(path)
    if not is_sdv_metadata(document):
        return None
    try:
        return kinds_from_sdv(document)
    except SchemaError as error:
        raise SchemaError(f"schema file '{path}': {error}") from None


def schema_from_sdv(document: Mapping[str, Any]) -> Schema:
    """A public Schema from SDV metadata whose columns need no bounds or categories (see the module docstring)."""
    columns: list[Column] = []
    for name, spec in _table(document).items():
        kind = _kind(name, spec)
        if kind == "identifier":
            columns.append(Identifier(name))
        elif spec["sdtype"] == "boolean":
            columns.append(Categorical(name, categories=BOOLEAN_CATEGORIES))
        else:
            raise SchemaError(
                f"column {name!r}: SDV metadata gives no {_NEEDS[kind]} for this {spec['sdtype']} column, "
                "which a dpsynth schema needs; give the file where a kinds declaration is accepted "
                "(release --schema: bounds and categories are then discovered under DP) or write a dpsynth schema"
            )
    return Schema(tuple(columns), provenance="public")


def _sdv_column(column: Column) -> dict[str, Any]:
    if isinstance(column, Identifier):
        return {"sdtype": "id"}
    if isinstance(column, (Categorical, Ordinal)):
        return {"sdtype": "categorical"}
    if isinstance(column, Numeric):
        return {"sdtype": "numerical", "computer_representation": "Int64" if column.integer else "Float"}
    described: dict[str, Any] = {"sdtype": "datetime"}
    if _is_date(column):
        described["datetime_format"] = "%Y-%m-%d"
    return described


def _is_date(column: Datetime) -> bool:
    """Whether both bounds are plain dates (no time of day), so the column reads as ``%Y-%m-%d``."""
    return all(len(bound) == 10 for bound in (column.lower, column.upper))


def to_sdv(schema: Schema) -> dict[str, Any]:
    """SDV single-table metadata for ``schema``: its kinds only (SDV has no place for bounds,
    categories or the order of an ordinal column, so these are left out)."""
    return {
        VERSION_KEY: SINGLE_TABLE,
        "columns": {column.name: _sdv_column(column) for column in schema.columns},
    }
