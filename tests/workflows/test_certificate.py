"""The certificate: versioned JSON with every attack, the policy and the verdict; and its HTML page."""

import json
from functools import cache
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest

from dpsynth.attacks.suite import run_attacks
from dpsynth.certificate.document import (
    DISCLAIMER,
    NO_LEDGER,
    NOT_A_RELEASE,
    build_certificate,
    privacy_statement,
)
from dpsynth.certificate.page import PLAIN_DISCLAIMER, render_certificate
from dpsynth.certificate.policy import load_policy
from dpsynth.datasets import example_path
from dpsynth.digest import sha256_file
from dpsynth.schema import Schema
from tests.conftest import example_adult


@cache
def tables() -> tuple[pd.DataFrame, pd.DataFrame, Schema]:
    frame = example_adult()
    order = np.random.default_rng(0).permutation(len(frame))
    rows = frame.iloc[order[:1500]].reset_index(drop=True)
    return rows.iloc[:1200].reset_index(drop=True), rows.iloc[1200:].reset_index(drop=True), Schema.load(
        example_path("adult")[1]
    )


@pytest.fixture(scope="module")
def copy_certificate(tmp_path_factory):
    train, holdout, schema = tables()
    path = tmp_path_factory.mktemp("files") / "synthetic.csv"
    train.to_csv(path, index=False)
    audit = run_attacks(train, holdout, train, schema, level="quick", random_state=0)
    certificate = build_certificate(
        audit,
        load_policy(),
        train=train,
        synthetic=train,
        schema=schema,
        holdout_rule="a test split",
        schema_source="the shipped public schema",
        files={"synthetic": path},
    )
    return certificate, path, audit


def test_an_external_audit_certificate_states_no_guarantee_and_fails_a_copy(copy_certificate):
    certificate, path, audit = copy_certificate
    document = json.loads(json.dumps(certificate))
    assert document["dpsynth_certificate"] == "2"
    assert document["privacy"] is None and document["privacy_note"] == NOT_A_RELEASE
    assert document["verdict"] == "FAIL" and len(document["reasons"]) >= 3
    assert document["files"] == {"synthetic": sha256_file(path)}
    assert document["data"] == {"n_train": 1200, "n_holdout": 300, "n_synthetic": 1200, "holdout_rule": "a test split"}
    assert document["disclaimer"] == DISCLAIMER and "not part of the differential privacy guarantee" in DISCLAIMER
    assert document["audit"]["summary"] == pytest.approx(audit.summary())
    assert [m["name"] for m in document["audit"]["membership"]] == ["distance_to_closest_record", "density_ratio"]
    assert document["policy"]["thresholds"]["linkage_risk_max"] == load_policy().linkage_risk_max
    assert {check["name"] for check in document["checks"]} >= {"membership_auc", "singling_out_risk"}
    # A copy has the training marginals exactly, on the real values and on the folded view.
    assert document["fidelity"]["real_values"]["tvd_1way"] == pytest.approx(0, abs=1e-12)
    assert document["fidelity"]["real_values"]["tvd_2way"] == pytest.approx(0, abs=1e-12)
    assert document["fidelity"]["folded_view"]["tvd_3way"] == pytest.approx(0, abs=1e-12)
    # Not a release: no release id, no ledger, and the header says so.
    assert document["release"]["release_id"] is None and document["release"]["lifetime_spend"] is None
    assert document["release"]["ledger_note"] == NO_LEDGER


def test_a_claimed_epsilon_is_checked_but_not_verified(copy_certificate):
    _, _, audit = copy_certificate
    train, _, schema = tables()
    certificate = build_certificate(
        audit, load_policy(), train=train, synthetic=train, schema=schema, holdout_rule="r", schema_source="s",
        stated_epsilon=1.0,
    )
    assert certificate["stated_epsilon"] == 1.0 and "cannot verify" in certificate["privacy_note"]
    bound = next(check for check in certificate["checks"] if check["name"] == "epsilon_lower_bound")
    assert bound["passed"] is False and any("not the data, is at fault" in r for r in certificate["reasons"])


def test_the_privacy_statement_is_copied_from_the_release_record():
    record = {
        "statement": "This release is (1, 1e-09)-differentially private.",
        "noise_source": "os-entropy",
        "schema": {"provenance": "public"},
        "method": {"name": "mst", "params": {}},
        "release_id": 7,
        "privacy": {
            "budget": {"epsilon": 1.0, "delta": 1e-9, "allocation": {"marginal": 1.0}, "unit": {"relation": "one record"}},
            "joint": {"epsilon": 0.99, "delta": 1e-9, "conversion": "Canonne-Kamath-Steinke 2020"},
            "parts": {"marginal": {"fraction": 1.0, "epsilon_alone": 0.99, "events": [{"mechanism": "exponential"}]}},
        },
    }
    statement = privacy_statement(record)
    assert statement["parts"]["marginal"]["share_of_total"] == 1.0
    assert statement["parts"]["marginal"]["epsilon_share"] == 0.99
    assert statement["epsilon"] == 1.0 and statement["spent"]["epsilon"] == 0.99
    assert statement["unit"]["relation"] == "one record" and statement["allocation"] == {"marginal": 1.0}
    assert statement["parts"]["marginal"]["events"] == [{"mechanism": "exponential"}]
    assert statement["conversion"].startswith("Canonne") and statement["schema_provenance"] == "public"
    assert statement["noise_source"] == "os-entropy" and "accountant" in statement["composition"]


