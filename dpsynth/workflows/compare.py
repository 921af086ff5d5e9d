"""Comparison sweep: every method at every epsilon and seed, evaluated and attacked.

A sweep is an EXPLORATION on the custodian's side and must not be published: each run spends
its own budget on the same data, charged to no ledger, so the sweep as a whole spends the
sum of its runs. Every output says so.

Layout of ``out``: ``sweep.json`` (settings, split seed, schema provenance and the events of a
DP schema discovery), ``schema.json``, ``runs.jsonl`` (one line per finished run, appended as
runs finish, so an interrupted sweep resumes where it stopped), ``results.csv``,
``results.json`` and ``report.html``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import multiprocessing
import os
import secrets
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dpsynth._version import __version__
from dpsynth.data.discover import DOMAIN_DELTA_RESERVE
from dpsynth.data.load import read_input
from dpsynth.data.split import cap_units, coins
from dpsynth.errors import DataError, SchemaError
from dpsynth.evaluate.fidelity import schema_coverage
from dpsynth.evaluate.tstr import tstr_auc
from dpsynth.generators import check_params, generator_class
from dpsynth.privacy.budget import DOMAIN, MARGINAL, MAX_EPSILON, Allocation, Budget
from dpsynth.privacy.identity import content_signature
from dpsynth.progress import Progress
from dpsynth.schema import Schema, validate
from dpsynth.validation import integer, number
from dpsynth.workflows.root import Plan, open_door
from dpsynth.workflows.runs import (
    FAILED,
    PAIRS,
    VIEWS,
    RunSpec,
    SweepData,
    charges_from_json,
    charges_to_json,
    configure_worker,
    execute,
    noise_source,
)

logger = logging.getLogger(__name__)

SWEEP_VERSION = 1
WARNING = (
    "EXPLORATION - NOT FOR PUBLICATION. Every run of this comparison spent its own privacy "
    "budget on the same data and none was charged to the ledger, so together they spend far "
    "more than any one epsilon shown. Use it to choose a method and an epsilon, then make one "
    "release with `dpsynth release`."
)
RELEASE_STATUS = "exploration: not for publication"
AUDIT_LEVELS = ("off", "quick", "standard", "thorough")
# Rows of the non-test part held out as the attacks' control set: a tenth, at most this many.
MAX_HOLDOUT = 2000
HOLDOUT_FRACTION = 0.1
SETTINGS_FILE, SCHEMA_FILE, RUNS_FILE = "sweep.json", "schema.json", "runs.jsonl"
CSV_FILE, JSON_FILE, REPORT_FILE = "results.csv", "results.json", "report.html"
# Leading columns of the tidy table, in this order; metric columns follow.
LEADING = ["method", "epsilon", "seed", "status", "epsilon_spent", "delta_spent"]
TRAILING = ["fit_seconds", "peak_memory_mb", "evaluate_seconds", "audit_seconds", "n_synthetic", "audit",
            "stage", "error", "message", "release_status"]


def _as_list(name: str, value: str | Iterable[Any]) -> list[Any]:
    items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else list(value)
    if not items:
        raise DataError(f"{name} must name at least one value")
    return items


def _epsilons(value: str | Iterable[float]) -> list[float]:
    out = []
    for item in _as_list("epsilons", value):
        try:
            epsilon = float(item)
        except (TypeError, ValueError):
            raise DataError(f"epsilons must be numbers; got {item!r}") from None
        out.append(number("epsilons", epsilon, low=0.0, low_open=True, high=MAX_EPSILON))
    return sorted(set(out))


def _check_settings(seeds: int, test_fraction: float, audit: str, n_jobs: int | None) -> None:
    integer("seeds", seeds)
    number("test_fraction", test_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
    if audit not in AUDIT_LEVELS:
        raise DataError(f"audit must be one of {AUDIT_LEVELS}; got {audit!r}")
    if n_jobs is not None:
        integer("n_jobs", n_jobs)


def _split(frame: pd.DataFrame, test_fraction: float, seed: int) -> tuple[pd.DataFrame, ...]:
    """Fit, holdout and test rows by an independent coin per row, so that adding a row never
    moves another one; the attacks use at most MAX_HOLDOUT of the held-out rows."""
    rng = np.random.default_rng(seed)
    test = coins(rng, len(frame), test_fraction)
    held = ~test & coins(rng, len(frame), HOLDOUT_FRACTION)
    fit = ~test & ~held
    parts = (frame[fit], cap_units(frame[held], None, MAX_HOLDOUT, rng), frame[test])
    if min(len(part) for part in parts) < 2:
        raise DataError("the data has too few rows to split into fit, attack holdout and test rows")
    return tuple(part.reset_index(drop=True) for part in parts)


def _seed_of(random_state: int | None, *parts: object) -> int | None:
    """A seed for one use, derived from the sweep's ``random_state`` (None: OS entropy)."""
    if random_state is None:
        return None
    words = [int(random_state)] + [zlib.crc32(repr(p).encode()) for p in parts]
    return int(np.random.SeedSequence(words).generate_state(1, dtype=np.uint64)[0] >> 1)


