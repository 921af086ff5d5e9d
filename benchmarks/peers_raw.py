"""The systems of the raw-table benchmark, each fitting and sampling one raw table in a worker
process of its own environment (``bench_raw_peers.py`` runs them and scores the tables).

A worker reads the fit rows from a CSV the way a user of that system would (pandas' own reader
with the table's documented missing-value token), fits, samples as many rows, and writes the
synthetic table as CSV beside a JSON answer: the kind of every output column as the system
returned it (the round trip is judged on what the user gets in memory, before any file), wall
and CPU seconds of fit and sample, and peak resident memory. Workers import only numpy, pandas,
the system under test and this module (dpsynth's worker imports dpsynth). Environments are
built by ``setup_peers.sh``:

* dpsynth: the repository's ``.venv``; MST, AIM and PrivBayes with their defaults and DP schema
  discovery (no schema, no dtypes declared: kinds, bounds and categories are decided under DP
  and charged), given the CSV file itself, as its README's first example does;
* ``.peer-env/snsynth``: smartnoise-synth 1.0.8's "mst" and "aim" on raw data with their own
  preprocessing (``run_smartnoise``);
* ``.peer-env``: dpmm 0.1.9's MST, AIM and PrivBayes pipelines with their raw-data processing
  (``run_dpmm``);
* ``.peer-env/sdv``: SDV's GaussianCopulaSynthesizer, NOT differentially private: a reference
  point for what a non-private model keeps of types and shapes (``run_sdv``).

Every DP system gets the same epsilon and delta, and synthetic rows = fit rows.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ENV = HERE / ".peer-env"
DELTA = 1e-9
DPMM_PROC_EPSILON = 0.1  # dpmm's default budget for its binner
# A run is capped in CPU seconds, not wall seconds: on a shared machine a wall-clock cap
# measures the other processes' load as much as the system.
CPU_CAP_S = 300


@dataclass(frozen=True)
class Table:
    """A shared raw table: where it is, how a user reads it, its target and its spikes.

    ``spikes`` are (column, value) point masses whose share the benchmark compares; ``categorical``
    names the columns a user declares categorical to the peers that ask for it (the rest are
    numbers); ``drop`` are columns removed before the split and ``strip`` has characters stripped
    from a column's ends (public, data-independent clean-ups of the file's layout)."""

    name: str
    path: str
    target: str
    categorical: tuple[str, ...]
    spikes: tuple[tuple[str, float], ...]
    na_values: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    strip: dict[str, str] = field(default_factory=dict)
    fit_rows: int | None = None


ADULT_CATEGORIES = ("workclass", "education", "marital-status", "occupation", "relationship", "race", "sex",
                    "native-country", "income")
GERMAN_CATEGORIES = ("checking_status", "credit_history", "purpose", "savings", "employment_since",
                     "personal_status_sex", "other_debtors", "property", "other_installment_plans", "housing", "job",
                     "telephone", "foreign_worker", "class")

TABLES = {
    "adult": Table("adult", "adult/adult_uci.csv", "income", ADULT_CATEGORIES,
                   (("capital-gain", 0), ("capital-gain", 99999), ("capital-loss", 0), ("hours-per-week", 40)),
                   na_values=("?",), drop=("split",), strip={"income": "."}, fit_rows=10_000),
    "pums": Table("pums", "pums/PUMS.csv", "married", ("sex", "educ", "race", "married"), (("income", 0),)),
    "german": Table("german", "german_credit/german_credit.csv", "class", GERMAN_CATEGORIES,
                    (("existing_credits", 1), ("num_people_liable", 1), ("installment_rate_pct", 4))),
}


def read(path: Path, table: Table) -> pd.DataFrame:
    """A CSV of this table as a user reads it: only the table's own null token is missing."""
    return pd.read_csv(path, na_values=list(table.na_values), keep_default_na=not table.na_values)


