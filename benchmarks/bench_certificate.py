"""The certificate as a test: false-FAIL rate on DP releases, miss rate on leaky generators,
the empirical epsilon bound against the stated epsilon, and what each audit level costs.

Tables (../shared/data; each run draws its own rows with its seed):

- ``adult-discretized``: private-pgm's discretized Adult, 2,000 rows, schema discovered under DP;
- ``adult-raw``: UCI Adult ("?" missing, the test rows' "." dropped from income, no split
  column), 2,000 rows, the public schema shipped in dpsynth/datasets;
- ``german-credit``: all 1,000 rows, schema discovered under DP.

DP runs go through ``release`` with the default ``--audit standard`` and the default policy,
delta 1e-9, holdout share 0.2 on the Adult samples and 0.3 on German credit (about 400 and 300
held out; the audit needs 200). Leaky runs (benchmarks/leaky.py) are attacked by the same
standard suite with a holdout drawn as a release draws it and the schema inferred on the
custodian's side (as ``dpsynth audit`` does); each is judged twice by the default policy: as
another tool's data (no stated epsilon) and as a release claiming epsilon 1. The memoriser of
rare records runs a second time where the copy tests can see it against that claim: a holdout
share of 0.5 and 1.2 times as many planted records as the rare-copies check catches at 99% there
(``detectable_records``, the count ``audit_limits`` states), or ``--planted-multiple`` times that
count (a generator of its own name in the runs, ``VISIBLE`` with the multiple appended).

``--dp-subset`` runs the DP releases where chance copies are likeliest only (epsilon 3, MST, AIM
and PrivBayes on every table), for the p-values of the copy and unique-value tests; the full DP table is summarised only
from a runs file that holds every DP run of the plan.

Every run appends one row to benchmarks/out/certificate-runs.csv and is skipped when rerun, so
a stopped benchmark resumes; runs go seed by seed, so a stopped one has every cell at fewer
seeds. ``--summarise`` writes the committed rows with Clopper-Pearson 95% intervals.

    python benchmarks/bench_certificate.py [--seeds 10] [--workers 2] [--dp-subset] [--leaky-only NAME]
        [--planted-multiple 1.2] [--cost] [--summarise]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
DATA = ROOT / ".." / "shared" / "data"
RUNS = ROOT / "benchmarks" / "out" / "certificate-runs.csv"
RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("mst", "aim", "privbayes", "hybrid")
EPSILONS = (0.3, 1.0, 3.0)
TABLES = ("adult-discretized", "adult-raw", "german-credit")
SAMPLE_ROWS = 2000
HOLDOUT_SHARE = {"adult-discretized": 0.2, "adult-raw": 0.2, "german-credit": 0.3}
DELTA = 1e-9
CLAIMED_EPSILON = 1.0
VISIBLE_SHARE = 0.5  # the holdout share of the memoriser's second run
VISIBLE = "memorised rare outliers, holdout 0.5"
VISIBLE_MARGIN = 1.2  # the default --planted-multiple
SUBSET_EPSILONS = (3.0,)
SUBSET_METHODS = ("mst", "aim", "privbayes")
FIELDS = (
    "kind", "table", "generator", "epsilon", "seed", "verdict", "verdict_claiming_dp", "reasons", "failed",
    "epsilon_lower_bound", "max_certifiable_epsilon", "membership_auc_upper", "singling_out_risk",
    "linkage_risk", "inference_risk", "singling_out_low", "linkage_low", "inference_low",
    "unique_p_eps0", "unique_p_stated", "rare_p_eps0", "rare_p_stated", "values_p_eps0", "values_p_stated",
    "n_planted", "n_train", "n_holdout",
    "cpu_s", "audit_s", "wall_s", "error", "commit",
    "date",
)


def load(table: str, seed: int, rows: int = SAMPLE_ROWS) -> tuple[pd.DataFrame, str | None, tuple[str, ...]]:
    """``(rows, schema path or None, null tokens)`` of one table, ``rows`` of it sampled with ``seed``."""
    if table == "adult-raw":
        from dpsynth.datasets import example_path

        frame = pd.read_csv(DATA / "adult" / "adult_uci.csv", na_values="?", keep_default_na=False)
        frame["income"] = frame["income"].str.rstrip(".")
        frame = frame.drop(columns="split")
        return frame.sample(rows, random_state=seed).reset_index(drop=True), str(example_path("adult")[1]), ()
    if table == "adult-discretized":
        frame = pd.read_csv(DATA / "adult" / "private-pgm" / "adult.csv")
        return frame.sample(rows, random_state=seed).reset_index(drop=True), None, ()
    return pd.read_csv(DATA / "german_credit" / "german_credit.csv"), None, ()


def visible_name(multiple: float) -> str:
    """The memoriser's second run's name at ``multiple`` times the count the check needs: VISIBLE
    at the default multiple, the multiple appended otherwise (its runs are kept apart in the runs file)."""
    return VISIBLE if multiple == VISIBLE_MARGIN else f"{VISIBLE}, {multiple:g}x planted"


def visible_multiple(name: str) -> float | None:
    """The multiple of a memoriser run named by :func:`visible_name`; None for any other generator."""
    if name == VISIBLE:
        return VISIBLE_MARGIN
    if name.startswith(VISIBLE + ", ") and name.endswith("x planted"):
        return float(name[len(VISIBLE) + 2: -len("x planted")])
    return None


def cpu_seconds() -> float:
    """CPU time of this process (a worker runs one audit at a time, with no child processes)."""
    return time.process_time()


def _figures(summary: dict, row: dict) -> None:
    for key in ("epsilon_lower_bound", "max_certifiable_epsilon", "membership_auc_upper", "singling_out_risk",
                "linkage_risk", "inference_risk"):
        value = summary.get(key)
        row[key] = "" if value is None or (isinstance(value, float) and np.isnan(value)) else round(float(value), 4)


def _lows(statuses: dict, row: dict) -> None:
    """The lower ends the policy judges (empty where no attack of the kind beat its baseline)."""
    for key, column in (("singling_out_risk", "singling_out_low"), ("linkage_risk", "linkage_low"),
                        ("inference_risk", "inference_low")):
        low = statuses.get(key, {}).get("risk_low")
        row[column] = "" if low is None else round(float(low), 4)


def _copy_p_values(audited: dict, stated: float, row: dict) -> None:
    """The copy and unique-value tests' p-values at epsilon 0 and at the stated (or claimed) epsilon."""
    from dpsynth.attacks.copies import CopyResult
    from dpsynth.attacks.rare_copies import Guesses, RareCopyResult
    from dpsynth.attacks.unique_values import UniqueValueResult

    copies, rare, values = (audited.get(name) for name in ("unique_copies", "rare_copies", "unique_values"))

    if copies is not None:
        result = CopyResult(**{k: copies[k] for k in ("unique_train", "unique_holdout", "copied_train",
                                                      "copied_holdout")})
        row.update(unique_p_eps0=f"{result.p_value():.3g}", unique_p_stated=f"{result.p_value(stated):.3g}")
    if rare is not None:
        prefixes = tuple(Guesses(**g) for g in rare["prefixes"])
        found = RareCopyResult(rare["unique_train"], rare["unique_holdout"], prefixes)
        row.update(rare_p_eps0=f"{found.p_value():.3g}", rare_p_stated=f"{found.p_value(stated):.3g}")
    if values is not None:
        held = UniqueValueResult(values["n_train"], values["n_holdout"], Guesses(**values["guesses"]))
        row.update(values_p_eps0=f"{held.p_value():.3g}", values_p_stated=f"{held.p_value(stated):.3g}")