def _discover(fit: pd.DataFrame, epsilon: float, delta: float, seed: int | None) -> tuple[Schema, list]:
    """Discover the schema once under DP at the sweep's smallest epsilon (the default domain share)."""
    budget = Budget(epsilon, delta, Allocation.default([DOMAIN, MARGINAL]), delta_reserve=DOMAIN_DELTA_RESERVE)
    table, accountant = open_door(fit, Plan(budget, None), noise_source(seed))
    return table.require_schema(), list(accountant.charges)


class SweepFolder:
    """The sweep's folder: its settings, schema and the runs finished so far."""

    def __init__(self, out: str | os.PathLike) -> None:
        self.path = Path(out)
        if self.path.exists() and not self.path.is_dir():
            raise DataError(f"out '{self.path}' exists and is not a folder")
        self.path.mkdir(parents=True, exist_ok=True)

    def settings(self) -> dict[str, Any] | None:
        file = self.path / SETTINGS_FILE
        return json.loads(file.read_text(encoding="utf-8")) if file.exists() else None

    def runs(self) -> dict[tuple[str, float, int], dict[str, Any]]:
        """Finished runs by key; a later line for the same key wins; a torn last line is ignored."""
        file = self.path / RUNS_FILE
        out: dict[tuple[str, float, int], dict[str, Any]] = {}
        if not file.exists():
            return out
        for line in file.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            out[(record["method"], float(record["epsilon"]), int(record["seed"]))] = record
        return out

    def append(self, record: Mapping[str, Any]) -> None:
        """Append one line and sync it; a line torn by a crash is ended first, so it stays alone."""
        path = self.path / RUNS_FILE
        torn = path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
        with open(path, "a", encoding="utf-8") as file:
            file.write(("\n" if torn else "") + json.dumps(record, default=_plain) + "\n")
            file.flush()
            os.fsync(file.fileno())


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to a sweep file")


def _content_check(frame: pd.DataFrame, salt: str) -> str:
    """A salted digest of the data's content, so a resume can tell it is the same data.

    sweep.json stays with the custodian (a sweep is never published); the random salt still
    keeps the digest from being matched against digests of candidate tables made elsewhere.
    """
    return hmac.new(bytes.fromhex(salt), content_signature(frame), hashlib.sha256).hexdigest()


