"""Folders named by the process that made them, removed once that process is gone."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path


def alive(pid: int) -> bool:
    """True while a process of this id runs (another user's included)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or an id no process can have
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_orphans(parent: Path, prefix: str) -> list[Path]:
    """Remove the folders in ``parent`` named ``prefix``, a process id and ``-`` whose process is
    gone; return them."""
    named = re.compile(rf"{re.escape(prefix)}(\d+)-")
    removed = []
    for candidate in parent.glob(f"{_glob_escape(prefix)}*"):
        match = named.match(candidate.name)
        if candidate.is_dir() and match and not alive(int(match.group(1))):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    return removed


def _glob_escape(text: str) -> str:
    """``text`` matched literally by :meth:`Path.glob` (its wildcard characters bracketed)."""
    return re.sub(r"([*?\[])", r"[\1]", text)