def _failed(checks: list[dict]) -> str:
    return ";".join(check["name"] for check in checks if check["passed"] is False)


def dp_run(table: str, method: str, epsilon: float, seed: int) -> dict:
    """One DP release with the default standard audit: its verdict and figures."""
    from dpsynth.workflows.release import release

    frame, schema, na_values = load(table, seed)
    row: dict = {"kind": "dp", "table": table, "generator": method, "epsilon": epsilon, "seed": seed}
    with tempfile.TemporaryDirectory() as folder:
        released = release(
            frame, epsilon=epsilon, delta=DELTA, out=Path(folder) / "release", schema=schema, method=method,
            ledger=Path(folder) / "ledger.sqlite", audit="standard", holdout_share=HOLDOUT_SHARE[table],
            random_state=seed, na_values=na_values,
        )
    certificate = released.certificate
    if certificate is None:
        row.update(verdict="NO AUDIT", reasons="too few records were held out")
        return row
    audited = certificate["audit"]
    row.update(
        verdict=certificate["verdict"],
        reasons=" | ".join(certificate["reasons"]),
        failed=_failed(certificate["checks"]),
        n_train=audited["parameters"]["n_train"],
        n_holdout=audited["parameters"]["n_holdout"],
        audit_s=round(sum(audited["seconds"].values()), 2),
    )
    _figures(audited["summary"], row)
    _lows(audited.get("risk_statuses", {}), row)
    _copy_p_values(audited, epsilon, row)
    return row


