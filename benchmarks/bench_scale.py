"""How MST's estimation and sampling scale with the number of rows: steps, CPU seconds, peak memory.

Data: private-pgm's discretized Adult (its 80% train split, see ``bench_mst.py``) resampled with
replacement to each row count (seed 0), so every size has the same distribution and only n grows.

- ``estimation``: MST (epsilon 1, delta 1e-9, noise seed 0) fitted at each row count; the
  mirror-descent trial steps of its selection's 1-way fit and of each pass of its final fit's
  ``discrepancy`` stop, CPU seconds and peak RSS of the fit.
- ``sampling``: one MST model (fitted on the train split) samples each row count into a Parquet
  file (in chunks where the generator streams, else as one table); CPU seconds and peak RSS of
  the sampling process (``--whole``: as one table even where the generator streams).

Each measurement runs in its own process (CPU from getrusage, peak from VmHWM). Prints CSV rows
for ``benchmarks/results/scale.csv``.

    python benchmarks/bench_scale.py estimation [--rows 50000,1000000,4000000]
    python benchmarks/bench_scale.py sampling [--rows 4000000,40000000] [--whole]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import warnings
from datetime import date
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_mst import DATA, load_split  # noqa: E402
from result_rows import commit_of  # noqa: E402

FIELDS = ("step", "rows", "mode", "selection", "first_pass", "second_pass", "cpu_s", "peak_mb", "load", "date",
          "commit")
EPSILON, SEED = 1.0, 0


def table(rows: int):
    """The train split resampled with replacement to ``rows`` rows."""
    train = load_split()[0]
    return train.iloc[np.random.default_rng(SEED).integers(len(train), size=rows)].reset_index(drop=True)


def fit(frame):
    from dpsynth.data import PrivateTable
    from dpsynth.generators.mst import MST
    from dpsynth.privacy.accountant import Accountant
    from dpsynth.privacy.budget import Budget
    from dpsynth.privacy.noise import NoiseSource
    from dpsynth.schema import Schema

    private = PrivateTable(frame, Accountant(Budget(EPSILON, 1e-9)), NoiseSource(SEED))
    private.encode(Schema.load(DATA / "adult-domain.json"))
    return MST().fit(private)


def usage() -> dict[str, float]:
    from dpsynth.workflows.runs import peak_memory_mb

    self = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": round(self.ru_utime + self.ru_stime, 1), "peak_mb": round(peak_memory_mb())}


def child_estimation(rows: int) -> dict:
    steps: list[int] = []

    class Steps(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            steps.append(int(record.args[0]))  # type: ignore[index]

    logger = logging.getLogger("dpsynth.models.estimation")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Steps())
    frame = table(rows)
    start = usage()
    fit(frame)
    end = usage()
    # MST's fits: the 1-way model its selection predicts from, then the two passes of its stop.
    return {"selection": steps[0], "first_pass": steps[1], "second_pass": sum(steps[2:]),
            "cpu_s": round(end["cpu_s"] - start["cpu_s"], 1), "peak_mb": end["peak_mb"], "mode": "fit"}


def child_sampling(model: str, rows: int, out: str, whole: bool) -> dict:
    from dpsynth.data.write import write_table
    from dpsynth.generators.mst import MST

    generator = MST.load(model, random_state=0)
    if hasattr(generator, "sample_chunks") and not whole:
        from dpsynth.data.write import write_chunks

        write_chunks(generator.sample_chunks(rows), out, "parquet")
        mode = "parquet in chunks"
    else:
        write_table(generator.sample(rows), out, "parquet")
        mode = "parquet, whole table"
    return {**usage(), "mode": mode}


def run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "child", *args], capture_output=True, text=True)
    if done.returncode:
        return {"mode": f"failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("estimation", "sampling", "child"))
    parser.add_argument("args", nargs="*")
    parser.add_argument("--rows", default=None)
    parser.add_argument("--whole", action="store_true", help="sample the whole table at once even where chunks exist")
    options = parser.parse_args()
    warnings.simplefilter("ignore")  # the seeded-noise PrivacyWarning: a benchmark is not a release
    if options.step == "child":
        kind, *rest = options.args
        if kind == "estimation":
            result = child_estimation(int(rest[0]))
        else:
            result = child_sampling(rest[0], int(rest[1]), rest[2], rest[3] == "whole")
        print(json.dumps(result))
        return
    default = "50000,1000000,4000000" if options.step == "estimation" else "4000000,40000000"
    writer = csv.DictWriter(sys.stdout, fieldnames=FIELDS, restval="")
    writer.writeheader()
    with tempfile.TemporaryDirectory() as folder:
        model = os.path.join(folder, "model.json")
        if options.step == "sampling":
            fit(load_split()[0]).save(model)
        for rows in (int(r) for r in (options.rows or default).split(",")):
            if options.step == "estimation":
                result = run_child("estimation", str(rows))
            else:
                result = run_child("sampling", model, str(rows), os.path.join(folder, "synthetic.parquet"),
                                   "whole" if options.whole else "chunks")
            writer.writerow({"step": options.step, "rows": rows, **result, "load": round(os.getloadavg()[0], 1),
                             "date": date.today().isoformat(), "commit": commit_of(HERE)})
            sys.stdout.flush()


if __name__ == "__main__":
    main()