def kind(series: pd.Series) -> str:
    """What a user sees of a column's type (the same under pandas 2 and 3): its kind, and whether an
    integer column is nullable or a category ordered."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "ordered category" if dtype.ordered else "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_integer_dtype(dtype):
        return "int" if isinstance(dtype, np.dtype) else "nullable int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    return "text"


# --------------------------------------------------------------------------- systems
# Each runner takes the fit rows' CSV, the table, epsilon and seed, and returns the synthetic
# table as the system hands it to its user; the worker times it.


def run_dpsynth(method: str, declared: bool = False):
    """dpsynth's ``release`` on the CSV file with the table's null token, DP schema discovery, the
    method's defaults, ``audit="off"`` (a benchmark of fit and sample: no held-out rows, no
    attacks), a fresh ledger, and ``random_state=seed``. With ``declared`` the schema is drafted
    from the fit rows without noise (``infer_schema``) and declared public, as dpmm and
    smartnoise-synth read categories from the data: the like-for-like run beside them, NOT a DP
    release of the domain."""
    def run(path: Path, table: Table, epsilon: float, seed: int) -> pd.DataFrame:
        import warnings

        from dpsynth.schema.infer import infer_schema
        from dpsynth.workflows.release import release

        frame = read(path, table)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # infer_schema's warning that it reads the data without noise
            schema = infer_schema(frame) if declared else None
        with tempfile.TemporaryDirectory() as folder:
            return release(str(path), epsilon=epsilon, delta=DELTA, out=Path(folder) / "release", method=method,
                           schema=schema, schema_public=declared, n_rows=len(frame), random_state=seed,
                           ledger=Path(folder) / "ledger.sqlite", audit="off", na_values=table.na_values).synthetic
    return run


def run_smartnoise(name: str):
    """smartnoise-synth's cube synthesizers on the raw table, told which columns are categorical
    and which continuous (its ``fit`` arguments), ``nullable=True`` where the table has a null
    token, and ``preprocessor_eps`` = 10% of epsilon for the DP bounds of the continuous columns
    (its documented way to infer them; smartnoise takes it out of epsilon). Its default
    transformer then reads the categories of categorical columns from the data (not under DP)
    and bins continuous ones in 20 equal-width bins between the DP bounds. It takes no seed:
    numpy's global generator is seeded."""
    def run(path: Path, table: Table, epsilon: float, seed: int) -> pd.DataFrame:
        from snsynth import Synthesizer

        frame = read(path, table)
        np.random.seed(seed)
        categorical = [c for c in frame.columns if c in table.categorical]
        synth = Synthesizer.create(name, epsilon=epsilon, delta=DELTA)
        synth.fit(frame, categorical_columns=categorical,
                  continuous_columns=[c for c in frame.columns if c not in categorical],
                  preprocessor_eps=0.1 * epsilon, nullable=bool(table.na_values))
        return pd.DataFrame(synth.sample(len(frame)), columns=frame.columns)
    return run


def run_dpmm(pipeline: str):
    """dpmm's pipelines with their raw-data processing on (the default TableBinner): the table as
    pandas reads it; numeric columns binned by PrivTree on proc_epsilon = 0.1 (its default, split
    over the numeric columns), a null flag column added per column with nulls, the categories of
    text columns read from the data (not under DP: it logs a "PrivacyLeakage" warning), and the
    model on epsilon - 0.1 so that the total is epsilon (dpmm's ``epsilon`` is the model's
    alone). Model settings are dpmm's defaults (see ``peers.run_dpmm``)."""
    def run(path: Path, table: Table, epsilon: float, seed: int) -> pd.DataFrame:
        from dpmm.pipelines.aim import AIMPipeline
        from dpmm.pipelines.mst import MSTPipeline
        from dpmm.pipelines.priv_bayes import PrivBayesPipeline

        frame = read(path, table)
        kind_ = {"mst": MSTPipeline, "aim": AIMPipeline, "privbayes": PrivBayesPipeline}[pipeline]
        model = kind_(epsilon=epsilon - DPMM_PROC_EPSILON, delta=DELTA, proc_epsilon=DPMM_PROC_EPSILON)
        model.fit(frame, random_state=seed)
        return model.generate(n_records=len(frame), random_state=seed)
    return run


