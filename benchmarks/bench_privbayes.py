"""PrivBayes on the discretized Adult of private-pgm: accuracy, time and memory per epsilon.

The same data, split, metrics and process isolation as ``bench_mst.py`` (its helpers are
imported): an 80/20 split with seed 0, synthetic rows = train rows, delta = 1e-9; mean total
variation distance over all 1-, 2- and 3-way marginals; train-on-synthetic test-on-real ROC AUC
for income>50K; wall time and peak resident memory (VmHWM) of the fit-and-sample process. The
generator runs behind the door as a release does (public schema, the whole budget in the
``marginal`` part, seeded noise), without writing a release folder.

    python benchmarks/bench_privbayes.py [--epsilons 0.3,1,3,10] [--seeds 1] [--params '{"theta": 2}'] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_mst import (
    DATA,
    in_process,
    load_split,
    peak_mb,
    report,
    result_row,
    tstr_auc,
)


def resampled(train, rows: int | None):
    """The train split, or it resampled with replacement to ``rows`` rows (seed 0, as bench_scale):
    the same distribution at a larger n, to see what the row count alone changes."""
    if rows is None:
        return train
    import numpy as np

    return train.iloc[np.random.default_rng(0).integers(len(train), size=rows)].reset_index(drop=True)


def run_privbayes(epsilon: float, seed: int, params: dict, rows: int | None, queue) -> None:
    import warnings

    from dpsynth.data import PrivateTable
    from dpsynth.generators.privbayes import PrivBayes
    from dpsynth.privacy.accountant import Accountant
    from dpsynth.privacy.budget import Budget
    from dpsynth.privacy.noise import NoiseSource
    from dpsynth.schema import Schema

    warnings.simplefilter("ignore")  # the seeded-noise PrivacyWarning: a benchmark is not a release
    train, _ = load_split()
    start = time.perf_counter()
    accountant = Accountant(Budget(epsilon, 1e-9))
    table = PrivateTable(resampled(train, rows), accountant, NoiseSource(seed))
    table.encode(Schema.load(DATA / "adult-domain.json"))
    generator = PrivBayes(**params).fit(table)
    synthetic = generator.sample(len(train))
    seconds = time.perf_counter() - start
    queue.put({"synthetic": synthetic, "seconds": seconds, "peak_mb": peak_mb(),
               "epsilon_spent": accountant.spent().epsilon, "degree": generator.degree_,
               "network": generator.conditionals_})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", default="0.3,1,3,10")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--params", default="{}", help="PrivBayes constructor arguments as JSON")
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    parser.add_argument("--rows", type=int, default=None,
                        help="fit on the train split resampled to this many rows (synthetic rows: the split's)")
    args = parser.parse_args()
    params = json.loads(args.params)
    train, test = load_split()
    sizes = list(json.loads((DATA / "adult-domain.json").read_text()).values())
    rows = [{"system": "train on real", "epsilon": None, "tstr_auc": tstr_auc(train, test)}]
    label = " ".join(["dpsynth PrivBayes", *([json.dumps(params)] if params else []),
                      *([f"n={args.rows}"] if args.rows else [])])
    for epsilon in [float(e) for e in args.epsilons.split(",")]:
        for seed in range(args.seeds):
            run = in_process(run_privbayes, epsilon, seed, params, args.rows)
            rows.append(result_row(label, epsilon, seed, run, train, test, sizes, extra=("degree",)))
    report(rows, args.out)


if __name__ == "__main__":
    main()
