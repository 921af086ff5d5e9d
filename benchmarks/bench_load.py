"""Load on the release path: time, CPU and peak memory of `dpsynth release` at 48k and 1M rows, and of
4 releases at once against 4 one after another.

Data: raw Adult (the shipped example: 48,842 rows, 15 columns, ``?`` missing), and a 1M-row
table drawn from it by ``--seed``: rows resampled with replacement, numeric columns jittered
(age and hours-per-week by up to 2, fnlwgt and non-zero capital amounts by a log-normal factor
of spread 0.1), so that the table is not 20 copies of each record. Each release is the CLI's
default but for the audit level: MST, epsilon 1, the schema discovered under DP, a fresh
ledger, ``--audit off`` or the default ``standard``. Each runs in its own process; its CPU
seconds and peak resident memory come from ``wait4`` (peak: the largest single process among
it and the audit's workers, not their sum). The parallel rows start 4 releases of the 48k table
together on fresh ledgers and report the wall time until the last ends and the CPU of all; the
machine's 1-minute load average before each row is recorded beside it.

    python benchmarks/bench_load.py [--seed 0] [--cap 1800] [--skip-audit-1m | --only ROWS:AUDIT] [--out rows.csv]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from result_rows import append_rows, commit_of

from dpsynth.datasets import example_path

FIELDS = ("scenario", "rows", "audit", "releases", "wall_s", "cpu_s", "peak_mb", "status", "cores", "load",
          "date", "commit")
JITTERED = {"age": 2, "hours-per-week": 2}
SCALED = ("fnlwgt", "capital-gain", "capital-loss")


def adult() -> pd.DataFrame:
    return pd.read_csv(example_path("adult")[0], keep_default_na=False)


def resampled(frame: pd.DataFrame, n_rows: int, seed: int) -> pd.DataFrame:
    """``n_rows`` rows of ``frame`` drawn with replacement, numeric columns jittered (module docstring)."""
    rng = np.random.default_rng(seed)
    out = frame.iloc[rng.integers(0, len(frame), n_rows)].reset_index(drop=True)
    for name, step in JITTERED.items():
        out[name] = np.clip(out[name] + rng.integers(-step, step + 1, n_rows), 1, 99)
    for name in SCALED:
        out[name] = np.round(out[name] * rng.lognormal(0.0, 0.1, n_rows)).astype(np.int64)
    return out


def command(data: Path, out: Path, audit: str) -> list[str]:
    return [sys.executable, "-m", "dpsynth.cli", "--quiet", "release", str(data), "--na-values", "?",
            "--epsilon", "1", "--out", str(out), "--ledger", str(out.parent / f"{out.name}.sqlite"),
            "--audit", audit]


def run_all(commands: list[list[str]], cap: float) -> dict[str, object]:
    """Start ``commands`` together; the wall seconds until the last ends, and how they ended."""
    started = time.perf_counter()
    processes = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for c in commands]
    status = "ok"
    for process in processes:
        try:
            _, error = process.communicate(timeout=max(cap - (time.perf_counter() - started), 1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            status = f"over {cap:.0f} s"
            continue
        text = error.decode(errors="replace").strip()
        if process.returncode not in (0, 1) and status == "ok":
            status = f"exit {process.returncode}: {text.splitlines()[-1][:100] if text else ''}"
    return {"wall_s": time.perf_counter() - started, "status": status}


def measured(commands: list[list[str]], cap: float) -> dict[str, object]:
    """:func:`run_all` in a fresh interpreter whose only children are these runs, so that its
    children's resource totals are theirs alone."""
    probe = (
        "import json, resource, sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
        "from bench_load import run_all\n"
        "out = run_all(json.loads(sys.argv[1]), float(sys.argv[2]))\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "out.update(cpu_s=usage.ru_utime + usage.ru_stime, peak_mb=usage.ru_maxrss / 1024)\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, json.dumps(commands), str(cap)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cap", type=float, default=1800.0, help="seconds before a run is stopped")
    parser.add_argument("--skip-audit-1m", action="store_true", help="leave out the audited 1M-row release")
    parser.add_argument("--only", default=None, metavar="ROWS:AUDIT",
                        help="run only the single release of this size and audit level, e.g. 1000000:standard")
    parser.add_argument("--out", default=None, help="append the rows to this CSV")
    args = parser.parse_args()
    commit = commit_of(Path(__file__).resolve().parent)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dpsynth-load-") as name:
        folder = Path(name)
        base = adult()
        small, large = folder / "adult-48k.csv", folder / "adult-1m.csv"
        base.to_csv(small, index=False)
        resampled(base, 1_000_000, args.seed).to_csv(large, index=False)
        plan = [
            ("one release", small, len(base), "off", 1, False),
            ("one release", small, len(base), "standard", 1, False),
            ("one release", large, 1_000_000, "off", 1, False),
            ("4 in sequence", small, len(base), "off", 4, False),
            ("4 in parallel", small, len(base), "off", 4, True),
            ("one release", large, 1_000_000, "standard", 1, False),
        ]
        for k, (scenario, data, n_rows, audit, count, parallel) in enumerate(plan):
            if args.skip_audit_1m and n_rows == 1_000_000 and audit != "off":
                continue
            if args.only and (count > 1 or args.only != f"{n_rows}:{audit}"):
                continue
            load = os.getloadavg()[0]
            outs = [folder / f"out-{k}-{i}" for i in range(count)]
            if parallel:
                result = measured([command(data, out, audit) for out in outs], args.cap)
            else:
                results = [measured([command(data, out, audit)], args.cap) for out in outs]
                result = {
                    "wall_s": sum(float(r["wall_s"]) for r in results),
                    "cpu_s": sum(float(r["cpu_s"]) for r in results),
                    "peak_mb": max(float(r["peak_mb"]) for r in results),
                    "status": next((r["status"] for r in results if r["status"] != "ok"), "ok"),
                }
            row = {"scenario": scenario, "rows": n_rows, "audit": audit, "releases": count,
                   "wall_s": round(float(result["wall_s"]), 1), "cpu_s": round(float(result["cpu_s"]), 1),
                   "peak_mb": round(float(result["peak_mb"])), "status": result["status"],
                   "cores": os.cpu_count(), "load": f"{load:.1f}", "date": datetime.date.today().isoformat(),
                   "commit": commit}
            print(row, flush=True)
            rows.append(row)
    if args.out:
        append_rows(args.out, FIELDS, rows)


if __name__ == "__main__":
    main()
