"""Turn a comparison sweep's folder (``bench_compare.py --out``) into the rows of results/compare.csv.

    python benchmarks/report_compare.py benchmarks/out/compare --commit abc1234 [--note "..."]

Each finished run becomes one row (its method named as on the page). The page shows one sweep,
so the rows replace the file's; ``report.py`` then rewrites the page's table from the file.
"""

from __future__ import annotations

import argparse
import csv
import json
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "compare.csv"
NAMES = {"mst": "MST", "aim": "AIM", "privbayes": "PrivBayes", "neural": "neural", "hybrid": "hybrid"}
# The sweep's field for each column of the page's table.
FIELDS = {
    "tvd_1way": "tvd_1way", "tvd_2way": "tvd_2way", "tvd_3way": "tvd_3way", "numeric_w": "wasserstein",
    "corr_diff": "correlation_difference", "column_shape": "column_shape", "pair_trend": "pair_trend",
    "tstr_auc": "tstr_auc", "attack_auc": "membership_auc", "epsilon_bound": "epsilon_lower_bound",
}
COLUMNS = ["method", "epsilon", *FIELDS, "fit_s", "peak_mib", "date", "commit", "note"]


def rows_of(folder: Path, commit: str, note: str) -> list[dict[str, str]]:
    rows = []
    for line in (folder / "runs.jsonl").read_text(encoding="utf-8").splitlines():
        run = json.loads(line)
        if run.get("status") != "ok":
            continue
        row = {"method": NAMES.get(run["method"], run["method"]), "epsilon": f"{run['epsilon']:g}"}
        row.update({column: f"{run[field]:.3f}" for column, field in FIELDS.items() if field in run})
        row.update(fit_s=f"{run['fit_seconds']:.0f}", peak_mib=f"{run['peak_memory_mb']:.0f}",
                   date=date.today().isoformat(), commit=commit, note=note)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--commit", required=True, help="the commit the sweep ran")
    parser.add_argument("--note", default="", help="a footnote for these rows")
    args = parser.parse_args()
    rows = rows_of(args.folder, args.commit, args.note)
    with RESULTS.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} row(s) written to {RESULTS}")


if __name__ == "__main__":
    main()
