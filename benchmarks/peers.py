"""Peer marginal generators on the same Adult split and metrics as bench_mst.py.

The parent runs in dpsynth's own environment and scores every peer's synthetic table with
the very functions that score dpsynth (``bench_mst.fidelity``, ``bench_mst.tstr_auc``, same
scikit-learn); each peer fits and samples in a worker process of its own environment (the
peers are not dependencies of dpsynth; ``setup_peers.sh`` builds every environment below):

    .venv/bin/python benchmarks/peers.py [--epsilons 0.3,1,3,10] [--seeds 0,1,2]
        [--peers dpmm-mst,pgm-aim,...] [--timeout pgm-aim=1500,datasynthesizer=1800]
        [--out peers.json]

Environments (ignored by git), one per peer family because their pins clash:

* ``.peer-env``           dpmm 0.1.9 (numpy 1.26.4, pandas 2.1.0, networkx<3);
* ``.peer-env/snsynth``   smartnoise-synth 1.0.8 (mbi 1.1.0, opendp 0.14.2, torch 2.13.0+cpu);
* ``.peer-env/pgm-venv``  mbi 1.1.0 (jax 0.10.2) with matplotlib and pandas<3, which the
  mechanisms import (mbi 2.0.0 dropped the API they call, see ``setup_peers.sh``); the
  mechanisms themselves (MST, AIM) are not in the wheel: they are
  copied from private-pgm's ``mechanisms/`` folder at commit ``PGM_COMMIT`` into
  ``.peer-env/pgm/mechanisms``;
* ``.peer-env/pgm2-venv`` mbi 2.0.0 (jax 0.10.2, pandas<3, matplotlib): the same mechanisms
  files, with the 1.x names they call mapped onto 2.0.0's API at run time (``_pgm2_data``);
* ``.peer-env/datasynth`` DataSynthesizer 0.1.13.

Each run is one worker process (``--worker``) in its peer's environment: the timer covers fit
and sample (imports and data loading excluded), the peak is the worker's own /proc VmHWM (so
worker pools a peer forks are not counted; dpmm's ``n_jobs=-1`` means cpu_count()-1 = 1
here), and a run past its wall-clock limit is killed and reported as "did not finish".
Every peer runs with its own defaults except epsilon, delta = 1e-9, the public domain of
adult-domain.json, and synthetic rows = train rows; what each default is, and where a peer
needs glue to take the public domain, is in its runner's docstring. Workers import only
numpy, pandas and this folder's ``bench_mst`` (for the split), never dpsynth.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np
import pandas as pd
from bench_mst import DATA, fidelity, load_split, markdown, peak_mb, tstr_auc

DELTA = 1e-9
ENV = HERE / ".peer-env"
PGM_COMMIT = "4d2b3c566b148da3ef800ce76e6189c548f2da22"
PGM_MECHANISMS = ENV / "pgm" / "mechanisms"


def domain_sizes() -> dict[str, int]:
    return {k: int(v) for k, v in json.loads((DATA / "adult-domain.json").read_text()).items()}


# --------------------------------------------------------------------------- peers
# Each runner takes the train split, the public domain sizes, epsilon and seed, and returns
# the synthetic table; the worker times it.


def run_dpmm(pipeline: str):
    """dpmm's pipelines with ``disable_processing=True``: the default pipeline puts a PrivTree
    binner in front (spending a further proc_epsilon = 0.1 and re-binning columns that are
    already discrete); with it off the model takes the public domain sizes directly. Other
    settings are the models' defaults: MSTGM n_iters=5000, compress=True; AIMGM
    max_model_size=80, n_iters=1000, degree=2, max_cells=10000, compress=True; PrivBayesGM
    degree=2, n_iters=5000, max_candidates=20; n_jobs=-1 for all."""
    def run(train: pd.DataFrame, sizes: dict, epsilon: float, seed: int) -> pd.DataFrame:
        from dpmm.pipelines.aim import AIMPipeline
        from dpmm.pipelines.mst import MSTPipeline
        from dpmm.pipelines.priv_bayes import PrivBayesPipeline

        kind = {"mst": MSTPipeline, "aim": AIMPipeline, "privbayes": PrivBayesPipeline}[pipeline]
        model = kind(epsilon=epsilon, delta=DELTA, disable_processing=True)
        model.fit(train, domain=sizes, random_state=seed)
        return model.generate(n_records=len(train), random_state=seed)
    return run


def run_smartnoise(name: str):
    """smartnoise-synth's "mst" and "aim" synthesizers (AIM defaults: max_model_size=80,
    degree=2, max_cells=10000, rounds=None). Its default transformer for 'cube' synthesizers
    is a LabelTransformer(nullable=False) per column, fitted on the data (which would read the
    categories from the private table); here each is fitted on the public codes 0..size-1
    instead. preprocessor_eps stays 0 (nothing to infer). It takes no seed: numpy's global
    generator (selection, sampling) is seeded; its Gaussian noise comes from OpenDP's own."""
    def run(train: pd.DataFrame, sizes: dict, epsilon: float, seed: int) -> pd.DataFrame:
        from snsynth import Synthesizer
        from snsynth.transform import LabelTransformer, TableTransformer

        np.random.seed(seed)
        columns = []
        for column in train.columns:
            transformer = LabelTransformer(nullable=False)
            transformer.fit(list(range(sizes[column])))
            columns.append(transformer)
        synth = Synthesizer.create(name, epsilon=epsilon, delta=DELTA)
        synth.fit(train, transformer=TableTransformer(columns), preprocessor_eps=0.0)
        return pd.DataFrame(synth.sample(len(train)), columns=train.columns)
    return run


