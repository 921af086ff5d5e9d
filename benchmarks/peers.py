"""Peer MST implementations on the same Adult split and metrics as bench_mst.py.

Run with the benchmark environment's Python, never the package's (the peers are not
dependencies of dpsynth):

    benchmarks/.peer-env/bin/python benchmarks/peers.py [--epsilons 0.3,1,3,10] [--seeds 1]
        [--peers dpmm,smartnoise] [--out peers.json]

Environments (ignored by git, see the set-up lines below):

* ``benchmarks/.peer-env``          dpmm==0.1.9 (it pins numpy 1.26.4, pandas 2.1.0,
  scikit-learn 1.5.0, opendp 0.12.1, disjoint-set 0.7.4, networkx<3);
* ``benchmarks/.peer-env/snsynth``  smartnoise-synth==1.0.8 (mbi 1.1.0, opendp 0.14.2,
  disjoint-set 0.9.0, torch 2.13.0+cpu for opacus). Its pins conflict with dpmm's
  (opendp, disjoint-set), so it has its own venv; this script runs its fits there as a
  worker (``--worker``) and reads the synthetic table back.

    python3.11 -m venv benchmarks/.peer-env
    benchmarks/.peer-env/bin/pip install dpmm==0.1.9
    python3.11 -m venv benchmarks/.peer-env/snsynth
    benchmarks/.peer-env/snsynth/bin/pip install torch==2.13.0   # the CPU wheel, before opacus
    benchmarks/.peer-env/snsynth/bin/pip install smartnoise-synth==1.0.8

Same split (``bench_mst.load_split``), same metrics (``bench_mst.fidelity``,
``bench_mst.tstr_auc``), same process isolation for time and peak memory
(``bench_mst.in_process``: the timer covers fit and sample, imports excluded; the peak is
the fitting process's own ru_maxrss, so worker pools it forks are not counted). Each peer
runs with its defaults except epsilon, delta = 1e-9, the public domain sizes of
adult-domain.json, and synthetic rows = train rows.

dpsynth is not installed here: its package __init__ pulls dp-accounting, whose pins clash
with dpmm's, so the two metric modules (``dpsynth.evaluate.fidelity`` and
``dpsynth.data.counting``, numpy only) are imported from the source tree without running
the package ``__init__`` files.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import resource
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench_mst import DATA, fidelity, in_process, load_split, markdown, tstr_auc  # noqa: E402

DELTA = 1e-9
SNSYNTH_PYTHON = HERE / ".peer-env" / "snsynth" / "bin" / "python"


def domain_sizes() -> dict[str, int]:
    return {k: int(v) for k, v in json.loads((DATA / "adult-domain.json").read_text()).items()}


def _metric_modules() -> None:
    """Make ``dpsynth.evaluate.fidelity`` importable from the source tree without dpsynth's
    package ``__init__`` files (and so without dp-accounting)."""
    root = HERE.parent / "dpsynth"
    for name, path in (("dpsynth", root), ("dpsynth.data", root / "data"),
                       ("dpsynth.evaluate", root / "evaluate")):
        if name not in sys.modules:
            module = types.ModuleType(name)
            module.__path__ = [str(path)]
            sys.modules[name] = module


# --------------------------------------------------------------------------- peers


def run_dpmm(epsilon: float, seed: int, queue) -> None:
    """dpmm's MST pipeline. ``disable_processing=True``: the default pipeline would put a
    PrivTree binner in front (spending a further proc_epsilon=0.1 and re-binning columns that
    are already discrete); with it off the model takes the public domain sizes directly.
    Other settings are MSTGM's defaults (n_iters=5000, compress=True, n_jobs=-1 i.e.
    cpu_count()-1, max_model_size=None)."""
    from dpmm.pipelines.mst import MSTPipeline

    train, _ = load_split()
    sizes = domain_sizes()
    start = time.perf_counter()
    model = MSTPipeline(epsilon=epsilon, delta=DELTA, disable_processing=True)
    model.fit(train, domain=sizes, random_state=seed)
    synthetic = model.generate(n_records=len(train), random_state=seed)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"synthetic": synthetic[list(train.columns)].to_numpy(dtype=np.int64).tolist(),
               "columns": list(train.columns), "seconds": seconds, "peak_mb": peak})


def run_smartnoise(epsilon: float, seed: int, queue) -> None:
    """smartnoise-synth's "mst" synthesizer. Its default transformer for 'cube' synthesizers
    is a LabelTransformer(nullable=False) per column, fitted on the data (which would read the
    categories from the private table); here each is fitted on the public codes
    0..size-1 instead, so the domain is adult-domain.json's. preprocessor_eps stays 0 (nothing
    to infer). It takes no seed: numpy's global generator (selection, sampling) is seeded;
    its Gaussian noise comes from OpenDP's own generator."""
    from snsynth import Synthesizer
    from snsynth.transform import LabelTransformer, TableTransformer

    train, _ = load_split()
    sizes = domain_sizes()
    np.random.seed(seed)
    start = time.perf_counter()
    columns = []
    for name in train.columns:
        column = LabelTransformer(nullable=False)
        column.fit(list(range(sizes[name])))
        columns.append(column)
    transformer = TableTransformer(columns)
    synth = Synthesizer.create("mst", epsilon=epsilon, delta=DELTA)
    synth.fit(train, transformer=transformer, preprocessor_eps=0.0)
    synthetic = synth.sample(len(train))
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"synthetic": pd.DataFrame(synthetic)[list(train.columns)].to_numpy(dtype=np.int64).tolist(),
               "columns": list(train.columns), "seconds": seconds, "peak_mb": peak,
               "epsilon_training": synth.epsilon})


