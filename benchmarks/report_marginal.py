"""Write the marginal-generator section of RESULTS.md from the rows the benchmarks left.

Reads ``benchmarks/out/aim.json`` (dpsynth AIM and MST, bench_aim.py --mst),
``benchmarks/out/privbayes.json`` (bench_privbayes.py) and ``benchmarks/out/peers-rows.jsonl``
(peers.py), averages each (system, epsilon) over its seeds, checks the issue-8 targets as
ratios, and replaces the text between the section markers of RESULTS.md (other sections are
left as they are; the markers are added at the end the first time).

    python benchmarks/report_marginal.py [--results benchmarks/RESULTS.md] [--note TEXT]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PGM_UNFAIR = "(mbi 1.1.0)"
BEGIN, END = "<!-- marginal-generators:begin -->", "<!-- marginal-generators:end -->"
COMMAND = "`bash benchmarks/setup_peers.sh` once, then `bash benchmarks/run_all.sh`"
SETTINGS = """Systems and settings (each with its own defaults except epsilon, delta, the public domain and
the row count; details in each runner's docstring in `benchmarks/peers.py`):

- dpsynth (this tree): AIM, MST, PrivBayes with their defaults (AIM: all 3-way marginals as
  the workload, max_model_size 80 MiB, round_iters 300, max_iters 1000, no compression),
  fitted on the private table directly (`bench_aim.py --methods aim,mst`, `bench_privbayes.py`; every `out/aim*.json` is read, so a
  cell re-run on its own replaces the earlier one).
- private-pgm: `mechanisms/mst.py` and `mechanisms/aim.py` from github.com/ryan112358/private-pgm
  at commit 4d2b3c566b148da3ef800ce76e6189c548f2da22 (2025-08-08, the newest), each on two mbi
  releases from PyPI, with jax 0.10.2 and pandas 2.3.3. **mbi 2.0.0**, the release the issue
  measured, is the private-pgm reference for every target. It renamed the few calls the
  mechanisms make, so `peers.py` maps those 1.x names onto 2.0.0's API at run time
  (`estimation.mirror_descent` to `MirrorDescent().estimate`, `Dataset.df`, `Domain.attrs`, the
  model's cliques as a list) and switches JAX to float64 as mbi 1.x did on import; the
  mechanisms' code and defaults are unchanged. **mbi 1.1.0**, the release the mechanisms were
  written against, runs them unpatched, but its MST is far off on the 2- and 3-way marginals
  (as is smartnoise-synth's MST, which also runs on mbi 1.1.0), so its rows stay in the table,
  labelled, and no target reads them. MST: sigma = sqrt(3 / (2 rho)) from cdp_rho, its domain
  compression and tree selection, iters 10000. AIM: its command-line defaults (all 2-way
  marginals of at most 10,000 cells, max_model_size 80, max_iters 1000). Capped at 25 minutes
  a run, and at 60 for AIM on mbi 2.0.0. That AIM keeps JIT-compiling new programs as it runs,
  each mapping its machine code on its own: at the kernel's default limit of 65,530 memory maps
  (`vm.max_map_count`) the process aborts after 10-13 minutes, six of its up to 224 rounds (16
  per column) and 3.4 GB resident ("LLVM ERROR: Unable to allocate section memory", with over
  20 GB free). With the limit raised to 4,194,304 (`run_all.sh` warns when it is lower) it
  runs on: at epsilon 1 it held over 220,000 maps after 26 minutes and peaked at 9.5 GB.
- dpmm 0.1.9 (MST, AIM, PrivBayes pipelines, `disable_processing=True` so no budget goes to
  re-binning already discrete columns; AIM: degree 2, max_model_size 80, n_iters 1000,
  compress=True; PrivBayes: degree 2, n_iters 5000; n_jobs=-1).
- smartnoise-synth 1.0.8 (MST, AIM; with mbi 1.1.0; AIM: max_model_size 80, degree 2,
  max_cells 10000), its label transformer fitted on the public codes.
- DataSynthesizer 0.1.13, correlated attribute mode with k = 2 (its default k = 0 picks k
  from the data), every column categorical with its public domain; capped at 30 minutes a run.
  It forks worker processes whose memory is not in its peak figure.

Peak memory is the fitting process's own VmHWM: worker processes a peer forks (dpmm's joblib
pool, DataSynthesizer's pool) are not counted, and about 160-190 MB of every figure is the
interpreter with numpy, pandas and the system's imports. Other helpers' jobs shared the two
cores during this run (see the load average), so seconds are comparable only within the run,
and only roughly."""


def load_rows() -> pd.DataFrame:
    frames = []
    for stem in sorted({p.stem for p in OUT.glob("aim*.md")} | {"privbayes"}):
        if (OUT / f"{stem}.json").exists():
            frames.append(pd.read_json(OUT / f"{stem}.json", orient="records"))
        elif (OUT / f"{stem}.md").exists():  # a run cut short: the rows it printed as it went
            lines = (OUT / f"{stem}.md").read_text().splitlines()
            frames.append(pd.DataFrame([json.loads(line) for line in lines if line.startswith("{")]))
    if (OUT / "peers-rows.jsonl").exists():
        frames.append(pd.read_json(OUT / "peers-rows.jsonl", lines=True))
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[rows["epsilon"].notna()].copy()
    rows["epsilon"] = rows["epsilon"].astype(float).round(9)  # 0.3 parsed by two readers differs in the last bit
    rows["status"] = rows.get("status", pd.Series(index=rows.index, dtype=object)).fillna("ok")
    rows["system"] = rows["system"].str.replace(r" \{.*\}$", "", regex=True)
    rows["system"] = rows["system"].str.replace(r"^(private-pgm \w+) (1\.1\.0)$", r"\1 (mbi \2)", regex=True)
    # A re-run of the same cell replaces the earlier one (the latest row wins).
    return rows.drop_duplicates(["system", "epsilon", "seed"], keep="last")


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over the seeds that finished, per (system, epsilon)."""
    out = []
    for (system, epsilon), group in rows.groupby(["system", "epsilon"], sort=False):
        done = group[group["status"] == "ok"]
        entry = {"system": system, "epsilon": epsilon, "seeds": len(done), "runs": len(group),
                 "status": "; ".join(sorted(set(group["status"]) - {"ok"}))}
        for column in ("tvd_1way", "tvd_2way", "tvd_3way", "tstr_auc", "seconds", "peak_mb"):
            values = done[column].astype(float) if column in done else pd.Series(dtype=float)
            entry[column] = values.mean() if len(values) else np.nan
            entry[column + "_sd"] = values.std(ddof=1) if len(values) > 1 else np.nan
        if not len(done):
            entry["seconds"] = group["seconds"].astype(float).max()
        out.append(entry)
    table = pd.DataFrame(out)
    family = table["system"].str.extract(r"(AIM|MST|PrivBayes)", expand=False).fillna("")
    order = {"AIM": 0, "MST": 1, "PrivBayes": 2}
    table["_family"] = family.map(order)
    table["_ours"] = ~table["system"].str.startswith("dpsynth")
    return table.sort_values(["epsilon", "_family", "_ours", "system"]).drop(columns=["_family", "_ours"])


def cell(mean: float, sd: float, digits: int = 3) -> str:
    if np.isnan(mean):
        return ""
    return f"{mean:.{digits}f}" + ("" if np.isnan(sd) else f" ± {sd:.{digits}f}")


def table_markdown(table: pd.DataFrame) -> str:
    lines = ["| system | epsilon | 1-way TVD | 2-way TVD | 3-way TVD | TSTR AUC | seconds | peak MB | seeds |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in table.itertuples(index=False):
        r = row._asdict()
        seeds = f"{r['seeds']} of {r['runs']}" + (f" ({r['status']})" if r["status"] else "")
        lines.append(
            f"| {r['system']} | {r['epsilon']:g} | {cell(r['tvd_1way'], r['tvd_1way_sd'])} | "
            f"{cell(r['tvd_2way'], r['tvd_2way_sd'])} | {cell(r['tvd_3way'], r['tvd_3way_sd'])} | "
            f"{cell(r['tstr_auc'], r['tstr_auc_sd'])} | {cell(r['seconds'], r['seconds_sd'], 1)} | "
            f"{cell(r['peak_mb'], r['peak_mb_sd'], 0)} | {seeds} |")
    return "\n".join(lines)


def _pick(table: pd.DataFrame, epsilon: float, prefix: str) -> pd.DataFrame:
    return table[(table["epsilon"] == epsilon) & table["system"].str.startswith(prefix)]


def _noise(ours: pd.Series, peer: pd.Series) -> tuple[str, str]:
    """Whether two 3-way TVD means differ beyond their seeds' spread (twice the larger standard
    deviation, at least 0.005), and the figures that say so."""
    spread = np.nanmax([ours["tvd_3way_sd"], peer["tvd_3way_sd"], 0.0])
    difference = ours["tvd_3way"] - peer["tvd_3way"]
    if abs(difference) <= max(2 * spread, 0.005):
        verdict = "within noise"
    else:
        verdict = "lower beyond noise" if difference < 0 else "higher beyond noise"
    return verdict, f"difference {difference:+.4f}, seed spread {spread:.4f}"


def targets(table: pd.DataFrame) -> list[str]:
    """One line per target and epsilon: the ratio, met or missed. private-pgm's rows on mbi
    1.1.0 are not a fair reference (see SETTINGS), so only its mbi 2.0.0 rows are compared."""
    table = table[~table["system"].str.contains(PGM_UNFAIR, regex=False)]
    lines = []
    for epsilon in sorted(table["epsilon"].unique()):
        ours = {name: _pick(table, epsilon, f"dpsynth {name}") for name in ("AIM", "MST", "PrivBayes")}
        aims = table[(table["epsilon"] == epsilon) & table["system"].str.contains("AIM")
                     & ~table["system"].str.startswith("dpsynth") & (table["seeds"] > 0)]
        if len(ours["AIM"]) and len(aims):
            best = aims.loc[aims["tvd_3way"].idxmin()]
            a = ours["AIM"].iloc[0]
            speed = best["seconds"] / a["seconds"]
            verdict, figures = _noise(a, best)
            lines.append(
                f"- epsilon {epsilon:g}, AIM: 3-way TVD {a['tvd_3way']:.4f} against {best['tvd_3way']:.4f} "
                f"({best['system']}, {best['seeds']} seed(s)): "
                f"{'met' if a['tvd_3way'] <= best['tvd_3way'] else 'missed'} ({a['tvd_3way'] / best['tvd_3way']:.3f}x; "
                f"{verdict}, {figures}); "
                f"{speed:.1f}x faster ({'met' if speed >= 5 else 'missed'}, target 5x); peak memory "
                f"{a['peak_mb']:.0f} MB against {best['peak_mb']:.0f} MB "
                f"({'met' if a['peak_mb'] <= best['peak_mb'] else 'missed'}).")
        unfinished = table[(table["epsilon"] == epsilon) & table["system"].str.contains("AIM") & (table["seeds"] == 0)]
        for row in unfinished.itertuples(index=False):
            lines.append(f"- epsilon {epsilon:g}: {row.system} {row.status}; dpsynth AIM finished.")
        for prefix in ("private-pgm MST", "dpmm MST"):  # dpmm's MST is Private-PGM's algorithm too
            peer = _pick(table, epsilon, prefix)
            peer = peer[peer["seeds"] > 0]
            if not (len(ours["MST"]) and len(peer)):
                continue
            m, p = ours["MST"].iloc[0], peer.iloc[0]
            verdict, figures = _noise(m, p)
            speed = p["seconds"] / m["seconds"]
            lines.append(
                f"- epsilon {epsilon:g}, MST: 3-way TVD {m['tvd_3way']:.4f} against {p['system']}'s "
                f"{p['tvd_3way']:.4f} ({p['seeds']} seed(s)): {verdict} ({figures}); "
                f"{speed:.1f}x faster ({'met' if speed >= 3 else 'missed'}, target 3x).")
        peers = table[(table["epsilon"] == epsilon) & table["system"].str.contains("PrivBayes")
                      & ~table["system"].str.startswith("dpsynth") & (table["seeds"] > 0)]
        if len(ours["PrivBayes"]):
            b = ours["PrivBayes"].iloc[0]
            stopped = table[(table["epsilon"] == epsilon) & table["system"].str.startswith("DataSynthesizer")
                            & (table["seeds"] == 0)]
            for row in stopped.itertuples(index=False):
                lines.append(
                    f"- epsilon {epsilon:g}, PrivBayes: {row.system} {row.status}; dpsynth PrivBayes took "
                    f"{b['seconds']:.1f} s, so at least {row.seconds / b['seconds']:.0f}x faster (target 10x); "
                    "no TVD to compare.")
            for row in peers.itertuples(index=False):
                verdict = "met" if b["tvd_3way"] < row.tvd_3way else "missed"
                extra = ""
                if row.system.startswith("DataSynthesizer"):
                    speed = row.seconds / b["seconds"]
                    extra = f"; {speed:.0f}x faster ({'met' if speed >= 10 else 'missed'}, target 10x)"
                lines.append(
                    f"- epsilon {epsilon:g}, PrivBayes: 3-way TVD {b['tvd_3way']:.4f} against {row.system}'s "
                    f"{row.tvd_3way:.4f}: {verdict}{extra}.")
    return lines


def machine() -> str:
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            kib = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.machine()}, {multiprocessing.cpu_count()} cores{memory}, Python "
            f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}; load "
            f"average {load:.1f} when this section was written")


def section(note: str) -> str:
    rows = load_rows()
    table = summarise(rows)
    real = None
    for name in ("aim.json", "privbayes.json"):
        if (OUT / name).exists():
            frame = pd.read_json(OUT / name, orient="records")
            real = frame.loc[frame["system"] == "train on real", "tstr_auc"].iloc[0]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    parts = [
        BEGIN,
        "## Marginal generators against their peers (issue 8)",
        "",
        (f"Written by `benchmarks/report_marginal.py` on {stamp} from the rows in `benchmarks/out/`; "
        f"reproduce with {COMMAND}. Machine: {machine()}."),
        "",
        "Protocol: `../shared/data/adult/private-pgm/adult.csv` with `adult-domain.json`, an 80/20 "
        "split (seed 0), synthetic rows = train rows (39,073), delta = 1e-9. Metrics, one function "
        "for every system (`bench_mst.fidelity`, `bench_mst.tstr_auc`, run in dpsynth's "
        "environment on every system's synthetic table): mean TVD over all 1-, 2- and 3-way "
        "marginals against the train split on the full domain; train-on-synthetic test-on-real ROC "
        "AUC for `income>50K` with a fixed HistGradientBoostingClassifier"
        + (f" (train on real: **{real:.3f}**)" if real is not None else "")
        + "; wall time of fit and sample, and peak resident memory (/proc VmHWM) of the process "
        "that does it, each run in its own process. Cells are mean ± standard deviation over the "
        "seeds that finished.",
        "",
        SETTINGS,
        "",
        table_markdown(table),
        "",
        "Targets, as ratios measured in this run (mean over the seeds run):",
        "",
        *targets(table),
    ]
    if note:
        parts += ["", note]
    parts.append(END)
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"))
    parser.add_argument("--note", default="", help="markdown appended to the section (e.g. the pins)")
    args = parser.parse_args()
    path = Path(args.results)
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    new = section(Path(args.note).read_text() if args.note and Path(args.note).exists() else args.note)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + new + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    path.write_text(text)
    print(new)


if __name__ == "__main__":
    main()
