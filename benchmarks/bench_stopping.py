"""Where a marginal generator's fit should stop: the model's 3-way error against descent steps.

For each run the generator (MST, or PrivBayes with ``--method privbayes``) is fitted with its
defaults (MST's ``discrepancy`` stop, PrivBayes's 1,000 steps); its measurements are
then refitted from scratch for a fixed number of steps at each checkpoint (the descent is
deterministic, so each checkpoint is a point on the same path). The error is the model's own
mean total variation distance on 60 fixed random 3-way marginals of the encoded (and merged)
domain against the private table, without sampling, so the stopping rule is judged apart from
sampling noise.

    python benchmarks/bench_stopping.py [--method mst] [--runs adult-pgm:0.3:0,adult-raw:1:0,...]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mst import DATA, load_split

import dpsynth.generators.mst as mst_module
import dpsynth.generators.privbayes as privbayes_module
from dpsynth.data import PrivateTable
from dpsynth.data.load import read_table
from dpsynth.datasets import example_path
from dpsynth.models import estimate
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Budget
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Schema
from dpsynth.schema.encoding import encode

CHECKPOINTS = (100, 150, 300, 500, 1000, 1500, 3000, 5000, 10000)
RUNS = ("adult-pgm:0.3:0,adult-pgm:0.3:1,adult-pgm:0.3:2,adult-pgm:1:0,adult-pgm:1:1,adult-pgm:1:2,"
        "adult-pgm:3:1,adult-pgm:3:2,adult-pgm:10:1,adult-raw:0.3:0,adult-raw:1:0,adult-raw:3:0,"
        "adult-raw:10:0,adult-pgm-uncompressed:0.3:0,adult-pgm-uncompressed:1:0,adult-pgm-uncompressed:3:0")


def load(data: str) -> tuple[pd.DataFrame, Schema]:
    if data.startswith("adult-pgm"):
        return load_split()[0], Schema.load(DATA / "adult-domain.json")
    frame, schema = example_path("adult")
    return read_table(frame, ["?"]), Schema.load(schema)


def run(method: str, data: str, epsilon: float, seed: int) -> dict:
    frame, schema = load(data)
    module = mst_module if method == "mst" else privbayes_module
    captured = {}
    fit_model = module.estimate

    def capture(domain, measurements, **kwargs):  # keeps the final fit's inputs
        captured.update(domain=domain, measurements=measurements)
        return fit_model(domain, measurements, **kwargs)

    module.estimate = capture
    try:
        table = PrivateTable(frame, Accountant(Budget(epsilon, 1e-9)), NoiseSource(seed))
        table.encode(schema)
        if method == "mst":
            generator = mst_module.MST(compress=not data.endswith("uncompressed")).fit(table)
        else:
            generator = privbayes_module.PrivBayes().fit(table)
    finally:
        module.estimate = fit_model
    domain, measurements = captured["domain"], captured["measurements"]
    encoded = encode(frame, schema)
    codes = {c: encoded.codes[:, j] for j, c in enumerate(encoded.columns)}
    codes = {c: generator.merges_[c][v] if c in generator.merges_ else v for c, v in codes.items()}
    rng = np.random.default_rng(0)
    triples = list(itertools.combinations(domain.attrs, 3))
    triples = [triples[i] for i in rng.choice(len(triples), 60, replace=False)]
    truth = {}
    for clique in triples:
        flat = np.ravel_multi_index([codes[c] for c in clique], domain.shape(clique))
        truth[clique] = np.bincount(flat, minlength=domain.cells(clique)).reshape(domain.shape(clique)) / len(frame)

    def error(model) -> float:
        return float(np.mean([0.5 * np.abs(model.marginal(c) / model.total - truth[c]).sum() for c in triples]))

    path = {k: error(estimate(domain, measurements, max_iters=k, max_cells=None)) for k in CHECKPOINTS}
    best = min(path, key=path.get)
    return {"data": data, "epsilon": epsilon, "seed": seed, "best_steps": best, "best": path[best],
            "chosen": error(generator.model_), "at_1000": path[1000], "at_10000": path[10000]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="mst", choices=("mst", "privbayes"))
    parser.add_argument("--runs", default=RUNS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the seeded-noise PrivacyWarning: a benchmark is not a release
    fitted = "MST's stop" if args.method == "mst" else "PrivBayes's fit"
    print(f"| data | epsilon | seed | best stop (steps) | 3-way at best | {fitted} | 1,000 steps | 10,000 steps |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for item in args.runs.split(","):
        data, epsilon, seed = item.split(":")
        r = run(args.method, data, float(epsilon), int(seed))
        print(f"| {r['data']} | {r['epsilon']:g} | {r['seed']} | {r['best_steps']} | {r['best']:.4f} | "
              f"{r['chosen']:.4f} | {r['at_1000']:.4f} | {r['at_10000']:.4f} |", flush=True)


if __name__ == "__main__":
    main()
