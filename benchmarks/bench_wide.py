"""Wide tables: time and peak memory of MST, AIM and PrivBayes with their defaults as columns grow.

Data: the made-up table of ``wide_table.py`` (categoricals of 2 to 300 categories and binned
numerics, correlated through latent variables) at each column count, the same rows and seed,
behind the door as a release fits it (public schema, the whole budget in the ``marginal`` part,
seeded noise). Each fit-and-sample runs in its own process (peak resident memory from /proc's
VmHWM, CPU seconds of the process from its rusage) with a wall-clock cap; a run over the cap is
recorded as such, with the CPU seconds it had used. On a shared machine CPU seconds are the
figure to compare: wall time grows with the load. Accuracy: mean total
variation distance over all 2-way marginals of the synthetic rows (as many as the real ones)
against the real rows. The growth exponent of each method is the least-squares slope of
log(CPU seconds) on log(columns) over its finished runs.

    python benchmarks/bench_wide.py [--columns 10,20,30,50] [--rows 100000] [--methods mst,aim,privbayes]
        [--epsilon 1] [--seed 0] [--cap 1800] [--out rows.csv]
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_mst import _guarded, peak_mb
from result_rows import append_rows
from wide_table import wide_table

FIELDS = ("method", "columns", "rows", "epsilon", "seconds", "cpu_seconds", "peak_mb", "tvd_2way", "status", "load",
          "date", "commit")


def run_method(method: str, n_columns: int, n_rows: int, epsilon: float, seed: int, queue) -> None:
    import resource
    import warnings

    from dpsynth.data import PrivateTable
    from dpsynth.evaluate.fidelity import mean_kway_tvd
    from dpsynth.generators import create
    from dpsynth.privacy.accountant import Accountant
    from dpsynth.privacy.budget import Budget
    from dpsynth.privacy.noise import NoiseSource
    from dpsynth.schema import encode

    warnings.simplefilter("ignore")  # the seeded-noise PrivacyWarning: a benchmark is not a release
    frame, schema = wide_table(n_rows, n_columns, seed)
    start = time.perf_counter()
    table = PrivateTable(frame, Accountant(Budget(epsilon, 1e-9)), NoiseSource(seed))
    table.encode(schema)
    synthetic = create(method).fit(table).sample(n_rows)
    seconds = time.perf_counter() - start
    real = encode(frame, schema).codes
    fake = encode(synthetic, schema).codes
    sizes = list(schema.domain_sizes().values())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    queue.put({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_mb": peak_mb(),
               "tvd_2way": mean_kway_tvd(real, fake, sizes, 2)})


def capped(cap: float, *args) -> dict:
    """``run_method(*args)`` in a fresh process; ``{"status": "over cap"}`` when it runs past ``cap`` s."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_guarded, args=(run_method, args, queue))
    process.start()
    try:
        out = queue.get(timeout=cap)
    except Exception:  # noqa: BLE001 - queue.Empty: the run is over its cap
        cpu = cpu_seconds(process.pid)
        process.terminate()
        process.join()
        return {"status": f"over {cap:.0f} s", "cpu_seconds": cpu}
    process.join()
    if "error" in out:
        return {"status": "error: " + out["error"].strip().splitlines()[-1][:120]}
    return {**out, "status": "ok"}


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a running process has used (/proc/PID/stat, fields 14-15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def growth(rows: list[dict]) -> dict[str, float]:
    """Per method, the slope of log(CPU seconds) on log(columns) over its finished runs."""
    slopes = {}
    for method in dict.fromkeys(r["method"] for r in rows):
        done = [r for r in rows if r["method"] == method and r["status"] == "ok"]
        if len(done) >= 2:
            x = np.log([r["columns"] for r in done])
            y = np.log([r["cpu_seconds"] for r in done])
            slopes[method] = float(np.polyfit(x, y, 1)[0])
    return slopes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", default="10,20,30,50")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--methods", default="mst,aim,privbayes")
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cap", type=float, default=1800.0, help="seconds before a run is stopped")
    parser.add_argument("--out", default=None, help="append the rows to this CSV")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    rows = []
    for method in args.methods.split(","):
        for n_columns in [int(c) for c in args.columns.split(",")]:
            load = os.getloadavg()[0]
            out = capped(args.cap, method, n_columns, args.rows, args.epsilon, args.seed)
            done = out["status"] == "ok"
            row = {"method": method, "columns": n_columns, "rows": args.rows, "epsilon": args.epsilon,
                   "seconds": round(out["seconds"], 1) if done else "",
                   "cpu_seconds": round(out["cpu_seconds"], 1) if "cpu_seconds" in out else "",
                   "peak_mb": round(out["peak_mb"]) if done else "",
                   "tvd_2way": round(out["tvd_2way"], 4) if done else "", "status": out["status"],
                   "load": f"{load:.1f}", "date": datetime.date.today().isoformat(), "commit": commit}
            print(row, flush=True)
            rows.append(row)
    print({"growth exponent (CPU seconds ~ columns^k)": {m: round(k, 2) for m, k in growth(rows).items()}})
    if args.out:
        append_rows(args.out, FIELDS, rows)


if __name__ == "__main__":
    main()
