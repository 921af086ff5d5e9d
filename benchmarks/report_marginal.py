"""Write the marginal generators' rows from benchmarks/out/ into benchmarks/results/marginal.csv.

Reads ``benchmarks/out/aim*.json`` (dpsynth AIM and MST, ``bench_aim.py --methods aim,mst``),
``benchmarks/out/privbayes.json`` (``bench_privbayes.py``) and ``benchmarks/out/peers-rows.jsonl``
(``peers.py``), averages each (system, epsilon) over its seeds, replaces those rows of
``results/marginal.csv`` (the other rows stay, so a cell re-run on its own replaces only its
row), stamps them with today's date and the tree's commit, and rewrites the tables of
RESULTS.md (``report.py``).

    python benchmarks/report_marginal.py [--note TEXT]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import report

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
ROWS = report.RESULTS / "marginal.csv"
METRICS = {"tvd_1way": 3, "tvd_2way": 3, "tvd_3way": 4, "tstr_auc": 3, "seconds": 1, "peak_mb": 0}


def load_rows() -> pd.DataFrame:
    frames = []
    for stem in sorted({p.stem for p in [*OUT.glob("aim*.md"), *OUT.glob("aim*.json")]} | {"privbayes"}):
        if (OUT / f"{stem}.json").exists():
            frames.append(pd.read_json(OUT / f"{stem}.json", orient="records"))
        elif (OUT / f"{stem}.md").exists():  # a run cut short: the rows it printed as it went
            lines = (OUT / f"{stem}.md").read_text().splitlines()
            frames.append(pd.DataFrame([json.loads(line) for line in lines if line.startswith("{")]))
    if (OUT / "peers-rows.jsonl").exists():
        frames.append(pd.read_json(OUT / "peers-rows.jsonl", lines=True))
    if not frames:
        raise SystemExit(f"no benchmark rows in {OUT}: run benchmarks/run_all.sh first")
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[rows["epsilon"].notna()].copy()
    rows["epsilon"] = rows["epsilon"].astype(float).round(9)  # 0.3 parsed by two readers differs in the last bit
    rows["status"] = rows.get("status", pd.Series(index=rows.index, dtype=object)).fillna("ok")
    rows["system"] = rows["system"].str.replace(r" \{.*\}$", "", regex=True)
    rows["system"] = rows["system"].str.replace(r"^(private-pgm \w+) (1\.1\.0)$", r"\1 (mbi \2)", regex=True)
    # A re-run of the same cell replaces the earlier one (the latest row wins).
    return rows.drop_duplicates(["system", "epsilon", "seed"], keep="last")


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over the seeds that finished, per (system, epsilon)."""
    out = []
    for (system, epsilon), group in rows.groupby(["system", "epsilon"], sort=False):
        done = group[group["status"] == "ok"]
        entry = {"system": system, "epsilon": epsilon, "seeds": len(done), "runs": len(group),
                 "status": "; ".join(sorted(set(group["status"]) - {"ok"}))}
        for column in ("tvd_1way", "tvd_2way", "tvd_3way", "tstr_auc", "seconds", "peak_mb"):
            values = done[column].astype(float) if column in done else pd.Series(dtype=float)
            entry[column] = values.mean() if len(values) else np.nan
            entry[column + "_sd"] = values.std(ddof=1) if len(values) > 1 else np.nan
        if not len(done):
            entry["seconds"] = group["seconds"].astype(float).max()
        out.append(entry)
    table = pd.DataFrame(out)
    family = table["system"].str.extract(r"(AIM|MST|PrivBayes)", expand=False).fillna("")
    order = {"AIM": 0, "MST": 1, "PrivBayes": 2}
    table["_family"] = family.map(order)
    table["_ours"] = ~table["system"].str.startswith("dpsynth")
    return table.sort_values(["epsilon", "_family", "_ours", "system"]).drop(columns=["_family", "_ours"])


def as_csv_rows(table: pd.DataFrame, note: str) -> list[dict[str, str]]:
    """The summary as rows of results/marginal.csv, each stamped with today's date and commit."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                            text=True, check=False).stdout.strip()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    out = []
    for r in table.to_dict("records"):
        row = {"system": r["system"], "epsilon": f"{r['epsilon']:g}", "seeds": str(r["seeds"]),
               "runs": str(r["runs"]), "status": r["status"], "date": stamp, "commit": commit, "note": note}
        for name, digits in METRICS.items():
            for key in (name, name + "_sd"):
                row[key] = "" if np.isnan(r[key]) else f"{r[key]:.{digits}f}"
        out.append(row)
    return out


def merge(new: list[dict[str, str]]) -> None:
    """Replace the (system, epsilon) rows of results/marginal.csv that ``new`` holds, in place."""
    old = report.rows("marginal")
    fields = list(old[0].keys()) if old else list(new[0].keys())
    fresh = {(r["system"], float(r["epsilon"])): r for r in new}
    kept, seen = [], set()
    for row in old:
        key = (row["system"], float(row["epsilon"]))
        if key in fresh:
            row = fresh[key]
            seen.add(key)
        kept.append(row)
    kept += [r for key, r in fresh.items() if key not in seen]
    with open(ROWS, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: row.get(k, "") for k in fields} for row in kept)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--note", default="", help="a note for every row written (shown under the table)")
    args = parser.parse_args()
    merge(as_csv_rows(summarise(load_rows()), args.note))
    report.main([])


if __name__ == "__main__":
    main()
