"""dpsynth's Anonymeter-style evaluators beside anonymeter 1.1.0 on the same Adult tables.

anonymeter pins numpy<1.27, so it is not a dependency of dpsynth: it lives in its own venv,
ignored by git, and runs there as a worker on the tables this script writes. dpsynth's side
runs in the package's venv:

    python3.11 -m venv benchmarks/.peer-env/anonymeter
    benchmarks/.peer-env/anonymeter/bin/pip install anonymeter==1.1.0
    .venv/bin/python benchmarks/anonymeter_agreement.py [--n-attacks 1000] [--seed 0] [--out agreement.json]

Tables: raw UCI Adult (../shared/data/adult/adult_uci.csv, '?' as missing) with the shipped
schema, shuffled with the seed and cut into disjoint training, control and "generator" parts.
Synthetic tables (as many rows as the training part):

* ``marginals``: codes drawn independently per column from the generator part's binned
  marginals, decoded with values drawn within their bins: it knows nothing of the training
  records, so every risk should be about 0;
* ``marginals+fnlwgt``: the same with the exact ``fnlwgt`` values of the training records
  (shuffled), which are nearly unique: univariate singling out should catch it;
* ``copy+noise``: the training records with 10% of categorical cells replaced by the value of
  another random training record and Gaussian noise (sd 1% of the public range) added to
  numbers, rounded and clipped into the bounds;
* ``marginals, small control``: the null generator again with a control set of 3,000 records
  against 10,000 training records, where singling out needs its size correction.

Each evaluator runs with the same ``n_attacks`` on both sides, with its own random targets, so
the two estimates differ by sampling noise: a column says whether dpsynth's risk lies within
anonymeter's interval, another whether the two intervals overlap. Known differences of method
(see the modules' docstrings): dpsynth scales distances by the schema's public ranges
(anonymeter by the range of the data), breaks ties between neighbours at random, draws its
singling-out baseline from the public domain, and keeps duplicate records; here the numeric
inference secret is judged by exact match on both sides (tolerance 0, ``regression=False``).
Baselines are not part of the risk. anonymeter 1.1.0's inference baseline is deflated: it
aligns the random synthetic guesses to the targets by index (``reindex_like``), so most guesses
become missing; dpsynth's is the plain random guess.
"""

from __future__ import annotations

import argparse
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
ADULT = HERE.parent.parent / "shared" / "data" / "adult" / "adult_uci.csv"
SCHEMA = HERE.parent / "dpsynth" / "datasets" / "adult.schema.json"
PEER_PYTHON = HERE / ".peer-env" / "anonymeter" / "bin" / "python"
N_TRAIN = 10_000
SMALL_CONTROL = 3_000
LINK_COLUMNS = (
    ["age", "workclass", "education", "marital-status", "occupation", "hours-per-week"],
    ["relationship", "race", "sex", "native-country", "income", "capital-gain", "capital-loss", "fnlwgt"],
)
SECRETS = ("income", "age")
EVALUATORS = ("singling out univariate", "singling out multivariate", "linkage") + tuple(
    f"inference {secret}" for secret in SECRETS
)


def read_table(path: Path) -> pd.DataFrame:
    """A table written by :func:`write_table` (empty cells are missing)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def write_table(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, na_rep="")


# --------------------------------------------------------------------------- tables


def load_adult() -> pd.DataFrame:
    frame = pd.read_csv(ADULT, na_values="?", keep_default_na=False)
    frame["income"] = frame["income"].str.rstrip(".")
    return frame.drop(columns="split")


def independent_marginals(source: pd.DataFrame, n_rows: int, schema, rng: np.random.Generator) -> pd.DataFrame:
    """Codes drawn independently per column from ``source``'s binned marginals, then decoded."""
    from dpsynth.schema import decode, encode

    codes = encode(source, schema).codes
    draws = codes[rng.integers(len(codes), size=(n_rows, codes.shape[1])), np.arange(codes.shape[1])]
    return decode(draws, schema, rng)


def copy_with_noise(train: pd.DataFrame, schema, rng: np.random.Generator) -> pd.DataFrame:
    """``train`` with 10% of categorical cells taken from other records and numbers jittered."""
    from dpsynth.schema import Numeric

    noisy = train.copy()
    for name in schema.encoded_columns:
        column = schema[name]
        if isinstance(column, Numeric):
            jitter = rng.normal(0.0, 0.01 * (column.upper - column.lower), len(train))
            values = np.clip(np.round(train[name].to_numpy(dtype=float) + jitter), column.lower, column.upper)
            noisy[name] = values.astype(np.int64)
        else:
            swap = rng.random(len(train)) < 0.1
            donors = rng.integers(len(train), size=int(swap.sum()))
            noisy.loc[swap, name] = train[name].to_numpy()[donors]
    return noisy


