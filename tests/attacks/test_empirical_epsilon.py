"""Empirical epsilon: Clopper–Pearson bounds, the DP hypothesis-test bound, and threshold hygiene."""

import math

import numpy as np
import pytest
from scipy import stats

from dpsynth.attacks.empirical_epsilon import (
    audit_epsilon,
    calibration_split,
    choose_threshold,
    clopper_pearson,
    epsilon_lower_bound,
    evaluate_threshold,
    max_certifiable_epsilon,
)
from dpsynth.errors import DataError


@pytest.mark.parametrize(("k", "n"), [(7, 20), (1, 1000), (999, 1000), (50, 100)])
def test_clopper_pearson_matches_beta_quantiles(k, n):
    lower, upper = clopper_pearson(k, n, 0.95)
    assert lower == pytest.approx(stats.beta.ppf(0.025, k, n - k + 1), rel=1e-12)
    assert upper == pytest.approx(stats.beta.ppf(0.975, k + 1, n - k), rel=1e-12)


def test_clopper_pearson_ends_are_closed_forms():
    # k = 0: upper = 1 - (alpha/2)^(1/n); k = n: lower = (alpha/2)^(1/n).
    assert clopper_pearson(0, 1000, 0.95) == pytest.approx((0.0, 1 - 0.025 ** (1 / 1000)), rel=1e-12)
    assert clopper_pearson(1000, 1000, 0.95) == pytest.approx((0.025 ** (1 / 1000), 1.0), rel=1e-12)
    assert clopper_pearson(7, 20, 0.95) == pytest.approx((0.1539092, 0.5921885), abs=1e-7)


def test_clopper_pearson_refuses_impossible_counts():
    with pytest.raises(DataError, match="k <= n"):
        clopper_pearson(5, 4)
    with pytest.raises(DataError, match="confidence"):
        clopper_pearson(1, 4, confidence=1.0)


def test_max_certifiable_epsilon_for_1000_against_1000_is_5_6():
    bound = max_certifiable_epsilon(1000, 1000, 0.95)
    tpr_lower = 0.025 ** (1 / 1000)
    assert bound == pytest.approx(math.log(tpr_lower / (1 - tpr_lower)), rel=1e-12)
    assert bound == pytest.approx(5.60, abs=0.005)


def test_epsilon_lower_bound_uses_the_tpr_over_fpr_form_by_hand():
    tp, fn, fp, tn = 90, 10, 5, 95
    tpr_lower = stats.beta.ppf(0.025, tp, fn + 1)
    fpr_upper = stats.beta.ppf(0.975, fp + 1, tn)
    expected = max(math.log(tpr_lower / fpr_upper), math.log((1 - fpr_upper) / (1 - tpr_lower)))
    assert epsilon_lower_bound(tp, fn, fp, tn) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(math.log(tpr_lower / fpr_upper), rel=1e-12)


def test_epsilon_lower_bound_uses_the_tnr_over_fnr_form_when_larger():
    # Nearly every member guessed, half the non-members too: the second form is the binding one.
    tp, fn, fp, tn = 100, 0, 50, 50
    tpr_lower = 0.025 ** (1 / 100)
    fpr_upper = stats.beta.ppf(0.975, fp + 1, tn)
    second = math.log((1 - fpr_upper) / (1 - tpr_lower))
    assert second > math.log(tpr_lower / fpr_upper)
    assert epsilon_lower_bound(tp, fn, fp, tn) == pytest.approx(second, rel=1e-12)


def test_delta_lowers_the_bound_and_a_useless_attack_gets_zero():
    assert epsilon_lower_bound(90, 10, 5, 95, delta=0.05) < epsilon_lower_bound(90, 10, 5, 95)
    assert epsilon_lower_bound(50, 50, 50, 50) == 0.0
    assert epsilon_lower_bound(0, 100, 0, 100) == 0.0


def test_choose_threshold_maximises_the_bound_on_calibration_data():
    # 45 members above every non-member, 5 mixed in among them: the cut sits at 0.6.
    scores = np.concatenate([np.linspace(0.6, 1, 45), np.linspace(0.05, 0.45, 5), np.linspace(0, 0.5, 50)])
    labels = np.repeat([True, False], 50)
    threshold = choose_threshold(scores, labels)
    candidates = np.unique(scores)
    bounds = [
        epsilon_lower_bound(
            int(np.sum(labels & (scores >= t))),
            int(np.sum(labels & (scores < t))),
            int(np.sum(~labels & (scores >= t))),
            int(np.sum(~labels & (scores < t))),
        )
        for t in candidates
    ]
    assert threshold == candidates[int(np.argmax(bounds))] == 0.6
    assert max(bounds) > 2


def test_audit_chooses_its_threshold_on_calibration_rows_only():
    rng = np.random.default_rng(3)
    labels = np.repeat([True, False], 400)
    scores = np.where(labels, rng.normal(1.5, 1, 800), rng.normal(0, 1, 800))
    calibration = calibration_split(labels, 0.5, np.random.default_rng(11))
    audit = audit_epsilon(scores, labels, np.random.default_rng(11))
    assert audit.threshold == choose_threshold(scores[calibration], labels[calibration])
    # Scrambling the evaluation rows changes the counts but never the threshold.
    scrambled = scores.copy()
    scrambled[~calibration] = rng.permutation(scrambled[~calibration])
    again = audit_epsilon(scrambled, labels, np.random.default_rng(11))
    assert again.threshold == audit.threshold
    assert (again.true_positives, again.false_positives) != (audit.true_positives, audit.false_positives)
    evaluated = evaluate_threshold(scores[~calibration], labels[~calibration], audit.threshold)
    assert evaluated == audit
    assert audit.true_positives + audit.false_negatives == 200
    assert audit.max_certifiable_epsilon == pytest.approx(max_certifiable_epsilon(200, 200))


def test_calibration_split_is_stratified():
    labels = np.repeat([True, False], [300, 100])
    mask = calibration_split(labels, 0.3, np.random.default_rng(0))
    assert np.count_nonzero(mask & labels) == 90
    assert np.count_nonzero(mask & ~labels) == 30


def _randomized_response_audit(epsilon: float, n: int, rng: np.random.Generator) -> float:
    """Bound from guesses of an exactly epsilon-DP mechanism: randomized response on membership."""
    keep = math.exp(epsilon) / (1 + math.exp(epsilon))
    labels = np.repeat([True, False], n)
    guesses = np.where(rng.random(2 * n) < keep, labels, ~labels).astype(float)
    return audit_epsilon(guesses, labels, rng).epsilon_lower_bound


def test_bound_stays_below_the_epsilon_of_a_dp_mechanism_at_the_stated_rate():
    # Randomized response is exactly 1-DP; the bound may pass 1 with probability at most 5%.
    rng = np.random.default_rng(2024)
    bounds = np.array([_randomized_response_audit(1.0, 1000, rng) for _ in range(200)])
    assert np.mean(bounds > 1.0) <= 0.05
    # ... and it is not vacuous: it gets most of the way there.
    assert np.median(bounds) > 0.6


def test_bound_of_a_blind_attack_is_rarely_positive():
    rng = np.random.default_rng(7)
    labels = np.repeat([True, False], 200)
    bounds = np.array([audit_epsilon(rng.random(400), labels, rng).epsilon_lower_bound for _ in range(200)])
    assert np.mean(bounds > 0) <= 0.05
