"""A large Adult-like Parquet table, written chunk by chunk from the shared raw Adult.

Each row is a raw Adult record (../shared/data/adult/adult_uci.csv, ``?`` read as missing,
``split`` dropped, the test labels' trailing dot removed) drawn with replacement; its numeric
columns are jittered (age and hours by a few units, the money columns and the census weight
by a lognormal factor). Fifteen more columns make 30: for each attribute a second one that
keeps the row's value with probability 0.7 and else takes another record's (a correlated
copy, as repeated measurements or household members give). Chunk ``i`` is drawn from
``numpy.random.default_rng([seed, i])``, so the table depends on (rows, seed, chunk size) only
and is never whole in memory. The schema is public: the raw data's categories and ranges.

    python benchmarks/big_table.py --rows 10000000 --out /tmp/big10m.parquet [--schema schema.json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dpsynth.schema import Categorical, Numeric, Schema

RAW = Path(__file__).resolve().parents[2] / "shared" / "data" / "adult" / "adult_uci.csv"
CHUNK = 1_000_000
KEEP = 0.7
# Numeric columns: public bounds, bins, and how each is jittered (a step in units, or a lognormal sigma).
NUMERIC = {
    "age": (17, 90, 20, 2, None),
    "fnlwgt": (10_000, 1_500_000, 20, None, 0.1),
    "education-num": (1, 16, 16, 0, None),
    "capital-gain": (0, 99_999, 20, None, 0.1),
    "capital-loss": (0, 4_356, 20, None, 0.1),
    "hours-per-week": (1, 99, 20, 3, None),
}


def raw_adult() -> pd.DataFrame:
    """The raw Adult records, 15 attributes (numeric columns int64, categories text, ``?`` missing)."""
    frame = pd.read_csv(RAW, na_values="?", keep_default_na=False).drop(columns="split")
    frame["income"] = frame["income"].str.rstrip(".")
    return frame


def schema_of(raw: pd.DataFrame) -> Schema:
    """The public schema of the big table: raw Adult's categories and the bounds above, both copies."""
    columns: list[Categorical | Numeric] = []
    for suffix in ("", "-2"):
        for name in raw.columns:
            if name in NUMERIC:
                low, high, bins, _, _ = NUMERIC[name]
                columns.append(Numeric(name + suffix, low, high, bins=bins, integer=True, missing=False))
            else:
                labels = tuple(sorted(raw[name].dropna().unique()))
                columns.append(Categorical(name + suffix, categories=labels, other=False,
                                           missing=bool(raw[name].isna().any())))
    return Schema(tuple(columns), provenance="public")


def chunk(raw: pd.DataFrame, n_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n_rows`` rows of the big table (module docstring)."""
    rows = raw.iloc[rng.integers(0, len(raw), n_rows)].reset_index(drop=True)
    others = raw.iloc[rng.integers(0, len(raw), n_rows)].reset_index(drop=True)
    for name, (low, high, _, step, sigma) in NUMERIC.items():
        for frame in (rows, others):
            values = frame[name].to_numpy(dtype=np.float64)
            if step:
                values = values + rng.integers(-step, step + 1, n_rows)
            if sigma:
                values = np.round(values * rng.lognormal(0.0, sigma, n_rows))
            frame[name] = np.clip(values, low, high).astype(np.int64)
    keep = rng.random((n_rows, len(raw.columns))) < KEEP
    copies = {
        f"{name}-2": rows[name].where(keep[:, j], others[name]) for j, name in enumerate(raw.columns)
    }
    return pd.concat([rows, pd.DataFrame(copies)], axis=1)


def write_big_table(path: Path, n_rows: int, seed: int = 0, chunk_rows: int = CHUNK) -> Schema:
    """Write the table to ``path`` (Parquet, one row group per chunk) and return its public schema."""
    raw = raw_adult()
    writer = None
    try:
        for i, start in enumerate(range(0, n_rows, chunk_rows)):
            part = chunk(raw, min(chunk_rows, n_rows - start), np.random.default_rng([seed, i]))
            table = pa.Table.from_pandas(part, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return schema_of(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--schema", type=Path, default=None, help="also write the public schema here")
    args = parser.parse_args()
    if not RAW.exists():
        sys.exit(f"needs {RAW}")
    schema = write_big_table(args.out, args.rows, args.seed)
    if args.schema is not None:
        schema.save(args.schema)


if __name__ == "__main__":
    main()
