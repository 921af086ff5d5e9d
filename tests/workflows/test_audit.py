"""Audits of any tool's synthetic data, and the audited release: holdout, certificate, verdict.

Fast: bad input gets a clear error; a copy and jittered training rows FAIL; a release with a
quick audit holds out a control sample before fitting and bundles its certificate. Slow: MST
at epsilon 1 on Adult PASSES the standard audit, which runs no shadow refits.
"""

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest

from dpsynth.datasets import example_path
from dpsynth.digest import sha256_file
from dpsynth.errors import DataError
from dpsynth.privacy.budget import PrivacyUnit
from dpsynth.workflows.audit import audit, count_overlap
from dpsynth.workflows.release import HOLDOUT_MAX, release, split_holdout
from tests.conftest import example_adult, jittered

SCHEMA = example_path("adult")[1]


@cache
def adult() -> pd.DataFrame:
    return example_adult()


def split(seed: int, n_train: int, n_holdout: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    order = np.random.default_rng(seed).permutation(len(adult()))
    rows = adult().iloc[order[: n_train + n_holdout]].reset_index(drop=True)
    return rows.iloc[:n_train].reset_index(drop=True), rows.iloc[n_train:].reset_index(drop=True)


# ------------------------------------------------------------------------------ audit of any tool
def test_an_audit_of_csv_files_writes_a_certificate_and_a_copy_fails(tmp_path):
    train, holdout = split(1, 1500, 400)
    paths = {}
    for name, frame in (("train", train), ("holdout", holdout), ("synthetic", train)):
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    outcome = audit(
        paths["train"], paths["holdout"], paths["synthetic"], out=tmp_path / "audit", level="quick", random_state=0
    )
    assert outcome.verdict == "FAIL"
    assert sorted(p.name for p in (tmp_path / "audit").iterdir()) == ["certificate.html", "certificate.json"]
    assert (tmp_path / "audit.custodian" / "annex.json").exists()
    written = json.loads((tmp_path / "audit" / "certificate.json").read_text())
    assert written["verdict"] == "FAIL" and written["privacy"] is None
    assert written["files"]["synthetic"] == sha256_file(paths["synthetic"])
    assert written["schema"]["provenance"] == "inferred-not-dp" and "not DP" in written["schema"]["source"]
    assert "shadow_model" in written["audit"]["skipped"]


def test_jittered_training_rows_fail_and_a_schema_file_is_used(tmp_path):
    train, holdout = split(2, 1500, 400)
    synthetic = jittered(train, np.random.default_rng(2))
    outcome = audit(train, holdout, synthetic, out=tmp_path / "a", schema=SCHEMA, level="quick", random_state=2)
    assert outcome.verdict == "FAIL"
    assert outcome.result.summary()["membership_auc"] > 0.8
    assert outcome.certificate["schema"]["provenance"] == "public"


def test_bad_input_gets_a_clear_error(tmp_path):
    train, holdout = split(3, 300, 100)
    with pytest.raises(DataError, match=r"synthetic do not match.*missing \['fnlwgt'\].*\['extra'\]"):
        audit(train, holdout, train.drop(columns="fnlwgt").assign(extra=1), out=tmp_path / "a")
    with pytest.raises(DataError, match=r"synthetic lacks column\(s\) \['fnlwgt'\] of the schema"):
        audit(train, holdout, train.drop(columns="fnlwgt"), out=tmp_path / "a", schema=SCHEMA)
    empty = tmp_path / "empty.csv"
    train.iloc[:0].to_csv(empty, index=False)
    with pytest.raises(DataError, match="header but no rows"):
        audit(train, holdout, empty, out=tmp_path / "a")
    with pytest.raises(DataError, match="synthetic has no rows"):
        audit(train, holdout, train.iloc[:0], out=tmp_path / "a")
    with pytest.raises(DataError, match="does not exist"):
        audit(tmp_path / "absent.csv", holdout, train, out=tmp_path / "a")
    overlapping = pd.concat([holdout.iloc[:90], train.iloc[:10]], ignore_index=True)
    with pytest.raises(DataError, match="10 of the 100 holdout rows also occur in the training data") as caught:
        audit(train, overlapping, train, out=tmp_path / "a")
    assert str(train.iloc[0]["fnlwgt"]) not in str(caught.value)
    with pytest.raises(DataError, match="stated_epsilon"):
        audit(train, holdout, train, out=tmp_path / "a", stated_epsilon=0)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(DataError, match="not empty"):
        audit(train, holdout, train, out=tmp_path / "full")
    assert not (tmp_path / "a").exists()


def test_overlap_counts_rows_not_values():
    train, holdout = split(4, 200, 50)
    assert count_overlap(train, holdout, list(train.columns)) == 0
    assert count_overlap(train, pd.concat([holdout, train.iloc[:3]]), list(train.columns)) == 3


# ------------------------------------------------------------------------------ audited releases
def test_the_holdout_is_split_off_before_fitting_and_keeps_persons_whole():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"pid": np.repeat(np.arange(3000), 2), "x": rng.integers(0, 5, 6000)})
    fit, holdout = split_holdout(frame, PrivacyUnit("pid", 2), rng)
    assert 240 < holdout["pid"].nunique() < 360 and holdout.groupby("pid").size().eq(2).all()
    assert not set(fit["pid"]) & set(holdout["pid"]) and len(fit) + len(holdout) == len(frame)
    fit, holdout = split_holdout(frame, PrivacyUnit(), rng)
    assert 500 < len(holdout) < 700 and len(fit) + len(holdout) == len(frame)
    big = pd.DataFrame({"x": np.zeros(40_000)})
    fit, holdout = split_holdout(big, PrivacyUnit(), rng)
    assert len(holdout) == HOLDOUT_MAX and len(fit) < 40_000 - HOLDOUT_MAX


