"""One run of a comparison sweep, in its own worker process: fit, sample, evaluate, attack.

Each run has its own budget and accountant and is charged to no ledger: a sweep is an
exploration on the custodian's side, and its runs must not be published (the sweep itself
spends privacy, once per run). When the schema was discovered under DP, the discovery's events
are charged again to each run's ``domain`` part, since every run builds on that schema.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dpsynth.errors import DataError, DpsynthError, PrivacyWarning
from dpsynth.evaluate.fidelity import evaluate_fidelity
from dpsynth.evaluate.quality import pair_trends
from dpsynth.evaluate.tstr import tstr_auc
from dpsynth.evaluate.views import column_views
from dpsynth.generators import create
from dpsynth.peak_memory import peak_memory_mb
from dpsynth.privacy import events
from dpsynth.privacy.accountant import Accountant, Charge
from dpsynth.privacy.budget import DOMAIN, Allocation, Budget, PrivacyUnit
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Schema
from dpsynth.workflows.root import Plan, open_door

logger = logging.getLogger(__name__)

OK, FAILED = "ok", "failed"
# The key of a run record's per-column views (a list of view dicts, kept out of the results table).
VIEWS = "column_views"
# The key of a run record's pair-trend score per pair of columns ([first, second, score] lists).
PAIRS = "pair_trends"
WITHHELD = "message withheld: an unexpected error's text may quote data"


@dataclass(frozen=True)
class SweepData:
    """The sweep's split (private rows, kept on the custodian's side) and its public schema.

    ``fit`` trains the generators; ``holdout`` is the attacks' control set of rows no generator
    saw; ``test`` scores train-on-synthetic models. ``domain_charges`` are the events of the
    schema's DP discovery (empty for a declared schema).
    """

    fit: pd.DataFrame
    holdout: pd.DataFrame
    test: pd.DataFrame
    schema: Schema
    domain_charges: tuple[Charge, ...] = ()


@dataclass(frozen=True)
class RunSpec:
    """What one run does: a method at an epsilon, repetition ``seed`` (public settings only)."""

    method: str
    epsilon: float
    seed: int
    delta: float
    parts: tuple[str, ...]
    method_params: Mapping[str, Any]
    noise_seed: int | None
    target: str | None
    audit: str

    @property
    def key(self) -> tuple[str, float, int]:
        return (self.method, float(self.epsilon), int(self.seed))

    @property
    def params_text(self) -> str:
        """The method's parameters as canonical JSON, recorded with the run so a resume can check them."""
        return json.dumps(dict(self.method_params), sort_keys=True)


def configure_worker(level: int, threads: int) -> None:
    """Set up a worker: log at the sweep's level when it is verbose, otherwise errors only (the
    attack suite warns about weak attacks on every run; the table records every outcome); and
    let each of the parallel workers use ``threads`` threads, so that they do not oversubscribe
    the cores (OpenMP reads its variable when scikit-learn or torch first loads it, after this).
    """
    from threadpoolctl import threadpool_limits

    logging.basicConfig(level=level if level <= logging.INFO else logging.ERROR, format="%(message)s")
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    threadpool_limits(threads)


def run_budget(spec: RunSpec, data: SweepData, reserve: float) -> Budget:
    """The run's budget: the method's parts at their default split, plus the discovery's share.

    The ``domain`` fraction is what the discovery's events cost as a share of this run's zCDP
    budget (nudged up by one part in a billion so that charging them again is never refused by
    rounding); the other parts share the rest in the default proportions.
    """
    unit = PrivacyUnit(data.schema.unit_column)
    base = Allocation.default(list(spec.parts))
    if not data.domain_charges:
        return Budget(spec.epsilon, spec.delta, base, unit)
    probe = Accountant(Budget(spec.epsilon, spec.delta, base, unit, delta_reserve=reserve))
    spent = sum(charge.rho for charge in data.domain_charges)
    share = min(spent / probe.rho_total * (1 + 1e-9), 1.0)
    fractions = {part: (1 - share) * fraction for part, fraction in base.fractions.items()}
    fractions[DOMAIN] = share
    return Budget(spec.epsilon, spec.delta, Allocation(fractions), unit, delta_reserve=reserve)


def noise_source(seed: int | None) -> NoiseSource:
    """OS entropy, or ``seed``: reproducible noise for an exploration."""
    # A seeded source warns that its release must not be published; every run of a sweep is
    # marked so already, in the table, the JSON, the report and the CLI output.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return NoiseSource(seed)


def _safe_message(error: BaseException) -> str:
    """dpsynth's own errors never quote data; any other error's text might, so it is withheld."""
    return str(error) if isinstance(error, DpsynthError) else WITHHELD


