"""Write every table of benchmarks/RESULTS.md from the rows committed in benchmarks/results/.

Each table of the page sits between ``<!-- table:NAME:begin -->`` and ``<!-- table:NAME:end -->``
and is written from ``benchmarks/results/NAME.csv`` alone (one row per system and setting, with
the date and commit that recorded it), ratios against the peer included; the prose around the
tables is written by hand. Nothing is re-run.

    python benchmarks/report.py            # rewrite the tables of RESULTS.md in place
    python benchmarks/report.py --check    # exit 1 if RESULTS.md is not what the rows give

A benchmark's fresh rows go into its CSV (``report_marginal.py`` does that for the marginal
generators from ``benchmarks/out/``; the other benchmarks print their rows, which are copied in),
then this script rewrites the page.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PAGE = HERE / "RESULTS.md"


def rows(name: str, folder: Path = RESULTS) -> list[dict[str, str]]:
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def num(text: str | None) -> float:
    """The number a cell holds (thousands separators allowed), NaN when it holds none."""
    try:
        return float(str(text).replace(",", ""))
    except ValueError:
        return math.nan


def thousands(text: str) -> str:
    """A number of 1,000 or more with thousands separators (its decimals kept); other text as it is."""
    match = re.fullmatch(r"(\d{4,})(\.\d+)?", text or "")
    return f"{int(match.group(1)):,}{match.group(2) or ''}" if match else text


def times(value: float) -> str:
    """A ratio: one decimal below 10, whole numbers above."""
    if math.isnan(value):
        return ""
    return f"{value:.1f}x" if value < 10 else f"{value:,.0f}x"


def spread(row: dict[str, str], name: str) -> str:
    """``mean ± sd``, ``mean``, or ``lo-hi`` when only the range over the runs is recorded."""
    mean, sd = row.get(name, ""), row.get(name + "_sd", "")
    if mean:
        return thousands(mean) + (f" ± {thousands(sd)}" if sd else "")
    lo, hi = row.get(name + "_lo", ""), row.get(name + "_hi", "")
    return f"{thousands(lo)}-{thousands(hi)}" if lo and hi else ""


def bounds(row: dict[str, str], name: str) -> tuple[float, float]:
    """The mean twice, or the recorded range, as numbers."""
    if row.get(name):
        return num(row[name]), num(row[name])
    return num(row.get(name + "_lo")), num(row.get(name + "_hi"))


def markdown(header: list[str], align: str, body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    return lines + ["| " + " | ".join(cells) + " |" for cells in body]


class Notes:
    """Row notes as numbered marks after a row's first cell, listed under the table."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def mark(self, text: str) -> str:
        if not text:
            return ""
        if text not in self.texts:
            self.texts.append(text)
        return f" [{self.texts.index(text) + 1}]"

    def lines(self) -> list[str]:
        return [""] + [f"[{k}] {text}" for k, text in enumerate(self.texts, 1)] if self.texts else []


def provenance(name: str, table: list[dict[str, str]]) -> str:
    dates = sorted({r["date"] for r in table if r.get("date")})
    commits = sorted({r["commit"] for r in table if r.get("commit")})
    when = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
    return (f"Rows: `benchmarks/results/{name}.csv`, recorded {when} "
            f"({'commit' if len(commits) == 1 else 'commits'} {', '.join(commits)}).")


# Marginal generators against their peers -------------------------------------------------------

FAMILY = re.compile(r"\b(AIM|MST|PrivBayes)\b")
FAMILY_ORDER = {"AIM": 0, "MST": 1, "PrivBayes": 2}


def within_noise(ours: dict[str, str], peer: dict[str, str]) -> bool:
    """Two 3-way TVD means differ within their seeds' spread: by at most twice the larger
    standard deviation, and at least 0.005."""
    sds = [num(ours.get("tvd_3way_sd")), num(peer.get("tvd_3way_sd")), 0.0]
    widest = max(s for s in sds if not math.isnan(s))
    return abs(num(ours["tvd_3way"]) - num(peer["tvd_3way"])) <= max(2 * widest, 0.005)


def speed_ratio(peer: dict[str, str], ours: dict[str, str], finished: bool) -> str:
    """The peer's seconds over dpsynth's: a ratio of means, or the range any pair of runs can
    give when a side records only the range; 'over' when the peer did not finish in its cap."""
    p_lo, p_hi = bounds(peer, "seconds")
    o_lo, o_hi = bounds(ours, "seconds")
    if not finished:
        return "over " + times(p_lo / o_hi) if not math.isnan(p_lo / o_hi) else ""
    lo, hi = p_lo / o_hi, p_hi / o_lo
    return times(lo) if times(lo) == times(hi) else f"{times(lo)[:-1]}-{times(hi)}"