def make_cases(folder: Path, seed: int) -> list[dict]:
    """Write every case's three tables into ``folder``; return the case descriptions."""
    from dpsynth.schema import Schema

    schema = Schema.load(SCHEMA)
    frame = load_adult()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    train = frame.iloc[order[:N_TRAIN]].reset_index(drop=True)
    control = frame.iloc[order[N_TRAIN : 2 * N_TRAIN]].reset_index(drop=True)
    generator_part = frame.iloc[order[2 * N_TRAIN :]].reset_index(drop=True)
    marginals = independent_marginals(generator_part, N_TRAIN, schema, rng)
    leaky = marginals.copy()
    leaky["fnlwgt"] = train["fnlwgt"].to_numpy()[rng.permutation(N_TRAIN)]
    write_table(train, folder / "train.csv")
    write_table(control, folder / "control.csv")
    write_table(control.iloc[:SMALL_CONTROL], folder / "control_small.csv")
    for name, synthetic in (("marginals", marginals), ("leaky", leaky), ("noisy", copy_with_noise(train, schema, rng))):
        write_table(synthetic, folder / f"{name}.csv")
    return [
        {"case": "marginals", "control": "control.csv", "synthetic": "marginals.csv"},
        {"case": "marginals+fnlwgt", "control": "control.csv", "synthetic": "leaky.csv"},
        {"case": "copy+noise", "control": "control.csv", "synthetic": "noisy.csv"},
        {"case": "marginals, small control", "control": "control_small.csv", "synthetic": "marginals.csv"},
    ]


# --------------------------------------------------------------------------- the two sides


def run_dpsynth(folder: Path, case: dict, n_attacks: int, seed: int) -> dict:
    from dpsynth.attacks.inference import attribute_inference
    from dpsynth.attacks.linkage import linkage
    from dpsynth.attacks.singling_out import singling_out
    from dpsynth.schema import Schema

    schema = Schema.load(SCHEMA)
    names = ("train.csv", case["control"], case["synthetic"])
    train, control, synthetic = (read_table(folder / name) for name in names)
    rng = np.random.default_rng(seed)
    calls = {
        "singling out univariate": lambda: singling_out(
            train, control, synthetic, schema, n_attacks=n_attacks, mode="univariate", random_state=rng
        ),
        "singling out multivariate": lambda: singling_out(
            train, control, synthetic, schema, n_attacks=n_attacks, mode="multivariate", random_state=rng
        ),
        "linkage": lambda: linkage(
            train, control, synthetic, schema, LINK_COLUMNS, n_attacks=n_attacks, random_state=rng
        ),
    }
    for secret in SECRETS:
        calls[f"inference {secret}"] = lambda secret=secret: attribute_inference(
            train, control, synthetic, schema, secret, n_attacks=n_attacks, tolerance=0.0, random_state=rng
        )
    out = {}
    for name, call in calls.items():
        start = time.perf_counter()
        result = call()
        out[name] = {
            "risk": result.risk,
            "ci": list(result.risk_interval),
            "attack": result.attack.value,
            "control": result.control.value,
            "baseline": result.baseline.value,
            "seconds": time.perf_counter() - start,
        }
    return out


def run_anonymeter(folder: Path, case: dict, n_attacks: int, seed: int) -> dict:
    """anonymeter's evaluators with their defaults but ``n_attacks`` (and ``n_jobs=1``; linkage
    and inference draw their targets with numpy's global generator, seeded here)."""
    from anonymeter.evaluators import InferenceEvaluator, LinkabilityEvaluator, SinglingOutEvaluator

    np.random.seed(seed)
    names = ("train.csv", case["control"], case["synthetic"])
    train, control, synthetic = (read_table(folder / name) for name in names)
    calls = {
        "singling out univariate": lambda: SinglingOutEvaluator(
            ori=train, syn=synthetic, control=control, n_attacks=n_attacks, seed=seed
        ).evaluate(mode="univariate"),
        "singling out multivariate": lambda: SinglingOutEvaluator(
            ori=train, syn=synthetic, control=control, n_attacks=n_attacks, seed=seed
        ).evaluate(mode="multivariate"),
        "linkage": lambda: LinkabilityEvaluator(
            ori=train, syn=synthetic, control=control, aux_cols=LINK_COLUMNS, n_attacks=n_attacks
        ).evaluate(n_jobs=1),
    }
    for secret in SECRETS:
        aux = [c for c in train.columns if c != secret]
        calls[f"inference {secret}"] = lambda secret=secret, aux=aux: InferenceEvaluator(
            ori=train, syn=synthetic, control=control, aux_cols=aux, secret=secret, regression=False,
            n_attacks=n_attacks,
        ).evaluate(n_jobs=1)
    out = {}
    for name, call in calls.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluator = call()
            results = evaluator.results()
            risk = evaluator.risk()
        out[name] = {
            "risk": risk.value,
            "ci": list(risk.ci),
            "attack": results.attack_rate.value,
            "control": results.control_rate.value,
            "baseline": results.baseline_rate.value,
            "seconds": time.perf_counter() - start,
        }
    return out


