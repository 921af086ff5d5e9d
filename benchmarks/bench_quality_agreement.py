"""dpsynth's column-shape and pair-trend scores against SDMetrics' QualityReport on the same tables.

dpsynth computes the two scores itself (:mod:`dpsynth.evaluate.quality`); SDMetrics is not a
dependency. This script fits dpsynth MST on the shared raw tables (raw Adult, PUMS, German
credit) at each epsilon and seed, scores the synthetic table against the real one with dpsynth,
and has SDMetrics score the same two tables in its own environment (a worker process of
``--sdmetrics-python``), with SDV metadata exported from the same schema
(:func:`dpsynth.schema.sdv.to_sdv`). Categorical cells go to SDMetrics as text, as dpsynth
compares them. SDMetrics' QualityReport averages pair trends only over the pairs whose real
correlation or association passes a threshold (0.5 and 0.3 since sdmetrics 0.2x); both are set
to 0 here, so that it scores every pair, as dpsynth does. One row per table, epsilon, seed and
property: both scores, their difference, and the largest difference over the property's columns
or pairs.

    python3 -m venv benchmarks/.peer-env/sdmetrics
    benchmarks/.peer-env/sdmetrics/bin/pip install sdmetrics pandas
    .venv/bin/python benchmarks/bench_quality_agreement.py [--epsilons 1,3] [--seeds 0,1,2] [--write]

``--write`` appends the rows to benchmarks/results/quality_agreement.csv (then run report.py).
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from dpsynth import Synthesizer
from dpsynth.evaluate.quality import column_shapes, is_continuous, labels, mean_score, pair_trends, values
from dpsynth.schema import Numeric, Schema
from dpsynth.schema.sdv import to_sdv

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
OUT = HERE / "results" / "quality_agreement.csv"
FIELDS = ["date", "commit", "table", "rows", "columns", "method", "epsilon", "seed", "property",
          "dpsynth", "sdmetrics", "difference", "max_item_difference", "items"]
TABLES = {
    "adult (raw)": ("adult/adult_uci.csv", {"na_values": "?", "keep_default_na": False}),
    "PUMS": ("pums/PUMS.csv", {}),
    "German credit": ("german_credit/german_credit.csv", {}),
}
# Runs in SDMetrics' environment: reads the two tables and the metadata, prints the details.
WORKER = """
import json, sys, warnings
import pandas as pd
from sdmetrics.reports.single_table import QualityReport
warnings.simplefilter("ignore")
folder = sys.argv[1]
metadata = json.load(open(folder + "/metadata.json"))
kinds = {name: spec["sdtype"] for name, spec in metadata["columns"].items()}
def read(name):
    frame = pd.DataFrame(json.load(open(folder + "/" + name + ".json")))
    for column, sdtype in kinds.items():
        if sdtype == "datetime":
            frame[column] = pd.to_datetime(frame[column])
    return frame
report = QualityReport()
report.real_correlation_threshold = report.real_association_threshold = 0
report.generate(read("real"), read("synthetic"), metadata, verbose=False)
shapes = report.get_details("Column Shapes")
pairs = report.get_details("Column Pair Trends")
print(json.dumps({
    "column_shape": {r["Column"]: r["Score"] for _, r in shapes.iterrows()},
    "pair_trend": {r["Column 1"] + "\\t" + r["Column 2"]: r["Score"] for _, r in pairs.iterrows()},
}))
"""


def commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=HERE).stdout.strip()


def as_sdmetrics_sees(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The table as dpsynth reads it: categorical cells as text, numbers as floats, datetimes as they are."""
    out = frame[list(schema.encoded_columns)].copy()
    for name in schema.encoded_columns:
        column = schema.encoded(name)
        if isinstance(column, Numeric):
            out[name] = values(out[name], column)
        elif not is_continuous(column):
            out[name] = labels(out[name]).astype(object).where(out[name].notna(), None)
    return out


def sdmetrics_scores(python: str, real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        for name, frame in (("real", real), ("synthetic", synthetic)):
            text = frame.to_json(orient="columns", date_format="iso")
            Path(folder, f"{name}.json").write_text(text, encoding="utf-8")
        metadata = to_sdv(schema)
        metadata["columns"] = {name: spec for name, spec in metadata["columns"].items() if name in real.columns}
        Path(folder, "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
        done = subprocess.run([python, "-c", WORKER, folder], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the SDMetrics worker failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def agreement(ours: dict[str, float], theirs: dict[str, float]) -> tuple[float, float, float, int]:
    """Both means, and the largest difference over the items both scored."""
    shared = [key for key in ours if key in theirs and pd.notna(ours[key]) and pd.notna(theirs[key])]
    worst = max((abs(ours[key] - theirs[key]) for key in shared), default=float("nan"))
    return mean_score(list(ours.values())), mean_score(list(theirs.values())), worst, len(shared)


def run(table: str, epsilon: float, seed: int, python: str) -> list[dict[str, object]]:
    path, read = TABLES[table]
    frame = pd.read_csv(SHARED / path, **read)
    fitted = Synthesizer("mst", epsilon=epsilon, ledger=False, random_state=seed, public_dtypes=True).fit(frame)
    schema = fitted.schema_
    synthetic = fitted.sample(len(frame), random_state=seed)
    real, fake = as_sdmetrics_sees(frame, schema), as_sdmetrics_sees(synthetic, schema)
    ours = {
        "column_shape": column_shapes(real, fake, schema),
        "pair_trend": {"\t".join(pair): score for pair, score in pair_trends(real, fake, schema).items()},
    }
    theirs = sdmetrics_scores(python, real, fake, schema)
    rows = []
    for prop in ("column_shape", "pair_trend"):
        mine, other, worst, items = agreement(ours[prop], theirs[prop])
        rows.append({
            "date": datetime.now(UTC).date().isoformat(), "commit": commit(), "table": table, "rows": len(frame),
            "columns": len(schema.encoded_columns), "method": "dpsynth MST", "epsilon": epsilon, "seed": seed,
            "property": prop, "dpsynth": f"{mine:.4f}", "sdmetrics": f"{other:.4f}",
            "difference": f"{abs(mine - other):.4f}", "max_item_difference": f"{worst:.4f}", "items": items,
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epsilons", default="1,3")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--sdmetrics-python", default=str(HERE / ".peer-env" / "sdmetrics" / "bin" / "python"))
    parser.add_argument("--write", action="store_true", help=f"append the rows to {OUT.relative_to(HERE.parent)}")
    args = parser.parse_args()
    writer = csv.DictWriter(sys.stdout, FIELDS)
    writer.writeheader()
    rows = []
    for table in args.tables.split(","):
        for epsilon in (float(e) for e in args.epsilons.split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                for row in run(table, epsilon, seed, args.sdmetrics_python):
                    writer.writerow(row)
                    sys.stdout.flush()
                    rows.append(row)
    if args.write:
        new = not OUT.exists()
        with open(OUT, "a", newline="", encoding="utf-8") as handle:
            out = csv.DictWriter(handle, FIELDS)
            if new:
                out.writeheader()
            out.writerows(rows)


if __name__ == "__main__":
    main()
