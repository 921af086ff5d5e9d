"""Empirical lower bounds on epsilon from the errors of a membership attack.

Attacks run on the custodian's side and read real rows: these bounds describe a release to its
custodian and are not part of the DP guarantee. For a DP release they must stay below its
stated epsilon (up to the stated confidence); a bound above it is evidence of a broken
implementation or accounting.

The bound. An (epsilon, delta)-DP mechanism limits every test of "member" against "non-member"
(Kairouz, Oh and Viswanath 2015, the hypothesis-testing view of DP)::

    TPR <= exp(epsilon) * FPR + delta        and        TNR <= exp(epsilon) * FNR + delta,

so epsilon >= log((TPR - delta) / FPR) and epsilon >= log((1 - FPR - delta) / (1 - TPR)). As
in the auditing of Jagielski, Ullman and Oprea (2020) and Nasr et al. (2021), TPR and FPR are
replaced by Clopper–Pearson bounds: the lower bound of TPR and the upper bound of FPR, each
one-sided at level (1 + confidence) / 2 (the ends of the two-sided interval at ``confidence``).
By the union bound both hold together with probability at least ``confidence``; both forms
grow with TPR and shrink with FPR, so the larger of the two holds on that same event. The
result is clipped at 0.

With 1,000 members and 1,000 non-members a perfect attack (TP = 1000, FP = 0) gets a TPR bound
of 0.025 ** (1 / 1000) = 0.99632 and an FPR bound of 0.00368, so no attack on that many
records can show more than log(0.99632 / 0.00368) = 5.60 at 95%: see
:func:`max_certifiable_epsilon`, reported beside every bound.

The threshold turning scores into guesses is chosen on a calibration split
(:func:`choose_threshold`) and the bound is computed on the held-apart split
(:func:`evaluate_threshold`): choosing it on the evaluated data would make the bound optimistic.

Caveat: Clopper–Pearson treats each record as an independent trial. Members and non-members of
one release come from one random split and one run of the generator, so their guesses are not
independent trials of the DP definition; Steinke, Nasr and Jagielski (2023, "Privacy auditing
with one (1) training run") give the analysis that makes one-run audits rigorous. The bound here
is the customary two-sample one and is reported as such.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from dpsynth.errors import DataError
from dpsynth.validation import integer, number


@dataclass(frozen=True)
class EpsilonAudit:
    """An empirical epsilon lower bound at a threshold chosen on calibration data.

    Counts are those of the evaluation split (guess "member" when the score is at least
    ``threshold``); ``max_certifiable_epsilon`` is the bound a perfect attack would get on an
    evaluation split of the same sizes.
    """

    threshold: float
    true_positives: int
    false_negatives: int
    false_positives: int
    true_negatives: int
    delta: float
    confidence: float
    epsilon_lower_bound: float
    max_certifiable_epsilon: float

    def to_dict(self) -> dict[str, Any]:
        """The audit as plain JSON-ready values."""
        return dataclasses.asdict(self)


def _check_confidence(confidence: float) -> float:
    return number("confidence", confidence, low=0, high=1, low_open=True, high_open=True)


def _check_delta(delta: float) -> float:
    return number("delta", delta, low=0, high=1, high_open=True)


def _check_count(name: str, value: Any) -> int:
    return integer(name, value, low=0)


def _interval(k: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided Clopper–Pearson bounds, elementwise; 0 and 1 at the ends (k = 0, k = n)."""
    tail = (1 - confidence) / 2
    lower = stats.beta.ppf(tail, np.maximum(k, 1), n - k + 1)
    upper = stats.beta.ppf(1 - tail, k + 1, np.maximum(n - k, 1))
    return np.where(k == 0, 0.0, lower), np.where(k == n, 1.0, upper)


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson (1934) interval for a binomial proportion: ``k`` successes in ``n`` trials.

    Two-sided at ``confidence`` with equal tails, so each end is a one-sided bound at level
    (1 + confidence) / 2: lower = Beta quantile (1 - confidence) / 2 of (k, n - k + 1), upper =
    Beta quantile (1 + confidence) / 2 of (k + 1, n - k); 0 when k = 0 and 1 when k = n.
    """
    k, n, confidence = _check_count("k", k), _check_count("n", n), _check_confidence(confidence)
    if n < 1 or k > n:
        raise DataError(f"clopper_pearson needs 0 <= k <= n and n >= 1; got k={k}, n={n}")
    lower, upper = _interval(np.array(k), np.array(n), confidence)
    return float(lower), float(upper)


def _bounds(
    tp: np.ndarray, fn: np.ndarray, fp: np.ndarray, tn: np.ndarray, delta: float, confidence: float
) -> np.ndarray:
    """Elementwise epsilon lower bounds (see the module docstring), clipped at 0."""
    tpr_lower, _ = _interval(tp, tp + fn, confidence)
    _, fpr_upper = _interval(fp, fp + tn, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = np.log(np.maximum(tpr_lower - delta, 0.0) / fpr_upper)
        negative = np.log(np.maximum(1 - fpr_upper - delta, 0.0) / (1 - tpr_lower))
    return np.maximum(np.maximum(positive, negative), 0.0)


def epsilon_lower_bound(tp: int, fn: int, fp: int, tn: int, delta: float = 0.0, confidence: float = 0.95) -> float:
    """The largest epsilon the counts prove at ``confidence``: see the module docstring.

    ``tp``, ``fn`` count members guessed member / non-member, ``fp``, ``tn`` non-members guessed
    member / non-member. The counts must come from a threshold chosen on other data.
    """
    tp, fn, fp, tn = (_check_count(name, value) for name, value in (("tp", tp), ("fn", fn), ("fp", fp), ("tn", tn)))
    if tp + fn < 1 or fp + tn < 1:
        raise DataError("epsilon_lower_bound needs at least one member (tp + fn) and one non-member (fp + tn)")
    delta, confidence = _check_delta(delta), _check_confidence(confidence)
    return float(_bounds(np.array(tp), np.array(fn), np.array(fp), np.array(tn), delta, confidence))


def max_certifiable_epsilon(n_members: int, n_nonmembers: int, confidence: float = 0.95, delta: float = 0.0) -> float:
    """The bound of a perfect attack (every member and no non-member guessed member).

    No attack evaluated on ``n_members`` against ``n_nonmembers`` can show a larger epsilon:
    about 5.60 for 1,000 against 1,000 at 95%.
    """
    return epsilon_lower_bound(n_members, 0, 0, n_nonmembers, delta, confidence)


def _scores_and_labels(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels)
    if scores.ndim != 1 or labels.shape != scores.shape:
        raise DataError("scores and labels must be 1-d arrays of the same length")
    if labels.dtype != bool:
        raise DataError(f"labels must be booleans (True for a member); got {labels.dtype}")
    if np.isnan(scores).any():
        raise DataError("scores must not be NaN")
    if labels.all() or not labels.any():
        raise DataError("scores need at least one member and one non-member")
    return scores, labels


def choose_threshold(scores: Any, labels: Any, delta: float = 0.0, confidence: float = 0.95) -> float:
    """The score threshold whose epsilon bound on these (calibration) data is largest.

    Every distinct score is tried as a threshold (guess "member" when score >= threshold) in
    one vectorised pass; ties go to the lowest threshold.
    """
    scores, labels = _scores_and_labels(scores, labels)
    delta, confidence = _check_delta(delta), _check_confidence(confidence)
    members, nonmembers = np.sort(scores[labels]), np.sort(scores[~labels])
    candidates = np.unique(scores)
    tp = len(members) - np.searchsorted(members, candidates, side="left")
    fp = len(nonmembers) - np.searchsorted(nonmembers, candidates, side="left")
    bounds = _bounds(tp, len(members) - tp, fp, len(nonmembers) - fp, delta, confidence)
    return float(candidates[np.argmax(bounds)])


def evaluate_threshold(
    scores: Any, labels: Any, threshold: float, delta: float = 0.0, confidence: float = 0.95
) -> EpsilonAudit:
    """The epsilon bound of guessing "member" when score >= ``threshold`` on these (evaluation) data."""
    scores, labels = _scores_and_labels(scores, labels)
    if not (isinstance(threshold, numbers.Real) and math.isinf(threshold)):  # +-inf: guess all or none
        number("threshold", threshold)
    guessed = scores >= threshold
    tp, fp = int(np.count_nonzero(guessed & labels)), int(np.count_nonzero(guessed & ~labels))
    fn, tn = int(np.count_nonzero(labels)) - tp, int(np.count_nonzero(~labels)) - fp
    return EpsilonAudit(
        threshold=float(threshold),
        true_positives=tp,
        false_negatives=fn,
        false_positives=fp,
        true_negatives=tn,
        delta=float(delta),
        confidence=float(confidence),
        epsilon_lower_bound=epsilon_lower_bound(tp, fn, fp, tn, delta, confidence),
        max_certifiable_epsilon=max_certifiable_epsilon(tp + fn, fp + tn, confidence, delta),
    )


def calibration_split(labels: Any, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask of the calibration rows: ``fraction`` of the members and of the non-members.

    Stratified, drawn with ``rng``; each side keeps at least one member and one non-member.
    """
    labels = np.asarray(labels)
    if labels.dtype != bool or labels.ndim != 1:
        raise DataError("labels must be a 1-d boolean array (True for a member)")
    number("calibration_fraction", fraction, low=0, high=1, low_open=True, high_open=True)
    if not isinstance(rng, np.random.Generator):
        raise DataError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    mask = np.zeros(len(labels), dtype=bool)
    for group in (np.flatnonzero(labels), np.flatnonzero(~labels)):
        if len(group) < 2:
            raise DataError("a calibration split needs at least two members and two non-members")
        size = min(max(round(fraction * len(group)), 1), len(group) - 1)
        mask[rng.choice(group, size=size, replace=False)] = True
    return mask


def audit_epsilon(
    scores: Any,
    labels: Any,
    rng: np.random.Generator,
    *,
    calibration_fraction: float = 0.5,
    delta: float = 0.0,
    confidence: float = 0.95,
) -> EpsilonAudit:
    """Split into calibration and evaluation, choose the threshold on the first, bound on the second."""
    scores, labels = _scores_and_labels(scores, labels)
    calibration = calibration_split(labels, calibration_fraction, rng)
    threshold = choose_threshold(scores[calibration], labels[calibration], delta, confidence)
    return evaluate_threshold(scores[~calibration], labels[~calibration], threshold, delta, confidence)