def leaky_run(table: str, name: str, seed: int) -> dict:
    """One leaky generator's table attacked by the standard suite, judged with and without a claimed epsilon."""
    import warnings

    from leaky import LEAKY, OUTLIER_SHARE, plant_outliers

    from dpsynth.attacks.rare_copies import detectable_records
    from dpsynth.attacks.suite import run_attacks
    from dpsynth.certificate.policy import evaluate_policy
    from dpsynth.errors import PrivacyWarning
    from dpsynth.privacy.budget import PrivacyUnit
    from dpsynth.schema import Schema, infer_schema
    from dpsynth.workflows.release import split_holdout

    rng = np.random.default_rng(seed)
    frame, schema_path, _ = load(table, seed)
    planted = np.zeros(len(frame), dtype=bool)
    multiple = visible_multiple(name)
    share = HOLDOUT_SHARE[table] if multiple is None else VISIBLE_SHARE
    if name == "memorised rare outliers":
        frame, planted = plant_outliers(frame, rng)
    elif multiple is not None:
        # the count the rare-copies check catches at 99% against the claim with an ideal ranking,
        # times the multiple: held-out planted rows ranked after the last copy fall outside the
        # prefix, and a chance copy by the DP part far down the ranking leaves only the half and
        # quarter prefixes to judge; 2% of the rows at least
        visible = math.ceil(multiple * (detectable_records(VISIBLE_SHARE, CLAIMED_EPSILON) or 0))
        frame, planted = plant_outliers(frame, rng, max(int(OUTLIER_SHARE * len(frame)), visible))
    frame = frame.assign(_planted=planted)
    train, holdout = split_holdout(frame, PrivacyUnit(), rng, share)
    planted_train = train.pop("_planted").to_numpy(dtype=bool)
    holdout = holdout.drop(columns="_planted")
    if schema_path is not None:
        schema = Schema.load(schema_path)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrivacyWarning)
            schema = infer_schema(pd.concat([train, holdout], ignore_index=True))
    synthetic = LEAKY["memorised rare outliers" if multiple is not None else name](train, schema, rng, planted_train)
    start = time.perf_counter()
    result = run_attacks(train, holdout, synthetic, schema, level="standard", random_state=rng, n_jobs=1)
    audit_s = time.perf_counter() - start
    verdict, reasons, checks = evaluate_policy(result, None)
    claimed, claimed_reasons, claimed_checks = evaluate_policy(result, CLAIMED_EPSILON)
    row = {
        "kind": "leaky", "table": table, "generator": name, "epsilon": "", "seed": seed, "verdict": verdict,
        "verdict_claiming_dp": claimed, "reasons": " | ".join(reasons),
        "failed": _failed(checks) + ("/" + _failed(claimed_checks) if claimed == "FAIL" else ""),
        "n_planted": int(planted.sum()), "n_train": len(train), "n_holdout": len(holdout),
        "audit_s": round(audit_s, 2),
    }
    if claimed != verdict:
        row["reasons"] += " || claiming epsilon 1: " + " | ".join(claimed_reasons)
    _figures(result.summary(), row)
    _lows(result.risk_statuses(), row)
    _copy_p_values(result.to_dict(), CLAIMED_EPSILON, row)
    return row


