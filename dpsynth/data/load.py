"""Reading a private CSV, with errors that say what is wrong and never show a value."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from dpsynth.errors import DataError


def read_table(path: str | os.PathLike, na_values: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV with a header row; refuse files that cannot make a release.

    ``na_values`` are extra strings read as missing (pandas' defaults apply too). A file that
    is missing, unreadable, empty, a header only, or one row raises :class:`DataError`.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file '{path}' does not exist")
    if not path.is_file():
        raise DataError(f"data path '{path}' is not a file")
    if path.stat().st_size == 0:
        raise DataError(f"data file '{path}' is empty")
    try:
        frame = pd.read_csv(path, na_values=list(na_values), skipinitialspace=True)
    except PermissionError:
        raise DataError(f"data file '{path}' cannot be read (permission denied)") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"data file '{path}' is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError):
        raise DataError(f"data file '{path}' is not a readable CSV file with a header row") from None
    if frame.shape[1] == 0:
        raise DataError(f"data file '{path}' has no columns")
    if len(frame) == 0:
        raise DataError(f"data file '{path}' has a header but no rows")
    if len(frame) == 1:
        raise DataError(f"data file '{path}' has one row: a release needs many records")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed:")]
    if unnamed:
        raise DataError(f"data file '{path}' has a column without a name in its header")
    return frame
