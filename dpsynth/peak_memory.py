"""Peak resident memory of this process, with nothing but the standard library, so that a
benchmark's worker in a peer's environment (no dpsynth dependencies) can read it too."""

from __future__ import annotations

import resource


def peak_memory_mb() -> float:
    """Peak resident memory of this process (VmHWM) in MiB.

    Read from /proc: ru_maxrss would not do in a spawned worker, since Linux carries the
    parent's peak over fork and exec into it. Elsewhere ru_maxrss is the fallback.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
