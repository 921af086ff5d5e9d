"""dpsynth against its peers on the users' raw tables: types, shapes, spikes, utility, cost.

Tables (../shared/data, read as their README says, "?" as Adult's null token): raw UCI Adult
(the test file's trailing dot stripped from ``income``, the ``split`` column dropped; a uniform
sample of ``fit_rows`` rows to fit, to keep the peers' AIM runs in minutes), PUMS.csv and German
credit. Fixed split: seed 0, 20% test rows. Each system (``peers_raw.SYSTEMS``) fits and samples
the fit rows' CSV in a worker of its own environment; this process scores every output with the
same functions:

* types kept: share of columns whose kind (``peers_raw.kind``: int, nullable int, float, bool,
  datetime, category, text) is the input's as pandas reads the CSV;
* column shape and pair trend: ``dpsynth.evaluate.quality`` (SDMetrics' QualityReport scores);
* spikes: the largest gap, in percentage points, between real and synthetic shares of the
  table's point masses (``Table.spikes``), each share also recorded;
* TSTR AUC: ``dpsynth.evaluate.tstr`` predicting the table's target on the test rows;
* discriminator AUC: a gradient-boosting classifier telling fit rows from synthetic rows, held-out
  ROC AUC (0.5: indistinguishable; lower is better);
* wall and CPU seconds of fit and sample, peak resident memory of the worker.

Scoring uses one evaluation schema per table drafted from the fit rows without noise
(``infer_schema``): it describes the release to the benchmark, outside any DP guarantee.

    .venv/bin/python benchmarks/bench_raw_peers.py [--tables adult,pums,german]
        [--systems dpsynth-mst,...] [--epsilons 1,3] [--seeds 0] [--out rows.csv]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import signal
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np
import pandas as pd
from peers import spawn, version
from peers_raw import SYSTEMS, TABLES, Table, kind, read

from dpsynth.evaluate.quality import quality_scores
from dpsynth.evaluate.tstr import tstr_auc
from dpsynth.schema import Schema, encode
from dpsynth.schema.infer import infer_schema

DATA = HERE.parent / ".." / "shared" / "data"
TEST_SHARE = 0.2
WALL_CAP_S = 2400  # a safety net: each worker caps its own CPU seconds (peers_raw.CPU_CAP_S)
FIELDS = ["date", "commit", "table", "fit_rows", "system", "version", "private", "epsilon", "seed", "status",
          "types_kept", "types_lost", "column_shape", "pair_trend", "spike_gap_pp", "spikes", "tstr_auc", "real_auc",
          "discriminator_auc", "wall_s", "cpu_s", "peak_mb"]


def split(table: Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table's fit and test rows (seed 0), after its public layout clean-ups."""
    frame = read(DATA / table.path, table).drop(columns=list(table.drop))
    for column, characters in table.strip.items():
        frame[column] = frame[column].str.rstrip(characters)
    order = np.random.default_rng(0).permutation(len(frame))
    cut = len(frame) - int(TEST_SHARE * len(frame))
    fit = order[:cut] if table.fit_rows is None else order[: min(cut, table.fit_rows)]
    return frame.iloc[fit].reset_index(drop=True), frame.iloc[order[cut:]].reset_index(drop=True)


def spike_shares(real: pd.DataFrame, synthetic: pd.DataFrame, table: Table) -> dict[str, tuple[float, float]]:
    """Real and synthetic share (in %) of each spike's value, compared as numbers."""
    def share(frame: pd.DataFrame, column: str, value: float) -> float:
        return 100.0 * float(np.mean(pd.to_numeric(frame[column], errors="coerce").to_numpy() == value))
    return {f"{c}={v:g}": (share(real, c, v), share(synthetic, c, v)) for c, v in table.spikes}


