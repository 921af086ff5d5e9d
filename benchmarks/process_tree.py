"""Wall seconds, CPU seconds and peak memory of a command and every process it starts, with caps.

The resident sizes of the command and all its descendants are summed every 0.1 s (the peak is
the largest sum), each one's CPU seconds taken at its last sample, or ``wait4``'s totals (the
command and the children it reaped) where larger. A run past its wall-clock cap, its CPU-seconds
cap or its memory cap (the whole tree's) is killed with all its descendants, so a peer's worker
pool is stopped too.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import time

import psutil


def tree_measured(command: list[str], cap: float, env: dict[str, str], cpu_cap: float = math.inf,
                  memory_cap_mb: float = math.inf) -> dict[str, object]:
    """Run ``command``; its wall seconds, CPU seconds, peak resident MB, status ("ok", "over N s",
    "over N CPU-s", "over N MB" or "exit CODE: last line"), exit code and the last line it wrote to
    stderr. The memory cap stops a run on a shared machine before the kernel's OOM killer picks one."""
    # stderr to a file: Spark's log could fill a pipe nobody reads until the end.
    errors = tempfile.TemporaryFile()
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env)
    root = psutil.Process(process.pid)
    cpu: dict[int, float] = {}
    peak = 0
    status = "ok"
    while True:
        # wait4 reaps the command itself, so its resource totals (and its reaped children's) come back.
        pid, code, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        overs = {f"over {cap:.0f} s": time.perf_counter() - started > cap,
                 f"over {cpu_cap:.0f} CPU-s": sum(cpu.values()) > cpu_cap,
                 f"over {memory_cap_mb:.0f} MB": peak / 2**20 > memory_cap_mb}
        if any(overs.values()):
            _kill_tree(root)
            status = next(name for name, over in overs.items() if over)
            _, code, usage = os.wait4(process.pid, 0)
            break
        resident = 0
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = []
        for member in tree:
            try:
                times = member.cpu_times()
                resident += member.memory_info().rss
                cpu[member.pid] = times.user + times.system
            except psutil.Error:
                continue
        peak = max(peak, resident)
        time.sleep(0.1)
    process.returncode = os.waitstatus_to_exitcode(code)
    wall = time.perf_counter() - started
    errors.seek(0)
    lines = errors.read().decode(errors="replace").strip().splitlines()
    errors.close()
    error = lines[-1][:100] if lines else ""
    if status == "ok" and process.returncode not in (0, 1):
        status = f"exit {process.returncode}: {error}"
    return {"wall_s": wall, "status": status, "cpu_s": max(sum(cpu.values()), usage.ru_utime + usage.ru_stime),
            "peak_mb": max(peak / 2**20, usage.ru_maxrss / 1024), "returncode": process.returncode,
            "error": error}


def _kill_tree(root: psutil.Process) -> None:
    """SIGKILL ``root`` and every descendant it has (children first, so none is re-parented and missed)."""
    try:
        members = [*root.children(recursive=True), root]
    except psutil.Error:
        members = [root]
    for member in members:
        try:
            member.kill()
        except psutil.Error:
            continue