def _pgm_data(train: pd.DataFrame, sizes: dict):
    sys.path.insert(0, str(PGM_MECHANISMS))
    from mbi import Dataset, Domain

    return Dataset(train, Domain(list(sizes), list(sizes.values())))


def run_pgm_mst(train: pd.DataFrame, sizes: dict, epsilon: float, seed: int) -> pd.DataFrame:
    """private-pgm's ``mechanisms/mst.py`` (mirror descent with iters=10000, its domain
    compression). Its ``MST()`` draws ``est.synthetic_data()`` with the model's estimated
    total as the row count; this repeats its five calls with rows = train rows instead. One
    more piece of glue: mbi 1.1.0 returns marginals as JAX arrays, which its
    ``compress_domain`` turns into pandas object columns that mbi's Dataset then refuses, so
    the 1-way measurements are handed to it as numpy arrays (same values). Its noise and
    selection use numpy's global generator, seeded here."""
    data = _pgm_data(train, sizes)
    import attr

    return _pgm_mst_body(data, epsilon, seed, len(train), attr.evolve)


def _pgm_mst_body(data, epsilon: float, seed: int, rows: int, replace) -> pd.DataFrame:
    """The five calls of private-pgm's ``MST()`` with ``rows`` synthetic rows; ``replace``
    (attrs' or dataclasses' field replacement, by mbi version) hands the 1-way measurements to
    ``compress_domain`` as numpy arrays."""
    import mst
    from cdp2adp import cdp_rho
    from mbi import estimation

    np.random.seed(seed)
    rho = cdp_rho(epsilon, DELTA)
    sigma = np.sqrt(3 / (2 * rho))
    log1 = [replace(m, noisy_measurement=np.asarray(m.noisy_measurement))
            for m in mst.measure(data, [(column,) for column in data.domain], sigma)]
    data, log1, undo_compress = mst.compress_domain(data, log1)
    cliques = mst.select(data, rho / 3.0, log1)
    log2 = mst.measure(data, cliques, sigma)
    model = estimation.mirror_descent(data.domain, log1 + log2, iters=10000)
    return undo_compress(model.synthetic_data(rows=rows)).df


