"""The comparison sweep at small settings: runs, a recorded failure, resume, and its privacy arithmetic."""

import json
import logging
import os
import pickle

import numpy as np
import pandas as pd
import pytest

from dpsynth.data.discover import DOMAIN_DELTA_RESERVE
from dpsynth.errors import DataError
from dpsynth.privacy.accountant import Accountant, PlannedMeasurement
from dpsynth.privacy.budget import DOMAIN, MARGINAL
from dpsynth.privacy.events import DiscreteGaussianMechanism
from dpsynth.progress import Progress
from dpsynth.workflows.compare import (
    RELEASE_STATUS,
    WARNING,
    SweepFolder,
    _discover,
    compare,
    run_all,
)
from dpsynth.workflows.runs import (
    WITHHELD,
    RunSpec,
    ShadowRefit,
    SweepData,
    execute,
    run_budget,
)
from tests.conftest import pums_like


@pytest.fixture(scope="module")
def pums() -> pd.DataFrame:
    return pums_like().iloc[:400]


def lines(path) -> list[dict]:
    """The JSON lines of a file, leaving out a line torn by a crash."""
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def test_sweep_records_runs_and_a_failure_then_resumes(pums, tmp_path, caplog):
    out = tmp_path / "sweep"
    # MST with max_cells=1 refuses every model: a run that fails inside its worker.
    settings = {"methods": ["mst", "privbayes"], "seeds": 1, "out": out, "audit": "quick", "n_jobs": 2,
                "random_state": 0, "method_params": {"mst": {"max_cells": 1}}}
    first = compare(pums, epsilons=[1], **settings)

    assert list(first["method"]) == ["mst", "privbayes"]
    failed, ok = first.iloc[0], first.iloc[1]
    assert failed["status"] == "failed" and failed["error"] == "ModelTooLarge" and failed["stage"] == "fit"
    assert "max_cells" in failed["message"]
    assert ok["status"] == "ok"
    assert 0 < ok["epsilon_spent"] <= 1.0
    for key in ("tvd_1way", "tvd_2way", "tvd_3way", "wasserstein", "correlation_difference", "column_shape",
                "pair_trend"):
        assert 0 <= ok[key] <= 1, key
    assert "column_views" not in first.columns
    assert 0 <= ok["membership_auc"] <= 1 and ok["audit"] == "quick"
    assert ok["peak_memory_mb"] > 10 and ok["fit_seconds"] > 0
    assert (first["release_status"] == RELEASE_STATUS).all()
    assert first.attrs["warning"] == WARNING

    document = json.loads((out / "results.json").read_text())
    assert document["warning"] == WARNING and len(document["rows"]) == 2
    assert document["settings"]["schema"]["provenance"] == "dp" and document["settings"]["schema"]["charges"]
    assert (pd.read_csv(out / "results.csv")["release_status"] == RELEASE_STATUS).all()
    report = (out / "report.html").read_text()
    assert "not for publication" in report and "Column by column" in report
    assert [view["column"] for view in lines(out / "runs.jsonl")[1]["column_views"]] == list(pums.columns)
    assert len(lines(out / "runs.jsonl")) == 2

    # A crash tore the last line; then resume with one more epsilon: the finished runs are
    # skipped, only the new one runs, and the torn line does not swallow the next record.
    with open(out / "runs.jsonl", "a") as file:
        file.write('{"method": "privbayes", "epsi')
    with caplog.at_level(logging.WARNING, logger="dpsynth"):
        second = compare(pums, epsilons=[1, 3], **{**settings, "methods": ["privbayes"], "method_params": None})
    assert second.attrs["skipped"] == 1
    assert "skipped 1 finished run(s)" in caplog.text
    assert [r["epsilon"] for r in lines(out / "runs.jsonl")] == [1, 1, 3]
    assert list(second["epsilon"]) == [1, 3] and (second["status"] == "ok").all()
    assert second["epsilon_spent"].iloc[1] <= 3.0
    assert second["tvd_2way"].iloc[0] == ok["tvd_2way"]

    with pytest.raises(DataError, match="'delta' differs"):
        compare(pums, epsilons=[1], delta=1e-8, **settings)
    with pytest.raises(DataError, match="discovered at epsilon 1; a run at a smaller epsilon"):
        compare(pums, epsilons=[0.5], **settings)