def table_marginal(table: list[dict[str, str]]) -> list[str]:
    def key(row: dict[str, str]) -> tuple:
        family = FAMILY.search(row["system"])
        return (num(row["epsilon"]), FAMILY_ORDER.get(family.group(1) if family else "", 3),
                not row["system"].startswith("dpsynth"))

    ordered = sorted(table, key=key)  # stable: peers keep the order of the file
    ours = {(num(r["epsilon"]), FAMILY.search(r["system"]).group(1)): r
            for r in ordered if r["system"].startswith("dpsynth")}
    notes, body = Notes(), []
    for row in ordered:
        finished = int(row["seeds"]) > 0
        seeds = f"{row['seeds']} of {row['runs']}" + (f" ({row['status']})" if row["status"] else "")
        tvd_ratio = speed = ""
        family = FAMILY.search(row["system"])
        reference = ours.get((num(row["epsilon"]), family.group(1))) if family else None
        if reference is not None and reference is not row:
            if finished:
                tvd_ratio = f"{num(reference['tvd_3way']) / num(row['tvd_3way']):.2f}"
                tvd_ratio += " (within noise)" if within_noise(reference, row) else ""
            speed = speed_ratio(row, reference, finished)
        body.append([
            row["system"] + notes.mark(row.get("note", "")), f"{num(row['epsilon']):g}",
            spread(row, "tvd_1way"), spread(row, "tvd_2way"), spread(row, "tvd_3way"),
            spread(row, "tstr_auc"), spread(row, "seconds"), spread(row, "peak_mb"), seeds,
            tvd_ratio, speed,
        ])
    header = ["system", "epsilon", "1-way TVD", "2-way TVD", "3-way TVD", "TSTR AUC", "seconds",
              "peak MB", "seeds", "dpsynth's 3-way TVD ÷ this", "this seconds ÷ dpsynth's"]
    return markdown(header, "lrrrrrrrlrr", body) + notes.lines()


# Exact noise samplers --------------------------------------------------------------------------

def table_samplers(table: list[dict[str, str]]) -> list[str]:
    cells: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
    for row in table:
        cells.setdefault((row["sampler"], row["scale"]), {})[(row["generator"], row["per_call"])] = num(row["rate"])
    body = []
    for (sampler, scale), rate in cells.items():
        chacha = rate.get(("ChaCha20", "1000000"), math.nan)
        peer = rate.get(("diffprivlib", "1"), math.nan)
        pcg = rate.get(("PCG64DXSM", "1000000"), math.nan)
        shown = [rate.get(k, math.nan) for k in (("ChaCha20", "1000000"), ("ChaCha20", "10000000"),
                                                   ("PCG64DXSM", "1000000"), ("PCG64DXSM", "10000000"))]
        body.append([sampler, scale, *(f"{r:,.0f}" if not math.isnan(r) else "" for r in (*shown, peer)),
                     times(chacha / peer), f"{chacha / pcg:.2f}"])
    header = ["sampler", "sigma / scale", "ChaCha20, 10^6 a call", "ChaCha20, 10^7 a call",
              "PCG64DXSM, 10^6 a call", "PCG64DXSM, 10^7 a call", "diffprivlib, scalar",
              "ChaCha20 ÷ diffprivlib", "ChaCha20 ÷ PCG64DXSM"]
    return markdown(header, "lrrrrrrrr", body)


# Calibration, counting -------------------------------------------------------------------------

def table_calibrate(table: list[dict[str, str]]) -> list[str]:
    body = [[r["case"], r["dpsynth_seconds"], r["peer_seconds"] or "-",
             times(num(r["peer_seconds"]) / num(r["dpsynth_seconds"])) or "-",
             r["dpsynth_scale"], r["peer_scale"] or "-"] for r in table]
    header = ["case", "dpsynth seconds", "dp-accounting seconds", "dp-accounting ÷ dpsynth",
              "dpsynth scale", "dp-accounting scale"]
    return markdown(header, "lrrrrr", body)


def table_counting(table: list[dict[str, str]]) -> list[str]:
    ours = num(table[0]["ms"])
    body = [[r["method"], r["ms"], times(num(r["ms"]) / ours)] for r in table]
    return markdown(["method", "ms", "÷ dpsynth"], "lrr", body)


def table_engines(table: list[dict[str, str]]) -> list[str]:
    # Each row against numpy's run of the same input and commit (the latest numpy run where none).
    numpy_cpu = {
        (r["input"], key): num(r["cpu_s"]) for r in table if r["engine"] == "numpy" for key in ("", r["commit"])
    }

    def ratio(r: dict[str, str]) -> float:
        return num(r["cpu_s"]) / numpy_cpu.get((r["input"], r["commit"]), numpy_cpu.get((r["input"], ""), math.nan))

    body = [[r["input"], r["engine"], thousands(r["rows"]), r["columns"], r["wall_s"], r["cpu_s"],
             times(ratio(r)), thousands(r["peak_mb"]),
             r["same_output"], r["load"], r["status"]] for r in table]
    header = ["input", "engine", "rows", "columns", "wall s", "CPU s", "CPU ÷ numpy", "peak MB",
              "same synthetic table", "load", "status"]
    return markdown(header, "llrrrrrrlrl", body)