def worker(folder: Path, n_attacks: int, seed: int) -> None:
    cases = json.loads((folder / "cases.json").read_text())
    results = {case["case"]: run_anonymeter(folder, case, n_attacks, seed) for case in cases}
    (folder / "anonymeter.json").write_text(json.dumps(results))


# --------------------------------------------------------------------------- report


def within(value: float, interval: list[float]) -> bool:
    return interval[0] - 1e-12 <= value <= interval[1] + 1e-12


def rows(cases: list[dict], ours: dict, theirs: dict) -> list[dict]:
    table = []
    for case in cases:
        for name in EVALUATORS:
            a, b = ours[case["case"]][name], theirs[case["case"]][name]
            table.append(
                {
                    "case": case["case"],
                    "evaluator": name,
                    "dpsynth": a,
                    "anonymeter": b,
                    "dpsynth_in_anonymeter_ci": within(a["risk"], b["ci"]),
                    "intervals_overlap": a["ci"][0] <= b["ci"][1] and b["ci"][0] <= a["ci"][1],
                }
            )
    return table


def markdown(table: list[dict]) -> str:
    def risk(side: dict) -> str:
        return f"{side['risk']:.3f} [{side['ci'][0]:.3f}, {side['ci'][1]:.3f}]"

    def rates(side: dict) -> str:
        return f"{side['attack']:.3f} / {side['control']:.3f} / {side['baseline']:.3f}"

    lines = [
        "| case | evaluator | dpsynth risk [95% CI] | anonymeter risk [95% CI] | in CI | overlap "
        "| dpsynth attack / control / baseline | anonymeter attack / control / baseline | s dpsynth | s anonymeter |",
        "|---|---|---|---|---|---|---|---|---:|---:|",
    ]
    for row in table:
        a, b = row["dpsynth"], row["anonymeter"]
        lines.append(
            f"| {row['case']} | {row['evaluator']} | {risk(a)} | {risk(b)} | "
            f"{'yes' if row['dpsynth_in_anonymeter_ci'] else 'NO'} | {'yes' if row['intervals_overlap'] else 'NO'} | "
            f"{rates(a)} | {rates(b)} | {a['seconds']:.2f} | {b['seconds']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-attacks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker), args.n_attacks, args.seed)
        return

    logging.basicConfig(level=logging.ERROR)
    if not PEER_PYTHON.exists():
        sys.exit(f"anonymeter's venv is missing: create it as the docstring says ({PEER_PYTHON})")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        cases = make_cases(folder, args.seed)
        (folder / "cases.json").write_text(json.dumps(cases))
        ours = {case["case"]: run_dpsynth(folder, case, args.n_attacks, args.seed) for case in cases}
        subprocess.run(
            [str(PEER_PYTHON), __file__, "--worker", str(folder), "--n-attacks", str(args.n_attacks),
             "--seed", str(args.seed)],
            check=True,
        )
        theirs = json.loads((folder / "anonymeter.json").read_text())
    version = subprocess.run(
        [str(PEER_PYTHON), "-c", "import importlib.metadata as m; print(m.version('anonymeter'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    table = rows(cases, ours, theirs)
    print(f"anonymeter {version}; n_attacks={args.n_attacks}; seed={args.seed}; training records={N_TRAIN}; "
          f"{platform.processor() or platform.machine()}")
    print(markdown(table))
    inside = sum(row["dpsynth_in_anonymeter_ci"] for row in table)
    overlap = sum(row["intervals_overlap"] for row in table)
    print(f"\ndpsynth's risk within anonymeter's interval: {inside} of {len(table)}; "
          f"intervals overlap: {overlap} of {len(table)}")
    if args.out:
        document = {"anonymeter": version, "n_attacks": args.n_attacks, "seed": args.seed, "rows": table}
        Path(args.out).write_text(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
