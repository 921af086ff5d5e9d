"""Schemas: column kinds, the Schema and its file format, encoding to integer codes and back.

DP discovery of a schema measures through the door, in :mod:`dpsynth.data.discover`; :func:`infer_schema` is the
non-DP draft for review.
"""

from dpsynth.schema.columns import (
    OTHER_LABEL,
    Categorical,
    Column,
    Datetime,
    Identifier,
    Numeric,
    Ordinal,
    column_from_dict,
)
from dpsynth.schema.encoding import EncodedTable, decode, encode, validate
from dpsynth.schema.infer import infer_schema, suspect_identifiers
from dpsynth.schema.schema import PROVENANCES, Schema, SchemaWarning

__all__ = [
    "OTHER_LABEL",
    "PROVENANCES",
    "Categorical",
    "Column",
    "Datetime",
    "EncodedTable",
    "Identifier",
    "Numeric",
    "Ordinal",
    "Schema",
    "SchemaWarning",
    "column_from_dict",
    "decode",
    "encode",
    "infer_schema",
    "suspect_identifiers",
    "validate",
]