@dataclass(frozen=True)
class ShadowRefit:
    """Fits the run's method again on a shadow training set, for the shadow-model attack.

    Same method, parameters, epsilon and budget split as the run (so the same noise), on the
    same public schema; picklable, so the suite may spread refits over processes.
    """

    spec: RunSpec
    schema: Schema
    domain_charges: tuple[Charge, ...]
    reserve: float

    def __call__(self, train: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        data = SweepData(train, train.iloc[:0], train.iloc[:0], self.schema, self.domain_charges)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PrivacyWarning)
            noise = NoiseSource.from_random_state(rng)
        plan = Plan(run_budget(self.spec, data, self.reserve), self.schema)
        table, _ = open_door(train, plan, noise, prior=self.domain_charges)
        return create(self.spec.method, **dict(self.spec.method_params)).fit(table).sample(len(train))


def _audit(spec: RunSpec, data: SweepData, synthetic: pd.DataFrame, reserve: float) -> dict[str, Any]:
    """The attack suite's summary, or a note that no attack ran."""
    if spec.audit == "off":
        return {"audit": "not requested"}
    try:
        from dpsynth.attacks.suite import run_attacks
    except ImportError:
        return {"audit": "attack suite not available in this version"}
    refit = ShadowRefit(spec, data.schema, data.domain_charges, reserve)
    result = run_attacks(
        data.fit, data.holdout, synthetic, data.schema, level=spec.audit, refit=refit,
        refit_description=f"{spec.method} at epsilon {spec.epsilon:g}, as in the run", delta=spec.delta,
        random_state=spec.noise_seed, n_jobs=1,
    )
    return {"audit": spec.audit, **{key: float(value) for key, value in result.summary().items()}}


def execute(spec: RunSpec, data: SweepData, reserve: float) -> dict[str, Any]:
    """Run ``spec`` and return its record; an error becomes a failed record, never an exception."""
    record: dict[str, Any] = {"method": spec.method, "epsilon": float(spec.epsilon), "seed": int(spec.seed),
                              "params": spec.params_text}
    stage = "setup"
    try:
        start = time.perf_counter()
        plan = Plan(run_budget(spec, data, reserve), data.schema)
        table, accountant = open_door(data.fit, plan, noise_source(spec.noise_seed), prior=data.domain_charges)
        stage = "fit"
        generator = create(spec.method, **dict(spec.method_params))
        generator.fit(table)
        synthetic = generator.sample(len(data.fit))
        spent = accountant.spent()
        record.update(
            fit_seconds=time.perf_counter() - start,
            peak_memory_mb=peak_memory_mb(),
            epsilon_spent=spent.epsilon,
            delta_spent=spent.delta,
            n_synthetic=len(synthetic),
            warnings=" | ".join(generator.warnings_),
        )
        stage = "evaluate"
        start = time.perf_counter()
        record.update(evaluate_fidelity(data.fit, None, synthetic, data.schema))
        # Spikes are read from the fit rows: the sweep's report stays with the custodian.
        record[VIEWS] = [view.to_dict() for view in column_views(data.fit, synthetic, data.schema, find_spikes=True)]
        record[PAIRS] = [[a, b, None if np.isnan(score) else score]
                         for (a, b), score in pair_trends(data.fit, synthetic, data.schema).items()]
        if spec.target is not None:
            record["tstr_auc"] = tstr_auc(synthetic, data.test, data.schema, spec.target)
        record["evaluate_seconds"] = time.perf_counter() - start
        stage = "audit"
        start = time.perf_counter()
        record.update(_audit(spec, data, synthetic, reserve))
        record["audit_seconds"] = time.perf_counter() - start
        record["status"] = OK
    except Exception as error:  # noqa: BLE001 - a failed run is recorded and the sweep goes on
        logger.info("run %s epsilon=%g seed=%d failed in %s (%s)", spec.method, spec.epsilon, spec.seed, stage,
                    type(error).__name__)
        record.update(status=FAILED, stage=stage, error=type(error).__name__, message=_safe_message(error))
    return record


def charges_to_json(charges: Sequence[Charge]) -> list[dict[str, Any]]:
    """The discovery's charges as plain data (event class and fields), to resume a sweep."""
    return [
        {"part": c.part, "count": c.count, "event": type(c.event).__name__, "fields": dataclasses.asdict(c.event)}
        for c in charges
    ]


def charges_from_json(items: Sequence[Mapping[str, Any]]) -> tuple[Charge, ...]:
    """Charges written by :func:`charges_to_json` (only dpsynth's own event classes)."""
    out = []
    for item in items:
        cls = getattr(events, str(item["event"]), None)
        if not (isinstance(cls, type) and issubclass(cls, events.Event)):
            raise DataError(f"the sweep file names an unknown privacy event {item['event']!r}")
        out.append(Charge(str(item["part"]), cls(**item["fields"]), int(item["count"])))
    return tuple(out)
