"""One line per attack result that says what it measures, its status and why it passes or fails.

A risk figure beside a PASS is misread when its explanation is screens away ("singling-out risk
0.107, beats random guess: yes" inside a PASS). Each row of the certificate therefore carries its
own reading, judged by the rules the policy applies (:func:`dpsynth.certificate.policy.evaluate_policy`
over :meth:`dpsynth.attacks.suite.AuditResult.risk_statuses`), against the threshold the
certificate's own policy states.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from dpsynth.attacks.rare_copies import detectable_records, guess_rates
from dpsynth.attacks.risk import MIN_CONCLUSIVE_ATTACKS
from dpsynth.attacks.suite import PREDICTABLE_SECRET

MEASURED, NOT_ABOVE, INCONCLUSIVE, NOT_COUNTED, NOT_RUN = (
    "measured", "not above baseline", "inconclusive", "not counted", "not run"
)
# Each risk family's policy threshold, by the prefix of its attacks' names.
THRESHOLDS = {
    "singling_out": "singling_out_risk_max",
    "linkage": "linkage_risk_max",
    "attribute_inference": "inference_risk_max",
}
# What each membership attack and each risk attack measures, in a reader's words.
MEASURES = {
    "distance_to_closest_record": "whether training records lie closer to a synthetic row than held-out records do",
    "density_ratio": "whether the synthetic rows are denser around training records than around held-out ones",
    "shadow_model": "whether generators refitted with and without a target record tell it apart",
    "singling_out_univariate": "whether a one-column predicate read from the synthetic rows picks out exactly "
                               "one training record",
    "singling_out_multivariate": "whether a three-column predicate read from the synthetic rows picks out exactly "
                                 "one training record",
    "linkage": "whether the synthetic rows join two halves of a training record's columns",
}


def _family(name: str) -> str:
    return next(prefix for prefix in THRESHOLDS if name.startswith(prefix))


def risk_reading(risk: Mapping[str, Any], thresholds: Mapping[str, Any]) -> dict[str, str]:
    """``{status, text}`` of one Anonymeter-style risk row (a RiskResult's dict).

    A row counts against a release only when it is conclusive, beats its random-guess baseline
    and (for attribute inference of a secret the control records already guess well) has a
    risk interval that excludes 0; then the lower end of its interval (the evidence) is compared
    with the policy's threshold.
    """
    name, secret = risk["name"], risk["parameters"].get("secret")
    measures = MEASURES.get(name) or f"whether the other columns reveal a training record's '{secret}'"
    threshold = float(thresholds[THRESHOLDS[_family(name)]])
    low, high = risk["risk_interval"]
    requested = int(risk["parameters"].get("n_attacks_requested", risk["n_attacks"]))
    if not risk["conclusive"]:
        status = INCONCLUSIVE
        why = (f"only {risk['n_attacks']} of {requested} attacks could be made (at least "
               f"{MIN_CONCLUSIVE_ATTACKS} bound a risk), so it does not decide the verdict")
    elif not risk["beats_baseline"]:
        status = NOT_ABOVE
        why = "the attack did no better than a random guess, so it passes whatever its figure"
    elif secret and risk["control"]["value"] > PREDICTABLE_SECRET and low <= 0:
        status = NOT_COUNTED
        why = (f"control records already guess '{secret}' right {risk['control']['value']:.0%} of the time and "
               "the risk interval includes 0, so the figure says nothing (it passes)")
    else:
        # The policy fails a release on evidence only: the lower end of the interval is judged.
        status = MEASURED
        outcome = (f"below the policy's {threshold:g}: passes" if low < threshold
                   else f"not below the policy's {threshold:g}: FAILS")
        why = f"risk {low:.3f} to {high:.3f} (95% interval), its lower end {outcome}"
    return {"status": status, "text": f"Measures {measures}. {status.capitalize()}: {why}."}


def membership_reading(attack: Mapping[str, Any], stated_epsilon: float | None, auc_max: float) -> dict[str, str]:
    """``{status, text}`` of one membership attack: its AUC against guessing and, for a release with
    a stated epsilon, its empirical epsilon bound against that epsilon (else its AUC against the
    policy's ``auc_max``)."""
    measures = MEASURES.get(attack["name"], "whether training records can be told from held-out ones")
    auc, guess = attack["auc"], attack["baseline_auc"]
    above = auc["lower"] > guess["upper"]
    status = MEASURED if above else NOT_ABOVE
    found = (f"AUC {auc['value']:.3f} [{auc['lower']:.3f}, {auc['upper']:.3f}], "
             + ("above" if above else "within") + f" the guessing range up to {guess['upper']:.3f}")
    if stated_epsilon is not None:
        bound = float(attack["epsilon_lower_bound"])
        verdict = (f"empirical epsilon lower bound {bound:.3g}, "
                   + (f"below the stated epsilon {stated_epsilon:g}: passes" if bound < stated_epsilon
                      else f"not below the stated epsilon {stated_epsilon:g}: FAILS"))
    else:
        verdict = (f"AUC up to {auc['upper']:.3f}, "
                   + (f"below the policy's {auc_max:g}: passes" if auc["upper"] < auc_max
                      else f"not below the policy's {auc_max:g}: FAILS"))
    return {"status": status, "text": f"Measures {measures}. {status.capitalize()}: {found}; {verdict}."}


def check_reading(check: Mapping[str, Any], statuses: Mapping[str, Mapping[str, Any]]) -> str:
    """One line for a policy check: its status (the risk's, for a risk check), figure and threshold."""
    status = statuses.get(check["name"], {}).get("status")
    value, threshold = check["value"], check["threshold"]
    figure = "not measured" if value is None else f"{value:.3g}"
    outcome = {True: "passes", False: "FAILS", None: "does not decide the verdict"}[check["passed"]]
    if status == INCONCLUSIVE:
        detail = statuses[check["name"]]
        return (f"inconclusive ({detail['n_attacks']} of {detail['attacks_requested']} attacks made): "
                f"{figure} against {threshold:g}, {outcome}")
    prefix = f"{status}: " if status else ""
    return f"{prefix}{figure} against {threshold:g}: {outcome}"


REACH_LIMIT = 20_000
# A leak of exact one-way counts: every attack of the suite reads rows, so it is seen only through
# the rows that hold a value no other real row shares (the unique-values check).
MARGINALS_UNSEEN = (
    "A generator that reveals exact one-way counts but keeps no value that only one real row holds (a "
    "table whose every value is shared) leaves nothing for these attacks to find."
)


def rare_copies_reach(holdout_share: float, epsilon: float, p_min: float) -> str:
    """What the rare-copies check can see at this holdout share: the fewest memorised rare records
    it catches in 99% of audits (:func:`dpsynth.attacks.rare_copies.detectable_records`)."""
    if not 0 < holdout_share < 1:
        return "with no held-out rows it sees nothing"
    fewest = detectable_records(holdout_share, epsilon, p_min, limit=REACH_LIMIT)
    if fewest is None:
        return f"at this holdout share it cannot see a memoriser of fewer than {REACH_LIMIT:,} records"
    return (
        f"at a holdout share of {holdout_share:.2g} it catches in 99% of audits a generator that copies "
        f"the training ones of at least {fewest} of the rarest real records; fewer can pass unseen"
    )


def unique_copies_reach(holdout_share: float, epsilon: float, p_min: float) -> str:
    """What the unique-copies check can see: the fewest training copies, with none held out, whose
    p-value ``q^k`` reaches ``p_min`` (``q``: the chance a copy is a training row under epsilon-DP)."""
    if not 0 < holdout_share < 1:
        return "with no held-out rows it sees nothing"
    fewest = math.ceil(math.log(p_min) / math.log(guess_rates(1 - holdout_share, epsilon)[0]))
    return (
        f"at a holdout share of {holdout_share:.2g} it needs at least {fewest} exact copies of training rows "
        "that occur once, and none of held-out ones, to fail a release"
    )


def unique_values_reach(holdout_share: float, epsilon: float, p_min: float) -> str:
    """What the unique-values check can see: the fewest real rows holding a value no other row
    shares that a generator keeping exact values must expose to be caught in 99% of audits."""
    if not 0 < holdout_share < 1:
        return "with no held-out rows it sees nothing"
    fewest = detectable_records(holdout_share, epsilon, p_min, limit=REACH_LIMIT, tests=1)
    if fewest is None:
        return f"at this holdout share it cannot see fewer than {REACH_LIMIT:,} such rows"
    return (
        f"at a holdout share of {holdout_share:.2g} it catches in 99% of audits a generator that keeps the "
        f"exact values of at least {fewest} real rows holding a value no other row shares; fewer can pass unseen"
    )


def audit_limits(thresholds: Mapping[str, Any], holdout_share: float, stated_epsilon: float | None) -> list[str]:
    """What this audit could and could not see, one sentence per limit."""
    epsilon = 0.0 if stated_epsilon is None else float(stated_epsilon)
    return [
        "Exact copies of rows that occur once (unique_copies): "
        + unique_copies_reach(holdout_share, epsilon, float(thresholds["unique_copies_p_min"])) + ".",
        "Exact copies of the rarest rows (rare_copies): "
        + rare_copies_reach(holdout_share, epsilon, float(thresholds["rare_copies_p_min"])) + ".",
        "Values no other real row shares (unique_values): "
        + unique_values_reach(holdout_share, epsilon, float(thresholds["unique_values_p_min"])) + ".",
        MARGINALS_UNSEEN,
    ]
