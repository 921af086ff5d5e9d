"""The attack suite on raw Adult: attack success against epsilon for MST, AIM and a leaky baseline.

Data: ../shared/data/adult/adult_uci.csv (48,842 rows; "?" read as missing, the test rows'
trailing "." dropped from income, the split column dropped) with the public schema shipped in
dpsynth/datasets. MST and AIM go through the release pipeline with ``audit="standard"``: it holds
out 10% of the rows (2,000 at most) before fitting and attacks the release, shadow refits
included (same method and epsilon on 1,000 rows). The non-DP baseline is the training rows
with small jitter (age, hours and education-num moved by -1, 0 or +1, fnlwgt by up to 3%),
attacked by the same standard suite with the jitter as its refit. Each run is its own process;
wall time is the attack suite's (the sum of its attacks), CPU time the run's (fit and audit,
shadow workers included), peak memory the process's VmHWM (fit and audit together).

    python benchmarks/bench_audit.py [--epsilons 0.3,1,3,10] [--methods jitter,mst,aim] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from dpsynth.workflows.runs import peak_memory_mb as peak_mb

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "adult" / "adult_uci.csv"
SUMMARY = (
    "membership_auc",
    "membership_tpr_at_fpr_0.01",
    "epsilon_lower_bound",
    "max_certifiable_epsilon",
    "singling_out_risk",
    "linkage_risk",
    "inference_risk",
)


def load_adult() -> pd.DataFrame:
    frame = pd.read_csv(DATA, na_values="?", keep_default_na=False)
    frame["income"] = frame["income"].str.rstrip(".")
    return frame.drop(columns="split")


def jitter(train: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A leaky non-DP generator: the training rows with small noise on some numeric columns."""
    out = train.copy()
    for name in ("age", "hours-per-week", "education-num"):
        out[name] = np.clip(out[name] + rng.integers(-1, 2, len(out)), 1, 99)
    out["fnlwgt"] = (out["fnlwgt"] * rng.uniform(0.97, 1.03, len(out))).round().astype(int)
    return out




def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the shadow refits' workers), fit included.

    On a shared machine wall time grows with the load; CPU time over the 2 cores bounds what the
    run would take alone.
    """
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_one(method: str, epsilon: float | None, seed: int) -> dict:
    from dpsynth.attacks.suite import run_attacks
    from dpsynth.certificate.policy import evaluate_policy
    from dpsynth.datasets import example_path
    from dpsynth.privacy.budget import PrivacyUnit
    from dpsynth.schema import Schema
    from dpsynth.workflows.release import release, split_holdout

    frame = load_adult()
    schema_path = example_path("adult")[1]
    start = time.perf_counter()
    if method == "jitter":
        rng = np.random.default_rng(seed)
        train, holdout = split_holdout(frame, PrivacyUnit(), rng)
        result = run_attacks(
            train, holdout, jitter(train, rng), Schema.load(schema_path), level="standard", refit=jitter,
            random_state=rng,
        )
        audited, verdict = result.to_dict(), evaluate_policy(result, None)[0]
    else:
        with tempfile.TemporaryDirectory() as folder:
            released = release(
                frame,
                epsilon=epsilon,
                delta=1e-9,
                out=Path(folder) / "release",
                schema=schema_path,
                method=method,
                ledger=Path(folder) / "ledger.sqlite",
                audit="standard",
            )
        audited, verdict = released.certificate["audit"], released.verdict
    row = {"method": method, "epsilon": epsilon, "verdict": verdict}
    row.update({key: audited["summary"][key] for key in SUMMARY})
    row.update({f"auc_{attack['name']}": attack["auc"]["value"] for attack in audited["membership"]})
    row["audit_seconds"] = sum(audited["seconds"].values())
    row["shadow_seconds"] = audited["seconds"].get("shadow_model")
    row["total_seconds"] = time.perf_counter() - start
    row["cpu_seconds"] = cpu_seconds()
    row["peak_mb"] = peak_mb()
    return row


def _cell(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", default="0.3,1,3,10")
    parser.add_argument("--methods", default="jitter,mst,aim")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out")
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "EPSILON"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        method, epsilon = args.worker
        print(json.dumps(run_one(method, None if epsilon == "none" else float(epsilon), args.seed)))
        return
    epsilons = [float(e) for e in args.epsilons.split(",")]
    jobs = []
    for method in args.methods.split(","):
        jobs += [(method, None, args.seed)] if method == "jitter" else [(method, e, args.seed) for e in epsilons]
    rows = []
    for method, epsilon, seed in jobs:
        # One process per run, so each peak-memory figure is that run's alone (the shadow refits'
        # worker processes are not counted).
        command = [sys.executable, __file__, "--worker", method, str(epsilon).lower(), "--seed", str(seed)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2))
    print(f"\nmachine: {platform.machine()}, {multiprocessing.cpu_count()} cores, Python {platform.python_version()}")
    columns = [
        "method", "epsilon", "verdict", *SUMMARY, "auc_shadow_model", "audit_seconds", "shadow_seconds", "cpu_seconds",
        "peak_mb",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        cells = [_cell(row.get(c)) for c in columns]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
