"""AIM on the discretized Adult of private-pgm: accuracy, time and memory per epsilon.

Same protocol as bench_mst.py (whose helpers it uses): an 80/20 split with seed 0, synthetic
rows = train rows, delta = 1e-9, the public adult-domain.json, the generator fitted on the
private table directly (see run_method); mean TVD over all 1-, 2- and 3-way marginals against
the train split, train-on-synthetic test-on-real ROC AUC for income>50K, wall time and peak
resident memory of the fit-and-sample process (each run in its own process; peak memory read
from /proc's VmHWM, see bench_mst.peak_mb). ``--params`` passes AIM constructor parameters as
JSON; ``--methods aim,mst`` adds dpsynth MST rows from the same runner (``--methods mst`` runs
MST alone).

    python benchmarks/bench_aim.py [--epsilons 0.3,1,3,10] [--seeds 1] [--params '{"round_iters": 1000}']
                                   [--methods aim,mst] [--out results.json]
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


def run_method(method: str, epsilon: float, seed: int, params: dict, queue) -> None:
    """Fit and sample through the private table directly (as bench_privbayes does): the
    release pipeline around it writes files and imports its audit machinery (about 27 MB of
    resident memory before any fitting), which is not the generator's cost."""
    import warnings

    from dpsynth.data import PrivateTable
    from dpsynth.generators import create
    from dpsynth.privacy.accountant import Accountant
    from dpsynth.privacy.budget import Budget
    from dpsynth.privacy.noise import NoiseSource
    from dpsynth.schema import Schema

    warnings.simplefilter("ignore")  # the seeded-noise PrivacyWarning: a benchmark is not a release
    train, _ = load_split()
    start = time.perf_counter()
    accountant = Accountant(Budget(epsilon, 1e-9))
    table = PrivateTable(train, accountant, NoiseSource(seed))
    table.encode(Schema.load(DATA / "adult-domain.json"))
    generator = create(method, **params).fit(table)
    synthetic = generator.sample(len(train))
    seconds = time.perf_counter() - start
    queue.put({
        "synthetic": synthetic, "seconds": seconds, "peak_mb": peak_mb(),
        "epsilon_spent": accountant.spent().epsilon,
        "selections": sum(c.event.__class__.__name__ == "ExponentialMechanism" for c in accountant.charges),
        "cliques": len(generator.model_.cliques),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", default="0.3,1,3,10")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--params", default="{}", help="AIM constructor parameters as JSON")
    parser.add_argument("--methods", default="aim", help="aim, mst or both, e.g. aim,mst")
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    params = json.loads(args.params)
    train, test = load_split()
    sizes = list(json.loads((DATA / "adult-domain.json").read_text()).values())
    rows = [{"system": "train on real", "epsilon": None, "tstr_auc": tstr_auc(train, test)}]
    label = "dpsynth AIM" + (f" {json.dumps(params)}" if params else "")
    for epsilon in [float(e) for e in args.epsilons.split(",")]:
        for seed in range(args.seeds):
            runs = []
            if "aim" in args.methods.split(","):
                runs.append((label, in_process(run_method, "aim", epsilon, seed, params)))
            if "mst" in args.methods.split(","):
                runs.append(("dpsynth MST", in_process(run_method, "mst", epsilon, seed, {})))
            for system, run in runs:
                extra = ("selections", "cliques")
                rows.append(result_row(system, epsilon, seed, run, train, test, sizes, extra=extra))
    report(rows, args.out)


if __name__ == "__main__":
    main()
