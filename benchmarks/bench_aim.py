"""AIM on the discretized Adult of private-pgm: accuracy, time and memory per epsilon.

Same protocol as bench_mst.py (whose helpers it uses): an 80/20 split with seed 0, synthetic
rows = train rows, delta = 1e-9, the release pipeline with the public adult-domain.json;
mean TVD over all 1-, 2- and 3-way marginals against the train split, train-on-synthetic
test-on-real ROC AUC for income>50K, wall time and peak resident memory of the fit-and-sample
process (each run in its own process; peak memory read from /proc's VmHWM, see peak_mb). ``--params`` passes AIM constructor parameters as JSON;
``--mst`` adds dpsynth MST rows from the same runner for comparison.

    python benchmarks/bench_aim.py [--epsilons 0.3,1,3,10] [--seeds 1] [--params '{"round_iters": 1000}']
                                   [--mst] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mst import DATA, in_process, load_split, report, result_row, tstr_auc  # noqa: E402


def peak_mb() -> float:
    """Peak resident memory of this process in MiB.

    /proc's VmHWM belongs to this process's own address space; ru_maxrss would not do in a
    spawned child, as Linux carries the parent's peak over fork and exec into it.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_method(method: str, epsilon: float, seed: int, params: dict, queue) -> None:
    import logging

    from dpsynth.release.pipeline import MODEL_FILE, release

    logging.basicConfig(level=logging.WARNING)
    train, _ = load_split()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        result = release(
            train,
            epsilon=epsilon,
            delta=1e-9,
            out=Path(folder) / "release",
            schema=DATA / "adult-domain.json",
            method=method,
            method_params=params,
            n_rows=len(train),
            seed=seed,
            ledger=Path(folder) / "ledger.sqlite",
        )
        model = json.loads((Path(folder) / "release" / MODEL_FILE).read_text())["model"]
    seconds = time.perf_counter() - start
    peak = peak_mb()
    privacy = result.record["privacy"]
    events = privacy["parts"]["marginal"]["events"]
    queue.put({
        "synthetic": result.synthetic, "seconds": seconds, "peak_mb": peak,
        "epsilon_spent": privacy["joint"]["epsilon"],
        "selections": sum(e["count"] for e in events if e["mechanism"] == "exponential"),
        "cliques": len(model["cliques"]),
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", default="0.3,1,3,10")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--params", default="{}", help="AIM constructor parameters as JSON")
    parser.add_argument("--mst", action="store_true", help="also run dpsynth MST")
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    params = json.loads(args.params)
    train, test = load_split()
    sizes = list(json.loads((DATA / "adult-domain.json").read_text()).values())
    rows = [{"system": "train on real", "epsilon": None, "tstr_auc": tstr_auc(train, test)}]
    label = "dpsynth AIM" + (f" {json.dumps(params)}" if params else "")
    for epsilon in [float(e) for e in args.epsilons.split(",")]:
        for seed in range(args.seeds):
            runs = [(label, in_process(run_method, "aim", epsilon, seed, params))]
            if args.mst:
                runs.append(("dpsynth MST", in_process(run_method, "mst", epsilon, seed, {})))
            for system, run in runs:
                extra = ("selections", "cliques")
                rows.append(result_row(system, epsilon, seed, run, train, test, sizes, extra=extra))
    report(rows, args.out)


if __name__ == "__main__":
    main()
