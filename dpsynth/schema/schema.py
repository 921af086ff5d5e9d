"""A Schema: the ordered public columns of a table, where they came from, and its file format."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from dpsynth.errors import SchemaError
from dpsynth.schema.columns import Categorical, Column, EncodedColumn, Identifier, column_from_dict

FORMAT_VERSION = 1
FORMAT_KEY = "dpsynth_schema"
# public: declared by the user; dp: discovered under DP; inferred-not-dp: read from the data
# without noise by infer_schema, for review only.
PROVENANCES = ("public", "dp", "inferred-not-dp")
_JSON_SUFFIXES = (".json",)
_YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SchemaWarning:
    """A column the schema represents poorly, the problem in words, and the fix to suggest.

    Made by DP discovery from its noisy measurements only (post-processing), so it may be
    shown and published; it names no value of the data.
    """

    column: str
    problem: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        """The form release.json lists under "schema_warnings"."""
        return {"column": self.column, "problem": self.problem, "fix": self.fix}


@dataclass(frozen=True)
class Schema:
    """Ordered columns of a table (public metadata), their ``provenance``, and the ``warnings``
    DP discovery raised about them (not part of the schema file: a file states the columns)."""

    columns: tuple[Column, ...]
    provenance: str = "public"
    warnings: tuple[SchemaWarning, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.columns, (str, bytes, Mapping)) or not isinstance(self.columns, Iterable):
            raise SchemaError("a schema's columns must be a sequence of columns")
        columns = tuple(self.columns)
        seen = set()
        for column in columns:
            if not isinstance(column, Column):
                raise SchemaError(f"schema columns must be column kinds; got {type(column).__name__}")
            if column.name in seen:
                raise SchemaError(f"column {column.name!r} appears twice in the schema")
            seen.add(column.name)
        if not all(isinstance(warning, SchemaWarning) for warning in self.warnings):
            raise SchemaError("a schema's warnings must be SchemaWarning values")
        object.__setattr__(self, "warnings", tuple(self.warnings))
        units = [c.name for c in columns if isinstance(c, Identifier) and c.role == "unit"]
        if len(units) > 1:
            raise SchemaError(f"columns {units} are all marked as the unit of privacy; at most one may be")
        if self.provenance not in PROVENANCES:
            raise SchemaError(f"provenance must be one of {PROVENANCES}; got {self.provenance!r}")
        object.__setattr__(self, "columns", columns)

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        return {column.name: column for column in self.columns}

    def __getitem__(self, name: str) -> Column:
        if name not in self._by_name:
            raise SchemaError(f"the schema has no column {name!r}")
        return self._by_name[name]

    def encoded(self, name: str) -> EncodedColumn:
        """The column ``name``, which must be one that gets codes (not an identifier)."""
        column = self[name]
        if isinstance(column, Identifier):
            raise SchemaError(f"column {name!r} is an identifier: it has no codes")
        return column

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @cached_property
    def encoded_columns(self) -> tuple[str, ...]:
        """Names of the columns that get codes, in schema order (identifiers excluded)."""
        return tuple(c.name for c in self.columns if not isinstance(c, Identifier))

    @cached_property
    def unit_column(self) -> str | None:
        """Name of the identifier column that is the unit of privacy, if any."""
        return next((c.name for c in self.columns if isinstance(c, Identifier) and c.role == "unit"), None)

    def domain_sizes(self) -> dict[str, int]:
        """Number of codes of each encoded column, in schema order."""
        return {name: self[name].size for name in self.encoded_columns}

    # ------------------------------------------------------------------------ file format
    def to_dict(self) -> dict[str, Any]:
        """The versioned plain-dict form written to schema files."""
        return {
            FORMAT_KEY: FORMAT_VERSION,
            "provenance": self.provenance,
            "columns": [column.describe() for column in self.columns],
        }

    @classmethod
    def from_dict(cls, document: Any) -> Schema:
        """The schema of a :meth:`to_dict` document; ``provenance`` defaults to "public"."""
        if not isinstance(document, Mapping):
            raise SchemaError("a schema document must be a mapping")
        version = document.get(FORMAT_KEY)
        if version is None:
            raise SchemaError(f"not a dpsynth schema: the '{FORMAT_KEY}' version key is missing")
        if isinstance(version, bool) or version != FORMAT_VERSION:
            raise SchemaError(
                f"schema format version {version!r} is not supported (this dpsynth reads {FORMAT_VERSION})"
            )
        unknown = sorted(str(key) for key in document if key not in (FORMAT_KEY, "provenance", "columns"))
        if unknown:
            raise SchemaError(f"unknown schema key(s) {unknown}; allowed: '{FORMAT_KEY}', 'provenance', 'columns'")
        columns = document.get("columns")
        if not isinstance(columns, list):
            raise SchemaError("'columns' must be a list of columns")
        provenance = document.get("provenance", "public")
        return cls(tuple(column_from_dict(column) for column in columns), provenance=provenance)

    def save(self, path: str | os.PathLike) -> None:
        """Write the schema as JSON (``.json``) or YAML (``.yaml``/``.yml``)."""
        path = Path(path)
        suffix = _format_of(path)
        document = self.to_dict()
        if suffix in _JSON_SUFFIXES:
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        else:
            text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        path.write_text(text, encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Schema:
        """Read a schema file (JSON or YAML), a private-pgm/mbi domain file, or SDV metadata.

        A domain file maps each column to its number of codes; each column becomes a
        Categorical over the codes ``0..size-1`` with no "other" and no missing code, and the
        schema is public (its sizes are published with the data). SDV metadata gives kinds
        only: see :mod:`dpsynth.schema.sdv` for when it makes a whole schema.
        """
        path = Path(path)
        suffix = _format_of(path)
        try:
            text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is not part of the text
        except UnicodeDecodeError:
            raise SchemaError(f"schema file '{path}' is not UTF-8 text") from None
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise SchemaError(f"schema file '{path}' cannot be read ({reason})") from None
        document = _parse(path, text, suffix)
        if isinstance(document, Mapping) and FORMAT_KEY in document:
            try:
                return cls.from_dict(document)
            except SchemaError as error:
                raise SchemaError(f"schema file '{path}': {error}") from None
        if isinstance(document, Mapping) and document and all(_is_number(size) for size in document.values()):
            return _from_domain(path, document)
        # Imported here: dpsynth.schema.sdv builds on this module.
        from dpsynth.schema.sdv import is_sdv_metadata, schema_from_sdv

        if is_sdv_metadata(document):
            try:
                return schema_from_sdv(document)
            except SchemaError as error:
                raise SchemaError(f"schema file '{path}': {error}") from None
        raise SchemaError(
            f"schema file '{path}' is neither a dpsynth schema (a mapping with '{FORMAT_KEY}', "
            "'provenance' and 'columns'), a domain file (a mapping of each column to its number of codes) "
            "nor SDV metadata"
        )


def check_schema_file_name(path: str | os.PathLike) -> None:
    """Refuse a schema file name that is not .json, .yaml or .yml, before any work is done."""
    _format_of(Path(path))


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _JSON_SUFFIXES + _YAML_SUFFIXES:
        raise SchemaError(f"schema file '{path}' must end in .json, .yaml or .yml")
    return suffix


def _parse(path: Path, text: str, suffix: str) -> Any:
    if suffix in _JSON_SUFFIXES:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise SchemaError(
                f"schema file '{path}' is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
            ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise SchemaError(f"schema file '{path}' is not valid YAML{where}") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _from_domain(path: Path, domain: Mapping[Any, Any]) -> Schema:
    columns: list[Column] = []
    for name, size in domain.items():
        if not isinstance(name, str) or not name:
            raise SchemaError(f"domain file '{path}': column names must be non-empty strings")
        if not (isinstance(size, int) and size >= 1):
            raise SchemaError(f"domain file '{path}': column {name!r} must map to a positive whole number of codes")
        columns.append(Categorical(name, categories=tuple(range(size)), other=False, missing=False))
    return Schema(tuple(columns), provenance="public")