def _method_with_params(method: str) -> str:
    """``"mst"`` -> ``MST``; ``"neural epochs=0.01"`` -> ``neural (epochs=0.01)``."""
    name, *params = method.split()
    shown = name.upper() if name in ("mst", "aim") else name
    return f"{shown} ({', '.join(params)})" if params else shown


def table_big(table: list[dict[str, str]]) -> list[str]:
    body = [[_method_with_params(r["method"]), r["engine"], r["input"], r["schema"], thousands(r["rows"]),
             r["columns"], r["wall_s"], r["cpu_s"], f"{num(r['cpu_s']) / num(r['rows']) * 1e6:.1f}",
             thousands(r["peak_mb"]),
             r["load"], r.get("load_during", ""), r["status"], r.get("synthetic", "")] for r in table]
    header = ["method", "engine", "input", "schema", "rows", "columns", "wall s", "CPU s", "CPU µs per row",
              "peak MB", "load before", "load during", "status", "synthetic table (SHA-256)"]
    return markdown(header, "llllrrrrrrrrll", body)


# Comparison sweep ------------------------------------------------------------------------------

METHOD_ORDER = {"MST": 0, "AIM": 1, "PrivBayes": 2, "neural": 3, "hybrid": 4}


def table_compare(table: list[dict[str, str]]) -> list[str]:
    ordered = sorted(table, key=lambda r: (num(r["epsilon"]), METHOD_ORDER.get(r["method"], 9)))
    mst = {num(r["epsilon"]): r for r in table if r["method"] == "MST"}
    notes, body = Notes(), []
    for r in ordered:
        base = mst[num(r["epsilon"])]
        body.append([
            r["method"] + notes.mark(r.get("note", "")), r["epsilon"], r["tvd_1way"], r["tvd_2way"],
            r["tvd_3way"], r["numeric_w"], r["corr_diff"], r["column_shape"], r["pair_trend"], r["tstr_auc"],
            r["attack_auc"], r["epsilon_bound"], thousands(r["fit_s"]), thousands(r["peak_mib"]),
            "" if r is base else f"{num(r['tvd_3way']) / num(base['tvd_3way']):.2f}",
            "" if r is base else times(num(r["fit_s"]) / num(base["fit_s"])),
        ])
    header = ["method", "epsilon", "1-way TVD", "2-way TVD", "3-way TVD", "numeric W", "corr. diff",
              "column shape", "pair trend", "TSTR AUC", "attack AUC", "epsilon bound", "fit s", "peak MiB",
              "3-way ÷ MST's", "fit s ÷ MST's"]
    return markdown(header, "lrrrrrrrrrrrrrrr", body) + notes.lines()


# Neural and hybrid -----------------------------------------------------------------------------

def table_neural(table: list[dict[str, str]]) -> list[str]:
    def at(prefix: str, epsilon: str) -> dict[str, str] | None:
        return next((r for r in table if r["system"].startswith(prefix) and r["epsilon"] == epsilon), None)

    notes, body = Notes(), []
    for r in table:
        peer, mst = at("smartnoise-synth DP-CTGAN", r["epsilon"]), at("dpsynth mst", r["epsilon"])
        ours = r["system"].startswith("dpsynth")
        body.append([
            r["system"] + notes.mark(r.get("note", "")), r["epsilon"], r["tvd_2way"], r["w1_mean"], r["w1_age"],
            r["w1_fnlwgt"], r["w1_hours"], r["tstr_auc"], thousands(r["seconds"]), thousands(r["peak_mb"]),
            r["joint_eps"], r["naive_sum"],
            f"{num(r['tvd_2way']) / num(peer['tvd_2way']):.2f}" if ours and peer else "",
            f"{num(r['w1_mean']) / num(mst['w1_mean']):.2f}" if ours and mst and r is not mst else "",
        ])
    header = ["system", "epsilon", "2-way TVD", "mean W1 / range", "W1 age", "W1 fnlwgt", "W1 hours",
              "TSTR AUC", "seconds", "peak MB", "joint eps", "naive sum", "2-way ÷ DP-CTGAN's",
              "mean W1 ÷ MST's"]
    return markdown(header, "lrrrrrrrrrrrrr", body) + notes.lines()


# Attack suite ----------------------------------------------------------------------------------