def test_a_release_with_a_quick_audit_bundles_its_certificate(tmp_path):
    train, _ = split(5, 3000, 0)
    result = release(train, epsilon=1.0, delta=1e-9, out=tmp_path / "r", schema=SCHEMA, audit="quick")
    files = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert files == ["certificate.html", "certificate.json", "model.json", "release.json", "synthetic.csv"]
    assert sorted(p.name for p in (tmp_path / "r.custodian").iterdir()) == ["annex.html", "annex.json"]
    record = json.loads((tmp_path / "r" / "release.json").read_text())
    # release.json holds nothing from the audit (the audit reads the rows without noise): the
    # certificate points to the release instead.
    assert set(record["outputs"]) == {"synthetic.csv", "model.json"}
    assert record["audit"]["level"] == "quick" and "before anything was measured" in record["audit"]["holdout_rule"]
    assert "verdict" not in record["audit"]
    certificate = json.loads((tmp_path / "r" / "certificate.json").read_text())
    assert certificate["verdict"] == result.verdict
    assert certificate["files"]["release.json"] == sha256_file(tmp_path / "r" / "release.json")
    assert certificate["data"]["n_train"] + certificate["data"]["n_holdout"] == 3000
    assert 200 <= certificate["data"]["n_holdout"] < 400
    assert certificate["privacy"]["epsilon"] == 1.0 and certificate["privacy"]["noise_source"] == "os-entropy"
    assert certificate["files"]["synthetic.csv"] == record["outputs"]["synthetic.csv"]
    checks = {check["name"]: check for check in certificate["checks"]}
    # A DP release can never be attacked beyond its epsilon. The risk checks judge the lower
    # ends of their intervals (67d1fde), which on 300 control rows sit near 0; the PASS of MST
    # at epsilon 1 on full Adult is the slow sanity test.
    assert checks["epsilon_lower_bound"]["passed"]
    failed = [check for check in certificate["checks"] if check["passed"] is False]
    assert (result.verdict == "FAIL") == bool(failed)


def test_an_unknown_audit_level_is_refused_before_anything_is_spent(tmp_path, private_ledger):
    from dpsynth.privacy.ledger import Ledger

    with pytest.raises(DataError, match="audit must be one of"):
        release(adult().iloc[:500], epsilon=1.0, delta=1e-9, out=tmp_path / "r", schema=SCHEMA, audit="full")
    assert Ledger(private_ledger).releases() == []


@pytest.mark.slow
def test_mst_at_epsilon_1_passes_the_standard_audit(tmp_path):
    result = release(adult(), epsilon=1.0, delta=1e-9, out=tmp_path / "r", schema=SCHEMA, audit="standard")
    certificate = result.certificate
    assert result.verdict == "PASS", certificate["reasons"]
    summary = certificate["audit"]["summary"]
    assert summary["epsilon_lower_bound"] < 1.0
    assert certificate["audit"]["skipped"]["shadow_model"] == "this audit level runs no shadow refits"
    assert "epsilon=1" in certificate["audit"]["parameters"]["refit"]


def test_a_holdout_sharing_value_combinations_by_chance_is_used_with_a_warning(tmp_path, caplog):
    """Coarse columns make distinct people equal by value: 55 of 400 once refused a true holdout."""
    rng = np.random.default_rng(3)
    people = pd.DataFrame({"sex": rng.choice(["F", "M"], 2400), "band": rng.integers(0, 6, 2400).astype(str),
                           "region": rng.choice(["N", "S", "E"], 2400)})
    train, holdout = people.iloc[:2000].reset_index(drop=True), people.iloc[2000:].reset_index(drop=True)
    assert count_overlap(train, holdout, list(people.columns)) == len(holdout)  # every row matches by value
    result = audit(train, holdout, train.sample(500, random_state=0), out=tmp_path / "a", level="quick",
                   random_state=0)
    assert result is not None
    assert "so the holdout is used" in caplog.text
