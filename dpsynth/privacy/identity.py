"""Content signatures: which private tables the budget ledger counts as the same dataset.

The ledger files every release under a dataset key, and a lifetime cap only holds if a table
read again — from another copy of the file, with its columns in another order, one column cast
to float, a constant column added, or other missing-value settings — lands on the same key.
:func:`content_signature` therefore hashes a canonical form of the table:

- columns are taken in the order of their names (read as text, stripped of whitespace);
- every cell is canonicalised on its own, whatever the column's dtype: whitespace around text is
  dropped; a cell that reads as a number stands for its float64 value, the value its canonical
  decimal writes (``3``, ``3.0``, ``"3"`` and ``" 3.00 "`` are one value); ``true``/``false`` in
  any case are ``True``/``False``;
- NA, NaN, None, the empty string and the common textual null tokens (:data:`NULL_TOKENS`, any
  case) are one missing token;
- columns with at most one distinct non-missing value say nothing about the rows and are
  left out;
- rows are a multiset: their order and the index do not count, duplicates do.

Canonicalising can only merge tables, never split one: two tables that read alike share a key
and so share a cap, which counts more spend, never less. So some edits keep the key: integers
beyond 2**53 that round to the same float64, and any change inside a column left out as
constant — a Y/N flag is one, since ``"N"`` is a null token.

The signature is a plain function of the private rows, so knowing all rows but one, it tests
guesses of the last. It must never be written anywhere: :meth:`Ledger.dataset_key
<dpsynth.privacy.ledger.Ledger.dataset_key>` turns it into an HMAC under the ledger's own secret
key at once. Row hashes come from :func:`pandas.util.hash_pandas_object`, which pandas does not
promise to keep across major versions; a dataset name (``Ledger.dataset_key(name=...)``) keeps
a cap whatever pandas does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.errors import DataError

# pandas' default missing-value strings, plus "?", "N" and "NaT", compared in lower case.
NULL_TOKENS = frozenset({
    "", "?", "n", "na", "n/a", "nan", "-nan", "nat", "null", "none", "<na>",
    "#n/a", "#n/a n/a", "#na", "-1.#ind", "1.#ind", "-1.#qnan", "1.#qnan",
})

_SIGNATURE_TAG = b"dpsynth-content-v2\0"
_LEGACY_TAG = b"dpsynth-frame-v1\0"
# Dtypes whose values convert to float64 without going through text.
_EXACT_NUMERIC = frozenset(map(pd.api.types.pandas_dtype, (
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float64",
    "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float64",
)))
# The hash of a missing cell: any fixed value; a clash with a real cell's hash is as likely as any
# other 64-bit collision.
_MISSING_HASH = np.uint64(0x6D697373696E6721)


def content_signature(df: pd.DataFrame) -> bytes:
    """The 32-byte SHA-256 of the frame's canonical content (see the module docstring).

    Raises :class:`DataError` when ``df`` is not a DataFrame, or when two informative columns
    have the same name once names are read as text.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"df must be a pandas DataFrame; got {type(df).__name__}")
    columns: dict[str, np.ndarray] = {}
    for position in range(df.shape[1]):
        hashes, present = _cell_hashes(df.iloc[:, position])
        values = hashes[present]
        if values.size == 0 or (values == values[0]).all():
            continue
        name = str(df.columns[position]).strip()
        if name in columns:
            # The names are the custodian's schema, but the message stays as terse as the rest.
            raise DataError("df has two columns with the same name once names are read as text")
        columns[name] = hashes
    names = sorted(columns)
    row_hashes = np.sort(_row_hashes(columns, names))
    return _signature(names, len(df), row_hashes)


