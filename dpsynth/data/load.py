"""Reading a private table (CSV, Parquet, Arrow IPC, Excel) with errors that never show a value.

A CSV is read with every cell as text: pandas' type guessing works chunk by chunk on large
files, so one cell could change how a whole chunk of other rows reads. Numbers are parsed per
value downstream, by the schema. Parquet and Arrow files carry their types in the file, cell by
cell, and Excel cells are typed one by one in the workbook, so no cell there changes how another
reads. Column kinds are never read from those types unless the user states they are public
(``public_dtypes``). Column names are public metadata only when the user says so: a first row
that looks like a record is refused (see :func:`read_table`).

Missing cells are decided by the cell alone: a null, an empty text cell, and the user's
``na_values`` (public: the user typed them). pandas' default tokens (``NA``, ``None``, ``null``,
``N/A``, ...) are values: a hospital's ``None`` ("test not performed") is a category. List a
token in ``na_values`` to read it as missing.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, cast

import numpy as np
import pandas as pd

from dpsynth.data.frames import PANDAS, arrow_to_pandas, library_of, optional, to_pandas
from dpsynth.errors import DataError

# pandas' default missing-value strings (pandas 3.1), frozen here so an upgrade cannot change
# them. They are values in the data; a header cell that is one of them looks like a record.
NULL_LIKE = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})
SEPARATORS = (",", ";", "\t", "|")
CSV, PARQUET, ARROW, EXCEL = "csv", "parquet", "arrow", "excel"
# A file's format from its suffix (after a compression suffix); any other file is read as CSV.
_FORMATS = {".parquet": PARQUET, ".pq": PARQUET, ".arrow": ARROW, ".feather": ARROW, ".ipc": ARROW,
            ".xlsx": EXCEL, ".xlsm": EXCEL}
# Files that are tables in no format read here: refused by their suffix rather than read as CSV.
_UNREAD = {".json": "JSON", ".jsonl": "JSON lines", ".ndjson": "JSON lines", ".xls": "old Excel (.xls)",
           ".sav": "SPSS", ".dta": "Stata", ".sas7bdat": "SAS", ".db": "SQLite", ".sqlite": "SQLite"}
# Byte-order marks, longest first (UTF-32 LE's begins with UTF-16 LE's).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_QUOTED = re.compile(r'"[^"]*"')
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_DATE_OR_TIME = re.compile(r"\d{1,4}([-/.])\d{1,2}\1\d{1,4}([T ].*)?|\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")
_HINT = ("if the file has no header row, give the names (--names a,b,c; header=False, names=[...] in Python), "
         "or confirm this row is the header (--confirm-header; header='confirmed')")
Header = bool | Literal["confirmed"]


@dataclass(frozen=True)
class Input:
    """The private table as pandas, and what the caller gave: ``library`` (pandas, polars or
    pyarrow: the kind of table to give back), the file's ``format`` (None for a table in
    memory) and a ``label`` naming it in the record (the file name, or the table's kind)."""

    frame: pd.DataFrame
    library: str
    format: str | None
    label: str


def read_input(
    data: object, na_values: Sequence[str] = (), *, header: Header = True, names: Sequence[str] | None = None,
    sep: str | None = None, encoding: str | None = None,
) -> Input:
    """A pandas, polars or pyarrow table as it is, or a file read by :func:`read_data`."""
    if not isinstance(data, (str, os.PathLike)):
        frame = to_pandas(data)  # refuses what is neither a table nor a path
        library = library_of(data) or PANDAS
        return Input(frame, library, None, "DataFrame" if library == PANDAS else f"{library} table")
    path = Path(data)
    frame = read_data(path, na_values, header=header, names=names, sep=sep, encoding=encoding)
    return Input(frame, PANDAS, file_format(path), path.name)


def file_format(path: str | os.PathLike) -> str:
    """The format a file is read in, from its suffix: csv, parquet, arrow or excel."""
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    return _FORMATS.get(suffixes[-1], CSV) if suffixes else CSV


def read_data(
    path: str | os.PathLike, na_values: Sequence[str] = (), *, header: Header = True,
    names: Sequence[str] | None = None, sep: str | None = None, encoding: str | None = None,
) -> pd.DataFrame:
    """Read a CSV (:func:`read_table`), Parquet, Arrow IPC (Feather) or Excel file, by its suffix.

    In every format a text cell is stripped, and it is missing when empty or one of
    ``na_values``. A Parquet or Arrow file's column names and types come from its schema (Arrow
    types kept: see :func:`dpsynth.data.frames.arrow_to_pandas`); an Excel sheet's names come
    from its first row, checked as a CSV header is.
    """
    path = Path(path)
    fmt = file_format(path)
    unread = _UNREAD.get(path.suffix.lower())
    if unread is not None:
        raise DataError(
            f"data file '{path}' looks like {unread}, which dpsynth does not read: give a CSV, Parquet, "
            "Arrow (Feather) or Excel (.xlsx) file, or a pandas, polars or pyarrow table in Python"
        )
    if fmt == CSV:
        return read_table(path, na_values, header=header, names=names, sep=sep, encoding=encoding)
    if sep is not None or encoding is not None:
        raise DataError(f"data file '{path}' is read as {fmt}: sep and encoding are for CSV files")
    _check_file(path)
    missing = _missing(na_values)
    if fmt == EXCEL:
        frame = _read_excel(path, header, names, missing)
    else:
        if header is not True or names is not None:
            raise DataError(f"data file '{path}' is read as {fmt}: its column names come from the file")
        with _reading(path, fmt):
            frame = _read_arrow(path, fmt)
        frame.columns = pd.Index(_check_names([str(name) for name in frame.columns], f"data file '{path}'"))
    _check_rows(path, len(frame))
    return _cleaned(frame, missing)


def read_table(path: str | os.PathLike, na_values: Sequence[str] = (), *,
               header: Header = True, names: Sequence[str] | None = None,
               sep: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV with every cell as stripped text or missing; refuse files that cannot make a release.

    Each cell's value depends on that cell alone: surrounding whitespace is stripped, and the
    empty cell and ``na_values`` become missing (NaN, seen by ``isna()``); pandas' default
    tokens stay text (module docstring). Columns have pandas' text dtype ("str" in pandas 3).

    ``header=True``: the first row holds the column names, unless it looks like a record, which
    raises :class:`DataError` before the rest is read. It looks like a record when a cell is empty,
    a null-like token (:data:`NULL_LIKE`) or one of ``na_values``, a number (39, 2.5, -1e3), a date
    or time (2020-01-31, 31/01/2020, 10:30), repeats an earlier cell, or holds a digit and has the
    shape of the cell below it (digit runs as 9, letters as a/A: A11 over A12).
    ``header="confirmed"``: the user vouches for the first row as names, and only empty or
    repeated names are refused. ``header=False``: the file has no header row and ``names``
    (public metadata from the user) name its columns.

    ``sep`` is the field separator; by default the one of , ; tab | that the header line holds
    most often outside quotes (',' on a tie), and ',' without a header, since a record must not
    choose how the other rows are split. A read that gives one column while the first line holds
    another separator is refused (give ``sep``). ``encoding`` is the file's text encoding; by
    default its byte-order mark's (UTF-8, UTF-16, UTF-32), else UTF-8, and a file that is not
    valid in it is refused (give ``encoding``, e.g. latin-1): the encoding is never guessed from
    the cells. A file that is missing, unreadable, empty, a header only, or one row also raises
    :class:`DataError`.
    """
    csv = _CsvReading.of(Path(path), na_values, header, names, sep, encoding)
    with _reading(csv.path, CSV, csv.encoding):
        frame = csv.read()
    _check_rows(csv.path, len(frame))
    return csv.cleaned(frame)


@dataclass(frozen=True)
class _CsvReading:
    """How a CSV is read (:func:`read_table`): its checked options and column names."""

    path: Path
    sep: str
    encoding: str
    header: Header
    names: list[str]
    missing: frozenset[str]

    @classmethod
    def of(cls, path: Path, na_values: Sequence[str], header: Header, names: Sequence[str] | None,
           sep: str | None, encoding: str | None) -> _CsvReading:
        """The options checked and the header read (refused where it looks like a record)."""
        _check_header_options(path, header, names)
        _check_file(path)
        missing = _missing(na_values)
        encoding = _encoding(path, encoding)
        with _reading(path, CSV, encoding):
            line = _first_line(path, encoding)
            sep = sep if sep is not None else _sniff_separator(line) if header else ","
            first = _read(path, sep, encoding, header=None, nrows=2)
        top = [_strip(cell) for cell in first.iloc[0]]
        below = [_strip(cell) for cell in first.iloc[1]] if len(first) > 1 else None
        checked = _column_names(path, top, below, header, names, missing)
        if len(checked) == 1 and (held := [s for s in SEPARATORS if s != sep and s in _QUOTED.sub("", line)]):
            raise DataError(
                f"data file '{path}' reads as one column with separator {sep!r} but its first line holds "
                f"{held[0]!r}: give the separator (--sep {held[0]!r}; sep={held[0]!r} in Python)"
            )
        return cls(path, sep, encoding, header, checked, missing)

    def read(self, **options) -> pd.DataFrame:
        """The raw text cells (``chunksize`` in ``options``: an iterator of frames)."""
        return _read(self.path, self.sep, self.encoding, header=0 if self.header else None, names=self.names,
                     **options)

    def cleaned(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Cells stripped, and missing where empty or a user's token."""
        for column in frame.columns:
            values = frame[column].str.strip()
            frame[column] = values.where(~values.isin(self.missing))
        return frame


CHUNK_ROWS = 250_000


@dataclass(frozen=True)
class FileTable:
    """A private CSV or Parquet file (or a folder of Parquet files, ``parts`` in name order)
    left on disk, read in chunks by an engine that never holds it whole
    (:mod:`dpsynth.data.engines.duckdb_rows`). Each chunk's cells are those :func:`read_data`
    gives (a cell's value depends on that cell alone, so reading in chunks changes none).
    ``header`` is a frame of no rows with the file's column names and dtypes (Parquet: the
    file's Arrow types; CSV: text), public facts of the file's format."""

    path: Path
    format: str
    header: pd.DataFrame
    na_values: tuple[str, ...]
    csv: _CsvReading | None
    parts: tuple[Path, ...] = ()

    def chunks(self, rows: int | None = None) -> Iterator[pd.DataFrame]:
        """The rows in order, ``rows`` (default :data:`CHUNK_ROWS`) at a time, read as
        :func:`read_data` reads them."""
        rows = rows or CHUNK_ROWS
        if self.csv is not None:
            with _reading(self.path, CSV, self.csv.encoding):
                for text in cast(Iterator[pd.DataFrame], self.csv.read(chunksize=rows)):
                    yield self.csv.cleaned(text)
            return
        missing = _missing(self.na_values)
        parquet = optional("pyarrow.parquet", "reading a Parquet file")
        for part in self.parts or (self.path,):
            with _reading(part, PARQUET):
                # Without pre-buffering: with it, Arrow's allocations grew with every row group
                # read, so memory grew with the file (benchmarks/notes/2026-12-07-out-of-core.md).
                for batch in parquet.ParquetFile(part, pre_buffer=False).iter_batches(rows):
                    chunk = arrow_to_pandas(batch)
                    chunk.columns = self.header.columns
                    yield _cleaned(chunk, missing)


def open_file(
    path: str | os.PathLike, na_values: Sequence[str] = (), *, header: Header = True,
    names: Sequence[str] | None = None, sep: str | None = None, encoding: str | None = None,
) -> FileTable | None:
    """A CSV or Parquet file, or a folder of Parquet files with one schema, to read in chunks
    (:class:`FileTable`); None for other formats, which are read whole (:func:`read_data`).
    Refuses what :func:`read_data` refuses about the file itself and its header; the row count
    is checked once the rows are read."""
    path = Path(path)
    if path.is_dir():
        return _parquet_folder(path, na_values, header, names, sep, encoding)
    fmt = file_format(path)
    if fmt not in (CSV, PARQUET) or path.suffix.lower() in _UNREAD:
        return None
    if fmt == CSV:
        csv = _CsvReading.of(path, na_values, header, names, sep, encoding)
        frame = pd.DataFrame({name: pd.Series(dtype="str") for name in csv.names})
        return FileTable(path, fmt, frame, tuple(na_values), csv)
    if sep is not None or encoding is not None:
        raise DataError(f"data file '{path}' is read as {fmt}: sep and encoding are for CSV files")
    if header is not True or names is not None:
        raise DataError(f"data file '{path}' is read as {fmt}: its column names come from the file")
    _check_file(path)
    return FileTable(path, fmt, _parquet_header(path), tuple(na_values), None)


def _parquet_header(path: Path) -> pd.DataFrame:
    """A frame of no rows with a Parquet file's column names (checked) and dtypes."""
    with _reading(path, PARQUET):
        arrow_schema = optional("pyarrow.parquet", "reading a Parquet file").read_schema(path)
        frame = arrow_to_pandas(arrow_schema.empty_table())
    frame.columns = pd.Index(_check_names([str(name) for name in frame.columns], f"data file '{path}'"))
    return frame


def _parquet_folder(
    path: Path, na_values: Sequence[str], header: Header, names: Sequence[str] | None, sep: str | None,
    encoding: str | None,
) -> FileTable:
    """A folder of Parquet files read as one table, the files in name order, each with the
    first one's columns and types."""
    if sep is not None or encoding is not None or header is not True or names is not None:
        raise DataError(f"data folder '{path}' is read as Parquet: no sep, encoding, header or names")
    parts = tuple(sorted(part for part in path.iterdir() if part.is_file() and file_format(part) == PARQUET))
    if not parts:
        raise DataError(f"data folder '{path}' holds no Parquet file (.parquet, .pq)")
    frame = _parquet_header(parts[0])
    for part in parts[1:]:
        _check_file(part)
        other = _parquet_header(part)
        if list(other.columns) != list(frame.columns) or list(other.dtypes) != list(frame.dtypes):
            raise DataError(
                f"data folder '{path}': file '{part.name}' has other columns or types than '{parts[0].name}'"
            )
    return FileTable(path, PARQUET, frame, tuple(na_values), None, parts)


def check_rows(table: FileTable, rows: int) -> None:
    """Refuse a file read in chunks that has no rows or one (as :func:`read_data` does)."""
    _check_rows(table.path, rows)


def _check_header_options(path: Path, header: Header, names: Sequence[str] | None) -> None:
    if header not in (True, False, "confirmed"):
        raise DataError(f"header must be True, False or 'confirmed'; got {header!r}")
    if header is False and names is None:
        raise DataError(f"data file '{path}' is read without a header row: give its column names")
    if header is not False and names is not None:
        raise DataError("names are given only for a file without a header row (header=False)")


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError(f"data file '{path}' does not exist")
    if not path.is_file():
        raise DataError(f"data path '{path}' is not a file")
    if path.stat().st_size == 0:
        raise DataError(f"data file '{path}' is empty")


def _check_rows(path: Path, rows: int) -> None:
    if rows == 0:
        raise DataError(f"data file '{path}' has a header but no rows")
    if rows == 1:
        raise DataError(f"data file '{path}' has one row: a release needs many records")


def _missing(na_values: Sequence[str]) -> frozenset[str]:
    """The text cells read as missing: the empty cell and the user's tokens (stripped)."""
    tokens = [na_values] if isinstance(na_values, str) else na_values
    return frozenset({""} | {token.strip() for token in tokens})


def _column_names(path: Path, top: list[str], below: list[str] | None, header: Header,
                  names: Sequence[str] | None, missing: frozenset[str]) -> list[str]:
    """The column names: the user's (``header=False``) or the first row ``top``, checked."""
    if header is False:
        assert names is not None  # refused by _check_header_options
        names = _check_names(names)
        if len(names) != len(top):
            raise DataError(f"data file '{path}' has {len(top)} columns but {len(names)} names were given")
        return names
    if header is True and (sign := _record_sign(top, below, NULL_LIKE | missing)):
        raise DataError(f"data file '{path}': its first row looks like a record, not column names ({sign}); {_HINT}")
    return _check_names(top, f"data file '{path}'")


def _read(path: Path, sep: str, encoding: str, **options) -> pd.DataFrame:
    """``pd.read_csv`` (C engine) with every cell as raw text: no type or missing-value guessing."""
    return pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, na_filter=False, index_col=False,
                       skipinitialspace=True, **options)


def _read_arrow(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == PARQUET:
        table = optional("pyarrow.parquet", "reading a Parquet file").read_table(path)
    else:
        table = optional("pyarrow.feather", "reading an Arrow file").read_table(path)
    return arrow_to_pandas(table)


def _read_excel(path: Path, header: Header, names: Sequence[str] | None, missing: frozenset[str]) -> pd.DataFrame:
    """The first sheet, each cell as the workbook types it (object columns); names as for a CSV."""
    optional("openpyxl", "reading an Excel file")
    with _reading(path, EXCEL):
        rows = pd.read_excel(path, header=None, dtype=object, na_filter=False, engine="openpyxl")
    if rows.empty:
        raise DataError(f"data file '{path}' is empty")
    top = [_strip(_cell_text(cell)) for cell in rows.iloc[0]]
    below = [_strip(_cell_text(cell)) for cell in rows.iloc[1]] if len(rows) > 1 else None
    frame = rows.iloc[1:] if header else rows
    frame = frame.reset_index(drop=True)
    frame.columns = pd.Index(_column_names(path, top, below, header, names, missing))
    return frame


def _cell_text(cell: object) -> str:
    """A header cell as text (a workbook may type it as a number); an empty cell is ''."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return ""
    return str(int(cell)) if isinstance(cell, float) and cell.is_integer() else str(cell)


_is_text = np.frompyfunc(lambda value: isinstance(value, str), 1, 1)


def read_cells(frame: pd.DataFrame, na_values: Sequence[str]) -> pd.DataFrame:
    """``frame``'s typed cells (from a Parquet file) as :func:`read_data` reads them: text
    stripped, and missing where empty or one of ``na_values``."""
    return _cleaned(frame, _missing(na_values))


def _cleaned(frame: pd.DataFrame, missing: frozenset[str]) -> pd.DataFrame:
    for column in frame.columns:
        frame[column] = _text_missing(frame[column], missing)
    return frame


def _text_missing(values: pd.Series, missing: frozenset[str]) -> pd.Series:
    """A typed column with its text cells stripped, and missing where empty or a user's token."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.where(~values.astype(object).isin(missing))
    if not (pd.api.types.is_string_dtype(values.dtype) or values.dtype == object):
        return values
    text = _is_text(values.to_numpy(dtype=object)).astype(bool)
    if not text.any():
        return values
    stripped = values.where(~text, values.str.strip())
    return stripped.where(~(text & stripped.isin(missing)))


@contextmanager
def _reading(path: Path, fmt: str, encoding: str | None = None) -> Iterator[None]:
    """Turn the ways reading a file fails into one-line DataErrors that quote no value."""
    kind = {CSV: "CSV", PARQUET: "Parquet", ARROW: "Arrow", EXCEL: "Excel"}[fmt]
    try:
        yield
    except DataError:
        raise
    except PermissionError:
        raise DataError(f"data file '{path}' cannot be read (permission denied)") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data file '{path}' is empty") from None
    except pd.errors.ParserError as error:
        fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        detail = f": line {fields[2]} has {fields[3]} fields, the first row {fields[1]}" if fields else ""
        raise DataError(f"data file '{path}' is not a readable CSV file{detail}") from None
    except UnicodeError:
        raise DataError(
            f"data file '{path}' is not {_ENCODING_NAMES.get(encoding or '', encoding)} text: "
            "give its encoding (--encoding latin-1; encoding='latin-1' in Python)"
        ) from None
    except Exception:  # pyarrow's and openpyxl's errors have no common base; none may quote a cell
        raise DataError(f"data file '{path}' is not a readable {kind} file") from None


_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-32": "UTF-32"}
# Compressed CSVs that pandas reads by their suffix; the header line is sniffed through the same.
_OPENERS: dict[str, Callable[..., IO]] = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def _encoding(path: Path, given: str | None) -> str:
    """The encoding given (UTF-8 read past a BOM), else the byte-order mark's, else UTF-8."""
    if given is not None:
        try:
            name = codecs.lookup(given).name
        except LookupError:
            raise DataError(f"encoding {given!r} is not a known text encoding") from None
        return "utf-8-sig" if name == "utf-8" else name
    opener = _OPENERS.get(path.suffix.lower(), open)
    with _reading(path, CSV, "utf-8"), opener(path, "rb") as file:
        head = file.read(4)
    return next((name for bom, name in _BOMS if head.startswith(bom)), "utf-8-sig")


def _first_line(path: Path, encoding: str) -> str:
    """The first non-blank line of the file (the header, or the first record)."""
    opener = _OPENERS.get(path.suffix.lower(), open)
    with opener(path, "rt", encoding=encoding, newline="") as file:
        return next((line for line in file if line.strip()), "")


def _sniff_separator(line: str) -> str:
    """The one of :data:`SEPARATORS` that ``line`` holds most often outside quotes."""
    counts = [_QUOTED.sub("", line).count(sep) for sep in SEPARATORS]
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


def _check_names(names: Sequence[str], where: str | None = None) -> list[str]:
    """Column names, stripped; refuse missing or repeated ones (``where``: the file's header)."""
    if where is not None:
        if "" in [str(name).strip() for name in names]:
            raise DataError(f"{where} has a column without a name in its header")
        if len({str(name).strip() for name in names}) < len(names):
            raise DataError(f"{where} names a column more than once in its header")
        return [str(name).strip() for name in names]
    if isinstance(names, str) or not all(isinstance(name, str) and name.strip() for name in names):
        raise DataError("names must be a sequence of non-empty column names")
    names = [name.strip() for name in names]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"names {repeated} appear more than once")
    return names
