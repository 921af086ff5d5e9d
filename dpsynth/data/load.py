"""Reading a private CSV as text, with errors that say what is wrong and never show a value.

Every cell is read as text: pandas' type guessing works chunk by chunk on large files, so one
cell could change how a whole chunk of other rows reads. Numbers are parsed per value
downstream, by the schema. Column names are public metadata only when the user says so: a
first row that looks like a record is refused (see :func:`read_table`).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Literal

import pandas as pd

from dpsynth.errors import DataError

# pandas' default missing-value strings (pandas 3.1), frozen here so an upgrade cannot change them.
MISSING_TOKENS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})
SEPARATORS = (",", ";", "\t", "|")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE_OR_TIME = re.compile(r"\d{1,4}([-/.])\d{1,2}\1\d{1,4}([T ].*)?|\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")
_HINT = ("if the file has no header row, give the names (--names a,b,c; header=False, names=[...] in Python), "
         "or confirm this row is the header (--confirm-header; header='confirmed')")


def read_table(path: str | os.PathLike, na_values: Sequence[str] = (), *,
               header: bool | Literal["confirmed"] = True, names: Sequence[str] | None = None,
               sep: str | None = None) -> pd.DataFrame:
    """Read a CSV with every cell as stripped text or missing; refuse files that cannot make a release.

    Each cell's value depends on that cell alone: surrounding whitespace is stripped, and the
    empty cell, pandas' default missing tokens (:data:`MISSING_TOKENS`) and ``na_values`` become
    missing (NaN, seen by ``isna()``). Columns have pandas' text dtype ("str" in pandas 3).

    ``header=True``: the first row holds the column names, unless it looks like a record, which
    raises :class:`DataError` before the rest is read. It looks like a record when a cell is empty,
    a missing token, a number (39, 2.5, -1e3), a date or time (2020-01-31, 31/01/2020, 10:30),
    repeats an earlier cell, or holds a digit and has the shape of the cell below it (digit runs
    as 9, letters as a/A: A11 over A12). ``header="confirmed"``: the user vouches for the first row
    as names, and only empty or repeated names are refused. ``header=False``: the file has no
    header row and ``names`` (public metadata from the user) name its columns.

    ``sep`` is the field separator; by default the one of , ; tab | that the header line holds
    most often outside quotes (',' on a tie), and ',' without a header, since a record must not
    choose how the other rows are split. A file that is missing, unreadable, empty, a header
    only, or one row also raises :class:`DataError`.
    """
    path = Path(path)
    if header not in (True, False, "confirmed"):
        raise DataError(f"header must be True, False or 'confirmed'; got {header!r}")
    if header is False and names is None:
        raise DataError(f"data file '{path}' is read without a header row: give its column names")
    if header is not False and names is not None:
        raise DataError("names are given only for a file without a header row (header=False)")
    if not path.exists():
        raise DataError(f"data file '{path}' does not exist")
    if not path.is_file():
        raise DataError(f"data path '{path}' is not a file")
    if path.stat().st_size == 0:
        raise DataError(f"data file '{path}' is empty")
    missing = MISSING_TOKENS | {token.strip() for token in ([na_values] if isinstance(na_values, str) else na_values)}
    with _reading(path):
        sep = sep if sep is not None else _sniff_separator(path) if header else ","
        first = _read(path, sep, header=None, nrows=2)
    top = [_strip(cell) for cell in first.iloc[0]]
    if header is False:
        assert names is not None  # refused above when header is False
        names = _check_names(names)
        if len(names) != len(top):
            raise DataError(f"data file '{path}' has {len(top)} columns but {len(names)} names were given")
    else:
        below = [_strip(cell) for cell in first.iloc[1]] if len(first) > 1 else None
        if header is True and (sign := _record_sign(top, below, missing)):
            raise DataError(f"data file '{path}': its first row looks like a record, not column names "
                            f"({sign}); {_HINT}")
        if "" in top:
            raise DataError(f"data file '{path}' has a column without a name in its header")
        if len(set(top)) < len(top):
            raise DataError(f"data file '{path}' names a column more than once in its header")
        names = top
    with _reading(path):
        frame = _read(path, sep, header=0 if header else None, names=names)
    if len(frame) == 0:
        raise DataError(f"data file '{path}' has a header but no rows")
    if len(frame) == 1:
        raise DataError(f"data file '{path}' has one row: a release needs many records")
    for column in frame.columns:
        values = frame[column].str.strip()
        frame[column] = values.where(~values.isin(missing))
    return frame


def _read(path: Path, sep: str, **options) -> pd.DataFrame:
    """``pd.read_csv`` (C engine) with every cell as raw text: no type or missing-value guessing."""
    return pd.read_csv(path, sep=sep, dtype=str, na_filter=False, index_col=False,
                       skipinitialspace=True, **options)


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn the ways reading a file fails into one-line DataErrors that quote no value."""
    try:
        yield
    except PermissionError:
        raise DataError(f"data file '{path}' cannot be read (permission denied)") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data file '{path}' is empty") from None
    except pd.errors.ParserError as error:
        fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        detail = f": line {fields[2]} has {fields[3]} fields, the first row {fields[1]}" if fields else ""
        raise DataError(f"data file '{path}' is not a readable CSV file{detail}") from None
    except (UnicodeDecodeError, ValueError):
        raise DataError(f"data file '{path}' is not a readable CSV file") from None


# Compressed CSVs that pandas reads by their suffix; the header line is sniffed through the same.
_OPENERS: dict[str, Callable[..., IO[str]]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def _sniff_separator(path: Path) -> str:
    """The one of :data:`SEPARATORS` that the first non-blank line holds most often outside quotes."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    with opener(path, "rt", encoding="utf-8-sig", newline="") as file:
        line = next((line for line in file if line.strip()), "")
    counts = [re.sub(r'"[^"]*"', "", line).count(sep) for sep in SEPARATORS]
    return SEPARATORS[counts.index(max(counts))]


def _strip(cell: object) -> str:
    """A raw cell as stripped text; a cell missing from a short row is empty."""
    return cell.strip() if isinstance(cell, str) else ""


def _shape(cell: str) -> str:
    """A cell with each run of digits as 9 and each letter as a or A (A11 and A12 are both A9)."""
    return re.sub(r"\d+", "9", "".join(("A" if c.isupper() else "a") if c.isalpha() else c for c in cell))


def _record_sign(cells: list[str], below: list[str] | None, missing: frozenset[str]) -> str | None:
    """Why a header row ``cells`` looks like a record (``below`` is the first data row), or None."""
    for i, cell in enumerate(cells):
        if not cell:
            return f"cell {i + 1} is empty"
        if cell in missing:
            return f"cell {i + 1} is a missing-value token"
        if _NUMBER.fullmatch(cell):
            return f"cell {i + 1} is a number"
        if _DATE_OR_TIME.fullmatch(cell):
            return f"cell {i + 1} is a date or time"
        if cell in cells[:i]:
            return f"cell {i + 1} repeats an earlier cell"
        if below and any(c.isdigit() for c in cell) and _shape(cell) == _shape(below[i]):
            return f"cell {i + 1} has the shape of the value below it"
    return None


def _check_names(names: Sequence[str]) -> list[str]:
    """User-given column names, stripped; refuse missing or repeated ones."""
    if isinstance(names, str) or not all(isinstance(name, str) and name.strip() for name in names):
        raise DataError("names must be a sequence of non-empty column names")
    names = [name.strip() for name in names]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"names {repeated} appear more than once")
    return names
