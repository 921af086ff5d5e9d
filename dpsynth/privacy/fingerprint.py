"""Content fingerprints of datasets.

A fingerprint identifies a dataset in the budget ledger and in the release record, so that
releases made on the same data add up. It is a SHA-256 hash, never raw values. Equal data gives an
equal fingerprint whatever the row order; any changed cell, column name, column order or dtype
gives another one. Row hashes come from :func:`pandas.util.hash_pandas_object`, which pandas does
not promise to keep across major versions, so a frame may fingerprint differently after a pandas
upgrade; hash the source file with :func:`fingerprint_file` where that matters.
"""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pandas as pd

from dpsynth.errors import DataError

_FRAME_TAG = b"dpsynth-frame-v1\0"
_CHUNK_BYTES = 1 << 20


def fingerprint_frame(df: pd.DataFrame) -> str:
    """Return ``"sha256:<hex>"`` of the frame's content, independent of row order and index."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"df must be a pandas DataFrame; got {type(df).__name__}")
    # One 64-bit hash per row; sorting them makes the result a function of the multiset of rows.
    row_hashes = np.sort(pd.util.hash_pandas_object(df, index=False).to_numpy(dtype=np.uint64))
    # repr keeps the column 1 apart from the column "1"; the length prefix keeps the header apart
    # from the row bytes.
    header = json.dumps([[repr(name), str(dtype)] for name, dtype in df.dtypes.items()]).encode()
    digest = hashlib.sha256(_FRAME_TAG)
    digest.update(len(header).to_bytes(8, "little"))
    digest.update(header)
    digest.update(row_hashes.astype("<u8").tobytes())
    return f"sha256:{digest.hexdigest()}"


def fingerprint_file(path: str | os.PathLike[str]) -> str:
    """Return ``"sha256:<hex>"`` of the file's bytes, read in chunks so large files fit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"
