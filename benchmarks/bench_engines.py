"""Counting engines: one MST release of a 1M-row Adult-like table on the numpy, DuckDB and Spark engines.

Data: bench_load's table drawn from raw Adult by ``--seed`` (rows resampled with replacement,
numeric columns jittered), 15 columns, ``--rows`` rows (1M by default), written once as Parquet
(typed columns) and once as CSV (every cell text). Each release is the CLI's: MST, epsilon 1,
the schema discovered under DP, ``--audit off``, ``--seed 1`` (the same seed on every engine,
so the synthetic tables must be identical: ``same_output`` says whether each is numpy's, or
DuckDB's where numpy is not run), a fresh ledger, each in its own process. Wall seconds, CPU
seconds and peak resident memory are those of the whole process tree, the Spark engine's JVM
included: the resident sizes of the release and all its descendants summed every 0.1 s, and
each one's CPU seconds at its last sample (or ``wait4``'s figures where larger). Spark runs in
local mode on the machine's cores, its settings given the usual way (``PYSPARK_SUBMIT_ARGS``:
:data:`SPARK_ARGS`). The machine's 1-minute load average before each row is beside it.

    python benchmarks/bench_engines.py [--seed 0] [--rows 1000000] [--engines numpy,duckdb,spark]
        [--inputs parquet,csv] [--cap 1800] [--out rows.csv]
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import adult, resampled
from process_tree import tree_measured
from result_rows import append_rows, commit_of

from dpsynth.digest import sha256_file

FIELDS = ("engine", "input", "rows", "columns", "wall_s", "cpu_s", "peak_mb", "same_output", "status", "cores",
          "load", "date", "commit")
ENGINES = ("numpy", "duckdb", "spark")
# Local mode on every core, a driver heap for the rows handed over, and a shuffle partition a core
# (Spark's default of 200 makes each small GROUP BY 200 tasks).
SPARK_ARGS = (
    f"--master local[{os.cpu_count()}] --driver-memory 4g --conf spark.sql.shuffle.partitions={os.cpu_count()} "
    "--conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false pyspark-shell"
)


def command(data: Path, out: Path, engine: str) -> list[str]:
    return [sys.executable, "-m", "dpsynth.cli", "--quiet", "release", str(data), "--na-values", "?",
            "--epsilon", "1", "--seed", "1", "--audit", "off", "--engine", engine, "--out", str(out),
            "--ledger", str(out.parent / f"{out.name}.sqlite")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--inputs", default="parquet,csv")
    parser.add_argument("--cap", type=float, default=1800.0, help="seconds before a run is stopped")
    parser.add_argument("--out", default=None, help="append the rows to this CSV")
    args = parser.parse_args()
    commit = commit_of(Path(__file__).resolve().parent)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dpsynth-engines-") as name:
        folder = Path(name)
        table = resampled(adult(), args.rows, args.seed)
        inputs = {kind: folder / f"adult.{kind}" for kind in args.inputs.split(",")}
        if "parquet" in inputs:
            table.to_parquet(inputs["parquet"], index=False)
        if "csv" in inputs:
            table.to_csv(inputs["csv"], index=False)
        engines = args.engines.split(",")
        env = {**os.environ, "PYSPARK_SUBMIT_ARGS": SPARK_ARGS}
        for kind, data in inputs.items():
            hashes = {}
            for engine in engines:
                load = os.getloadavg()[0]
                out = folder / f"out-{kind}-{engine}"
                result = tree_measured(command(data, out, engine), args.cap, env)
                synthetic = next(out.glob("synthetic.*"), None)
                hashes[engine] = sha256_file(synthetic) if synthetic is not None else None
                rows.append({
                    "engine": engine, "input": kind, "rows": args.rows, "columns": len(table.columns),
                    "wall_s": round(float(result["wall_s"]), 1), "cpu_s": round(float(result["cpu_s"]), 1),
                    "peak_mb": round(float(result["peak_mb"])), "same_output": "", "status": result["status"],
                    "cores": os.cpu_count(), "load": f"{load:.1f}", "date": datetime.date.today().isoformat(),
                    "commit": commit,
                })
                print(rows[-1], flush=True)
            reference = hashes.get("numpy") or hashes.get("duckdb")
            for row in rows[-len(engines):]:
                same = reference is not None and hashes[row["engine"]] == reference
                row["same_output"] = "yes" if same else ("no" if reference is not None else "")
    if args.out:
        append_rows(args.out, FIELDS, rows)


if __name__ == "__main__":
    main()