def test_each_run_is_charged_the_schema_discovery_and_stays_within_its_epsilon(pums):
    fit = pums.iloc[:300]
    schema, charges = _discover(fit, 0.5, 1e-9, seed=3)
    discovery_rho = sum(c.count * c.event.rho for c in charges)
    assert charges and all(c.part == DOMAIN for c in charges)
    data = SweepData(fit, pums.iloc[300:350], pums.iloc[350:], schema, tuple(charges))
    for epsilon in (0.5, 4.0):
        spec = RunSpec("mst", epsilon, 0, 1e-9, (MARGINAL,), {}, None, None, "off")
        accountant = Accountant(run_budget(spec, data, DOMAIN_DELTA_RESERVE))
        for charge in charges:
            accountant.charge(charge.part, charge.event, charge.count)
        assert accountant.rho_spent(DOMAIN) == pytest.approx(discovery_rho)
        # The method gets all the rest of the zCDP budget, and spending it keeps the total within epsilon.
        assert accountant.rho_remaining(MARGINAL) == pytest.approx(accountant.rho_total - discovery_rho, rel=1e-6)
        sigmas = accountant.calibrate(MARGINAL, [PlannedMeasurement(1.0, 1.0)] * 5)
        for sigma in sigmas:
            accountant.charge(MARGINAL, DiscreteGaussianMechanism(sigma))
        assert accountant.spent().epsilon <= epsilon


def test_bad_settings_are_refused_before_anything_runs(pums, tmp_path):
    with pytest.raises(DataError, match="unknown method 'nope'"):
        compare(pums, methods="nope", epsilons="1", out=tmp_path / "a")
    with pytest.raises(DataError, match=r"epsilons must be a number in \(0"):
        compare(pums, methods="mst", epsilons="1,-2", out=tmp_path / "b")
    with pytest.raises(DataError, match="audit must be one of"):
        compare(pums, methods="mst", epsilons="1", out=tmp_path / "c", audit="all")
    with pytest.raises(DataError, match="target 'nope'"):
        compare(pums, methods="mst", epsilons="1", out=tmp_path / "d", target="nope")
    assert not (tmp_path / "a").exists()


def test_an_unexpected_error_is_recorded_without_its_text(pums, monkeypatch):
    from dpsynth.generators.mst import MST

    def leaky_fit(self, table, part="marginal"):
        raise RuntimeError("row 17 has age 4711")

    monkeypatch.setattr(MST, "fit", leaky_fit)
    fit = pums.iloc[:300]
    schema, charges = _discover(fit, 1.0, 1e-9, seed=4)
    data = SweepData(fit, pums.iloc[300:350], pums.iloc[350:], schema, tuple(charges))
    spec = RunSpec("mst", 1.0, 0, 1e-9, (MARGINAL,), {}, None, None, "off")
    record = execute(spec, data, DOMAIN_DELTA_RESERVE)
    assert record["status"] == "failed" and record["error"] == "RuntimeError" and record["stage"] == "fit"
    assert record["message"] == WITHHELD


def dies_on_mst(spec, data, reserve):
    """A runner whose worker process dies on the MST runs (run in the spawned worker)."""
    if spec.method == "mst":
        os._exit(9)
    return {"method": spec.method, "epsilon": spec.epsilon, "seed": spec.seed, "status": "ok"}


@pytest.mark.slow
def test_a_dying_worker_fails_only_its_own_run(pums, tmp_path):
    data = SweepData(pums.iloc[:10], pums.iloc[10:12], pums.iloc[12:14], None)
    specs = [RunSpec(m, e, 0, 1e-9, (MARGINAL,), {}, None, None, "off")
             for m, e in [("privbayes", 1.0), ("mst", 1.0), ("privbayes", 3.0), ("aim", 1.0)]]
    folder = SweepFolder(tmp_path)
    run_all(specs, data, 2, folder, Progress(len(specs), enabled=False), runner=dies_on_mst)
    records = folder.runs()
    assert len(records) == 4
    assert records[("mst", 1.0, 0)]["error"] == "WorkerDied" and records[("mst", 1.0, 0)]["status"] == "failed"
    assert all(records[key]["status"] == "ok" for key in records if key[0] != "mst")


def test_shadow_refit_fits_the_runs_method_again_and_pickles(pums):
    schema, charges = _discover(pums.iloc[:300], 1.0, 1e-9, seed=5)
    spec = RunSpec("privbayes", 1.0, 0, 1e-9, (MARGINAL,), {}, 1, None, "standard")
    refit = pickle.loads(pickle.dumps(ShadowRefit(spec, schema, tuple(charges), DOMAIN_DELTA_RESERVE)))
    shadow = refit(pums.iloc[300:].reset_index(drop=True), np.random.default_rng(0))
    assert list(shadow.columns) == list(schema.encoded_columns) and len(shadow) == 100