def _row_hashes(columns: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    """One 64-bit hash per row of the cell hashes of ``names``; sorting them makes the result a
    function of the multiset of rows."""
    if not names:
        return np.empty(0, dtype=np.uint64)
    cells = pd.DataFrame({name: columns[name] for name in names})
    return pd.util.hash_pandas_object(cells, index=False).to_numpy(dtype=np.uint64)


class StreamedSignature:
    """:func:`content_signature` of a table read in chunks, never whole: the same bytes.

    :meth:`update` takes the chunks in turn and gives each row's 64-bit hash, for the caller to
    keep (on disk); :meth:`digest` takes them back in sorted order. A column whose present cells
    all hash alike is left out of the signature, which is known only at the end: then
    (:attr:`needs_second_pass`) the caller hashes the rows again with :meth:`row_hashes`.
    """

    def __init__(self) -> None:
        self._names: list[str] | None = None
        self._first: dict[str, int] = {}
        self._varies: set[str] = set()
        self.n_rows = 0

    def update(self, chunk: pd.DataFrame) -> np.ndarray:
        """The chunk's row hashes over every column (the signature's when none is left out)."""
        columns: dict[str, np.ndarray] = {}
        for position in range(chunk.shape[1]):
            hashes, present = _cell_hashes(chunk.iloc[:, position])
            name = str(chunk.columns[position]).strip()
            if name in columns:
                raise DataError("df has two columns with the same name once names are read as text")
            columns[name] = hashes
            values = hashes[present]
            if values.size:
                first = self._first.setdefault(name, int(values[0]))
                if name not in self._varies and (values != first).any():
                    self._varies.add(name)
        if self._names is None:
            self._names = sorted(columns)
        self.n_rows += len(chunk)
        return _row_hashes(columns, self._names)

    @classmethod
    def merged(cls, names: Sequence[str], varies: Iterable[str], n_rows: int) -> StreamedSignature:
        """The signature of a table whose parts were read elsewhere (on Spark's executors, each
        part by its own :meth:`update` and :meth:`columns_seen`): its column names, those whose
        present cells do not all hash alike, and its row count."""
        signature = cls()
        signature._names = sorted(names)
        signature._varies = set(varies)
        signature.n_rows = int(n_rows)
        return signature

    def columns_seen(self) -> dict[str, tuple[int, bool]]:
        """Each column with a present cell: the hash of its first one and whether another differs."""
        return {name: (first, name in self._varies) for name, first in self._first.items()}

    @property
    def needs_second_pass(self) -> bool:
        """Whether a column is left out, so the rows must be hashed again (:meth:`row_hashes`)."""
        return sorted(self._varies) != self._names

    def row_hashes(self, chunk: pd.DataFrame) -> np.ndarray:
        """The chunk's row hashes over the columns the signature keeps (after every update)."""
        names = sorted(self._varies)
        cells = {str(chunk.columns[p]).strip(): _cell_hashes(chunk.iloc[:, p])[0] for p in range(chunk.shape[1])}
        return _row_hashes(cells, names) if names else np.zeros(len(chunk), dtype=np.uint64)

    def digest(self, sorted_hashes: Iterable[np.ndarray]) -> bytes:
        """The signature from the kept row hashes, in ascending order, in any number of pieces."""
        names = sorted(self._varies)
        digest = _header_digest(names, self.n_rows)
        if names:
            for piece in sorted_hashes:
                digest.update(np.asarray(piece, dtype="<u8").tobytes())
        return digest.digest()


def _signature(names: list[str], n_rows: int, row_hashes: np.ndarray) -> bytes:
    digest = _header_digest(names, n_rows)
    digest.update(row_hashes.astype("<u8").tobytes())
    return digest.digest()


def _header_digest(names: list[str], n_rows: int) -> Any:
    """The signature's SHA-256 after its header and row count, before the sorted row hashes."""
    # The length prefixes keep the header, the row count and the row hashes apart.
    header = json.dumps(names).encode()
    digest = hashlib.sha256(_SIGNATURE_TAG)
    digest.update(len(header).to_bytes(8, "little"))
    digest.update(header)
    digest.update(n_rows.to_bytes(8, "little"))
    return digest


def legacy_fingerprint(df: pd.DataFrame) -> str | None:
    """The key a version-1 ledger filed the frame under: ``"sha256:<hex>"`` of its exact content.

    Only computed to carry a version-1 ledger's releases and cap over to the frame's new key;
    it is compared with the ledger's rows and never written. None for a frame version 1 could
    not hash (cells pandas cannot hash, such as lists), which no version-1 ledger can hold.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"df must be a pandas DataFrame; got {type(df).__name__}")
    try:
        row_hashes = np.sort(pd.util.hash_pandas_object(df, index=False).to_numpy(dtype=np.uint64))
    except TypeError:
        return None
    header = json.dumps([[repr(name), str(dtype)] for name, dtype in df.dtypes.items()]).encode()
    digest = hashlib.sha256(_LEGACY_TAG)
    digest.update(len(header).to_bytes(8, "little"))
    digest.update(header)
    digest.update(row_hashes.astype("<u8").tobytes())
    return f"sha256:{digest.hexdigest()}"


def _cell_hashes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of each cell's canonical value, and which cells are not missing."""
    if column.dtype in _EXACT_NUMERIC:
        return _number_hashes(column.to_numpy(dtype="float64", na_value=np.nan))
    if column.dtype == object:
        # As objects, 1 == True would let factorize merge them in whichever order they come.
        column = column.astype(str)
    # Other columns repeat few values, so each distinct value is canonicalised once.
    codes, uniques = pd.factorize(column)
    value_hashes, value_present = _text_hashes(pd.Series(uniques).astype(str))
    present = codes >= 0
    present[present] = value_present[codes[present]]
    hashes = np.full(len(column), _MISSING_HASH, dtype=np.uint64)
    hashes[present] = value_hashes[codes[present]]
    return hashes, present


def _text_hashes(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_cell_hashes` of text: null tokens are missing and numbers hash as numbers."""
    text = text.str.strip()
    lower = text.str.lower()
    text = text.mask(lower.isin(NULL_TOKENS)).mask(lower == "true", "True").mask(lower == "false", "False")
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    hashes, is_number = _number_hashes(numbers)
    is_text = text.notna().to_numpy() & ~is_number
    hashes[is_text] = pd.util.hash_array(text.to_numpy(dtype=object)[is_text])
    return hashes, is_number | is_text


def _number_hashes(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hash each number as its float64 value, what its canonical decimal stands for; NaN is missing.

    ``3``, ``3.0`` and ``"3.00"`` are one value, and no number has to be written out as text.
    """
    present = ~np.isnan(numbers)
    hashes = np.full(len(numbers), _MISSING_HASH, dtype=np.uint64)
    # Adding 0.0 turns -0.0 into 0.0, the one value with two bit patterns.
    hashes[present] = pd.util.hash_array(numbers[present] + 0.0)
    return hashes, present