def _prepare(folder, frame, source, *, delta, schema, test_fraction, target, audit, epsilons, random_state):
    """Settings, split and schema of the sweep: new, or read back to resume (refusing a mismatch)."""
    previous = folder.settings()
    salt = previous["data"]["salt"] if previous is not None else secrets.token_hex(16)
    content = _content_check(frame, salt)
    if previous is not None:
        split_seed = previous["split"]["seed"]
    elif random_state is not None:
        split_seed = _seed_of(random_state, "split")
    else:
        split_seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
    fit, holdout, test = _split(frame, test_fraction, split_seed)
    settings: dict[str, Any] = {
        "dpsynth_sweep": SWEEP_VERSION,
        "warning": WARNING,
        "library": {"name": "dpsynth", "version": __version__},
        "data": {"source": source, "salt": salt, "content_check": content, "rows": len(frame)},
        "split": {"seed": split_seed, "test_fraction": test_fraction, "fit_rows": len(fit),
                  "holdout_rows": len(holdout), "test_rows": len(test)},
        "delta": delta,
        "target": target,
        "audit": audit,
        "noise": "os-entropy" if random_state is None else "seeded from random_state: not for publication",
    }
    if previous is not None:
        compared = {
            "data": (previous["data"].get("content_check"), content),
            "split": (previous["split"], settings["split"]),
            **{key: (previous.get(key), settings[key]) for key in ("delta", "target", "audit")},
        }
        for key, (before, now) in compared.items():
            if before != json.loads(json.dumps(now)):
                raise DataError(
                    f"out '{folder.path}' holds a sweep with other settings ({key!r} differs); "
                    "give a new out folder, or the same data and settings to resume"
                )
        if random_state is not None and previous.get("random_state") != random_state:
            raise DataError(f"out '{folder.path}' holds a sweep with another random_state")
    settings["random_state"] = random_state

    if schema is not None:
        declared = schema if isinstance(schema, Schema) else Schema.load(schema)
        validate(frame, declared)
        charges: list = []
        settings["schema"] = {"provenance": declared.provenance, "statement": "declared public by the user"}
        if previous is not None and previous["schema"].get("definition") != json.loads(json.dumps(declared.to_dict())):
            raise DataError(f"out '{folder.path}' holds a sweep made with another schema")
        used = declared
    elif previous is not None and previous["schema"]["provenance"] == "dp":
        if min(epsilons) < previous["schema"]["discovery_epsilon"]:
            raise DataError(
                f"out '{folder.path}' holds a sweep whose schema was discovered at epsilon "
                f"{previous['schema']['discovery_epsilon']:g}; a run at a smaller epsilon cannot afford "
                "it: give a new out folder for smaller epsilons"
            )
        used = Schema.from_dict(previous["schema"]["definition"])
        charges = list(charges_from_json(previous["schema"]["charges"]))
        settings["schema"] = previous["schema"]
    elif previous is not None:
        raise DataError(f"out '{folder.path}' holds a sweep made with a declared schema; give it again to resume")
    else:
        used, charges = _discover(fit, min(epsilons), delta, _seed_of(random_state, "discovery"))
        settings["schema"] = {
            "provenance": "dp",
            "statement": (
                f"discovered once under DP on the fit rows with the default domain share of the "
                f"smallest epsilon ({min(epsilons):g}); every run is charged those events again "
                "as its 'domain' part and gives the rest of its budget to its method"
            ),
            "discovery_epsilon": min(epsilons),
            "charges": charges_to_json(charges),
        }
    settings["schema"]["definition"] = used.to_dict()
    settings["schema"]["coverage"] = schema_coverage(fit, used)
    if target is not None and target not in used.encoded_columns:
        raise SchemaError(f"target {target!r} is not an encoded column of the schema")
    (folder.path / SETTINGS_FILE).write_text(json.dumps(settings, indent=2, default=_plain) + "\n", encoding="utf-8")
    used.save(folder.path / SCHEMA_FILE)
    return settings, SweepData(fit, holdout, test, used, tuple(charges))


def _specs(methods, epsilons, seeds, *, delta, method_params, target, audit, random_state) -> list[RunSpec]:
    specs = []
    for method, epsilon, seed in itertools.product(methods, epsilons, range(seeds)):
        cls = generator_class(method)
        specs.append(RunSpec(
            method=method,
            epsilon=epsilon,
            seed=seed,
            delta=delta,
            parts=cls.parts,
            method_params=dict((method_params or {}).get(method, {})),
            noise_seed=_seed_of(random_state, method, epsilon, seed),
            target=target,
            audit=audit,
        ))
    return specs


