"""Crashes and races on the release path: `dpsynth release` killed at random points, and releases racing for one cap.

kill: a small release (the shipped Adult example, ``--rows`` records drawn by ``--seed``, its
public schema, ``--audit off``) is started again and again against one ledger and sent SIGKILL
(or SIGINT, as Ctrl-C sends it: to the whole process group) until ``--kills`` runs were cut
before they ended. Runs take turns: cut at a time drawn uniformly over a whole run, over the
part after the run's reservation appeared in the ledger, or over the part after its staging
folder received its first file (the write). Each span is the median of the uncut runs' (the
first measured by a calibration run), so it follows the load of a shared machine; a run that
ends before its cut is a completed release. A run whose folder was not made writes to the same
name again, so staging folders a kill left meet the next release there. After every run the
ledger must open, hold every release whose folder exists (so its total is never below their
spend), and each folder that exists must be complete (its files match the hashes its record
states); a staging folder left behind must carry the ``.OUT.partial-PID-`` name, and be gone
once the next release to that name starts. A SIGINT must end in one line, no traceback, whose
claim (nothing charged / charged as release ID / the release is complete) the ledger and the
folder bear out.

race: rounds of ``--at-once`` releases started together against one dataset whose cap allows
``--allowed`` of them: the cap is never passed, every other run is refused with exit 2 before
its data is opened for measurement (no step in its log, all of which follow the reservation;
no ledger row), and no "database is locked" reaches anyone.

    python benchmarks/bench_crash.py kill [--kills 100] [--signal KILL|INT] [--rows 3000] [--seed 0] [--out rows.csv]
    python benchmarks/bench_crash.py race [--rounds 4] [--at-once 8] [--allowed 4] [--out rows.csv]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from result_rows import append_rows, commit_of

from dpsynth.datasets import example_path
from dpsynth.digest import sha256_file
from dpsynth.privacy.ledger import Ledger

FIELDS = (
    "scenario", "runs", "cut_mid_run", "finished_first", "python_tracebacks", "ledger_opened", "folders",
    "under_counted", "partial_folders", "staging_left_by_kills", "staging_left_at_end", "false_messages", "tracebacks",
    "locked_messages", "other_failures", "open_reservations_end", "seconds", "load", "date", "commit",
)
DATASET = "crash"
EPSILON = 0.25
SYNTHETIC_ROWS = 20_000  # enough that writing them is a phase a random cut can land in
RECORD = "release.json"
INTERRUPTED = re.compile(r"^dpsynth: interrupted")


def small_table(folder: Path, n_rows: int, seed: int) -> tuple[Path, Path]:
    """``n_rows`` records of the shipped Adult example (drawn by ``seed``) as CSV, and its public schema."""
    data, schema = example_path("adult")
    frame = pd.read_csv(data, keep_default_na=False)
    path = folder / "adult-small.csv"
    frame.sample(n_rows, random_state=seed).to_csv(path, index=False)
    return path, schema


def release_command(
    data: Path, schema: Path, ledger: Path, out: Path, dataset: str = DATASET, verbose: bool = False
) -> list[str]:
    return [
        sys.executable, "-m", "dpsynth.cli", *(["--verbose"] if verbose else []), "release", str(data),
        "--schema", str(schema), "--na-values", "?", "--epsilon", str(EPSILON), "--rows", str(SYNTHETIC_ROWS),
        "--out", str(out), "--ledger", str(ledger), "--dataset", dataset, "--audit", "off",
    ]


def start(command: list[str], log: Path) -> subprocess.Popen:
    """Start ``command`` in its own process group (a Ctrl-C reaches the group), its output in ``log``."""
    with open(log, "wb") as handle:
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_listen_to_ctrl_c)


def _listen_to_ctrl_c() -> None:
    """A job started in the background of a shell ignores SIGINT, and so would its child: not this one."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def end_group(process: subprocess.Popen) -> None:
    """SIGKILL whatever the run started and left behind (its process group), once it is gone."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def folder_problem(folder: Path) -> str | None:
    """Why a release folder is not complete (a file missing or not the one its record hashed), or None."""
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        for name, digest in record["outputs"].items():
            if sha256_file(folder / name) != digest:
                return f"{folder.name}/{name} does not match its hash"
    except (OSError, ValueError, KeyError) as error:
        return f"{folder.name}: {type(error).__name__}"
    return None


@dataclass
class Tally:
    """What a series saw; every count from ``under_counted`` to ``other_failures`` is a failure."""

    runs: int = 0
    cut_mid_run: int = 0
    finished_first: int = 0
    python_tracebacks: int = 0
    ledger_opened: int = 0
    folders: int = 0
    under_counted: int = 0
    partial_folders: int = 0
    staging_left_by_kills: int = 0
    staging_left_at_end: int = 0
    false_messages: int = 0
    tracebacks: int = 0
    locked_messages: int = 0
    other_failures: int = 0
    open_reservations_end: int = 0
    problems: list[str] = field(default_factory=list)

    def fail(self, kind: str, text: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        self.problems.append(f"{kind}: {text}")


def check_ledger(ledger: Path, workdir: Path, tally: Tally) -> dict[str, dict]:
    """The ledger opens and holds every release whose folder exists; returns its rows by id."""
    try:
        rows = {row["id"]: row for row in Ledger(ledger).releases()}
        spent = Ledger(ledger).spent("name:" + DATASET).epsilon
    except Exception as error:  # noqa: BLE001 - any failure to open is what this counts
        tally.fail("other_failures", f"ledger did not open: {error}")
        return {}
    tally.ledger_opened += 1
    folders = [path for path in workdir.glob("out-*") if path.is_dir()]
    tally.folders = len(folders)
    stated = 0.0
    for folder in folders:
        problem = folder_problem(folder)
        if problem:
            tally.fail("partial_folders", problem)
            continue
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        stated += record["privacy"]["budget"]["epsilon"]
        if record["release_id"] not in rows:
            tally.fail("under_counted", f"{folder.name}: release {record['release_id']} is not in the ledger")
    if spent < stated * (1 - 1e-9):
        tally.fail("under_counted", f"ledger total {spent} below the folders' {stated}")
    return rows


def check_message(text: str, out: Path, new: set[str], committed: set[str], tally: Tally) -> None:
    """A SIGINT's last line says what happened, and the ledger (``new``: the ids this run added)
    and the folder bear it out. A run cut after its last line was printed may end there."""
    lines = text.strip().splitlines()
    last = lines[-1] if lines else ""
    ids = set(re.findall(r"release ([0-9a-f]{32})", last))
    complete = out.is_dir() and folder_problem(out) is None
    if last.startswith("wrote ") or "was complete before the interrupt" in last:
        true = complete and bool(new) and new <= committed
    elif "stays charged" in last:
        true = not out.exists() and bool(ids) and ids == new
    elif "nothing was charged" in last:
        true = not out.exists() and not new
    else:
        true = False
    if not INTERRUPTED.match(last) and not last.startswith("wrote "):
        true = False
    if not true:
        tally.fail("false_messages", f"{last[:200]!r} (folder {'complete' if complete else 'absent'}, "
                                     f"{len(new)} new ledger row(s))")


def staging_of(out: Path) -> list[Path]:
    return list(out.parent.glob(f".{out.name}.partial-*"))


def phases(command: list[str]) -> tuple[float, float]:
    """Run ``command`` (verbose) uncut: seconds until its ledger reservation, and in all."""
    started = time.perf_counter()
    reserved = math.nan
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        if "reserved release" in line:
            reserved = time.perf_counter() - started
    if process.wait() or math.isnan(reserved):
        raise SystemExit("the uncut release failed: nothing to cut")
    return reserved, time.perf_counter() - started


def ledger_grew(ledger: Path, rows_before: int) -> bool:
    return len(Ledger(ledger).releases()) > rows_before


def writing(out: Path, pid: int) -> bool:
    """Whether process ``pid`` has written a file into its staging folder for ``out`` (its start
    makes and removes an empty one for a moment)."""
    try:
        return any(any(path.iterdir()) for path in out.parent.glob(f".{out.name}.partial-{pid}-*"))
    except OSError:  # it was renamed or removed meanwhile
        return False


def first_seen(found: Callable[[], bool], process: subprocess.Popen) -> float | None:
    """Seconds from now until ``found()`` is true, or None when the process ends first."""
    started = time.perf_counter()
    while process.poll() is None:
        if found():
            return time.perf_counter() - started
        time.sleep(0.02)
    return None


def kill_series(
    kills: int, signum: int, workdir: Path, n_rows: int = 3000, seed: int = 0, log=print
) -> Tally:
    """Start, cut and check releases until ``kills`` were cut mid-run (module docstring); the
    tally of what was seen. Gives up after ``4 * kills`` runs."""
    rng = np.random.default_rng(seed)
    data, schema = small_table(workdir, n_rows, seed)
    ledger = workdir / "ledger.sqlite"
    tally = Tally()
    reserved, duration = phases(release_command(data, schema, ledger, workdir / "out-calibration", verbose=True))
    log(f"an uncut run takes {duration:.1f} s, {reserved:.1f} s of it before its reservation")
    # How long runs that were not cut took: in all, after their reservation, after their
    # staging folder appeared. Cut times are drawn over their medians, which follow the load.
    spans: dict[str, list[float]] = {"run": [duration], "reserved": [duration - reserved], "writing": [1.0]}
    index = 0
    seen = set(check_ledger(ledger, workdir, tally))
    while tally.cut_mid_run < kills and tally.runs < 4 * kills:
        run = tally.runs
        out = workdir / f"out-{index:04d}"
        left_before = staging_of(out)
        output = workdir / f"run-{run:04d}.log"
        rows_before = len(Ledger(ledger).releases())
        started = time.perf_counter()
        process = start(release_command(data, schema, ledger, out), output)
        phase, seen_at = ("run", 0.0) if run % 3 == 0 else ("reserved", None) if run % 3 == 1 else ("writing", None)
        if phase != "run":
            seen_at = first_seen(partial(ledger_grew, ledger, rows_before), process)
        if phase == "writing" and seen_at is not None:
            later = first_seen(partial(writing, out, process.pid), process)
            seen_at = None if later is None else seen_at + later
        delay = (seen_at or 0.0) + rng.uniform(0, float(np.median(spans[phase])))
        try:
            process.wait(timeout=max(delay - (time.perf_counter() - started), 0.0))
            tally.finished_first += 1
            if seen_at is not None:
                spans[phase].append(time.perf_counter() - started - seen_at)
        except subprocess.TimeoutExpired:
            if signum == signal.SIGINT:
                os.killpg(process.pid, signal.SIGINT)
            else:
                process.send_signal(signum)
            tally.cut_mid_run += 1
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            tally.fail("other_failures", f"run {run} still running 120 s after {signal.Signals(signum).name}")
            process.kill()
            process.wait()
        end_group(process)
        tally.runs += 1
        text = output.read_text(encoding="utf-8", errors="replace")
        ours = re.search(r"dpsynth[/\\]cli\.py\", line \d+, in main", text) is not None
        if "Traceback" in text and ours:
            tally.fail("tracebacks", f"run {run}: {text.strip().splitlines()[-1][:160]}")
        elif "Traceback" in text:
            # Python's own: a cut before dpsynth's main runs, or one it swallowed in an import callback.
            tally.python_tracebacks += 1
        if "database is locked" in text:
            tally.fail("locked_messages", f"run {run}")
        rows = check_ledger(ledger, workdir, tally)
        new = set(rows) - seen
        seen |= set(rows)
        if process.returncode == 0 and not out.is_dir():
            tally.fail("other_failures", f"run {run} exited 0 without its folder")
        if signum == signal.SIGINT and process.returncode != 0 and ("Traceback" not in text or ours):
            committed = {i for i, r in rows.items() if r["status"] == "committed"}
            check_message(text, out, new, committed, tally)
        if out.is_dir() and left_before and any(path.exists() for path in left_before):
            tally.fail("staging_left_at_end", f"{out.name}: a release there left {len(left_before)} old staging")
        if any(not re.match(rf"\.{out.name}\.partial-\d+-", path.name) for path in staging_of(out)):
            tally.fail("other_failures", f"{out.name}: a staging folder without the writer's id")
        if staging_of(out):
            tally.staging_left_by_kills += 1
        if out.is_dir():
            index += 1
        last = text.strip().splitlines()[-1] if text.strip() else ""
        log(f"run {run}: cut after {delay:.2f} s, exit {process.returncode}, folders {tally.folders}: {last[:150]}")
    final = workdir / f"out-{index:04d}"
    if subprocess.run(release_command(data, schema, ledger, final), capture_output=True).returncode:
        tally.fail("other_failures", "the release after the series failed")
    check_ledger(ledger, workdir, tally)
    tally.staging_left_at_end += len(list(workdir.glob(".out-*.partial-*")))
    tally.open_reservations_end = len(Ledger(ledger).open_reservations())
    shown = subprocess.run([sys.executable, "-m", "dpsynth.cli", "ledger", "show", "--ledger", str(ledger)],
                           capture_output=True, text=True)
    if shown.returncode:
        tally.fail("other_failures", f"'dpsynth ledger show' exited {shown.returncode}")
    return tally


def race_round(workdir: Path, data: Path, schema: Path, ledger: Path, at_once: int, allowed: int,
               round_: int, tally: Tally) -> int:
    """One round: ``at_once`` releases at once under a cap for ``allowed``; returns how many were accepted."""
    dataset = f"race-{round_}"
    Ledger(ledger).set_cap("name:" + dataset, EPSILON * allowed)
    processes = []
    for k in range(at_once):
        out, log = workdir / f"race-{round_}-{k}", workdir / f"race-{round_}-{k}.log"
        processes.append((out, log, start(release_command(data, schema, ledger, out, dataset, verbose=True), log)))
    accepted = 0
    for out, log, process in processes:
        if process.wait(timeout=600) == 0 and folder_problem(out) is None:
            accepted += 1
            continue
        text = log.read_text(encoding="utf-8", errors="replace")
        lines = [line for line in text.splitlines() if line.startswith("dpsynth:")]
        refused = process.returncode == 2 and len(lines) == 1 and "would pass its lifetime cap" in lines[0]
        measured = re.search(r"step \d+/\d+", text) is not None  # the first step comes after the reservation
        if not refused or measured or out.exists():
            tally.fail("other_failures", f"{out.name}: exit {process.returncode}, {text.strip()[-200:]!r}")
        if "database is locked" in text:
            tally.fail("locked_messages", out.name)
    spent = Ledger(ledger).spent("name:" + dataset)
    if spent.epsilon > EPSILON * allowed * (1 + 1e-9) or spent.n_releases != accepted:
        tally.fail("under_counted", f"round {round_}: {spent.n_releases} releases for {accepted} accepted")
    tally.runs += at_once
    return accepted


def race(rounds: int, at_once: int, allowed: int, workdir: Path, n_rows: int = 3000, seed: int = 0,
         log=print) -> tuple[Tally, list[int]]:
    """``rounds`` rounds of :func:`race_round`; the tally and the accepted count of each round."""
    data, schema = small_table(workdir, n_rows, seed)
    ledger = workdir / "ledger.sqlite"
    tally = Tally()
    accepted = []
    for round_ in range(rounds):
        accepted.append(race_round(workdir, data, schema, ledger, at_once, allowed, round_, tally))
        tally.ledger_opened += 1
        log(f"round {round_}: {accepted[-1]} of {at_once} accepted under a cap for {allowed}")
    return tally, accepted


def row(scenario: str, tally: Tally, seconds: float, load: float) -> dict[str, object]:
    commit = commit_of(Path(__file__).resolve().parent)
    values = {name: getattr(tally, name) for name in FIELDS if hasattr(tally, name)}
    return {"scenario": scenario, **values, "seconds": round(seconds), "load": f"{load:.1f}",
            "date": datetime.date.today().isoformat(), "commit": commit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["kill", "race"])
    parser.add_argument("--kills", type=int, default=100, help="runs cut mid-run before the series ends")
    parser.add_argument("--signal", choices=["KILL", "INT"], default="KILL")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--at-once", type=int, default=8)
    parser.add_argument("--allowed", type=int, default=4)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="append the row to this CSV")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dpsynth-crash-") as folder:
        if args.mode == "kill":
            signum = signal.Signals["SIG" + args.signal]
            tally = kill_series(args.kills, signum, Path(folder), args.rows, args.seed)
            scenario = f"SIG{args.signal}, {args.rows} rows, audit off"
        else:
            tally, accepted = race(args.rounds, args.at_once, args.allowed, Path(folder), args.rows, args.seed)
            scenario = (f"{args.at_once} at once under a cap for {args.allowed}, {args.rounds} rounds: "
                        f"accepted {min(accepted)}-{max(accepted)} a round")
    load = max(load, os.getloadavg()[0])
    result = row(scenario, tally, time.perf_counter() - started, load)
    print("\n".join(tally.problems) or "no problem seen")
    print(result)
    if args.out:
        append_rows(args.out, FIELDS, [result])
    sys.exit(1 if tally.problems else 0)


if __name__ == "__main__":
    main()
