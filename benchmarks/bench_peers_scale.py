"""MST against its peers as the row count grows: wall and CPU seconds, peak memory, status, 3-way TVD.

Data: private-pgm's discretized Adult (its 80% train split, ``bench_mst.py``) resampled with
replacement to each row count (``bench_scale.table``, seed 0). Each system fits MST (epsilon 1,
delta 1e-9, the public domain of adult-domain.json, seed 0) on that table and samples as many
rows: dpsynth (numpy engine, ``bench_scale.fit``) and the peers of ``peers.py`` in their own
environments (private-pgm's ``mechanisms/mst.py`` on mbi 1.1.0, dpmm's MST pipeline, smartnoise-
synth's "mst"), each run in a worker process of its own, measured over its whole process tree
(``process_tree.tree_measured``: wall, CPU seconds, peak resident memory, imports and the
resampling included) and killed past a CPU-seconds cap, a wall-clock cap or a memory cap (12 GB:
the machine is shared). A peer runs at a row count only if it finished the next smaller one
recorded in ``--out`` in at most half its CPU cap; otherwise its row says so. Finished tables
are scored in a separate process by the mean TVD over all 3-way marginals against the table
fitted on (``dpsynth.evaluate.fidelity.mean_kway_tvd``).

Every worker writes the Python stacks of all its threads every ``--stack-every`` seconds to
``benchmarks/out/peers-scale/SYSTEM-ROWS.stacks``: where a run spends its time, or where it was
when stopped. The dumps read the other threads' frames without the GIL and can crash the worker
(dpmm's MST at 1M rows died of SIGSEGV in the middle of one): ``--stack-every 0`` turns them
off. Rows are appended one by one to ``--out`` (a CSV), so runs of several systems can
share the file.

    python benchmarks/bench_peers_scale.py [--rows 1000000,10000000] [--systems dpsynth-mst,pgm-mst,...]
        [--cpu-cap 900] [--wall-cap 3600] [--memory-cap 12000] [--out benchmarks/results/peers_scale.csv]
    python benchmarks/bench_peers_scale.py --tally benchmarks/out/peers-scale/pgm-mst-1000000.stacks
"""

from __future__ import annotations

import argparse
import csv
import datetime
import faulthandler
import json
import os
import re
import signal
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_scale import EPSILON, SEED, table  # noqa: E402
from peers import PEERS, domain_sizes, version  # noqa: E402
from result_rows import append_rows, commit_of  # noqa: E402

FIELDS = ("system", "version", "rows", "epsilon", "wall_s", "cpu_s", "peak_mb", "status", "tvd_3way", "cpu_cap_s",
          "cores", "load", "date", "commit")
DPSYNTH = "dpsynth-mst"
SYSTEMS = (DPSYNTH, "pgm-mst", "dpmm-mst", "smartnoise-mst")
OUT = HERE / "out" / "peers-scale"


def label(system: str) -> tuple[str, str]:
    """The system's name and the version of its package."""
    if system == DPSYNTH:
        from dpsynth import __version__

        return "dpsynth MST (numpy engine)", __version__
    peer = PEERS[system]
    return peer.label.replace(" (mbi {version})", ""), version(peer)


def python_of(system: str) -> str:
    return sys.executable if system == DPSYNTH else str(PEERS[system].python)


# --------------------------------------------------------------------------- worker and scorer


def worker(system: str, rows: int, synthetic: str, stacks: str, every: float) -> None:
    """Fit and sample ``rows`` rows with ``system``; the codes to ``synthetic`` (.npy)."""
    if every > 0:
        stream = open(stacks, "w")  # noqa: SIM115 - open until the process ends: faulthandler writes to it
        faulthandler.dump_traceback_later(every, repeat=True, file=stream)
    frame = table(rows)
    if system == DPSYNTH:
        from bench_scale import fit

        warnings.simplefilter("ignore")  # the seeded-noise PrivacyWarning: a benchmark is not a release
        out = fit(frame).sample(rows, random_state=SEED)
    else:
        out = PEERS[system].run(frame, domain_sizes(), EPSILON, SEED)
    columns = list(frame.columns)
    del frame
    import pandas as pd

    np.save(synthetic, pd.DataFrame(out)[columns].to_numpy(np.int32))
    faulthandler.cancel_dump_traceback_later()


def score(rows: int, synthetic: str) -> None:
    """Print the mean 3-way TVD of the codes in ``synthetic`` against the table of ``rows`` rows."""
    from dpsynth.evaluate.fidelity import mean_kway_tvd

    real = table(rows).to_numpy(np.int32)
    sizes = list(domain_sizes().values())
    print(json.dumps({"tvd_3way": mean_kway_tvd(real, np.load(synthetic), sizes, 3)}))


def tally(stacks: str, depth: int) -> None:
    """Print how many of a worker's stack dumps were in each step: the ``depth`` calls below the
    benchmark's own frames in the thread that runs the worker (a poor man's profile: the dumps
    are evenly spaced in wall time, so shares are of wall time)."""
    frame = re.compile(r'File "(.*)", line \S+ in (\S+)')
    steps: Counter[str] = Counter()
    for dump in Path(stacks).read_text().split("Timeout (")[1:]:
        for thread in dump.split("\nThread ")[1:] or dump.split("\nCurrent thread ")[1:]:
            calls = frame.findall(thread)  # most recent first
            ours = [k for k, (path, _) in enumerate(calls) if Path(path).parent == HERE]
            if ours and ours[0] > 0:
                below = calls[max(ours[0] - depth, 0):ours[0]][::-1]
                steps[" > ".join(f"{Path(path).stem}.{name}" for path, name in below)] += 1
    total = sum(steps.values())
    for step, count in steps.most_common():
        print(f"{count:5d} {count / total:6.1%}  {step}")


