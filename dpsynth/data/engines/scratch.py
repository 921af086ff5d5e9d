"""Scratch folders of the database engines, which hold a copy of the private rows while a release runs.

Each is owner-only and removed when its engine is done; a folder's name carries the id of the
process that made it, so that the next engine to start removes those a killed process left
behind: a copy of private rows is never kept on disk past the run that needed it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from dpsynth.processes import remove_orphans

logger = logging.getLogger(__name__)

PREFIX = "dpsynth-duckdb-"


def scratch_folder() -> tempfile.TemporaryDirectory:
    """A new owner-only scratch folder named by this process, after removing abandoned ones."""
    remove_abandoned()
    return tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-")


def remove_abandoned() -> list[Path]:
    """Remove the scratch folders whose process is gone; return them."""
    removed = remove_orphans(Path(tempfile.gettempdir()), PREFIX)
    for candidate in removed:
        logger.warning("removed '%s', a copy of private rows left by a killed run", candidate.name)
    return removed
