"""Counting engines: one MST release of a 1M-row Adult-like table on the numpy and DuckDB engines.

Data: bench_load's 1M-row table drawn from raw Adult by ``--seed`` (rows resampled with
replacement, numeric columns jittered), 15 columns, written once as Parquet (typed columns)
and once as CSV (every cell text). Each release is the CLI's: MST, epsilon 1, the schema
discovered under DP, ``--audit off``, ``--seed 1`` (the same seed on both engines, so the two
synthetic tables must be identical: ``same_output`` says whether they are), a fresh ledger,
each in its own process; wall seconds, CPU seconds and peak resident memory from ``wait4``
(bench_load.measured). The machine's 1-minute load average before each row is beside it.

    python benchmarks/bench_engines.py [--seed 0] [--cap 1800] [--out rows.csv]
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import adult, measured, resampled
from result_rows import append_rows, commit_of

from dpsynth.digest import sha256_file

FIELDS = ("engine", "input", "rows", "columns", "wall_s", "cpu_s", "peak_mb", "same_output", "status", "cores",
          "load", "date", "commit")
ROWS = 1_000_000
ENGINES = ("numpy", "duckdb")


def command(data: Path, out: Path, engine: str) -> list[str]:
    return [sys.executable, "-m", "dpsynth.cli", "--quiet", "release", str(data), "--na-values", "?",
            "--epsilon", "1", "--seed", "1", "--audit", "off", "--engine", engine, "--out", str(out),
            "--ledger", str(out.parent / f"{out.name}.sqlite")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cap", type=float, default=1800.0, help="seconds before a run is stopped")
    parser.add_argument("--out", default=None, help="append the rows to this CSV")
    args = parser.parse_args()
    commit = commit_of(Path(__file__).resolve().parent)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dpsynth-engines-") as name:
        folder = Path(name)
        table = resampled(adult(), ROWS, args.seed)
        inputs = {"parquet": folder / "adult-1m.parquet", "csv": folder / "adult-1m.csv"}
        table.to_parquet(inputs["parquet"], index=False)
        table.to_csv(inputs["csv"], index=False)
        for kind, data in inputs.items():
            hashes = {}
            for engine in ENGINES:
                load = os.getloadavg()[0]
                out = folder / f"out-{kind}-{engine}"
                result = measured([command(data, out, engine)], args.cap)
                synthetic = next(out.glob("synthetic.*"), None)
                hashes[engine] = sha256_file(synthetic) if synthetic is not None else None
                rows.append({
                    "engine": engine, "input": kind, "rows": ROWS, "columns": len(table.columns),
                    "wall_s": round(float(result["wall_s"]), 1), "cpu_s": round(float(result["cpu_s"]), 1),
                    "peak_mb": round(float(result["peak_mb"])), "same_output": "", "status": result["status"],
                    "cores": os.cpu_count(), "load": f"{load:.1f}", "date": datetime.date.today().isoformat(),
                    "commit": commit,
                })
                print(rows[-1], flush=True)
            same = hashes["numpy"] is not None and hashes["numpy"] == hashes["duckdb"]
            for row in rows[-len(ENGINES):]:
                row["same_output"] = "yes" if same else "no"
    if args.out:
        append_rows(args.out, FIELDS, rows)


if __name__ == "__main__":
    main()