def _died(spec: RunSpec) -> dict[str, Any]:
    return {"method": spec.method, "epsilon": float(spec.epsilon), "seed": int(spec.seed),
            "params": spec.params_text, "status": FAILED,
            "stage": "worker", "error": "WorkerDied",
            "message": "the worker process ended abruptly (killed, or out of memory)"}


def run_all(
    specs: Sequence[RunSpec],
    data: SweepData,
    n_jobs: int,
    folder: SweepFolder,
    progress: Progress,
    runner: Callable[[RunSpec, SweepData, float], dict[str, Any]] = execute,
) -> None:
    """Run every spec with ``runner`` in fresh spawned processes (one per run), recording each
    as it finishes.

    If a worker dies, the pool breaks and every run still in it fails with it; those runs are
    tried again each in a pool of its own, where a death is the run's own, and only then
    recorded as failed.
    """
    level = logging.getLogger("dpsynth").getEffectiveLevel()
    retry = _run_pool(specs, data, n_jobs, folder, progress, level, runner, last_try=False)
    for spec in retry:
        _run_pool([spec], data, 1, folder, progress, level, runner, last_try=True)


def _run_pool(specs, data, n_jobs, folder, progress, level, runner, *, last_try: bool) -> list[RunSpec]:
    """Run ``specs`` in one pool; return those lost to a broken pool (unless ``last_try``)."""
    lost: list[RunSpec] = []
    workers = max(1, min(n_jobs, len(specs)))
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                             max_tasks_per_child=1, initializer=configure_worker,
                             initargs=(level, threads)) as pool:
        futures: dict[Future, RunSpec] = {
            pool.submit(runner, spec, data, DOMAIN_DELTA_RESERVE): spec for spec in specs
        }
        for future in as_completed(futures):
            spec = futures[future]
            try:
                record = future.result()
            except BrokenProcessPool:
                if not last_try:
                    lost.append(spec)
                    continue
                record = _died(spec)
            record["release_status"] = RELEASE_STATUS
            record["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            folder.append(record)
            progress.step(f"{spec.method} epsilon={spec.epsilon:g} seed={spec.seed}: {record['status']}")
    return lost


def _table(records: Iterable[Mapping[str, Any]], real_auc: float | None) -> pd.DataFrame:
    table = pd.DataFrame(list(records))
    for column in LEADING + TRAILING:
        if column not in table.columns:
            table[column] = None
    if real_auc is not None:
        table["real_auc"] = real_auc
    table["release_status"] = RELEASE_STATUS
    metrics = [c for c in table.columns if c not in LEADING + TRAILING + ["finished_at"]]
    table = table[LEADING + metrics + TRAILING].sort_values(["method", "epsilon", "seed"], kind="stable")
    table = table.reset_index(drop=True)
    table.attrs["warning"] = WARNING
    return table


def _write(folder: SweepFolder, table: pd.DataFrame, settings: Mapping[str, Any], views: Mapping,
           pairs: Mapping) -> None:
    table.to_csv(folder.path / CSV_FILE, index=False)
    rows = json.loads(table.to_json(orient="records"))
    document = {"warning": WARNING, "settings": settings, "rows": rows}
    (folder.path / JSON_FILE).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    from dpsynth.report.compare_page import write_compare_report

    write_compare_report(table, settings, folder.path / REPORT_FILE, views, pairs)


def compare(
    data: Any,
    *,
    methods: str | Sequence[str],
    epsilons: str | Sequence[float],
    seeds: int = 1,
    out: str | os.PathLike,
    delta: float = 1e-9,
    schema: Schema | str | os.PathLike | None = None,
    test_fraction: float = 0.2,
    target: str | None = None,
    audit: str = "quick",
    n_jobs: int | None = None,
    method_params: Mapping[str, Mapping[str, Any]] | None = None,
    random_state: int | None = None,
    na_values: Sequence[str] = (),
    retry_failed: bool = False,
    progress: bool = False,
) -> pd.DataFrame:
    """Run every method at every epsilon ``seeds`` times and return the tidy table of results.

    EXPLORATION, NOT FOR PUBLICATION: each run has its own budget and accountant and is charged
    to no ledger. The data is split once into fit rows (the generators' input), an attack
    holdout (a tenth of the non-test rows, at most 2000) and ``test_fraction`` of test rows.
    ``schema`` is declared public, or discovered once under DP on the fit rows at the smallest
    epsilon, its events charged again to every run (see ``out/sweep.json``); with a privacy
    unit column in a declared schema, each person keeps one row.
    ``method_params`` maps a method to its constructor arguments. Runs go to ``n_jobs``
    fresh processes (default: the CPU count); a failed run is recorded with its error class
    and a message that quotes no data. Rerunning with the same ``out`` skips finished runs
    (failed ones too, unless ``retry_failed``). ``random_state`` seeds the split and the noise
    (reproducible: all the more not for publication). ``progress`` shows a bar on a terminal
    (log lines otherwise). Writes ``out/results.csv``, ``out/results.json`` and
    ``out/report.html``; the table's ``attrs`` hold the warning and the number of skipped runs.
    """
    methods = [str(m) for m in _as_list("methods", methods)]
    for method in methods:
        generator_class(method)
    epsilons = _epsilons(epsilons)
    _check_settings(seeds, test_fraction, audit, n_jobs)
    if random_state is not None:
        integer("random_state", random_state, low=0)
    unknown = sorted(set(method_params or {}) - set(methods))
    if unknown:
        raise DataError(f"method_params names method(s) {unknown} that are not in methods {methods}")
    for method, params in (method_params or {}).items():
        check_params(method, dict(params))
    given = read_input(data, na_values)
    frame, source = given.frame, given.label
    if target is not None and target not in frame.columns:
        raise DataError(f"target {target!r} is not a column of the data")

    folder = SweepFolder(out)
    settings, sweep_data = _prepare(
        folder, frame, source, delta=delta, schema=schema, test_fraction=test_fraction, target=target,
        audit=audit, epsilons=epsilons, random_state=random_state,
    )
    specs = _specs(methods, epsilons, seeds, delta=delta, method_params=method_params, target=target, audit=audit,
                   random_state=random_state)
    done = folder.runs()
    for spec in specs:
        before = done.get(spec.key, {}).get("params", spec.params_text)
        if before != spec.params_text:
            raise DataError(
                f"out '{folder.path}' holds a run of {spec.method} at epsilon {spec.epsilon:g} (seed {spec.seed}) "
                f"made with parameters {before}, not {spec.params_text}; give a new out folder, or the same "
                "parameters to resume"
            )
    finished = {key for key, record in done.items() if not (retry_failed and record.get("status") == FAILED)}
    pending = [spec for spec in specs if spec.key not in finished]
    skipped = len(specs) - len(pending)
    if skipped:
        logger.warning("skipped %d finished run(s) recorded in %s", skipped, folder.path / RUNS_FILE)
    logger.info("%s", WARNING)
    bar = Progress(len(pending), enabled=None if progress else False)
    run_all(pending, sweep_data, n_jobs or os.cpu_count() or 1, folder, bar)
    bar.close()

    real_auc = tstr_auc(sweep_data.fit, sweep_data.test, sweep_data.schema, target) if target else None
    wanted = {spec.key for spec in specs}
    records = [record for key, record in folder.runs().items() if key in wanted]
    # Per-column views and pair trends go to the report only (runs.jsonl keeps them), not into the table.
    views, pairs = ({
        (record["method"], float(record["epsilon"]), int(record["seed"])): record.pop(key)
        for record in records if key in record
    } for key in (VIEWS, PAIRS))
    table = _table(records, real_auc)
    table.attrs["skipped"] = skipped
    settings = dict(settings, skipped_runs=skipped)
    _write(folder, table, settings, views, pairs)
    return table