# --------------------------------------------------------------------------- driver


def earlier(out: str | None, name: str, rows: int) -> dict[str, str] | None:
    """The last row of the system called ``name`` in ``out`` at the largest row count below ``rows``."""
    if not out or not Path(out).exists():
        return None
    with open(out, newline="", encoding="utf-8") as handle:
        found = [r for r in csv.DictReader(handle) if r["system"] == name and int(r["rows"]) < rows]
    return max(found, key=lambda r: int(r["rows"])) if found else None


def skip_reason(system: str, rows: int, cap: float, out: str | None) -> str:
    """Why a peer is not run at ``rows``: empty unless it ran at a smaller row count (the largest
    recorded in ``out``) and did not finish there, or used over half its CPU cap."""
    first = None if system == DPSYNTH else earlier(out, label(system)[0], rows)
    if first is None:
        return ""
    if first["status"] != "ok":
        return f"not run: did not finish {int(first['rows']):,}"
    if float(first["cpu_s"]) > cap / 2:
        return f"not run: {int(first['rows']):,} took over half the CPU cap"
    return ""


def status_of(result: dict, synthetic: Path) -> str:
    """ok, over a cap, or failed with the signal that killed it or the exception's kind (the last
    stderr line's first word)."""
    if str(result["status"]).startswith("over"):
        return str(result["status"])
    if result["returncode"] == 0 and synthetic.exists():
        return "ok"
    if int(result["returncode"]) < 0:
        return f"failed: {signal.Signals(-int(result['returncode'])).name}"
    kind = str(result["error"]).split(":")[0].strip() or f"exit {result['returncode']}"
    return f"failed: {kind}"


def run(system: str, rows: int, cpu_cap: float, wall_cap: float, memory_cap: float, every: float) -> dict[str, object]:
    from process_tree import tree_measured

    OUT.mkdir(parents=True, exist_ok=True)
    synthetic = OUT / f"{system}-{rows}.npy"
    synthetic.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    command = [python_of(system), "-W", "ignore", __file__, "--worker", system, "--rows", str(rows),
               "--synthetic", str(synthetic), "--stacks", str(OUT / f"{system}-{rows}.stacks"),
               "--stack-every", str(every)]
    result = tree_measured(command, wall_cap, env, cpu_cap, memory_cap)
    row: dict[str, object] = {"wall_s": round(float(result["wall_s"]), 1), "cpu_s": round(float(result["cpu_s"]), 1),
                              "peak_mb": round(float(result["peak_mb"])), "status": status_of(result, synthetic)}
    if row["status"] == "ok":
        done = subprocess.run([sys.executable, __file__, "--score", str(synthetic), "--rows", str(rows)],
                              capture_output=True, text=True, check=True)
        row["tvd_3way"] = round(json.loads(done.stdout.strip().splitlines()[-1])["tvd_3way"], 4)
        synthetic.unlink()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,10000000")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--cpu-cap", type=float, default=900.0, help="CPU seconds (whole tree) before a run is stopped")
    parser.add_argument("--wall-cap", type=float, default=3600.0, help="wall seconds before a run is stopped")
    parser.add_argument("--memory-cap", type=float, default=12000.0, help="MB (whole tree) before a run is stopped")
    parser.add_argument("--stack-every", type=float, default=30.0, help="seconds between stack dumps (0: none)")
    parser.add_argument("--out", default=None, help="append the rows to this CSV")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--synthetic", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--stacks", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--score", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tally", default=None, metavar="STACKS", help="count a worker's stack dumps by step")
    parser.add_argument("--depth", type=int, default=4, help="calls of a step in --tally")
    args = parser.parse_args()
    if args.tally:
        tally(args.tally, args.depth)
        return
    if args.worker:
        worker(args.worker, int(args.rows), args.synthetic, args.stacks, args.stack_every)
        return
    if args.score:
        score(int(args.rows), args.score)
        return
    commit = commit_of(HERE)
    for rows in (int(r) for r in args.rows.split(",")):
        for system in (s.strip() for s in args.systems.split(",") if s.strip()):
            name, release = label(system)
            load = os.getloadavg()[0]
            reason = skip_reason(system, rows, args.cpu_cap, args.out)
            measured = {"status": reason} if reason else run(system, rows, args.cpu_cap, args.wall_cap,
                                                             args.memory_cap, args.stack_every)
            row = {"system": name, "version": release, "rows": rows, "epsilon": EPSILON, **measured,
                   "cpu_cap_s": f"{args.cpu_cap:.0f}", "cores": os.cpu_count(), "load": f"{load:.1f}",
                   "date": datetime.date.today().isoformat(), "commit": commit}
            print(row, flush=True)
            if args.out:
                append_rows(args.out, FIELDS, [row])


if __name__ == "__main__":
    main()
