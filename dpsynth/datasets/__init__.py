"""Public example tables shipped with dpsynth (see ATTRIBUTION.md beside this file)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from dpsynth.errors import DataError

EXAMPLES = {"adult": ("adult.csv.gz", "adult.schema.json")}


def example_path(name: str) -> tuple[Path, Path]:
    """Paths of an example's data file and its public schema."""
    if name not in EXAMPLES:
        raise DataError(f"unknown example {name!r}; choose one of {sorted(EXAMPLES)}")
    folder = resources.files("dpsynth.datasets")
    data, schema = EXAMPLES[name]
    return Path(str(folder / data)), Path(str(folder / schema))
