"""The comparison sweep on raw UCI Adult: every method at every epsilon, fidelity and attacks.

Data: ../shared/data/adult/adult_uci.csv (48,842 rows, raw string categories, "?" read as
missing). Two public, data-independent clean-ups: the test file's labels lose their trailing
dot ("<=50K." is "<=50K") and the ``split`` column (which UCI file a row came from) is dropped.
The schema is discovered once under DP (see ``sweep.json``); fidelity against the fit rows,
train-on-synthetic test-on-real AUC for ``income``; quick attack suite; wall time of the
whole sweep. An exploration: its runs must not be published.

    python benchmarks/bench_compare.py [--methods mst,aim,privbayes] [--epsilons 0.3,1,3,10]
        [--seeds 1] [--jobs 2] [--out benchmarks/out/compare]

Rerunning with the same --out resumes it (add methods to extend it; --retry-failed runs the
failed ones again).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd

from dpsynth.workflows.compare import compare

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "adult" / "adult_uci.csv"
OUT = Path(__file__).resolve().parent / "out" / "compare"
COLUMNS = ["method", "epsilon", "status", "epsilon_spent", "tvd_1way", "tvd_2way", "tvd_3way", "wasserstein",
           "correlation_difference", "tstr_auc", "membership_auc", "epsilon_lower_bound", "fit_seconds",
           "peak_memory_mb"]


def load() -> pd.DataFrame:
    frame = pd.read_csv(DATA, na_values=["?"], skipinitialspace=True)
    frame["income"] = frame["income"].str.rstrip(".")
    return frame.drop(columns=["split"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="mst,aim,privbayes")
    parser.add_argument("--epsilons", default="0.3,1,3,10")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--retry-failed", action="store_true", help="when resuming, run failed runs again")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    start = time.perf_counter()
    table = compare(load(), methods=args.methods, epsilons=args.epsilons, seeds=args.seeds, out=args.out,
                    target="income", audit="quick", n_jobs=args.jobs, random_state=0,
                    retry_failed=args.retry_failed)
    seconds = time.perf_counter() - start
    print(f"\nwall time of this call: {seconds:.0f} s ({table.attrs['skipped']} runs skipped as finished)")
    print(f"train on real AUC: {table['real_auc'].iloc[0]:.3f}")
    shown = [c for c in COLUMNS if c in table.columns]
    print(table[shown].to_string(index=False, float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