def table_audit(table: list[dict[str, str]]) -> list[str]:
    notes, body = Notes(), []
    for r in table:
        body.append([
            r["generator"] + notes.mark(r.get("note", "")), r["epsilon"] or "-", r["verdict"], r["dcr_auc"],
            r["domias_auc"], r["shadow_auc"], r["tpr_at_fpr_1pct"], f"{r['epsilon_bound']} ({r['epsilon_bound_max']})",
            r["singling_out"], r["linkage"], r["inference"], f"{thousands(r['audit_s'])} ({thousands(r['shadow_s'])})",
            thousands(r["cpu_s"]) or "-", r["peak_mib"], r["load"],
        ])
    header = ["generator", "epsilon", "verdict", "DCR AUC", "DOMIAS AUC", "shadow AUC (3 v 3)", "TPR at FPR 1%",
              "epsilon bound (most it can show)", "singling-out risk", "linkage risk", "inference risk",
              "audit s (shadow s)", "CPU s", "peak MiB", "load"]
    return markdown(header, "lllrrrrrrrrrrrl", body) + notes.lines()


# The certificate as a test (issue 23) ----------------------------------------------------------

def _share(k: str, n: str, low: str, high: str) -> str:
    """``k / n (rate, 95% CI low-high)`` with percentages."""
    if not n or num(n) == 0:
        return "-"
    return f"{k} / {n} ({100 * num(k) / num(n):.1f}%, CI {100 * num(low):.1f}-{100 * num(high):.1f}%)"


def table_certificate_dp(table: list[dict[str, str]]) -> list[str]:
    body = [[
        r["generator"], r["epsilon"], r["runs"], r["audited"], r["errors"],
        _share(r["false_fail"], r["audited"], r["ci_low"], r["ci_high"]), r["bound_max"], r["bound_above_stated"],
        r["seeds"], r["tables"],
    ] for r in table]
    header = ["generator", "epsilon", "runs", "audited", "errors", "false FAIL (Clopper-Pearson 95%)",
              "largest epsilon bound", "bounds >= stated epsilon", "seeds", "tables"]
    return markdown(header, "llrrrrrrrr", body)


def table_certificate_leaky(table: list[dict[str, str]]) -> list[str]:
    body = [[
        r["generator"], r["judged"], r["runs"], r["errors"],
        _share(r["fail"], str(int(num(r["runs"]) - num(r["errors"]))), r["ci_low"], r["ci_high"]),
        r["tables"].replace(";", ", "), r["caught_by"].replace(";", ", "),
    ] for r in table]
    header = ["leaky generator", "judged as", "runs", "errors", "FAIL (Clopper-Pearson 95%)",
              "FAIL by table", "checks that failed (runs)"]
    return markdown(header, "llrrrll", body)


def table_certificate_dp_copies(table: list[dict[str, str]]) -> list[str]:
    body = [[
        r["table"], r["generator"], r["epsilon"], r["audited"],
        _share(r["fail"], r["audited"], r["ci_low"], r["ci_high"]),
        r["fail_unique_copies"], r["fail_rare_copies"], r["fail_unique_values"],
        r["min_unique_p_stated"], r["min_rare_p_stated"], r["min_values_p_stated"],
        r["min_unique_p_eps0"], r["min_rare_p_eps0"], r["min_values_p_eps0"],
    ] for r in table]
    header = ["table", "generator", "epsilon", "audited", "FAIL (Clopper-Pearson 95%)", "unique_copies FAIL",
              "rare_copies FAIL", "unique_values FAIL", "smallest p: unique copies", "rare copies", "unique values",
              "the same at epsilon 0: unique copies", "rare copies", "unique values"]
    return markdown(header, "lllrrrrrrrrrrr", body)


def table_certificate_cost(table: list[dict[str, str]]) -> list[str]:
    body = [[
        r["table"], thousands(r["rows"]), r["method"], r["level"], r["fit_cpu_s"], r["audit_cpu_s"],
        times(num(r["audit_cpu_s"]) / num(r["fit_cpu_s"])),
    ] for r in table]
    header = ["table", "rows", "method", "audit level", "fit CPU s", "audit CPU s", "audit ÷ fit"]
    return markdown(header, "lrllrrr", body)


# Anonymeter agreement --------------------------------------------------------------------------

