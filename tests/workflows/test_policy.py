"""The release policy: documented defaults, user files over them, and the PASS/FAIL rules."""

import json
import math

import pytest

from dpsynth.certificate.policy import (
    FAIL,
    IMPLEMENTATION_AT_FAULT,
    PASS,
    evaluate_policy,
    load_policy,
)
from dpsynth.errors import DataError

CLEAN = {
    "membership_auc": 0.51,
    "membership_auc_upper": 0.53,
    "membership_tpr_at_fpr_0.01": 0.01,
    "membership_tpr_at_fpr_0.001": 0.0,
    "epsilon_lower_bound": 0.0,
    "max_certifiable_epsilon": 4.9,
    "singling_out_risk": 0.05,
    "linkage_risk": 0.01,
    "inference_risk": 0.1,
}


def test_the_default_policy_documents_every_threshold():
    policy = load_policy()
    thresholds = policy.thresholds()
    assert thresholds["source"] == "dpsynth default policy" and thresholds["epsilon_bound_below_stated"] is True
    documented = set(policy.documentation)
    assert documented == set(thresholds) - {"name", "source"}
    assert all(len(text) > 40 for text in policy.documentation.values())


def test_a_clean_audit_passes_with_and_without_a_stated_epsilon():
    for stated in (None, 1.0):
        verdict, reasons, checks = evaluate_policy(CLEAN, stated)
        assert verdict == PASS and reasons == ["every check of the policy passed"]
        assert all(check["passed"] for check in checks)
    names = {check["name"] for check in evaluate_policy(CLEAN, 1.0)[2]}
    assert "epsilon_lower_bound" in names and "membership_auc" not in names  # DP: the bound, not the AUC
    assert "membership_auc" in {check["name"] for check in evaluate_policy(CLEAN, None)[2]}


def test_a_bound_above_the_stated_epsilon_blames_the_implementation():
    leaky = dict(CLEAN, epsilon_lower_bound=1.2)
    verdict, reasons, checks = evaluate_policy(leaky, 1.0)
    assert verdict == FAIL and len(reasons) == 1 and IMPLEMENTATION_AT_FAULT in reasons[0]
    bound = next(check for check in checks if check["name"] == "epsilon_lower_bound")
    assert bound["passed"] is False and bound["threshold"] == 1.0 and "could show at most 4.9" in bound["description"]
    assert evaluate_policy(dict(CLEAN, epsilon_lower_bound=0.99), 1.0)[0] == PASS
    # Without a stated epsilon there is no DP claim to test; the bound is not checked.
    assert evaluate_policy(leaky, None)[0] == PASS


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("membership_auc_upper", 0.6, "membership inference"),
        ("singling_out_risk", 0.3, "singling-out risk"),
        ("linkage_risk", 0.25, "linkage risk"),
        ("inference_risk", 0.5, "attribute-inference risk"),
    ],
)
def test_each_risk_at_its_threshold_fails(key, value, words):
    verdict, reasons, _ = evaluate_policy(dict(CLEAN, **{key: value}), None)
    assert verdict == FAIL and len(reasons) == 1 and words in reasons[0]


def test_an_unmeasured_risk_is_listed_but_does_not_fail():
    verdict, reasons, checks = evaluate_policy(dict(CLEAN, linkage_risk=math.nan), None)
    assert verdict == PASS
    assert any("could not be measured" in reason for reason in reasons)
    linkage = next(check for check in checks if check["name"] == "linkage_risk")
    assert linkage["passed"] is None and linkage["value"] is None


def test_a_user_policy_overrides_the_defaults(tmp_path):
    path = tmp_path / "strict.yaml"
    path.write_text("dpsynth_policy: 1\nname: strict\nlinkage_risk_max: 0.005\n")
    policy = load_policy(path)
    assert policy.name == "strict" and policy.source == "strict.yaml"
    assert policy.linkage_risk_max == 0.005 and policy.singling_out_risk_max == load_policy().singling_out_risk_max
    assert evaluate_policy(CLEAN, None, policy)[0] == FAIL
    loose = tmp_path / "loose.json"
    loose.write_text(json.dumps({"dpsynth_policy": 1, "epsilon_bound_below_stated": False}))
    assert evaluate_policy(dict(CLEAN, epsilon_lower_bound=9.0), 1.0, load_policy(loose))[0] == PASS


@pytest.mark.parametrize(
    "document, message",
    [
        ({"dpsynth_policy": 1, "linkage_max": 0.1}, r"unknown key\(s\) \['linkage_max'\]"),
        ({"dpsynth_policy": 1, "linkage_risk_max": 1.5}, r"'linkage_risk_max' must be a number in \[0, 1\]"),
        ({"dpsynth_policy": 1, "membership_auc_max": "high"}, "'membership_auc_max' must be a number"),
        ({"dpsynth_policy": 1, "epsilon_bound_below_stated": "yes"}, "'epsilon_bound_below_stated' must be true"),
        ({"linkage_risk_max": 0.1}, "'dpsynth_policy' must be 1"),
        ([0.1], "must hold a mapping"),
    ],
)
def test_bad_policy_files_name_the_key(tmp_path, document, message):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    with pytest.raises(DataError, match=message):
        load_policy(path)


def test_unreadable_policy_files_are_refused(tmp_path):
    with pytest.raises(DataError, match="cannot be read"):
        load_policy(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        load_policy(broken)
    with pytest.raises(DataError, match="stated_epsilon must be a positive finite number"):
        evaluate_policy(CLEAN, -1.0)
