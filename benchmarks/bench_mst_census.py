"""dpsynth's MST against private-pgm's on a census-like table it was not tuned on.

Issue 20 saw dpsynth MST level with private-pgm's (3-way TVD 1.03 times) on a 24-column census
excerpt with a 264-code industry column, while it leads on discretized Adult. That excerpt is not
shipped; ``wide_table.py`` stands in for it at 24 columns (categoricals of 2 to 300 categories,
some with rare codes, and binned numerics, correlated through latent variables). Both systems
get the same codes and the public domain, epsilon, delta 1e-9 and a seed, and sample as many
rows as they fit; each runs in a worker process of its own environment (private-pgm's
``mechanisms/mst.py`` on mbi 2.0.0, as in ``peers.py``: on mbi 1.1.0 its samples are far off on
2- and 3-way marginals, here as on Adult, though its model is not). Scores: mean TVD over every 2- and
3-way marginal against the rows fitted, and the TVD of the 1-way marginals of the columns of
more than 100 codes (where domain compression acts), with CPU seconds of the worker.

    python benchmarks/bench_mst_census.py [--rows 50000] [--columns 24] [--epsilons 1,3]
        [--seeds 0,1,2] [--systems dpsynth,pgm2-mst] [--out benchmarks/results/mst_census.csv]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

FIELDS = ("system", "version", "rows", "columns", "epsilon", "seed", "status", "cpu_s", "tvd_1way_wide",
          "tvd_2way", "tvd_3way", "date", "commit")
DPSYNTH = "dpsynth"
WIDE_CODES = 100


def codes_and_sizes(rows: int, columns: int) -> tuple[np.ndarray, list[str], list[int]]:
    """The stand-in table as integer codes under its public schema, its column names and domain sizes."""
    from wide_table import wide_table

    from dpsynth.schema import encode

    frame, schema = wide_table(rows, columns, seed=0)
    sizes = schema.domain_sizes()
    return encode(frame, schema).codes, list(sizes), list(sizes.values())


def worker(system: str, data: str, epsilon: float, seed: int, out: str) -> None:
    """Fit and sample with ``system`` on the codes in ``data`` (.npz); the synthetic codes to ``out``."""
    import pandas as pd

    stored = np.load(data)
    names = [str(n) for n in stored["names"]]
    frame = pd.DataFrame(stored["codes"].astype(np.int64), columns=names)
    sizes = dict(zip(names, (int(s) for s in stored["sizes"])))
    if system == DPSYNTH:
        import warnings

        from dpsynth.data import PrivateTable
        from dpsynth.generators import create
        from dpsynth.privacy.accountant import Accountant
        from dpsynth.privacy.budget import Budget
        from dpsynth.privacy.noise import NoiseSource
        from dpsynth.schema import Categorical, Schema

        warnings.simplefilter("ignore")  # the seeded-noise PrivacyWarning: a benchmark is not a release
        schema = Schema(tuple(Categorical(c, tuple(range(n)), other=False, missing=False) for c, n in sizes.items()),
                        provenance="public")
        table = PrivateTable(frame, Accountant(Budget(epsilon, 1e-9)), NoiseSource(seed))
        table.encode(schema)
        synthetic = create("mst").fit(table).sample(len(frame), random_state=seed)[names].to_numpy()
    else:
        from peers import PEERS

        synthetic = pd.DataFrame(PEERS[system].run(frame, sizes, epsilon, seed))[names].to_numpy()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    np.savez(out, codes=np.asarray(synthetic, dtype=np.int32), cpu_s=usage.ru_utime + usage.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--columns", type=int, default=24)
    parser.add_argument("--epsilons", default="1,3")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--systems", default=f"{DPSYNTH},pgm2-mst")
    parser.add_argument("--out", default=str(HERE / "results" / "mst_census.csv"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--epsilon", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.epsilon, args.seed, args.result)
        return

    from peers import PEERS, version
    from result_rows import append_rows, commit_of

    from dpsynth import __version__
    from dpsynth.evaluate.fidelity import mean_kway_tvd

    codes, names, sizes = codes_and_sizes(args.rows, args.columns)
    commit = commit_of(HERE.parent)
    wide = [j for j, n in enumerate(sizes) if n > WIDE_CODES]
    # The peers' workers import this folder's modules, which read dpsynth's standard-library
    # peak_memory module from the project root (never the rest of dpsynth).
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "codes.npz"
        np.savez(data, codes=codes, names=np.array(names), sizes=np.array(sizes))
        for system in args.systems.split(","):
            python = sys.executable if system == DPSYNTH else str(PEERS[system].python)
            label, release = (("dpsynth MST", __version__) if system == DPSYNTH
                              else (PEERS[system].label.replace(" (mbi {version})", ""), version(PEERS[system])))
            for epsilon in (float(e) for e in args.epsilons.split(",")):
                for seed in (int(s) for s in args.seeds.split(",")):
                    result = Path(folder) / f"{system}-{epsilon:g}-{seed}.npz"
                    start = time.perf_counter()
                    done = subprocess.run([python, "-W", "ignore", __file__, "--worker", system, "--data", str(data),
                                           "--epsilon", repr(epsilon), "--seed", str(seed), "--result", str(result)],
                                          capture_output=True, text=True, env=env)
                    row = {"system": label, "version": release, "rows": args.rows, "columns": args.columns,
                           "epsilon": epsilon, "seed": seed, "date": datetime.date.today().isoformat(),
                           "commit": commit}
                    if done.returncode != 0:
                        tail = done.stderr.strip().splitlines()
                        row["status"] = f"failed: {tail[-1] if tail else done.returncode}"
                    else:
                        fake = np.load(result)
                        synthetic = fake["codes"]
                        row |= {"status": "ok", "cpu_s": round(float(fake["cpu_s"]), 1),
                                "tvd_1way_wide": round(mean_kway_tvd(codes[:, wide], synthetic[:, wide],
                                                                     [sizes[j] for j in wide], 1), 4),
                                "tvd_2way": round(mean_kway_tvd(codes, synthetic, sizes, 2), 4),
                                "tvd_3way": round(mean_kway_tvd(codes, synthetic, sizes, 3), 4)}
                    print(json.dumps(row | {"wall_s": round(time.perf_counter() - start, 1)}), flush=True)
                    append_rows(args.out, FIELDS, [row])


if __name__ == "__main__":
    main()
