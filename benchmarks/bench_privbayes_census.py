"""PrivBayes against MST on a census-like table: does the network relate the target to the
columns that predict it (issue 20)?

``census_table.py`` stands in for the census excerpt on which dpsynth's PrivBayes linked income to
one disability column only (train-on-synthetic AUC 0.61-0.65 against MST's 0.93). Each run fits
at epsilon 1 with the public schema, samples as many rows as it fitted, and scores the
train-on-synthetic AUC of income on held-out real rows (``dpsynth.evaluate.tstr``), the mean
2-way TVD over every pair of columns and over the pairs holding income, and for PrivBayes how
many of its measured conditionals hold income, with the fit's CPU seconds.

    python benchmarks/bench_privbayes_census.py [--rows 20000] [--test-rows 10000] [--seeds 0,1,2]
        [--methods mst,privbayes] [--out benchmarks/results/privbayes_census.csv]
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

FIELDS = ("income", "method", "rows", "epsilon", "seed", "tstr_auc", "real_auc", "tvd_2way", "tvd_2way_income",
          "income_links", "cpu_s", "date", "commit")
TARGET = "income"


def run(binned: bool, method: str, rows: int, test_rows: int, seed: int, epsilon: float) -> dict[str, object]:
    """One fit and its scores (see the module docstring)."""
    from census_table import census_table

    from dpsynth import Synthesizer
    from dpsynth.evaluate.fidelity import mean_kway_tvd
    from dpsynth.evaluate.tstr import tstr_auc
    from dpsynth.schema import encode

    frame, schema = census_table(rows + test_rows, binned_income=binned, seed=0)
    train, test = frame.iloc[:rows], frame.iloc[rows:]
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the seeded-noise PrivacyWarning: a benchmark is not a release
        fitted = Synthesizer(method, epsilon=epsilon, schema=schema, random_state=seed, ledger=False).fit(train)
        synthetic = fitted.sample(rows)
    cpu = time.process_time() - start
    names = list(schema.encoded_columns)
    sizes = list(schema.domain_sizes().values())
    real, fake = encode(train, schema).codes, encode(synthetic, schema).codes
    at = names.index(TARGET)
    pairs = [j for j in range(len(names)) if j != at]
    with_target = np.mean([mean_kway_tvd(real[:, [at, j]], fake[:, [at, j]], [sizes[at], sizes[j]], 2) for j in pairs])
    conditionals = getattr(fitted.generator_, "conditionals_", None)
    return {
        "tstr_auc": round(tstr_auc(synthetic, test, schema, TARGET), 4),
        "real_auc": round(tstr_auc(train, test, schema, TARGET), 4),
        "tvd_2way": round(mean_kway_tvd(real, fake, sizes, 2), 4),
        "tvd_2way_income": round(float(with_target), 4),
        "income_links": "" if conditionals is None else sum(
            TARGET == child or TARGET in parents for child, parents in conditionals[1:]
        ),
        "cpu_s": round(cpu, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--test-rows", type=int, default=10_000)
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--methods", default="mst,privbayes")
    parser.add_argument("--out", default=str(HERE / "results" / "privbayes_census.csv"))
    args = parser.parse_args()
    from result_rows import append_rows, commit_of

    commit = commit_of(HERE.parent)
    for binned in (False, True):
        for method in args.methods.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                row = {"income": "binned, 20 bins" if binned else "binary", "method": method, "rows": args.rows,
                       "epsilon": args.epsilon, "seed": seed, "date": datetime.date.today().isoformat(),
                       "commit": commit, **run(binned, method, args.rows, args.test_rows, seed, args.epsilon)}
                print(row, flush=True)
                append_rows(args.out, FIELDS, [row])


if __name__ == "__main__":
    main()