PEERS = {
    "dpmm": ("dpmm MST", run_dpmm, None),
    "smartnoise": ("smartnoise-synth MST", run_smartnoise, SNSYNTH_PYTHON),
}


def versions(peer: str, python: Path | None) -> str:
    package = {"dpmm": "dpmm", "smartnoise": "smartnoise-synth"}[peer]
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    return subprocess.run([str(python or sys.executable), "-c", code], capture_output=True,
                          text=True, check=True).stdout.strip()


def run_peer(peer: str, epsilon: float, seed: int) -> dict:
    """One fit-and-sample in its own process; a peer with its own venv runs there as a worker."""
    _, target, python = PEERS[peer]
    if python is None:
        return in_process(target, epsilon, seed)
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result.json"
        subprocess.run([str(python), __file__, "--worker", peer, "--epsilon", repr(epsilon),
                        "--seed", str(seed), "--result", str(result)], check=True)
        return json.loads(result.read_text())


def worker(peer: str, epsilon: float, seed: int, result: str) -> None:
    out = in_process(PEERS[peer][1], epsilon, seed)
    Path(result).write_text(json.dumps(out))


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", default="0.3,1,3,10")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--peers", default="dpmm,smartnoise")
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--epsilon", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.epsilon, args.seed, args.result)
        return

    _metric_modules()
    train, test = load_split()
    sizes = list(domain_sizes().values())
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    rows = [{"system": "train on real", "epsilon": None, "tstr_auc": tstr_auc(train, test)}]
    for peer in peers:
        label = f"{PEERS[peer][0]} {versions(peer, PEERS[peer][2])}"
        for epsilon in [float(e) for e in args.epsilons.split(",")]:
            for seed in range(args.seeds):
                try:
                    run = run_peer(peer, epsilon, seed)
                except Exception as error:  # report and go on with the other peers
                    row = {"system": label, "epsilon": epsilon, "seed": seed, "error": str(error)[-2000:]}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    continue
                synthetic = pd.DataFrame(run["synthetic"], columns=run["columns"])
                row = {"system": label, "epsilon": epsilon, "seed": seed,
                       **fidelity(train, synthetic, sizes),
                       "tstr_auc": tstr_auc(synthetic, test),
                       "seconds": run["seconds"], "peak_mb": run["peak_mb"],
                       "rows": len(synthetic)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    table = pd.DataFrame(rows)
    if "error" in table:
        table = table.drop(columns="error")
    for column in ("seed", "rows"):  # integers, blank where missing (not 0.000)
        if column in table:
            table[column] = pd.Series([None if pd.isna(v) else int(v) for v in table[column]], dtype=object)
    print(f"\nmachine: {platform.machine()}, {multiprocessing.cpu_count()} cores, Python {platform.python_version()}")
    print(markdown(table))
    if args.out:
        pd.DataFrame(rows).to_json(args.out, orient="records", indent=2)


if __name__ == "__main__":
    main()