def table_agreement(table: list[dict[str, str]]) -> list[str]:
    body, inside, overlap = [], 0, 0
    for r in table:
        d, d_lo, d_hi = num(r["dpsynth_risk"]), num(r["dpsynth_lo"]), num(r["dpsynth_hi"])
        a_lo, a_hi = num(r["anonymeter_lo"]), num(r["anonymeter_hi"])
        is_in, overlaps = a_lo <= d <= a_hi, d_lo <= a_hi and a_lo <= d_hi
        inside, overlap = inside + is_in, overlap + overlaps
        body.append([
            r["case"], r["evaluator"],
            f"{r['dpsynth_risk']} [{r['dpsynth_lo']}, {r['dpsynth_hi']}]",
            f"{r['anonymeter_risk']} [{r['anonymeter_lo']}, {r['anonymeter_hi']}]",
            "yes" if is_in else "NO", "yes" if overlaps else "NO", r["dpsynth_s"], r["anonymeter_s"],
            times(num(r["anonymeter_s"]) / num(r["dpsynth_s"])),
        ])
    header = ["case", "evaluator", "dpsynth risk [95% CI]", "anonymeter risk [95% CI]",
              "in anonymeter's CI", "intervals overlap", "dpsynth s", "anonymeter s", "anonymeter s ÷ dpsynth s"]
    return markdown(header, "llllllrrr", body) + [
        "", f"dpsynth's risk within anonymeter's interval: {inside} of {len(table)}; "
        f"intervals overlap: {overlap} of {len(table)}."]


# Column shapes and pair trends against SDMetrics ------------------------------------------------

QUALITY_TOLERANCE = 0.02


def table_quality_agreement(table: list[dict[str, str]]) -> list[str]:
    """Per table, epsilon and property: both means over the seeds and the largest differences."""
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for r in table:
        groups.setdefault((r["table"], r["epsilon"], r["property"]), []).append(r)
    body, worst = [], 0.0
    for (name, epsilon, prop), runs in groups.items():
        gap = max(num(r["difference"]) for r in runs)
        item = max(num(r["max_item_difference"]) for r in runs)
        worst = max(worst, gap, item)
        mean = {side: sum(num(r[side]) for r in runs) / len(runs) for side in ("dpsynth", "sdmetrics")}
        body.append([
            name, f"{thousands(runs[0]['rows'])} x {runs[0]['columns']}", f"{num(epsilon):g}",
            prop.replace("_", " "), str(len(runs)), runs[0]["items"], f"{mean['dpsynth']:.4f}",
            f"{mean['sdmetrics']:.4f}", f"{gap:.4f}", f"{item:.4f}",
            "yes" if max(gap, item) <= QUALITY_TOLERANCE else "NO",
        ])
    header = ["table", "rows x columns", "epsilon", "score", "seeds", "columns or pairs", "dpsynth (mean)",
              "SDMetrics (mean)", "largest difference of the score", "largest difference of one column or pair",
              f"within {QUALITY_TOLERANCE}"]
    return markdown(header, "lllrrrrrrrl", body) + [
        "", f"Largest difference anywhere: {worst:.4f} (tolerance {QUALITY_TOLERANCE})."]


# Wide tables ------------------------------------------------------------------------------------

def growth_exponent(runs: list[dict[str, str]]) -> float:
    """Least-squares slope of log(seconds) on log(columns) over finished runs (NaN under two):
    CPU seconds where every finished run has them, else wall seconds."""
    finished = [r for r in runs if r["status"] == "ok"]
    key = "cpu_seconds" if all(r.get("cpu_seconds") for r in finished) else "seconds"
    done = [(math.log(num(r["columns"])), math.log(num(r[key]))) for r in finished]
    if len(done) < 2:
        return math.nan
    mx, my = sum(x for x, _ in done) / len(done), sum(y for _, y in done) / len(done)
    sxx = sum((x - mx) ** 2 for x, _ in done)
    return sum((x - mx) * (y - my) for x, y in done) / sxx if sxx else math.nan


def table_wide(table: list[dict[str, str]]) -> list[str]:
    """One row per method, row count and width, from the last commit that ran the method at that
    row count (the current figures); the growth exponent of each on the last row of its group."""
    last = {(r["rows"], r["method"]): r["commit"] for r in table}
    groups = list(dict.fromkeys((r["rows"], r["method"], r["commit"]) for r in table
                                if r["commit"] == last[r["rows"], r["method"]]))
    body = []
    for n_rows, method, commit in groups:
        runs = [r for r in table if r["method"] == method and r["rows"] == n_rows and r["commit"] == commit]
        k = growth_exponent(runs)
        for i, r in enumerate(runs):
            body.append([
                method, r["columns"], thousands(r["rows"]), f"{num(r['epsilon']):g}", r["seconds"],
                r.get("cpu_seconds", ""), r["peak_mb"], r["tvd_2way"], r["status"], r["load"], commit,
                f"{k:.2f}" if i == len(runs) - 1 and not math.isnan(k) else "",
            ])
    header = ["method (defaults)", "columns", "rows", "epsilon", "seconds", "CPU s", "peak MB", "2-way TVD", "status",
              "load (1 min)", "commit", "seconds ~ columns^k"]
    return markdown(header, "lrrrrrrrlrlr", body)


# Crashes and load (issue 23) -------------------------------------------------------------------

