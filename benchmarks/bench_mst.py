"""MST on the discretized Adult of private-pgm: accuracy, time and memory per epsilon.

Data: ../shared/data/adult/private-pgm/adult.csv with adult-domain.json (the data the MST/AIM
papers use), an 80/20 split with seed 0, synthetic rows = train rows, delta = 1e-9. Metrics:
mean total variation distance over all 1-, 2- and 3-way marginals against the train split on
the full domain; train-on-synthetic test-on-real ROC AUC for income>50K with a fixed
gradient-boosting model, beside train-on-real; wall time and peak resident memory of the
fit-and-sample process (each run in its own process; peak from /proc's VmHWM).

    python benchmarks/bench_mst.py [--epsilons 0.3,1,3,10] [--seeds 1] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dpsynth.peak_memory import peak_memory_mb as peak_mb

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "adult" / "private-pgm"
TARGET = "income>50K"


def load_split(seed: int = 0):
    frame = pd.read_csv(DATA / "adult.csv")
    order = np.random.default_rng(seed).permutation(len(frame))
    cut = int(0.8 * len(frame))
    return frame.iloc[order[:cut]].reset_index(drop=True), frame.iloc[order[cut:]].reset_index(drop=True)


def tstr_auc(train: pd.DataFrame, test: pd.DataFrame) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    features = [c for c in train.columns if c != TARGET]
    if train[TARGET].nunique() < 2:
        return 0.5
    model = HistGradientBoostingClassifier(max_iter=200, random_state=0)
    model.fit(train[features].to_numpy(), train[TARGET].to_numpy())
    return float(roc_auc_score(test[TARGET].to_numpy(), model.predict_proba(test[features].to_numpy())[:, 1]))


def fidelity(train: pd.DataFrame, synthetic: pd.DataFrame, sizes: list[int]) -> dict[str, float]:
    from dpsynth.evaluate.fidelity import mean_kway_tvd

    real = train.to_numpy(dtype=np.int64)
    synth = synthetic[train.columns].to_numpy(dtype=np.int64)
    return {f"tvd_{k}way": mean_kway_tvd(real, synth, sizes, k) for k in (1, 2, 3)}




def run_dpsynth(epsilon: float, seed: int, queue) -> None:
    from dpsynth.workflows.release import release

    train, _ = load_split()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        result = release(
            train,
            epsilon=epsilon,
            delta=1e-9,
            out=Path(folder) / "release",
            schema=DATA / "adult-domain.json",
            n_rows=len(train),
            random_state=seed,
            ledger=Path(folder) / "ledger.sqlite",
            audit="off",  # a benchmark of fit and sample: no held-out rows, no attacks
        )
    seconds = time.perf_counter() - start
    queue.put({"synthetic": result.synthetic, "seconds": seconds, "peak_mb": peak_mb(),
               "epsilon_spent": result.record["privacy"]["joint"]["epsilon"]})


def _guarded(target, args, queue) -> None:
    try:
        target(*args, queue)
    except Exception:  # noqa: BLE001 - the child reports any failure to the parent, which re-raises
        import traceback

        queue.put({"error": traceback.format_exc()})


def in_process(target, *args):
    """Run ``target(*args, queue)`` in a fresh process, so its peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_guarded, args=(target, args, queue))
    process.start()
    out = queue.get()
    process.join()
    if "error" in out:
        raise RuntimeError(out["error"])
    return out


def markdown(table: pd.DataFrame) -> str:
    """A markdown table without pandas' optional tabulate dependency."""
    def cell(value) -> str:
        if isinstance(value, float):
            return "" if np.isnan(value) else f"{value:.3f}"
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def result_row(system: str, epsilon: float, seed: int, run: dict, train, test, sizes, extra=()) -> dict:
    """One row of results, scored by the same functions for every system, printed as JSON."""
    row = {"system": system, "epsilon": epsilon, "seed": seed,
           **fidelity(train, run["synthetic"], sizes),
           "tstr_auc": tstr_auc(run["synthetic"], test),
           "seconds": run["seconds"], "peak_mb": run["peak_mb"],
           "epsilon_spent": run["epsilon_spent"], **{key: run[key] for key in extra}}
    print(json.dumps(row), flush=True)
    return row


def report(rows: list[dict], out: str | None) -> None:
    """Print the machine and the markdown table; write the rows as JSON to ``out``."""
    table = pd.DataFrame(rows)
    print(f"\nmachine: {platform.machine()}, {multiprocessing.cpu_count()} cores, Python {platform.python_version()}")
    print(markdown(table))
    if out:
        table.to_json(out, orient="records", indent=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", default="0.3,1,3,10")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    train, test = load_split()
    sizes = list(json.loads((DATA / "adult-domain.json").read_text()).values())
    rows = [{"system": "train on real", "epsilon": None, "tstr_auc": tstr_auc(train, test)}]
    for epsilon in [float(e) for e in args.epsilons.split(",")]:
        for seed in range(args.seeds):
            run = in_process(run_dpsynth, epsilon, seed)
            rows.append(result_row("dpsynth MST", epsilon, seed, run, train, test, sizes))
    report(rows, args.out)


if __name__ == "__main__":
    main()
