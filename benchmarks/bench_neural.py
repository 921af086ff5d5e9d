"""Neural and hybrid generators on raw Adult, beside MST and smartnoise-synth's DP-CTGAN.

Data: ../shared/data/adult/adult_uci.csv (48,842 rows, raw strings and numbers, "?" read as
missing, the ``split`` column dropped, the trailing "." of the test file's income labels
removed), an 80/20 split with seed 0, synthetic rows = train rows, delta = 1e-9. Every dpsynth
method discovers its schema under DP (32 uniform bins, the ``domain`` part, 10%) and spends the
rest as its allocation says. Metrics, all against the real train split (custodian side, not
DP): per numeric column the Wasserstein distance divided by the column's real range; the mean
total variation distance over all 2-way marginals of a fixed binned view (16 equal-width bins
over each numeric column's real range, categories as in the real data, missing its own value);
train-on-synthetic test-on-real ROC AUC for income >50K with a fixed gradient-boosting model,
beside train-on-real; wall time of fit and sample and the peak resident memory of the process
that ran them (each run in its own process).

    python benchmarks/bench_neural.py [--epsilons 1,3] [--systems mst,neural,hybrid,dpctgan]
        [--out benchmarks/out/neural.json] [--allocation marginal=0.8,neural=0.2]

DP-CTGAN runs in the smartnoise environment (benchmarks/.peer-env/snsynth) through
``benchmarks/peers_neural.py``.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import logging
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_mst import in_process, markdown

RAW = HERE.parent / ".." / "shared" / "data" / "adult" / "adult_uci.csv"
TARGET = "income"
DELTA = 1e-9
NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
SNSYNTH_PYTHON = HERE / ".peer-env" / "snsynth" / "bin" / "python"
ALLOCATIONS = {
    "mst": {"domain": 0.1, "marginal": 0.9},
    "neural": {"domain": 0.1, "neural": 0.9},
    "hybrid": {"domain": 0.1, "marginal": 0.72, "neural": 0.18},
}


def load_split(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.read_csv(RAW, na_values="?").drop(columns="split")
    frame[TARGET] = frame[TARGET].str.rstrip(".")
    order = np.random.default_rng(seed).permutation(len(frame))
    cut = int(0.8 * len(frame))
    return frame.iloc[order[:cut]].reset_index(drop=True), frame.iloc[order[cut:]].reset_index(drop=True)


# ------------------------------------------------------------------------------ metrics
def binned(frame: pd.DataFrame, real: pd.DataFrame) -> np.ndarray:
    """Integer codes of the fixed evaluation view (bins and categories from ``real``)."""
    columns = []
    for name in real.columns:
        if name in NUMERIC:
            low, high = real[name].min(), real[name].max()
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            code = np.clip(np.floor((values - low) / (high - low) * 16), 0, 15)
            columns.append(np.where(np.isnan(values), 16, code).astype(np.int64))
        else:
            labels = pd.Index(sorted(real[name].dropna().astype(str).unique()))
            index = labels.get_indexer(frame[name].astype(str))
            code = np.where(index < 0, len(labels), index)
            code[frame[name].isna().to_numpy()] = len(labels) + 1
            columns.append(code.astype(np.int64))
    return np.stack(columns, axis=1)


def mean_two_way_tvd(real: np.ndarray, synthetic: np.ndarray) -> float:
    distances = []
    for i, j in itertools.combinations(range(real.shape[1]), 2):
        size = max(real[:, j].max(), synthetic[:, j].max()) + 1
        a = np.bincount(real[:, i] * size + real[:, j], minlength=0)
        b = np.bincount(synthetic[:, i] * size + synthetic[:, j], minlength=0)
        length = max(len(a), len(b))
        a = np.pad(a, (0, length - len(a))) / len(real)
        b = np.pad(b, (0, length - len(b))) / len(synthetic)
        distances.append(0.5 * np.abs(a - b).sum())
    return float(np.mean(distances))


def wasserstein(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, float]:
    from scipy.stats import wasserstein_distance

    out = {}
    for name in NUMERIC:
        r = real[name].dropna().to_numpy(dtype=float)
        s = pd.to_numeric(synthetic[name], errors="coerce").dropna().to_numpy(dtype=float)
        out[f"w1_{name}"] = float(wasserstein_distance(r, s) / (r.max() - r.min())) if len(s) else np.nan
    return out


def tstr_auc(train: pd.DataFrame, test: pd.DataFrame, real: pd.DataFrame) -> float:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    def features(frame: pd.DataFrame) -> np.ndarray:
        columns = []
        for name in real.columns:
            if name == TARGET:
                continue
            if name in NUMERIC:
                columns.append(pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan))
            else:
                labels = pd.Index(sorted(real[name].dropna().astype(str).unique()))
                code = labels.get_indexer(frame[name].astype(str)).astype(float)
                columns.append(np.where(code < 0, np.nan, code))
        return np.stack(columns, axis=1)

    label = (train[TARGET].astype(str) == ">50K").to_numpy()
    if label.all() or not label.any():
        return 0.5
    categorical = [name not in NUMERIC for name in real.columns if name != TARGET]
    model = HistGradientBoostingClassifier(max_iter=200, random_state=0, categorical_features=categorical)
    model.fit(features(train), label)
    truth = (test[TARGET].astype(str) == ">50K").to_numpy()
    return float(roc_auc_score(truth, model.predict_proba(features(test))[:, 1]))


# ------------------------------------------------------------------------------- systems
def run_dpsynth(method: str, epsilon: float, allocation: dict[str, float], params: dict, queue) -> None:
    """Discover the schema under DP, fit ``method`` and sample, in this (child) process."""
    import resource

    from dpsynth.data import PrivateTable
    from dpsynth.data.discover import DOMAIN_DELTA_RESERVE, discover_schema
    from dpsynth.generators import create
    from dpsynth.privacy.accountant import Accountant
    from dpsynth.privacy.budget import Allocation, Budget
    from dpsynth.privacy.noise import NoiseSource

    warnings.simplefilter("ignore")
    logging.getLogger("absl").setLevel(logging.ERROR)
    train, _ = load_split()
    start = time.perf_counter()
    budget = Budget(epsilon, DELTA, Allocation(allocation), delta_reserve=DOMAIN_DELTA_RESERVE)
    accountant = Accountant(budget)
    table = PrivateTable(train, accountant, NoiseSource(0))
    table.encode(discover_schema(table))
    generator = create(method, **params).fit(table)
    synthetic = generator.sample(len(train), random_state=1)
    seconds = time.perf_counter() - start
    report = accountant.report()
    queue.put({
        "synthetic": synthetic.to_json(orient="split"), "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "epsilon_spent": report["joint"]["epsilon"], "naive_sum": report["naive_sum"]["epsilon"],
        "training": getattr(generator, "training_", None),
    })


def run_dpctgan(epsilon: float, epochs: int | None) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result.json"
        command = [str(SNSYNTH_PYTHON), str(HERE / "peers_neural.py"), "--epsilon", repr(epsilon),
                   "--result", str(result)]
        subprocess.run(command + ([] if epochs is None else ["--epochs", str(epochs)]), check=True)
        return json.loads(result.read_text())


def score(system: str, epsilon: float, run: dict, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    synthetic = pd.read_json(io.StringIO(run["synthetic"]), orient="split")
    synthetic = synthetic[list(train.columns)]
    row = {"system": system, "epsilon": epsilon,
           "tvd_2way": mean_two_way_tvd(binned(train, train), binned(synthetic, train)),
           **wasserstein(train, synthetic),
           "tstr_auc": tstr_auc(synthetic, test, train),
           "seconds": run["seconds"], "peak_mb": run["peak_mb"],
           "epsilon_spent": run.get("epsilon_spent"), "naive_sum": run.get("naive_sum")}
    row["w1_mean"] = float(np.nanmean([row[f"w1_{n}"] for n in NUMERIC]))
    print(json.dumps({k: v for k, v in row.items()}), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", default="1,3")
    parser.add_argument("--systems", default="mst,neural,hybrid,dpctgan")
    parser.add_argument("--allocation", default=None, help="hybrid's marginal/neural split")
    parser.add_argument("--params", default="{}", help="JSON parameters for neural/hybrid")
    parser.add_argument("--dpctgan-epochs", type=int, default=None, help="default: smartnoise's (300)")
    parser.add_argument("--out", default=str(HERE / "out" / "neural.json"))
    args = parser.parse_args()
    train, test = load_split()
    rows = []
    extra = json.loads(args.params)
    for epsilon in (float(e) for e in args.epsilons.split(",")):
        for system in args.systems.split(","):
            if system == "dpctgan":
                run = run_dpctgan(epsilon, args.dpctgan_epochs)
                name = "smartnoise-synth DP-CTGAN" + (f" ({run['epochs_run']} epochs)" if "epochs_run" in run else "")
            else:
                allocation = dict(ALLOCATIONS[system])
                if system == "hybrid" and args.allocation:
                    allocation = {"domain": 0.1, **{k: 0.9 * float(v) for k, v in
                                                    (i.split("=") for i in args.allocation.split(","))}}
                params = extra if system != "mst" else {}
                run = in_process(run_dpsynth, system, epsilon, allocation, params)
                name = f"dpsynth {system}" + (f" {allocation}" if system == "hybrid" else "")
            row = score(name, epsilon, run, train, test)
            row["training"] = json.dumps(run.get("training")) if run.get("training") else None
            rows.append(row)
    real = {"system": "train on real", "epsilon": None, "tstr_auc": tstr_auc(train, test, train)}
    rows.append(real)
    table = pd.DataFrame(rows)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table.to_json(orient="records", indent=1))
    columns = ["system", "epsilon", "tvd_2way", "w1_mean", *[f"w1_{n}" for n in NUMERIC], "tstr_auc",
               "seconds", "peak_mb", "epsilon_spent", "naive_sum"]
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(markdown(table[[c for c in columns if c in table.columns]]))


if __name__ == "__main__":
    main()
