"""The columns of a private file whose rows an engine holds (DuckDB) or reads (Spark): the file's
public format facts, and the name each column has in the engine (``c0``, ``c1``, ...: a file's
own names may be anything, and never reach SQL)."""

from __future__ import annotations

import pandas as pd

from dpsynth.errors import DataError


def column_name(j: int) -> str:
    """The engine's name of the file's ``j``-th column."""
    return f"c{j}"


class FileColumns:
    """``header``: a frame of no rows with the file's column names and dtypes, the public facts
    of its format the door and the output types read."""

    def __init__(self, header: pd.DataFrame) -> None:
        self.header = header
        self._index = {str(name): j for j, name in enumerate(header.columns)}

    @property
    def columns(self) -> list[str]:
        return [str(name) for name in self.header.columns]

    def column_sql(self, name: str) -> str:
        """The engine's name of column ``name`` in the fitted and the capped rows."""
        if name not in self._index:
            raise DataError(f"column '{name}' is not in the data")
        return column_name(self._index[name])