def test_the_page_is_self_contained_and_says_what_the_attacks_mean(copy_certificate):
    certificate, _, _ = copy_certificate
    html = render_certificate(certificate)
    ElementTree.fromstring(html.split("\n", 1)[1])  # well-formed after the doctype
    assert "Release certificate: FAIL" in html
    assert "not part of the privacy guarantee" in PLAIN_DISCLAIMER and PLAIN_DISCLAIMER.split(":")[0] in html
    assert html.count("<svg") >= 2  # ROC curves and attack rates (no privacy spend: not a release)
    assert "ROC curves" in html and "random guess" in html
    for external in ("http://", "https://", "<script", "src="):
        assert external not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "Not a dpsynth release" in html and NO_LEDGER in html
    assert "empirical epsilon (lower bound)" in html and "lower bound found by an attack, never a promise" in html


def _part(fraction: float, alone: float, rho: float | None) -> dict:
    return {"fraction": fraction, "epsilon_alone": alone, "rho_spent": rho, "events": [{"mechanism": "gaussian"}]}


@pytest.mark.parametrize(
    ("parts", "basis", "expected"),
    [
        # zCDP parts: shares of the rho spent (rho adds up exactly under zCDP).
        ({"domain": _part(0.1, 0.3, 0.001), "marginal": _part(0.9, 0.95, 0.003)}, "zCDP rho spent", [0.25, 0.75]),
        # A part outside zCDP (DP-SGD's RDP curve): shares of the allocation.
        ({"domain": _part(0.2, 0.3, 0.001), "sgd": _part(0.8, 0.95, None)}, "budget allocation", [0.2, 0.8]),
    ],
)
def test_the_parts_shares_add_up_to_the_joint_total_and_the_naive_sum_is_apart(parts, basis, expected):
    record = {
        "statement": "s", "noise_source": "n", "schema": {"provenance": "dp"}, "method": {"name": "mst"},
        "privacy": {
            "budget": {"epsilon": 1.0, "delta": 1e-9, "allocation": {}, "unit": {"relation": "one record"}},
            "joint": {"epsilon": 1.0, "delta": 1e-9, "conversion": "c"},
            "naive_sum": {"epsilon": 1.25, "delta": 1e-9},
            "parts": parts,
        },
    }
    statement = privacy_statement(record)
    shares = [part["share_of_total"] for part in statement["parts"].values()]
    assert shares == pytest.approx(expected) and statement["share_basis"] == basis
    assert sum(part["epsilon_share"] for part in statement["parts"].values()) == pytest.approx(1.0)
    assert statement["naive_sum"]["epsilon"] == 1.25
    assert statement["saved_by_joint_accounting"] == pytest.approx(0.25)


def test_every_risk_and_membership_row_carries_its_own_reading(copy_certificate):
    certificate, _, _ = copy_certificate
    thresholds = certificate["policy"]["thresholds"]
    for risk in certificate["audit"]["risks"]:
        reading = risk["reading"]
        assert reading["status"] in {"measured", "not above baseline", "inconclusive", "not counted"}
        assert reading["text"].startswith("Measures ")
        if reading["status"] == "measured":
            threshold = {"singling_out": "singling_out_risk_max", "linkage": "linkage_risk_max",
                         "attribute_inference": "inference_risk_max"}
            limit = next(thresholds[key] for prefix, key in threshold.items() if risk["name"].startswith(prefix))
            assert f"{limit:g}" in reading["text"]
            # The policy judges the lower end of the interval: a FAIL needs evidence.
            assert ("FAILS" in reading["text"]) == (risk["risk_interval"][0] >= limit)
    for attack in certificate["audit"]["membership"]:
        assert "AUC" in attack["reading"]["text"] and str(thresholds["membership_auc_max"]) in attack["reading"]["text"]
    html = render_certificate(certificate)
    assert html.count("Measures whether") >= len(certificate["audit"]["risks"]) + len(certificate["audit"]["membership"])
    # Parameters are a table collapsed by default, not raw JSON.
    assert "<details><summary>Parameters of these attacks" in html and '{"' not in html