def discriminator_auc(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema, seed: int = 0) -> float:
    """Held-out ROC AUC of a classifier telling real from synthetic rows on the schema's codes
    (equal numbers of each, half of them to train)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    n = min(len(real), len(synthetic))
    codes = np.vstack([encode(frame.iloc[rng.permutation(len(frame))[:n]], schema).codes
                       for frame in (real, synthetic)])
    labels = np.repeat([0, 1], n)
    order = rng.permutation(2 * n)
    train, test = order[: n], order[n:]
    model = HistGradientBoostingClassifier(max_iter=200, early_stopping=False, random_state=0)
    with threadpool_limits(1, user_api="openmp"):
        model.fit(codes[train], labels[train])
        scores = model.predict_proba(codes[test])[:, 1]
    return float(roc_auc_score(labels[test], scores))


def score(table: Table, fit: pd.DataFrame, test: pd.DataFrame, synthetic: pd.DataFrame, kinds: dict) -> dict:
    schema = infer_schema(fit)
    lost = [f"{c}: {kind(fit[c])}->{kinds.get(c, 'missing')}" for c in fit.columns if kinds.get(c) != kind(fit[c])]
    shares = spike_shares(fit, synthetic, table)
    quality = quality_scores(fit, synthetic, schema)
    return {"types_kept": 1 - len(lost) / fit.shape[1], "types_lost": "; ".join(lost),
            "column_shape": quality["column_shape"], "pair_trend": quality["pair_trend"],
            "spike_gap_pp": max(abs(a - b) for a, b in shares.values()),
            "spikes": "; ".join(f"{k} {a:.1f}/{b:.1f}" for k, (a, b) in shares.items()),
            "tstr_auc": tstr_auc(synthetic, test, schema, table.target),
            "real_auc": tstr_auc(fit, test, schema, table.target),
            "discriminator_auc": discriminator_auc(fit, synthetic, schema)}


def run(key: str, table: Table, train: Path, epsilon: float, seed: int) -> dict:
    """One fit-and-sample of ``key`` in its environment; its synthetic table read back as text cells."""
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result.json"
        answer = spawn([str(SYSTEMS[key].python), "-W", "ignore", str(HERE / "peers_raw.py"), "--key", key,
                        "--table", table.name, "--train", str(train), "--epsilon", repr(epsilon), "--seed",
                        str(seed), "--result", str(result)],
                       result, HERE / "out" / "raw" / f"{key}-{table.name}-eps{epsilon:g}-seed{seed}.log",
                       WALL_CAP_S)
        if answer["status"].startswith(f"failed (exit -{signal.SIGXCPU})"):
            answer["status"] = f"did not finish in {SYSTEMS[key].cpu_cap_s} CPU s"
        if answer["status"] == "ok":
            answer["synthetic"] = pd.read_csv(result.with_suffix(".csv"))
        return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--epsilons", default="1,3")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--commit", default="", help="the commit the workers run, recorded in each row")
    parser.add_argument("--out", default=str(HERE / "out" / "raw_peers.csv"), help="append the rows here")
    args = parser.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    keys = [k for k in args.systems.split(",") if k]
    versions = {key: version(SYSTEMS[key]) for key in keys}
    today = datetime.date.today().isoformat()
    for name in args.tables.split(","):
        table = TABLES[name]
        fit, test = split(table)
        with tempfile.TemporaryDirectory() as folder:
            train = Path(folder) / f"{name}.csv"
            fit.to_csv(train, index=False, na_rep=table.na_values[0] if table.na_values else "")
            for key in keys:
                # A non-private system ignores epsilon: it runs once per seed.
                epsilons = [float(e) for e in args.epsilons.split(",")] if SYSTEMS[key].private else [float("inf")]
                for epsilon in epsilons:
                    for seed in [int(s) for s in args.seeds.split(",")]:
                        answer = run(key, table, train, epsilon, seed)
                        row = {"date": today, "commit": args.commit, "table": name, "fit_rows": len(fit),
                               "system": SYSTEMS[key].label, "version": versions[key],
                               "private": SYSTEMS[key].private, "epsilon": epsilon, "seed": seed,
                               "status": answer["status"], "wall_s": answer["seconds"],
                               "cpu_s": answer.get("cpu_seconds"), "peak_mb": answer.get("peak_mb")}
                        if answer["status"] == "ok":
                            row |= score(table, fit, test, answer["synthetic"], answer["kinds"])
                        print(json.dumps(row), flush=True)
                        new = not out.exists()
                        with out.open("a", newline="") as stream:
                            writer = csv.DictWriter(stream, FIELDS)
                            if new:
                                writer.writeheader()
                            writer.writerow({k: _cell(row.get(k)) for k in FIELDS})


def _cell(value: object) -> object:
    return f"{value:.4f}" if isinstance(value, float) and not np.isinf(value) else value


if __name__ == "__main__":
    main()
