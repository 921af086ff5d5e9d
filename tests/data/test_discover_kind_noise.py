"""The DP kind decision on noisy value-class counts: noise alone must not turn a column's kind."""

import numpy as np

from dpsynth.data.discover import decide_kind
from dpsynth.schema.kinds import DATE, DATETIME, TEXT, VALUE_CLASSES, WHOLE

SIGMA = 224.0  # one value-class count's deviation for 3,000 Adult rows at epsilon 1


def _noisy(rng, exact):
    return exact + rng.normal(0.0, SIGMA, size=exact.shape)


def test_the_counts_that_turned_age_into_text_decide_integer():
    """Recorded from a release of 3,000 Adult rows: text, dates and date-times, each noise,
    summed past one count's slack."""
    counts = np.zeros(len(VALUE_CLASSES))
    counts[WHOLE], counts[TEXT], counts[DATE], counts[DATETIME] = 2824, 165, 210, 426
    assert decide_kind(counts, SIGMA) == "integer"


def test_noise_seldom_turns_whole_numbers_into_text_and_text_stays_text():
    rng = np.random.default_rng(0)
    numbers, text = np.zeros(len(VALUE_CLASSES)), np.zeros(len(VALUE_CLASSES))
    numbers[WHOLE] = text[TEXT] = 3000
    kinds = [decide_kind(_noisy(rng, numbers), SIGMA) for _ in range(2000)]
    assert kinds.count("categorical") <= 10  # 0.13% expected: 2.7 of 2,000
    assert all(decide_kind(_noisy(rng, text), SIGMA) == "categorical" for _ in range(200))