def run_pgm_aim(train: pd.DataFrame, sizes: dict, epsilon: float, seed: int) -> pd.DataFrame:
    """private-pgm's ``mechanisms/aim.py`` with its command-line defaults: the workload of all
    2-way marginals of at most max_cells=10000 cells, weight 1; max_model_size=80 (MB);
    max_iters=1000; rounds = 16 x columns. Its noise and selection use numpy's global
    generator (the ``prng`` argument does not reach ``Mechanism``), seeded here."""
    return _pgm_aim_body(_pgm_data(train, sizes), epsilon, seed, len(train))


def _pgm_aim_body(data, epsilon: float, seed: int, rows: int) -> pd.DataFrame:
    """private-pgm's AIM with its command-line defaults on an mbi ``Dataset`` of either version."""
    import itertools

    import aim

    np.random.seed(seed)
    workload = [(clique, 1.0) for clique in itertools.combinations(data.domain, 2)
                if data.domain.size(clique) <= 10000]
    mechanism = aim.AIM(epsilon, DELTA, max_model_size=80, max_iters=1000)
    _, synthetic = mechanism.run(data, workload, num_synth_rows=rows)
    return synthetic.df


def _pgm2_data(train: pd.DataFrame, sizes: dict):
    """The train split as an mbi 2.0.0 ``Dataset``, after the run-time patches that let the
    pinned mechanisms (written against mbi 1.x) call mbi 2.0.0. Each patch maps a 1.x name onto
    the 2.0.0 call that does the same thing; no default changes:

    * ``estimation.mirror_descent(domain, measurements, iters=, potentials=, callback_fn=)``
      became ``estimation.MirrorDescent().estimate(..., warm_start=)``: same Armijo line search
      (start 2 / (L x total), x1.01 on accept, /2 on reject), same minimum-variance total;
    * ``Dataset.df``: 2.0.0 keeps a dict of numpy columns (its constructor still takes a
      DataFrame as that mapping), so ``df`` is rebuilt from it for ``mst.transform_data`` and
      ``mst.reverse_data``;
    * ``Domain.attrs`` is ``Domain.attributes`` in 2.0.0 (``mst.select``);
    * ``MarkovRandomField.cliques`` is a tuple in 2.0.0 and a list in 1.x; ``aim.filter_candidates``
      appends to it, so it is returned as a list;
    * JAX float64: mbi 1.x switched it on when imported, 2.0.0 leaves it off and warns that
      float32 can stall its estimators, so it is switched on here as in 1.x.
    """
    import jax

    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, str(PGM_MECHANISMS))
    from mbi import Dataset, Domain, MarkovRandomField, estimation

    def mirror_descent(domain, loss_fn, *, potentials=None, iters=1000, callback_fn=None):
        return estimation.MirrorDescent().estimate(domain, loss_fn, iters=iters, warm_start=potentials,
                                                   callback_fn=callback_fn)

    estimation.mirror_descent = mirror_descent
    Dataset.df = property(lambda self: pd.DataFrame(self.data))
    Domain.attrs = property(lambda self: self.attributes)
    MarkovRandomField.cliques = property(lambda self: list(self.potentials.cliques))
    return Dataset({c: train[c].to_numpy() for c in sizes}, Domain(list(sizes), list(sizes.values())))


def run_pgm2_mst(train: pd.DataFrame, sizes: dict, epsilon: float, seed: int) -> pd.DataFrame:
    """private-pgm's ``mechanisms/mst.py`` on mbi 2.0.0 (patches in ``_pgm2_data``): sigma =
    sqrt(3 / (2 rho)) with rho = cdp_rho(epsilon, delta), its domain compression, its
    exponential-mechanism tree selection on rho / 3 (after a 2,500-iteration fit), and mirror
    descent with iters=10000. As in ``run_pgm_mst``, its ``MST()`` body is repeated with rows =
    train rows, and the 1-way measurements reach ``compress_domain`` as numpy arrays (mbi 2.0.0
    also counts into JAX arrays, which would make its mapped columns objects). Noise, selection
    and sampling use numpy's global generator, seeded here."""
    import dataclasses

    data = _pgm2_data(train, sizes)
    return _pgm_mst_body(data, epsilon, seed, len(train), dataclasses.replace)