def table_crash(table: list[dict[str, str]]) -> list[str]:
    """One row per series; the counts from "under-counted" on are failures of the release path."""
    body = [[
        r["scenario"], r["commit"], r["runs"], r["cut_mid_run"], r["folders"], r["staging_left_by_kills"],
        r["open_reservations_end"], r["ledger_opened"], r["under_counted"], r["partial_folders"],
        r["staging_left_at_end"], r["false_messages"], r["tracebacks"], r["locked_messages"], r["other_failures"],
        r["python_tracebacks"], r["load"],
    ] for r in table]
    header = ["series", "commit", "runs", "cut mid-run", "release folders at end", "cuts that left a staging folder",
              "open reservations at end", "ledger opened", "under-counted", "half-written folders",
              "staging left after the next release", "untrue interrupt lines", "dpsynth tracebacks",
              "'database is locked'", "other failures", "Python start-up tracebacks", "load (1 min)"]
    return markdown(header, "llrrrrrrrrrrrrrrr", body)


def _load_ratio(row: dict[str, str], table: list[dict[str, str]]) -> str:
    """The row against the one it is compared with: audited against unaudited (CPU), 1M rows
    against 48k (CPU and peak memory), 4 at once against 4 one after another (wall and CPU)."""
    def find(**match: str) -> dict[str, str] | None:
        return next((r for r in table if all(r[k] == v for k, v in match.items())), None)

    if row["status"] != "ok":
        return ""
    if row["scenario"] == "4 in parallel":
        other = find(scenario="4 in sequence", rows=row["rows"], audit=row["audit"])
        return "" if other is None else (f"wall {times(num(row['wall_s']) / num(other['wall_s']))}, "
                                         f"CPU {times(num(row['cpu_s']) / num(other['cpu_s']))} of 4 in sequence")
    if row["scenario"] == "one release" and row["audit"] != "off":
        other = find(scenario="one release", rows=row["rows"], audit="off")
        return "" if other is None else f"CPU {times(num(row['cpu_s']) / num(other['cpu_s']))} of audit off"
    smallest = min((r["rows"] for r in table), key=num)
    if row["scenario"] == "one release" and row["rows"] != smallest:
        other = find(scenario="one release", rows=smallest, audit="off")
        return "" if other is None else (f"CPU {times(num(row['cpu_s']) / num(other['cpu_s']))}, peak memory "
                                         f"{times(num(row['peak_mb']) / num(other['peak_mb']))} of "
                                         f"{thousands(smallest)} rows")
    return ""


def table_load(table: list[dict[str, str]]) -> list[str]:
    body = [[
        r["scenario"], thousands(r["rows"]), r["audit"], r["releases"], r["wall_s"], r["cpu_s"], r["peak_mb"],
        r["status"], _load_ratio(r, table), f"{r['load']} on {r['cores']} cores",
    ] for r in table]
    header = ["run", "rows", "audit", "releases", "wall s", "CPU s", "peak MB (largest process)", "status",
              "against", "load (1 min)"]
    return markdown(header, "lrlrrrrlll", body)


# Raw tables against the peers ------------------------------------------------------------------

RAW_TABLE_ORDER = {"adult": 0, "pums": 1, "german": 2}
RAW_SYSTEM_ORDER = ("dpsynth", "smartnoise", "dpmm", "SDV")
RAW_SCORES = ("types_kept", "column_shape", "pair_trend", "spike_gap_pp", "tstr_auc", "discriminator_auc", "wall_s",
              "cpu_s", "peak_mb")


