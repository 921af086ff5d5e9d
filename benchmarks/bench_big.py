"""Releases larger than memory: MST (or another method) from a Parquet file on the DuckDB engine at 1M to 50M rows.

Data: :mod:`big_table` (raw Adult resampled with noise on the numeric columns, 30 columns),
written chunk by chunk to a Parquet file with its public schema. Each release is the CLI's:
MST unless ``--method`` says otherwise (with its ``--param``), epsilon 1, the declared schema,
``--audit off``, ``--seed 1``, ``--engine duckdb`` unless ``--engine`` says otherwise, a fresh
ledger, in its own process; the first 12 hex digits of the synthetic file's SHA-256 (the same
seed must give the same file on every engine: public output, compared across rows); wall
seconds, CPU seconds and peak resident memory from ``wait4`` (bench_load.measured), the
machine's 1-minute load average before each run and its mean during the run (read every 15 s)
beside it. On ``--engine spark`` (local mode, Spark's default
settings) the CPU seconds and the peak are the Python driver's alone: Spark's JVM is never
waited for by the release's process, so ``wait4`` does not count it (the status says so).

    python benchmarks/bench_big.py --rows 1000000 10000000 [--folder /tmp/big] [--out rows.csv]
    python benchmarks/bench_big.py --rows 1000000 --engine spark --folder /tmp/big  # beside --engine duckdb
    python benchmarks/bench_big.py --rows 10000000 --method neural --param epochs=0.01 --synthetic-rows 100000
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import measured
from big_table import write_big_table
from result_rows import append_rows, commit_of

from dpsynth.digest import sha256_file

FIELDS = ("method", "engine", "input", "schema", "rows", "columns", "wall_s", "cpu_s", "peak_mb", "status",
          "cores", "load", "load_during", "date", "commit", "synthetic")
LOAD_EVERY = 15.0
SPARK_NOTE = "; CPU and peak: the Python driver only, not Spark's JVM"
COLUMNS = 30


def command(
    data: Path, schema: Path, out: Path, method: str, engine: str, params: list[str], synthetic_rows: int | None
) -> list[str]:
    return [sys.executable, "-m", "dpsynth.cli", "--quiet", "release", str(data), "--schema", str(schema),
            "--epsilon", "1", "--seed", "1", "--audit", "off", "--engine", engine, "--method", method,
            *[option for param in params for option in ("--param", param)],
            *(["--rows", str(synthetic_rows)] if synthetic_rows else []),
            "--out", str(out), "--ledger", str(out.parent / f"{out.name}.sqlite")]


def spark_note() -> str:
    """What a Spark row's status adds: the settings given in PYSPARK_SUBMIT_ARGS, and what is measured."""
    settings = os.environ.get("PYSPARK_SUBMIT_ARGS", "").removesuffix("pyspark-shell").strip()
    return (f"; Spark settings: {settings}" if settings else "") + SPARK_NOTE


def synthetic_digest(synthetic: Path) -> str:
    """The first 12 hex digits of the synthetic file's SHA-256 ("" when the run wrote none)."""
    return sha256_file(synthetic).removeprefix("sha256:")[:12] if synthetic.exists() else ""


class LoadSampler:
    """The machine's 1-minute load average, read every LOAD_EVERY seconds while a run lasts."""

    def __init__(self) -> None:
        self.loads: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(LOAD_EVERY):
            self.loads.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def mean(self) -> str:
        return f"{sum(self.loads) / len(self.loads):.1f}" if self.loads else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cap", type=float, default=1800.0, help="seconds before a run is stopped")
    parser.add_argument("--folder", type=Path, default=None, help="keep the tables here (default: a temporary one)")
    parser.add_argument("--method", default="mst")
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument("--param", action="append", default=[], help="a method parameter, NAME=VALUE (repeatable)")
    parser.add_argument("--synthetic-rows", type=int, default=None, help="rows to synthesize (default: as many)")
    parser.add_argument("--out", default=None, help="append the rows to this CSV")
    args = parser.parse_args()
    commit = commit_of(Path(__file__).resolve().parent)
    folder = args.folder or Path(tempfile.mkdtemp(prefix="dpsynth-big-"))
    folder.mkdir(parents=True, exist_ok=True)
    shown_rows = [f"rows={args.synthetic_rows}"] if args.synthetic_rows else []
    schema = folder / "schema.json"
    rows = []
    try:
        for n_rows in args.rows:
            data = folder / f"big-{n_rows}-{args.seed}.parquet"
            if not data.exists():
                write_big_table(data, n_rows, args.seed).save(schema)
            elif not schema.exists():
                write_big_table(folder / "small.parquet", 1000, args.seed).save(schema)
            out = folder / f"out-{n_rows}"
            shutil.rmtree(out, ignore_errors=True)
            load = os.getloadavg()[0]
            with LoadSampler() as loads:
                run = command(data, schema, out, args.method, args.engine, args.param, args.synthetic_rows)
                result = measured([run], args.cap)
            rows.append({
                "method": " ".join([args.method, *args.param, *shown_rows]),
                "engine": args.engine, "input": "parquet",
                "schema": "declared", "rows": n_rows,
                "columns": COLUMNS, "wall_s": round(float(result["wall_s"]), 1),
                "cpu_s": round(float(result["cpu_s"]), 1), "peak_mb": round(float(result["peak_mb"])),
                "status": str(result["status"]) + (spark_note() if args.engine == "spark" else ""),
                "cores": os.cpu_count(), "load": f"{load:.1f}", "load_during": loads.mean(),
                "date": datetime.date.today().isoformat(), "commit": commit,
                "synthetic": synthetic_digest(out / "synthetic.parquet"),
            })
            print(rows[-1], flush=True)
            shutil.rmtree(out, ignore_errors=True)
    finally:
        if args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)
    if args.out:
        append_rows(args.out, FIELDS, rows)


if __name__ == "__main__":
    main()