def run_pgm2_aim(train: pd.DataFrame, sizes: dict, epsilon: float, seed: int) -> pd.DataFrame:
    """private-pgm's ``mechanisms/aim.py`` on mbi 2.0.0 (patches in ``_pgm2_data``) with the
    command-line defaults of ``run_pgm_aim``: all 2-way marginals of at most 10,000 cells,
    weight 1; max_model_size=80; max_iters=1000; rounds = 16 x columns. Numpy's global
    generator is seeded, as there."""
    return _pgm_aim_body(_pgm2_data(train, sizes), epsilon, seed, len(train))


def run_datasynthesizer(train: pd.DataFrame, sizes: dict, epsilon: float, seed: int) -> pd.DataFrame:
    """DataSynthesizer's correlated attribute mode with k=2 parents (its default k=0 picks k
    from the data and the budget; the issue's reference figure is k=2). Every column is
    declared categorical Integer with its public domain 0..size-1 (a categorical domain file),
    so nothing about the domain is read from the private table; the rest is its default."""
    from DataSynthesizer.DataDescriber import DataDescriber
    from DataSynthesizer.DataGenerator import DataGenerator

    with tempfile.TemporaryDirectory() as folder:
        source, domains, description = (Path(folder) / name for name in
                                         ("train.csv", "domains.json", "description.json"))
        train.to_csv(source, index=False)
        domains.write_text(json.dumps({c: list(range(sizes[c])) for c in train.columns}))
        describer = DataDescriber()
        describer.describe_dataset_in_correlated_attribute_mode(
            str(source), k=2, epsilon=epsilon,
            attribute_to_datatype={c: "Integer" for c in train.columns},
            attribute_to_is_categorical={c: True for c in train.columns},
            categorical_attribute_domain_file=str(domains), seed=seed)
        describer.save_dataset_description_to_file(str(description))
        generator = DataGenerator()
        generator.generate_dataset_in_correlated_attribute_mode(len(train), str(description), seed=seed)
        return generator.synthetic_dataset


@dataclass(frozen=True)
class Peer:
    label: str
    run: object
    python: Path
    package: str
    timeout_s: float = 1800.0


PEERS = {
    "pgm-mst": Peer("private-pgm MST", run_pgm_mst, ENV / "pgm-venv" / "bin" / "python", "mbi"),
    "pgm-aim": Peer("private-pgm AIM", run_pgm_aim, ENV / "pgm-venv" / "bin" / "python", "mbi", 1500.0),
    "pgm2-mst": Peer("private-pgm MST (mbi {version})", run_pgm2_mst,
                     ENV / "pgm2-venv" / "bin" / "python", "mbi"),
    "pgm2-aim": Peer("private-pgm AIM (mbi {version})", run_pgm2_aim,
                     ENV / "pgm2-venv" / "bin" / "python", "mbi", 3600.0),
    "dpmm-mst": Peer("dpmm MST", run_dpmm("mst"), ENV / "bin" / "python", "dpmm"),
    "dpmm-privbayes": Peer("dpmm PrivBayes", run_dpmm("privbayes"), ENV / "bin" / "python", "dpmm"),
    "dpmm-aim": Peer("dpmm AIM", run_dpmm("aim"), ENV / "bin" / "python", "dpmm"),
    "smartnoise-mst": Peer("smartnoise-synth MST", run_smartnoise("mst"),
                           ENV / "snsynth" / "bin" / "python", "smartnoise-synth"),
    "smartnoise-aim": Peer("smartnoise-synth AIM", run_smartnoise("aim"),
                           ENV / "snsynth" / "bin" / "python", "smartnoise-synth"),
    "datasynthesizer": Peer("DataSynthesizer PrivBayes k=2", run_datasynthesizer,
                            ENV / "datasynth" / "bin" / "python", "DataSynthesizer", 1800.0),
}