def run_sdv(path: Path, table: Table, epsilon: float, seed: int) -> pd.DataFrame:
    """SDV's GaussianCopulaSynthesizer with metadata detected from the table and its defaults;
    not differentially private (epsilon is ignored). Seeded through numpy's global generator."""
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    frame = read(path, table)
    np.random.seed(seed)
    # SDV 2 takes and returns a single table as a one-entry mapping of its name to the frame.
    synthesizer = GaussianCopulaSynthesizer(Metadata.detect_from_dataframes({table.name: frame}))
    synthesizer.fit({table.name: frame})
    return synthesizer.sample(num_rows=len(frame))[table.name]


@dataclass(frozen=True)
class System:
    label: str
    run: object
    python: Path
    package: str
    private: bool = True
    cpu_cap_s: int = CPU_CAP_S


SYSTEMS = {
    "dpsynth-mst": System("dpsynth MST", run_dpsynth("mst"), HERE.parent / ".venv" / "bin" / "python", "dpsynth"),
    "dpsynth-aim": System("dpsynth AIM", run_dpsynth("aim"), HERE.parent / ".venv" / "bin" / "python", "dpsynth"),
    "dpsynth-privbayes": System("dpsynth PrivBayes", run_dpsynth("privbayes"), HERE.parent / ".venv" / "bin" / "python",
                                "dpsynth"),
    "dpsynth-mst-declared": System("dpsynth MST (schema read from the data, not DP)", run_dpsynth("mst", True),
                                   HERE.parent / ".venv" / "bin" / "python", "dpsynth"),
    "smartnoise-mst": System("smartnoise-synth MST", run_smartnoise("mst"), ENV / "snsynth" / "bin" / "python",
                             "smartnoise-synth"),
    "smartnoise-aim": System("smartnoise-synth AIM", run_smartnoise("aim"), ENV / "snsynth" / "bin" / "python",
                             "smartnoise-synth"),
    "dpmm-mst": System("dpmm MST", run_dpmm("mst"), ENV / "bin" / "python", "dpmm"),
    "dpmm-aim": System("dpmm AIM", run_dpmm("aim"), ENV / "bin" / "python", "dpmm"),
    "dpmm-privbayes": System("dpmm PrivBayes", run_dpmm("privbayes"), ENV / "bin" / "python", "dpmm"),
    "sdv-gc": System("SDV GaussianCopula (not DP)", run_sdv, ENV / "sdv" / "bin" / "python", "sdv", private=False),
}


def worker(key: str, table: str, train: str, epsilon: float, seed: int, result: str) -> None:
    """Fit and sample once; write the synthetic CSV beside ``result`` and the answer in it."""
    spec = TABLES[table]
    # Past the cap the kernel sends SIGXCPU, which ends the worker (bench_raw_peers reports it).
    resource.setrlimit(resource.RLIMIT_CPU, (SYSTEMS[key].cpu_cap_s, resource.RLIM_INFINITY))
    cpu = time.process_time()
    start = time.perf_counter()
    synthetic = SYSTEMS[key].run(Path(train), spec, epsilon, seed)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    synthetic = pd.DataFrame(synthetic)
    synthetic.to_csv(Path(result).with_suffix(".csv"), index=False)
    Path(result).write_text(json.dumps({
        "status": "ok", "seconds": seconds, "cpu_seconds": cpu_seconds,
        # ru_maxrss is the peak resident set (VmHWM) in KiB on Linux.
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "kinds": {c: kind(synthetic[c]) for c in synthetic.columns}}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("key", "table", "train", "result"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--epsilon", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent))
    worker(args.key, args.table, args.train, args.epsilon, args.seed, args.result)


if __name__ == "__main__":
    main()
