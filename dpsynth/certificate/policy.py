"""The release policy: thresholds an attacked release must meet, and the PASS/FAIL verdict.

The default policy is ``default_policy.json`` beside this module; each threshold is explained
in its ``documentation`` block. A user policy is a JSON or YAML file with the version key
``dpsynth_policy: 1`` and any of the thresholds; the ones it leaves out keep their defaults.

The verdict reads the attack suite's summary (:meth:`AuditResult.summary`), its risk statuses
and its copy test. A release FAILs only on evidence: a risk by the lower end of its interval
(a bare summary holds only upper ends, which are judged then), the epsilon bound (a lower
bound) against the stated epsilon, the copy tests by their p-values. Attack results
describe one release to its custodian; they are not part of the DP guarantee, and a PASS is not
a proof of privacy, only the absence of evidence against it at the sizes attacked.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dpsynth.attacks.copies import CopyResult
from dpsynth.attacks.rare_copies import RareCopyResult
from dpsynth.attacks.risk import MIN_CONCLUSIVE_ATTACKS
from dpsynth.attacks.suite import HEADLINE_RECORDS, AuditResult
from dpsynth.attacks.unique_values import UniqueValueResult
from dpsynth.certificate.readings import rare_copies_reach, unique_values_reach
from dpsynth.errors import DataError
from dpsynth.validation import number

VERSION_KEY = "dpsynth_policy"
VERSION = 1
PASS, FAIL = "PASS", "FAIL"
_RISKS = {
    "singling_out_risk_max": ("singling_out_risk", "singling-out risk"),
    "linkage_risk_max": ("linkage_risk", "linkage risk"),
    "inference_risk_max": ("inference_risk", "attribute-inference risk"),
}
IMPLEMENTATION_AT_FAULT = "the implementation, not the data, is at fault"


@dataclass(frozen=True)
class Policy:
    """Thresholds of a policy (see ``default_policy.json`` for what each one means and why)."""

    name: str
    epsilon_bound_below_stated: bool
    singling_out_risk_max: float
    linkage_risk_max: float
    inference_risk_max: float
    membership_auc_max: float
    unique_copies_p_min: float
    rare_copies_p_min: float
    unique_values_p_min: float
    documentation: dict[str, str]
    source: str

    def thresholds(self) -> dict[str, Any]:
        """The thresholds as plain values (for the certificate)."""
        described = asdict(self)
        del described["documentation"]
        return described


def _default_document() -> dict[str, Any]:
    text = resources.files("dpsynth.certificate").joinpath("default_policy.json").read_text(encoding="utf-8")
    return json.loads(text)


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"policy file '{path}' cannot be read ({type(error).__name__})") from None
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.safe_load(text)
        return json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError):
        kind = "YAML" if path.suffix in (".yaml", ".yml") else "JSON"
        raise DataError(f"policy file '{path}' is not valid {kind}") from None


def _check_level(key: str, value: Any, low: float, high: float) -> float:
    return number(f"policy key '{key}'", value, low=low, high=high, error=DataError)


def load_policy(path: str | os.PathLike | None = None) -> Policy:
    """The default policy, or the one in ``path`` (JSON or YAML) over the defaults."""
    document = _default_document()
    source = "dpsynth default policy"
    if path is not None:
        path = Path(path)
        given = _read(path)
        if not isinstance(given, Mapping):
            raise DataError(f"policy file '{path}' must hold a mapping of policy keys")
        if given.get(VERSION_KEY) != VERSION or isinstance(given.get(VERSION_KEY), bool):
            raise DataError(f"policy file '{path}': key '{VERSION_KEY}' must be {VERSION}")
        unknown = sorted(str(key) for key in given if key not in document)
        if unknown:
            raise DataError(f"policy file '{path}': unknown key(s) {unknown}; allowed: {sorted(document)}")
        document = {**document, **given, "documentation": document["documentation"]}
        source = path.name
    if not isinstance(document["epsilon_bound_below_stated"], bool):
        raise DataError("policy key 'epsilon_bound_below_stated' must be true or false")
    if not isinstance(document["name"], str):
        raise DataError("policy key 'name' must be text")
    return Policy(
        name=document["name"],
        epsilon_bound_below_stated=document["epsilon_bound_below_stated"],
        singling_out_risk_max=_check_level("singling_out_risk_max", document["singling_out_risk_max"], 0, 1),
        linkage_risk_max=_check_level("linkage_risk_max", document["linkage_risk_max"], 0, 1),
        inference_risk_max=_check_level("inference_risk_max", document["inference_risk_max"], 0, 1),
        membership_auc_max=_check_level("membership_auc_max", document["membership_auc_max"], 0.5, 1),
        unique_copies_p_min=_check_level("unique_copies_p_min", document["unique_copies_p_min"], 0, 1),
        rare_copies_p_min=_check_level("rare_copies_p_min", document["rare_copies_p_min"], 0, 1),
        unique_values_p_min=_check_level("unique_values_p_min", document["unique_values_p_min"], 0, 1),
        documentation=dict(document["documentation"]),
        source=source,
    )


def _check(name: str, value: float, threshold: float, passed: bool | None, text: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": None if math.isnan(value) else value,
        "threshold": threshold,
        "passed": passed,
        "description": text,
    }


def _strongest(audit: AuditResult | Mapping[str, float]) -> str:
    """`` (name)`` of the membership attack with the largest headline AUC bound, when known."""
    if not isinstance(audit, AuditResult):
        return ""
    headline = [r for r in audit.membership if min(r.n_members, r.n_nonmembers) >= HEADLINE_RECORDS]
    return f" ({max(headline, key=lambda r: r.auc_interval[1]).name})" if headline else ""


def _allowance(stated_epsilon: float | None) -> tuple[float, str]:
    """The epsilon a copy test allows (0 when none is stated) and the words that say so."""
    if stated_epsilon is None:
        return 0.0, ""
    return float(stated_epsilon), f", allowing the factor e^{float(stated_epsilon):g} of the stated epsilon"


def _copies_check(copies: CopyResult, stated_epsilon: float | None, p_min: float) -> tuple[dict[str, Any], str]:
    """The unique-copies check: a DP release may favour its training records by e^epsilon, other data not at all."""
    epsilon, allowing = _allowance(stated_epsilon)
    p_value = copies.p_value(epsilon)
    text = (
        "exact copies of real rows that occur once: training ones not copied more often than held-out ones "
        f"(one-sided binomial p-value above {p_min:g}{allowing})"
    )
    reason = (
        f"exact copies of unique records (unique_copies): {copies.copied_train} of the {copies.unique_train} "
        f"training rows that occur once are copied against {copies.copied_holdout} of the "
        f"{copies.unique_holdout} held-out ones (p = {p_value:.2g}{allowing}), not above {p_min:g}"
    )
    return _check("unique_copies", p_value, p_min, p_value > p_min, text), "" if p_value > p_min else reason


def _one_run_text(rows: str, guessed: str, p_min: float, allowing: str, reach: str) -> str:
    """The description of a one-run audit check: which rows it guesses, how, and what it can see."""
    return (
        f"{rows}: guessing 'training' for each {guessed} and 'held out' for the others is not right more often "
        f"than chance (one-run audit, p-value above {p_min:g}{allowing}); {reach}"
    )


def _rare_check(
    rare: RareCopyResult, holdout_share: float, stated_epsilon: float | None, p_min: float
) -> tuple[dict[str, Any], str]:
    """The rare-copies check, with the fewest memorised rare records it catches at 99% at this holdout."""
    epsilon, allowing = _allowance(stated_epsilon)
    p_value = rare.p_value(epsilon)
    text = _one_run_text("exact copies among the rarest real rows that occur once", "copied row", p_min, allowing,
                         rare_copies_reach(holdout_share, epsilon, p_min))
    if p_value > p_min:
        return _check("rare_copies", p_value, p_min, True, text), ""
    best = rare.best(epsilon)
    return _check("rare_copies", p_value, p_min, False, text), (
        f"exact copies of rare records (rare_copies): among the {best.rows} rarest rows that occur once, "
        f"{best.copied_train} of the {best.copied} copied are training rows and {best.missed_holdout} of the "
        f"{best.missed} not copied are held out (p = {p_value:.2g}{allowing}), not above {p_min:g}"
    )


def _values_check(
    values: UniqueValueResult, holdout_share: float, stated_epsilon: float | None, p_min: float
) -> tuple[dict[str, Any], str]:
    """The unique-values check, with the fewest rows holding such values it needs at this holdout."""
    epsilon, allowing = _allowance(stated_epsilon)
    p_value = values.p_value(epsilon)
    text = _one_run_text("values no other real row shares", "row whose value the synthetic table holds", p_min,
                         allowing, unique_values_reach(holdout_share, epsilon, p_min))
    guesses = values.guesses
    reason = (
        f"values no other real row shares (unique_values): of the {guesses.rows} real rows holding one, the "
        f"synthetic table holds the value of {guesses.copied_train} training and "
        f"{guesses.copied - guesses.copied_train} held-out rows, and not of {guesses.missed_holdout} held-out "
        f"and {guesses.missed - guesses.missed_holdout} training rows (p = {p_value:.2g}{allowing}), "
        f"not above {p_min:g}"
    )
    return _check("unique_values", p_value, p_min, p_value > p_min, text), "" if p_value > p_min else reason


def evaluate_policy(
    audit: AuditResult | Mapping[str, float], stated_epsilon: float | None, policy: Policy | None = None
) -> tuple[str, list[str], list[dict[str, Any]]]:
    """``(verdict, reasons, checks)`` of an audit (or its summary) under ``policy`` (default if None).

    ``stated_epsilon`` is the release's epsilon, or None for data that is not a DP release. Each
    check is ``{name, value, threshold, passed, description}``; ``passed`` is None for a figure
    the audit could not measure, which never fails the release but is listed in ``reasons``.
    """
    policy = policy or load_policy()
    summary = audit.summary() if isinstance(audit, AuditResult) else dict(audit)
    if stated_epsilon is not None:
        number("stated_epsilon", stated_epsilon, low=0.0, low_open=True, error=DataError)
    checks, reasons = [], []
    if stated_epsilon is not None and policy.epsilon_bound_below_stated:
        bound, ceiling = summary["epsilon_lower_bound"], summary["max_certifiable_epsilon"]
        passed = bound < stated_epsilon
        text = (
            f"empirical epsilon lower bound (largest over the membership attacks, 95%) below the stated "
            f"epsilon {stated_epsilon:g}; these sample sizes could show at most {ceiling:.3g}"
        )
        checks.append(_check("epsilon_lower_bound", bound, float(stated_epsilon), passed, text))
        if not passed:
            reasons.append(
                f"the empirical epsilon lower bound {bound:.3g} is not below the stated epsilon "
                f"{stated_epsilon:g}: {IMPLEMENTATION_AT_FAULT} (a correct DP release cannot be attacked "
                "beyond its epsilon, up to the 5% error of the bound)"
            )
    if stated_epsilon is None:
        auc = summary["membership_auc_upper"]
        passed = auc < policy.membership_auc_max
        text = (
            "upper end of the 95% interval of the strongest membership attack's AUC below "
            f"{policy.membership_auc_max:g}"
        )
        checks.append(_check("membership_auc", auc, policy.membership_auc_max, passed, text))
        if not passed:
            reasons.append(
                f"membership inference{_strongest(audit)}: AUC up to {auc:.3f}, not below "
                f"{policy.membership_auc_max:g}: the synthetic data tells training records from held-out ones"
            )
    if isinstance(audit, AuditResult) and audit.copies is not None:
        check, reason = _copies_check(audit.copies, stated_epsilon, policy.unique_copies_p_min)
        checks.append(check)
        if reason:
            reasons.append(reason)
    if isinstance(audit, AuditResult) and audit.rare is not None:
        sizes = audit.parameters["n_train"], audit.parameters["n_holdout"]
        check, reason = _rare_check(audit.rare, sizes[1] / sum(sizes), stated_epsilon, policy.rare_copies_p_min)
        checks.append(check)
        if reason:
            reasons.append(reason)
    if isinstance(audit, AuditResult) and audit.values is not None:
        share = audit.values.n_holdout / (audit.values.n_train + audit.values.n_holdout)
        check, reason = _values_check(audit.values, share, stated_epsilon, policy.unique_values_p_min)
        checks.append(check)
        if reason:
            reasons.append(reason)
    statuses = audit.risk_statuses() if isinstance(audit, AuditResult) else {}
    for key, (figure, words) in _RISKS.items():
        value, threshold = summary[figure], getattr(policy, key)
        text = f"lower end of the 95% interval of the {words} below {threshold:g} (a FAIL needs evidence)"
        status = statuses.get(figure, {"status": "not run" if math.isnan(value) else "measured"})
        if status["status"] == "not above baseline":
            checks.append(_check(figure, value, threshold, True, f"{text}: no attack beat its random-guess baseline"))
        elif status["status"] == "inconclusive":
            checks.append(_check(figure, value, threshold, None, text))
            reasons.append(
                f"the {words} is inconclusive: only {status['n_attacks']} of the {status['attacks_requested']} "
                f"attacks asked for could be made (at least {MIN_CONCLUSIVE_ATTACKS} bound a risk), so it "
                "does not decide the verdict"
            )
        elif status["status"] == "not run":
            checks.append(_check(figure, value, threshold, None, text))
            reasons.append(f"the {words} could not be measured (see the skipped attacks)")
        else:
            value = status.get("risk_low", value)
            passed = value < threshold
            checks.append(_check(figure, value, threshold, passed, text))
            if not passed:
                culprit = f" ({status['attack']}" if "attack" in status else ""
                if culprit and status.get("column"):
                    culprit += f", secret column '{status['column']}'"
                interval = f" (95% interval {value:.3f}-{status['risk']:.3f})" if "risk" in status else ""
                reasons.append(
                    f"{words} at least {value:.3f}{interval}{culprit + ')' if culprit else ''}, not below {threshold:g}"
                )
    verdict = FAIL if any(check["passed"] is False for check in checks) else PASS
    if verdict == PASS:
        reasons.insert(0, "every check of the policy passed")
    return verdict, reasons, checks
