"""Whether a process still runs: folders named by the process that made them are removed once it is gone."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True while a process of this id runs (another user's included)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or an id no process can have
        return False
    except PermissionError:  # another user's live process
        return True
    return True