def run(task: tuple) -> dict:
    """One task in a worker: its row, or the error it raised (a benchmark row, never a crash)."""
    kind, *arguments = task
    start, cpu = time.perf_counter(), cpu_seconds()
    try:
        row = dp_run(*arguments) if kind == "dp" else leaky_run(*arguments)
    except Exception as error:  # noqa: BLE001 -- a crash is a result of the benchmark, recorded in its row
        row = {"kind": kind, "table": arguments[0], "generator": arguments[1], "seed": arguments[-1],
               "epsilon": arguments[2] if kind == "dp" else "", "verdict": "ERROR",
               "error": f"{type(error).__name__}: {error}"[:300]}
        traceback.print_exc()
    row.update(cpu_s=round(cpu_seconds() - cpu, 2), wall_s=round(time.perf_counter() - start, 2))
    return row


def key(row: dict) -> tuple[str, str, str, str, str]:
    epsilon = row["epsilon"]
    return (str(row["kind"]), str(row["table"]), str(row["generator"]),
            "" if epsilon in ("", None) else f"{float(epsilon):g}", str(row["seed"]))


def tasks(
    seeds: int, dp_subset: bool = False, leaky_only: tuple[str, ...] = (), multiple: float = VISIBLE_MARGIN
) -> list[tuple]:
    """Every run, seed by seed (a stopped benchmark has each cell at nearly as many seeds);
    with ``leaky_only``, the runs of those leaky generators alone (more seeds for a miss rate);
    the memoriser's second run plants ``multiple`` times the count the check needs."""
    from leaky import LEAKY

    methods, epsilons = (SUBSET_METHODS, SUBSET_EPSILONS) if dp_subset else (METHODS, EPSILONS)
    unknown = set(leaky_only) - {*LEAKY, VISIBLE}
    if unknown:
        raise SystemExit(f"--leaky-only: no leaky generator named {sorted(unknown)[0]!r}")
    names = tuple(visible_name(multiple) if name == VISIBLE else name for name in leaky_only or (*LEAKY, VISIBLE))
    out: list[tuple] = []
    for seed in range(seeds):
        for table in TABLES:
            out += [("leaky", table, name, seed) for name in names]
            if not leaky_only:
                out += [("dp", table, method, epsilon, seed) for method in methods for epsilon in epsilons]
    return out


def commit() -> str:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()


def benchmark(
    seeds: int, workers: int, dp_subset: bool, leaky_only: tuple[str, ...] = (), multiple: float = VISIBLE_MARGIN
) -> None:
    done = set()
    if RUNS.exists():
        done = {key(row) for row in csv.DictReader(RUNS.open())}
    todo = [task for task in tasks(seeds, dp_subset, leaky_only, multiple)
            if key(dict(zip(("kind", "table", "generator"), task[:3]), epsilon=task[3] if task[0] == "dp" else "",
                        seed=task[-1])) not in done]
    print(f"{len(todo)} runs to do ({len(done)} done)", flush=True)
    RUNS.parent.mkdir(parents=True, exist_ok=True)
    new = not RUNS.exists()
    stamp = {"commit": commit(), "date": datetime.date.today().isoformat()}
    with RUNS.open("a", newline="") as handle, multiprocessing.get_context("fork").Pool(workers) as pool:
        writer = csv.DictWriter(handle, FIELDS)
        if new:
            writer.writeheader()
        for row in pool.imap_unordered(run, todo):
            writer.writerow({**row, **stamp})
            handle.flush()
            print(json.dumps({k: row.get(k) for k in ("table", "generator", "epsilon", "seed", "verdict",
                                                      "failed", "epsilon_lower_bound", "cpu_s")}), flush=True)