def table_raw_peers(table: list[dict[str, str]]) -> list[str]:
    """One row per table, epsilon and system: means over the finished seeds, the types each lost
    and each failure as notes, and CPU seconds over dpsynth MST's on the same table and epsilon
    (the machine is shared: CPU seconds compare across runs, wall seconds less so)."""
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for r in table:
        groups.setdefault((r["table"], r["epsilon"], r["system"]), []).append(r)
    # dpsynth's figures are its latest commit's (the peers do not change with it; their seeds
    # may have been run at different commits of the harness).
    for group, runs in groups.items():
        if group[2].startswith("dpsynth"):
            groups[group] = [r for r in runs if r["commit"] == runs[-1]["commit"]]

    def mean(runs: list[dict[str, str]], name: str) -> float:
        values = [num(r[name]) for r in runs if r["status"] == "ok"]
        return sum(values) / len(values) if values else math.nan

    def key(item: tuple[tuple[str, str, str], list]) -> tuple:
        (name, epsilon, system), _ = item
        family = FAMILY.search(system)
        return (RAW_TABLE_ORDER.get(name, 9), num(epsilon),
                next((k for k, p in enumerate(RAW_SYSTEM_ORDER) if system.startswith(p)), 9), "(" in system,
                FAMILY_ORDER.get(family.group(1), 9) if family else 9)

    notes, body = Notes(), []
    for (name, epsilon, system), runs in sorted(groups.items(), key=key):
        done = [r for r in runs if r["status"] == "ok"]
        base = groups.get((name, epsilon, "dpsynth MST"), [])
        failures = "; ".join(sorted({r["status"] for r in runs if r["status"] != "ok"}))
        lost = "; ".join(sorted({item for r in done for item in r["types_lost"].split("; ") if item}))
        scores = {n: mean(runs, n) for n in RAW_SCORES}
        cells = ["" if math.isnan(v) else f"{v:.3f}" for v in (scores[n] for n in RAW_SCORES[:6])]
        speed = mean(runs, "cpu_s") / mean(base, "cpu_s") if base and done else math.nan
        body.append([
            name + f" ({thousands(runs[0]['fit_rows'])} rows)",
            "not DP" if num(epsilon) == math.inf else f"{num(epsilon):g}",
            f"{system} {runs[0]['version']}" + notes.mark(failures) + notes.mark(f"types lost: {lost}" if lost else ""),
            f"{len(done)} of {len(runs)}", *cells,
            *("" if math.isnan(scores[n]) else f"{scores[n]:,.1f}" if n != "peak_mb" else f"{scores[n]:,.0f}"
              for n in ("wall_s", "cpu_s", "peak_mb")),
            "" if system == "dpsynth MST" else times(speed),
        ])
    header = ["table (fit rows)", "epsilon", "system", "runs done", "types kept", "column shape", "pair trend",
              "spike gap (pp)", "TSTR AUC", "discriminator AUC", "wall s", "CPU s", "peak MB",
              "CPU s ÷ dpsynth MST's"]
    return markdown(header, "llllrrrrrrrrrr", body) + notes.lines()


# Scale in n ---------------------------------------------------------------------------------------

def table_scale(table: list[dict[str, str]]) -> list[str]:
    """MST's estimation steps and sampling cost against the row count, one row per run."""
    body = [[
        r["step"], thousands(r["rows"]), r["commit"], r["mode"],
        " / ".join(r[k] for k in ("selection", "first_pass", "second_pass")) if r["first_pass"] else "",
        r["cpu_s"], thousands(r["peak_mb"]), r["load"],
    ] for r in table]
    header = ["step", "rows", "commit", "how", "trial steps (selection / first pass / second pass)", "CPU s",
              "peak MB", "load (1 min)"]
    return markdown(header, "lrllrrrr", body)


# Peers as the row count grows ---------------------------------------------------------------------

def table_peers_scale(table: list[dict[str, str]]) -> list[str]:
    """One row per system and row count; CPU seconds, peak memory and 3-way TVD as ratios against
    dpsynth's last row at the same count ("over" where the peer was stopped at a cap)."""
    ours = {r["rows"]: r for r in table if r["system"].startswith("dpsynth")}
    body = []
    for r in table:
        base = ours.get(r["rows"])
        ran, done = bool(r["cpu_s"]), r["status"] == "ok"
        cpu = peak = tvd = ""
        if base is not None and base is not r and ran and base["status"] == "ok":
            cpu = ("" if done else "over ") + times(num(r["cpu_s"]) / num(base["cpu_s"]))
            peak = ("" if done else "at least ") + times(num(r["peak_mb"]) / num(base["peak_mb"]))
            tvd = f"{num(base['tvd_3way']) / num(r['tvd_3way']):.2f}" if done else ""
        body.append([
            f"{r['system']} {r['version']}", thousands(r["rows"]), thousands(r["wall_s"]), r["cpu_s"], cpu,
            thousands(r["peak_mb"]), peak, r["tvd_3way"], tvd, r["status"], r["cpu_cap_s"],
            f"{r['load']} on {r['cores']} cores", r["commit"],
        ])
    header = ["system", "rows", "wall s", "CPU s", "CPU ÷ dpsynth's", "peak MB", "peak ÷ dpsynth's", "3-way TVD",
              "dpsynth's 3-way TVD ÷ this", "status", "CPU cap (s)", "load (1 min)", "commit"]
    return markdown(header, "lrrrrrrrrlrll", body)



# MST on a census-like table (issue 20) ---------------------------------------------------------

