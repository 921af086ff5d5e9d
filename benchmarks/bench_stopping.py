"""Where a marginal generator's fit should stop: the model's 3-way error against descent steps.

For each run the generator (MST, or PrivBayes with ``--method privbayes``) is fitted with its
defaults (MST's ``discrepancy`` stop, PrivBayes's 1,000 steps); its measurements are
then refitted from scratch for a fixed number of steps at each checkpoint (the descent is
deterministic, so each checkpoint is a point on the same path). The error is the model's own
mean total variation distance on 60 fixed random 3-way marginals (all of them if fewer) of the encoded (and merged)
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
from dpsynth.schema.infer import infer_schema

OTHER = {"pums": "pums/PUMS.csv", "german": "german_credit/german_credit.csv"}
CHECKPOINTS = (100, 150, 300, 500, 1000, 1500, 3000, 5000, 10000)
RUNS = ("adult-pgm:0.3:0,adult-pgm:0.3:1,adult-pgm:0.3:2,adult-pgm:1:0,adult-pgm:1:1,adult-pgm:1:2,"
        "adult-pgm:3:1,adult-pgm:3:2,adult-pgm:10:1,adult-raw:0.3:0,adult-raw:1:0,adult-raw:3:0,"
        "adult-raw:10:0,adult-pgm-uncompressed:0.3:0,adult-pgm-uncompressed:1:0,adult-pgm-uncompressed:3:0")


def load(data: str) -> tuple[pd.DataFrame, Schema]:
    """Adult as private-pgm encodes it (``adult-pgm``) or raw (``adult-raw``), PUMS or German
    credit; the last two with their draft schema (bounds read from the data, fine for judging a
    stopping rule, never for a release)."""
    if data.startswith("adult-pgm"):
        return load_split()[0], Schema.load(DATA / "adult-domain.json")
    if data in OTHER:
        frame = pd.read_csv(DATA.parents[1] / OTHER[data])
        return frame, infer_schema(frame)
    frame, schema = example_path("adult")
    return read_table(frame, ["?"]), Schema.load(schema)


def run(method: str, data: str, epsilon: float, seed: int, fractions: list[float]) -> dict:
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
    triples = [triples[i] for i in rng.choice(len(triples), min(60, len(triples)), replace=False)]
    truth = {}
    for clique in triples:
        flat = np.ravel_multi_index([codes[c] for c in clique], domain.shape(clique))
        truth[clique] = np.bincount(flat, minlength=domain.cells(clique)).reshape(domain.shape(clique)) / len(frame)

    def error(model) -> float:
        return float(np.mean([0.5 * np.abs(model.marginal(c) / model.total - truth[c]).sum() for c in triples]))

    path = {k: error(estimate(domain, measurements, max_iters=k, max_cells=None)) for k in CHECKPOINTS}
    best = min(path, key=path.get)
    rules = {f: error(estimate(domain, measurements, max_iters=max(CHECKPOINTS), discrepancy=f, max_cells=None))
             for f in fractions}
    return {"data": data, "epsilon": epsilon, "seed": seed, "best_steps": best, "best": path[best],
            "chosen": error(generator.model_), "at_1000": path[1000], "at_10000": path[10000], "rules": rules}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="mst", choices=("mst", "privbayes"))
    parser.add_argument("--runs", default=RUNS)
    parser.add_argument("--fractions", default="", help="also refit with these discrepancy fractions, e.g. 0.1,0.5")
    args = parser.parse_args()
    fractions = [float(f) for f in args.fractions.split(",") if f]
    warnings.simplefilter("ignore")  # the seeded-noise PrivacyWarning: a benchmark is not a release
    fitted = "MST's stop" if args.method == "mst" else "PrivBayes's fit"
    rule_heads = "".join(f" discrepancy {f:g} |" for f in fractions)
    print(f"| data | epsilon | seed | best stop (steps) | 3-way at best | {fitted} | 1,000 steps | 10,000 steps |"
          + rule_heads)
    print("|---|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(fractions))
    for item in args.runs.split(","):
        data, epsilon, seed = item.split(":")
        r = run(args.method, data, float(epsilon), int(seed), fractions)
        print(f"| {r['data']} | {r['epsilon']:g} | {r['seed']} | {r['best_steps']} | {r['best']:.4f} | "
              f"{r['chosen']:.4f} | {r['at_1000']:.4f} | {r['at_10000']:.4f} |"
              + "".join(f" {r['rules'][f]:.4f} |" for f in fractions), flush=True)


if __name__ == "__main__":
    main()