def version(peer: Peer) -> str:
    code = f"import importlib.metadata as m; print(m.version({peer.package!r}))"
    return subprocess.run([str(peer.python), "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def run_peer(key: str, epsilon: float, seed: int, timeout_s: float) -> dict:
    """One fit-and-sample in a worker process of the peer's environment (``spawn``)."""
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result.json"
        return spawn([str(PEERS[key].python), "-W", "ignore", __file__, "--worker", key, "--epsilon",
                      repr(epsilon), "--seed", str(seed), "--result", str(result)],
                     result, HERE / "out" / f"{key}-eps{epsilon:g}-seed{seed}.log", timeout_s)


def spawn(command: list[str], result: Path, log: Path, timeout_s: float) -> dict:
    """Run a worker ``command`` that writes its JSON answer to ``result``, its output to ``log``;
    kill it (with any processes it started, as one process group) once past ``timeout_s``.
    Returns the answer, or a status and the seconds spent when it failed or ran out of time."""
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as stream:
        worker = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = worker.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
            return {"status": f"did not finish in {timeout_s:.0f} s", "seconds": time.perf_counter() - start}
    if code != 0 or not result.exists():
        tail = log.read_text()[-300:].strip().splitlines()
        return {"status": f"failed (exit {code}): {tail[-1] if tail else ''}",
                "seconds": time.perf_counter() - start}
    return json.loads(result.read_text())


def worker(key: str, epsilon: float, seed: int, result: str) -> None:
    train, _ = load_split()
    sizes = domain_sizes()
    start = time.perf_counter()
    synthetic = PEERS[key].run(train, sizes, epsilon, seed)
    seconds = time.perf_counter() - start
    table = pd.DataFrame(synthetic)[list(train.columns)].astype("int64")
    Path(result).write_text(json.dumps({
        "synthetic": table.to_numpy().tolist(), "columns": list(train.columns),
        "seconds": seconds, "peak_mb": peak_mb(), "status": "ok"}))


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epsilons", default="0.3,1,3,10")
    parser.add_argument("--seeds", default="0", help="seeds as a list, e.g. 0,1,2")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--timeout", default="", help="per-peer limits in seconds, e.g. pgm-aim=1500")
    parser.add_argument("--out", default=None, help="append the rows as JSON lines here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--epsilon", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.epsilon, args.seed, args.result)
        return

    train, test = load_split()
    sizes = list(domain_sizes().values())
    limits = {k: float(v) for k, v in (item.split("=") for item in args.timeout.split(",") if item)}
    rows = []
    for key in [p.strip() for p in args.peers.split(",") if p.strip()]:
        peer = PEERS[key]
        label = (peer.label.format(version=version(peer)) if "{version}" in peer.label
                 else f"{peer.label} {version(peer)}")
        for epsilon in [float(e) for e in args.epsilons.split(",")]:
            for seed in [int(s) for s in args.seeds.split(",")]:
                run = run_peer(key, epsilon, seed, limits.get(key, PEERS[key].timeout_s))
                row = {"system": label, "epsilon": epsilon, "seed": seed, "status": run["status"],
                       "seconds": run["seconds"], "peak_mb": run.get("peak_mb")}
                if run["status"] == "ok":
                    synthetic = pd.DataFrame(run["synthetic"], columns=run["columns"])
                    row |= {**fidelity(train, synthetic, sizes), "tstr_auc": tstr_auc(synthetic, test)}
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.out:
                    with open(args.out, "a") as stream:
                        stream.write(json.dumps(row) + "\n")
    print(f"\nmachine: {platform.machine()}, {multiprocessing.cpu_count()} cores, Python {platform.python_version()}")
    print(markdown(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
