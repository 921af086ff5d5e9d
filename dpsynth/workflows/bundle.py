"""All-or-nothing release folders: written beside the target, moved into place at the end."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dpsynth.errors import DataError


def check_out_dir(out: str | os.PathLike) -> Path:
    """The release folder, which must not exist yet or be empty."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"output folder '{out}' already exists and is not empty")
    return out


@contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """Yield a temporary folder next to ``out``; on success it becomes ``out``, else it vanishes.

    The folder is a sibling, so the final rename stays on one file system and is atomic.
    """
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    try:
        yield staging
        check_out_dir(out)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