# ----------------------------------------------------------------------------------- cost
def cost_run(table: str, rows: int, method: str, level: str) -> dict:
    """Fit CPU-s and audit CPU-s of one release at one audit level (``standard-before``: the
    standard level as it was, with 3 shadow targets per side x 8 refits of 1,000 rows)."""
    import warnings

    from dpsynth.attacks import suite
    from dpsynth.errors import PrivacyWarning
    from dpsynth.generators import create
    from dpsynth.privacy.budget import PrivacyUnit
    from dpsynth.schema import Schema, infer_schema
    from dpsynth.workflows.release import ReleaseRefit, split_holdout

    suite.LEVELS["standard-before"] = suite.Level(1000, 2000, None, 3, 8, 1000)
    frame, schema_path, _ = load(table, 0, rows)
    rng = np.random.default_rng(0)
    train, holdout = split_holdout(frame, PrivacyUnit(), rng, HOLDOUT_SHARE[table])
    if schema_path is not None:
        schema = Schema.load(schema_path)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrivacyWarning)
            schema = infer_schema(frame)
    refit = ReleaseRefit(method, {}, schema, 1.0, DELTA, create(method).parts, PrivacyUnit())
    start = cpu_seconds()
    synthetic = refit(train, rng)
    fit = cpu_seconds() - start
    start = cpu_seconds()
    suite.run_attacks(train, holdout, synthetic, schema, level=level, refit=refit, delta=DELTA, random_state=rng,
                      n_jobs=1)
    return {"table": table, "rows": len(frame), "method": method, "epsilon": 1.0, "level": level,
            "fit_cpu_s": round(fit, 1), "audit_cpu_s": round(cpu_seconds() - start, 1)}


COST_CASES = (
    ("adult-raw", 5000, "mst", ("quick", "standard", "standard-before")),
    ("german-credit", 1000, "mst", ("quick", "standard", "standard-before", "thorough")),
)


def cost() -> None:
    """Each case in turn, the rows written after each: a level that cannot finish in the time a
    run has (``thorough`` on German credit) leaves the levels before it recorded."""
    rows = []
    for table, n, method, levels in COST_CASES:
        for level in levels:
            row = cost_run(table, n, method, level)
            row.update(commit=commit(), date=datetime.date.today().isoformat())
            print(json.dumps(row), flush=True)
            rows.append(row)
            pd.DataFrame(rows).to_csv(RESULTS / "certificate_cost.csv", index=False)


