"""All-or-nothing release folders: written beside the target, moved into place at the end.

A staging folder's name carries the writing process's id (``.OUT.partial-PID-XXXX``), so a
later write to the same place can tell a folder left by a killed run (its process is gone) from
one a live run is still writing, and remove only the first.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dpsynth.errors import DataError
from dpsynth.interrupts import held
from dpsynth.processes import remove_orphans

logger = logging.getLogger(__name__)


def check_out_dir(out: str | os.PathLike) -> Path:
    """The release folder, which must not exist yet or be empty, in a place that can be written.

    Called before anything is measured: a folder that cannot be made would otherwise stop the
    release at its last step, after its budget was spent. Staging folders that killed runs left
    for ``out`` are removed here, so the next attempt cleans them even if it never writes.
    """
    out = Path(out)
    try:
        if out.exists() and not out.is_dir():
            raise DataError(f"output folder '{out}' is an existing file")
        if out.exists() and any(out.iterdir()):
            raise DataError(f"output folder '{out}' already exists and is not empty")
        _check_writable(out)
        remove_abandoned_staging(out)
    except OSError as error:
        raise DataError(f"output folder '{out}' cannot be written ({error.strerror or error})") from None
    return out


def _check_writable(out: Path) -> None:
    """Make and remove a folder named as ``out``'s staging folder in the nearest existing
    folder above it: that fails where the staging folder would (no permission, a read-only
    file system, a name too long)."""
    place = out.absolute().parent
    while not place.exists():
        place = place.parent
    if not place.is_dir():
        raise DataError(f"output folder '{out}' cannot be made: '{place}' is a file, not a folder")
    os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=place))


@contextmanager
def staged_folder(out: Path, then: Callable[[], None] | None = None) -> Iterator[Path]:
    """Yield a temporary folder next to ``out``; on success it becomes ``out``, else it vanishes.

    The folder is a sibling, so the final rename stays on one file system and is atomic; its
    files reach the disk before it (a crash of the machine never shows a folder of empty files
    under ``out``). ``then`` (the ledger's commit) runs right after the rename, and Ctrl-C is
    held from before the rename to the end of ``then``: an interrupt never separates the two,
    and one that arrives meanwhile is raised after them, saying the folder is complete.
    """
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_staging(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    try:
        yield staging
        _sync(staging)
        try:
            with held():
                check_out_dir(out)
                if out.exists():
                    out.rmdir()
                os.replace(staging, out)
                _flush(out.parent)  # the rename; never a walk: other writers' folders come and go there
                if then is not None:
                    then()
        except KeyboardInterrupt as interrupt:
            interrupt.add_note(f"the release in '{out}' was complete before the interrupt took effect")
            raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _sync(folder: Path) -> None:
    """Flush everything under ``folder`` (a folder this process wrote alone), then the folder."""
    for path in [*folder.rglob("*"), folder]:
        _flush(path)


def _flush(path: Path) -> None:
    """fsync one file or folder (a folder's own flush writes its entries, not its files).

    Best effort: some file systems refuse to flush a folder, and a release whose budget is
    spent must not fail for a guard against power cuts.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def remove_abandoned_staging(out: Path) -> list[Path]:
    """Remove the staging folders of ``out`` whose writing process is gone; return them."""
    removed = remove_orphans(out.parent, f".{out.name}.partial-")
    for candidate in removed:
        logger.warning("removed '%s', left by an interrupted run that released nothing there", candidate.name)
    return removed
