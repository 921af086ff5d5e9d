"""The corpus's inputs: one small table with two planted canaries, the files made from it, and
the shape of a case.

Every data file a case writes holds the canaries (a text cell and a number cell of one record
each), so any path that echoes a private cell shows up in the runner's search.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CANARY_TEXT = "CANARY-7f3a"
CANARY_NUMBER = 987654321
CANARIES = (CANARY_TEXT, str(CANARY_NUMBER))
N_ROWS = 200
COLUMNS = ("age", "sex", "city", "income", "score")

Writer = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    """One input and its expected outcome.

    ``argv`` is the command line with ``{tmp}`` for the case's folder; ``files`` are written
    there first. ``error`` is the needle of the one-line refusal (exit 2); without it the case
    succeeds (exit 0 or 1) and ``why`` says why the input was fine. ``known`` marks a failure
    of today, kept and skipped with its outcome; ``root`` marks a case that needs file
    permissions, which the superuser ignores. ``columns``, where a case is about reading the
    columns right (separators, encodings, line ends), are the synthetic table's columns.
    """

    id: str
    argv: tuple[str, ...]
    error: str | None = None
    why: str | None = None
    files: Mapping[str, Writer] = field(default_factory=dict)
    known: str | None = None
    root: bool = False
    columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.error is None) == (self.why is None):
            raise ValueError(f"case {self.id}: give either an error needle or why the input is fine")


def table(n: int = N_ROWS, seed: int = 0) -> pd.DataFrame:
    """A made-up table: age, sex, city, income and score, with the text canary in one record's
    city and the number canary in another record's income."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": rng.integers(18, 90, n),
        "sex": rng.choice(["F", "M"], n),
        "city": rng.choice(["Oslo", "Rome", "Lima", "Pune"], n),
        "income": rng.integers(0, 90_000, n),
        "score": rng.normal(50, 10, n).round(2),
    })
    frame.loc[17, "city"] = CANARY_TEXT
    frame.loc[42, "income"] = CANARY_NUMBER
    return frame


SCHEMA = {
    "dpsynth_schema": 1,
    "provenance": "public",
    "columns": [
        {"name": "age", "kind": "numeric", "lower": 0, "upper": 100, "integer": True, "bins": 10},
        {"name": "sex", "kind": "categorical", "categories": ["F", "M"]},
        {"name": "city", "kind": "categorical", "categories": ["Oslo", "Rome", "Lima", "Pune"]},
        {"name": "income", "kind": "numeric", "lower": 0, "upper": 100_000, "integer": True, "bins": 10},
        {"name": "score", "kind": "numeric", "lower": 0, "upper": 100, "bins": 10},
    ],
}


def schema_with(**changes: Mapping[str, Any] | None) -> dict[str, Any]:
    """SCHEMA with columns replaced by name (None removes one; a new name is appended)."""
    columns = {column["name"]: column for column in SCHEMA["columns"]}
    for name, column in changes.items():
        if column is None:
            del columns[name]
        else:
            columns[name] = {"name": name, **column}
    return {**SCHEMA, "columns": list(columns.values())}


# ------------------------------------------------------------------------------ writers
def raw(content: bytes | str) -> Writer:
    """Write ``content`` as it is (text as UTF-8)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return lambda path: path.write_bytes(data)


def csv(frame: pd.DataFrame | Callable[[], pd.DataFrame] | None = None, *, encoding: str = "utf-8",
        **to_csv: Any) -> Writer:
    """Write a table (default: ``table()``) as CSV with pandas' ``to_csv`` options."""

    def write(path: Path) -> None:
        data = table() if frame is None else frame() if callable(frame) else frame
        path.write_bytes(data.to_csv(index=False, **to_csv).encode(encoding))

    return write


def edited(edit: Callable[[str], str], encoding: str = "utf-8") -> Writer:
    """Write ``table()``'s CSV text after ``edit``."""
    return lambda path: path.write_bytes(edit(table().to_csv(index=False)).encode(encoding))


def with_column(name: str, values: Any) -> Writer:
    """Write ``table()`` with column ``name`` set (or added) to ``values``."""
    return csv(lambda: table().assign(**{name: values}))


def document(value: Any) -> Writer:
    """Write ``value`` as JSON."""
    return raw(json.dumps(value))


def gzipped(content: bytes) -> Writer:
    return lambda path: path.write_bytes(gzip.compress(content))


def folder(path: Path) -> None:
    path.mkdir()


def frame_file(fmt: str, frame: Callable[[], pd.DataFrame] = table) -> Writer:
    """Write ``frame()`` as Parquet or Arrow (Feather)."""

    def write(path: Path) -> None:
        data = frame()
        if fmt == "parquet":
            data.to_parquet(path, index=False)
        else:
            data.to_feather(path)

    return write


DATA = {"data.csv": csv()}
DATA_AND_SCHEMA = {**DATA, "schema.json": document(SCHEMA)}