# ------------------------------------------------------------------------------ summarise
def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    """Two-sided 95% Clopper-Pearson interval of a rate of k in n."""
    low = 0.0 if k == 0 else float(stats.beta.ppf(0.025, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(0.975, k + 1, n - k))
    return low, high


def _rate(k: int, n: int) -> dict:
    low, high = clopper_pearson(k, n)
    return {"rate": round(k / n, 4) if n else "", "ci_low": round(low, 4), "ci_high": round(high, 4)}


def summarise() -> None:
    runs = pd.read_csv(RUNS, keep_default_na=False)
    dp = runs[runs["kind"] == "dp"].copy()
    stamp = _stamp(dp)
    audited = dp[dp["verdict"].isin(["PASS", "FAIL"])].copy()
    audited["bound"] = pd.to_numeric(audited["epsilon_lower_bound"])
    audited["epsilon"] = pd.to_numeric(audited["epsilon"])
    cells = []
    for (method, epsilon), group in [*audited.groupby(["generator", "epsilon"]), (("all", "all"), audited)]:
        fails = int((group["verdict"] == "FAIL").sum())
        everyone = dp if method == "all" else dp[(dp["generator"] == method)
                                                  & (pd.to_numeric(dp["epsilon"]) == epsilon)]
        cells.append({
            "generator": method, "epsilon": epsilon, "runs": len(everyone), "audited": len(group),
            "errors": int((everyone["verdict"] == "ERROR").sum()), "false_fail": fails, **_rate(fails, len(group)),
            "bound_max": round(float(group["bound"].max()), 3),
            "bound_above_stated": int((group["bound"] >= group["epsilon"]).sum()),
            "seeds": group["seed"].nunique(), "tables": group["table"].nunique(), **stamp,
        })
    planned = {key(dict(zip(("kind", "table", "generator", "epsilon"), task[:4]), seed=task[-1]))
               for task in tasks(int(dp["seed"].astype(int).max()) + 1) if task[0] == "dp"}
    if planned <= {key(row) for row in dp.to_dict("records")}:
        pd.DataFrame(cells).to_csv(RESULTS / "certificate_dp.csv", index=False)
    copies = _copies_summary(audited, stamp)
    leaky = runs[runs["kind"] == "leaky"]
    stamp = _stamp(leaky)
    rows = []
    for name, group in leaky.groupby("generator", sort=False):
        judged = group[group["verdict"] != "ERROR"]
        for policy, column in (("no stated epsilon", "verdict"), ("claims epsilon 1", "verdict_claiming_dp")):
            fails = int((judged[column] == "FAIL").sum())
            caught = judged[judged[column] == "FAIL"]["failed"].str.split("/").str[0 if column == "verdict" else -1]
            names = caught.str.split(";").explode().value_counts()
            rows.append({
                "generator": name, "judged": policy, "runs": len(group), "errors": len(group) - len(judged),
                "fail": fails, **_rate(fails, len(judged)),
                "tables": ";".join(
                    f"{t}:{int((g[column] == 'FAIL').sum())}/{len(g)}" for t, g in judged.groupby("table")
                ),
                "caught_by": ";".join(f"{n}:{c}" for n, c in names.items()), **stamp,
            })
    pd.DataFrame(rows).to_csv(RESULTS / "certificate_leaky.csv", index=False)
    print(pd.DataFrame(cells).to_string(), "\n", copies.to_string(), "\n", pd.DataFrame(rows).to_string())


def _stamp(runs: pd.DataFrame) -> dict:
    """The commits and last date of the runs a table is written from (its own runs only)."""
    return {"commit": ";".join(sorted(set(runs["commit"]))), "date": max(runs["date"])}


def _copies_summary(audited: pd.DataFrame, stamp: dict) -> pd.DataFrame:
    """The copy tests on DP releases, per table, method and epsilon: FAILs and the smallest p-values
    (at the stated epsilon, which the policy judges, and at 0, which no allowance raises)."""
    cells = []
    groups = [*audited.groupby(["table", "generator", "epsilon"]), (("all", "all", "all"), audited)]
    for (table, method, epsilon), group in groups:
        failed = group["failed"].fillna("").str.split(";")
        fails = {name: int(failed.apply(lambda names, n=name: n in names).sum())
                 for name in ("unique_copies", "rare_copies", "unique_values")}
        smallest = {column: float(pd.to_numeric(group[column]).min())
                    for column in ("unique_p_stated", "rare_p_stated", "values_p_stated", "unique_p_eps0",
                                   "rare_p_eps0", "values_p_eps0")}
        cells.append({
            "table": table, "generator": method, "epsilon": epsilon, "audited": len(group),
            "fail": int((group["verdict"] == "FAIL").sum()), **_rate(int((group["verdict"] == "FAIL").sum()),
                                                                     len(group)),
            **{f"fail_{name}": count for name, count in fails.items()},
            **{f"min_{column}": f"{value:.3g}" for column, value in smallest.items()},
            "seeds": group["seed"].nunique(), **stamp,
        })
    frame = pd.DataFrame(cells)
    frame.to_csv(RESULTS / "certificate_dp_copies.csv", index=False)
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dp-subset", action="store_true", help="DP runs at epsilon 3, MST/AIM/PrivBayes only")
    parser.add_argument("--leaky-only", action="append", default=[], metavar="NAME",
                        help="run only this leaky generator (repeatable): more seeds for its miss rate")
    parser.add_argument("--planted-multiple", type=float, default=VISIBLE_MARGIN, metavar="X",
                        help="the memoriser at holdout 0.5 plants X times the count the rare-copies check needs")
    parser.add_argument("--cost", action="store_true", help="measure each audit level's cost instead")
    parser.add_argument("--summarise", action="store_true", help="write the committed rows from the runs")
    parser.add_argument("--only", help="run one task given as JSON (a check of one row)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.only:
        print(json.dumps(run(tuple(json.loads(args.only)))))
    elif args.cost:
        cost()
    elif args.summarise:
        summarise()
    else:
        if args.planted_multiple <= 0:
            raise SystemExit("--planted-multiple: must be positive")
        benchmark(args.seeds, args.workers, args.dp_subset, tuple(args.leaky_only), args.planted_multiple)


if __name__ == "__main__":
    main()
