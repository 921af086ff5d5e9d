"""Rows of a benchmark's results CSV: the commit they were measured at, and appending them."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path


def commit_of(folder: Path) -> str:
    """The short commit of the checkout ``folder`` is in (a pinned worktree's own)."""
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=folder).stdout.strip()


def append_rows(path: str | Path, fields: Sequence[str], rows: Iterable[Mapping[str, object]]) -> None:
    """Append ``rows`` to the CSV at ``path``, writing its header first when the file is new."""
    new = not Path(path).exists()
    with open(path, "a", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        if new:
            writer.writeheader()
        writer.writerows(rows)