def table_mst_census(table: list[dict[str, str]]) -> list[str]:
    """One row per system and epsilon: means and standard deviations over the finished seeds, and
    the 3-way TVD over dpsynth MST's at the same epsilon (below 1: dpsynth is the more accurate)."""
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for r in table:
        groups.setdefault((r["epsilon"], r["system"], r["version"]), []).append(r)

    def over_seeds(runs: list[dict[str, str]], name: str) -> tuple[float, str]:
        """The mean over the finished runs, and it as text with the runs' standard deviation."""
        values = [num(r[name]) for r in runs if r["status"] == "ok"]
        if not values:
            return math.nan, ""
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return statistics.mean(values), f"{statistics.mean(values):.4f} ± {sd:.4f}"

    body = []
    order = sorted(groups.items(), key=lambda g: (num(g[0][0]), g[0][1] != "dpsynth MST"))
    for (epsilon, system, release), runs in order:
        ours = next((g for (e, n, _), g in groups.items() if e == epsilon and n == "dpsynth MST"), [])
        mine, peer = over_seeds(ours, "tvd_3way")[0], over_seeds(runs, "tvd_3way")[0]
        done = [r for r in runs if r["status"] == "ok"]
        body.append([
            f"{system} {release}", f"{num(epsilon):g}", f"{len(done)} of {len(runs)}",
            *(over_seeds(runs, n)[1] for n in ("tvd_1way_wide", "tvd_2way", "tvd_3way")),
            f"{sum(num(r['cpu_s']) for r in done) / len(done):.1f}" if done else "",
            "" if system == "dpsynth MST" or math.isnan(peer) else f"{mine / peer:.2f}",
            ", ".join(sorted({r["commit"] for r in runs})),
        ])
    header = ["system", "epsilon", "seeds done", "1-way TVD, columns of over 100 codes", "2-way TVD", "3-way TVD",
              "CPU s", "dpsynth's 3-way TVD ÷ this", "commit"]
    return markdown(header, "lrrrrrrrl", body)

# PrivBayes on a census-like table (issue 20) --------------------------------------------------

def table_privbayes_census(table: list[dict[str, str]]) -> list[str]:
    """One row per income kind and method: means and standard deviations over the seeds."""
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in table:
        groups.setdefault((r["income"], r["method"]), []).append(r)

    def over_seeds(runs: list[dict[str, str]], name: str, digits: int = 3) -> str:
        values = [num(r[name]) for r in runs]
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f}"

    body = [
        [income, method, str(len(runs)), thousands(runs[0]["rows"]), f"{num(runs[0]['epsilon']):g}",
         *(over_seeds(runs, name) for name in ("tstr_auc", "real_auc", "tvd_2way", "tvd_2way_income")),
         ", ".join(r["income_links"] for r in runs if r["income_links"]), over_seeds(runs, "cpu_s", 1),
         ", ".join(sorted({r["commit"] for r in runs}))]
        for (income, method), runs in groups.items()
    ]
    header = ["income", "method", "seeds", "fit rows", "epsilon", "TSTR AUC (income)", "real rows' AUC",
              "2-way TVD", "2-way TVD, pairs with income", "conditionals holding income", "CPU s", "commit"]
    return markdown(header, "llrrrrrrrlrl", body)


TABLES: dict[str, Callable[[list[dict[str, str]]], list[str]]] = {
    "marginal": table_marginal,
    "samplers": table_samplers,
    "calibrate": table_calibrate,
    "counting": table_counting,
    "engines": table_engines,
    "big": table_big,
    "compare": table_compare,
    "neural": table_neural,
    "audit": table_audit,
    "certificate_dp": table_certificate_dp,
    "certificate_leaky": table_certificate_leaky,
    "certificate_dp_copies": table_certificate_dp_copies,
    "certificate_cost": table_certificate_cost,
    "agreement": table_agreement,
    "quality_agreement": table_quality_agreement,
    "wide": table_wide,
    "raw_peers": table_raw_peers,
    "crash": table_crash,
    "load": table_load,
    "scale": table_scale,
    "peers_scale": table_peers_scale,
    "mst_census": table_mst_census,
    "privbayes_census": table_privbayes_census,
}


def block(name: str, folder: Path = RESULTS) -> str:
    table = rows(name, folder)
    lines = TABLES[name](table) + ["", provenance(name, table)]
    return "\n".join([f"<!-- table:{name}:begin -->", *lines, f"<!-- table:{name}:end -->"])


def render(page: str, folder: Path = RESULTS) -> str:
    """The page with every table block rewritten from the rows; every table must have its markers."""
    for name in TABLES:
        pattern = re.compile(rf"<!-- table:{name}:begin -->.*?<!-- table:{name}:end -->", re.S)
        found = pattern.search(page)
        if not found:
            raise SystemExit(f"RESULTS.md has no <!-- table:{name}:begin/end --> markers")
        page = page[: found.start()] + block(name, folder) + page[found.end() :]
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is not what the rows give")
    parser.add_argument("--page", default=str(PAGE))
    args = parser.parse_args(argv)
    path = Path(args.page)
    page = path.read_text(encoding="utf-8")
    new = render(page)
    if args.check:
        if new != page:
            print(f"{path} differs from what benchmarks/results/ gives: run python benchmarks/report.py",
                  file=sys.stderr)
            return 1
        return 0
    if new != page:
        path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
