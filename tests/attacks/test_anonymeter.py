"""Anonymeter-style evaluators: rates and risk formulas, tiny tables whose risk is known
exactly, and Adult sanity cases (a copy of the training data fails, independent marginals
pass, marginals leaking the exact near-unique ``fnlwgt`` are caught by singling out)."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad

from dpsynth.attacks.inference import attribute_inference
from dpsynth.attacks.linkage import linkage, random_link_probability
from dpsynth.attacks.risk import Rate, RiskResult, residual_risk, wilson
from dpsynth.attacks.singling_out import _singling_out_integral, singling_out
from dpsynth.errors import DataError
from dpsynth.schema import Categorical, Datetime, Numeric, Schema, decode, encode
from tests.conftest import example_adult

SCHEMA = Schema.load(Path(__file__).resolve().parents[2] / "dpsynth" / "datasets" / "adult.schema.json")
Z = 1.959963984540054
LINK_COLUMNS = (
    ["age", "workclass", "education", "marital-status", "occupation", "hours-per-week"],
    ["relationship", "race", "sex", "native-country", "income", "capital-gain", "capital-loss", "fnlwgt"],
)


# ----------------------------------------------------------------------------- rates and risk
@pytest.mark.parametrize(
    "successes, n, low, high",
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table II, method 3.
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_interval_matches_published_values(successes, n, low, high):
    rate = Rate.of(successes, n)
    assert rate.low == pytest.approx(low, abs=5e-5)
    assert rate.high == pytest.approx(high, abs=5e-5)


def test_wilson_centre_and_half_width_by_hand():
    centre, half = wilson(8, 10)
    assert centre == pytest.approx((8 + Z**2 / 2) / (10 + Z**2))
    assert half == pytest.approx(Z / (10 + Z**2) * math.sqrt(8 * 2 / 10 + Z**2 / 4))
    centre_99, half_99 = wilson(8, 10, confidence=0.99)
    assert half_99 > half and 0.5 < centre_99 < centre  # a larger z shrinks the centre towards 1/2


def test_residual_risk_and_its_propagated_error():
    attack, control = Rate.of(60, 100), Rate.of(20, 100)
    risk, error = residual_risk(attack, control)
    a, c = attack.value, control.value
    assert risk == pytest.approx((a - c) / (1 - c))
    by_hand = math.sqrt((attack.half_width / (1 - c)) ** 2 + (control.half_width * (1 - a) / (1 - c) ** 2) ** 2)
    assert error == pytest.approx(by_hand)


def test_risk_result_clips_flags_and_serialises():
    result = RiskResult.from_counts("toy", {"k": 1}, 100, 25, control_successes=30, baseline_successes=40)
    assert result.risk == 0.0  # (a - c) / (1 - c) < 0 is reported as 0, as Anonymeter does
    assert result.risk_interval[0] == 0.0 and 0.0 < result.risk_interval[1] < 1.0
    assert not result.beats_baseline
    described = json.loads(json.dumps(result.to_dict()))
    assert described["beats_baseline"] is False
    assert described["attack"]["successes"] == 25 and described["n_attacks"] == 100
    strong = RiskResult.from_counts("toy", {}, 100, 100, control_successes=0, baseline_successes=0)
    assert strong.beats_baseline and strong.risk_interval[1] == 1.0


def test_singling_out_model_is_the_integral_of_cohen_and_nissims_probability():
    for n, w in [(50, 0.01), (1000, 0.002), (5000, 1e-5)]:
        expected, _ = quad(lambda u, n=n: n * u * (1 - u) ** (n - 1), 0, w)
        assert _singling_out_integral(n, w, 1.0) == pytest.approx(expected, rel=1e-6)


def test_random_link_probability_matches_counting():
    # Two random 2-subsets of 5 records: 1 - C(3, 2) / C(5, 2) = 1 - 3/10.
    assert random_link_probability(5, 2) == pytest.approx(0.7)
    assert random_link_probability(1000, 1) == pytest.approx(0.001)


# ----------------------------------------------------------------------------- exact toy cases
def exact_risk(n):
    """Risk when every training attack succeeds and no control attack does: n / (n + z^2 / 2)."""
    return n / (n + Z**2 / 2)


def test_singling_out_on_a_toy_table_with_known_risk():
    schema = Schema((Categorical("c", tuple(f"v{i}" for i in range(20)), missing=False),))
    once, twice = [f"v{i}" for i in range(10)], [f"v{i}" for i in range(10, 20)]
    synthetic = pd.DataFrame({"c": once + twice * 2})  # v0..v9 are unique: ten predicates
    train = pd.DataFrame({"c": once + twice * 2})  # each singles out one training record
    control = pd.DataFrame({"c": once * 2 + twice})  # and none of the control records
    result = singling_out(train, control, synthetic, schema, n_attacks=50, mode="univariate", random_state=0)
    assert result.n_attacks == 10
    assert (result.attack.successes, result.control.successes) == (10, 0)
    assert result.risk == pytest.approx(exact_risk(10))


def test_singling_out_predicates_on_dates_extremes_and_a_missing_value():
    schema = Schema((Datetime("d", "2020-01-01", "2020-12-31", missing=False), Numeric("x", 0, 10)))
    days = list(pd.date_range("2020-01-01", periods=10, freq="D").strftime("%Y-%m-%d"))
    table = pd.DataFrame({"d": days[:5] + days[5:] * 2, "x": [np.nan] + [1.0] * 14})
    control = pd.DataFrame({"d": days[:5] * 2 + days[5:], "x": [np.nan] * 2 + [1.0] * 13})
    result = singling_out(table, control, table, schema, n_attacks=50, mode="univariate", random_state=0)
    # Five unique dates (d == v), the unique earliest date (d <= min) and the one missing x.
    assert result.n_attacks == 7
    assert (result.attack.successes, result.control.successes) == (7, 0)


def whole(name):
    return Numeric(name, 0, 99, integer=True, missing=False)


def test_linkage_on_a_toy_table_with_known_risk():
    schema = Schema((whole("x"), whole("y")))
    i = np.arange(100)
    train = pd.DataFrame({"x": i, "y": 99 - i})
    # A control record (j, j) is nearest to synthetic record j on x and to 99 - j on y: never linked.
    control = pd.DataFrame({"x": i, "y": i})
    result = linkage(train, control, train, schema, (["x"], ["y"]), n_attacks=60, random_state=0)
    assert (result.attack.successes, result.control.successes) == (60, 0)
    assert result.risk == pytest.approx(exact_risk(60))


def test_inference_on_a_toy_table_with_known_risk():
    schema = Schema((whole("x"), Categorical("s", ("a", "b"), missing=False)))
    i = np.arange(100)
    train = pd.DataFrame({"x": i, "s": np.where(i % 2 == 0, "a", "b")})
    control = pd.DataFrame({"x": i, "s": np.where(i % 2 == 0, "b", "a")})
    result = attribute_inference(train, control, train, schema, "s", n_attacks=40, random_state=0)
    assert (result.attack.successes, result.control.successes) == (40, 0)
    assert result.risk == pytest.approx(exact_risk(40))

    # A numeric secret is guessed right within tolerance x its public range (default 5% of 99).
    numeric = Schema((Categorical("k", tuple(range(100)), missing=False), whole("v")))
    exact, near = pd.DataFrame({"k": i, "v": i}), pd.DataFrame({"k": i, "v": np.clip(i + 4, 0, 99)})
    guessed = attribute_inference(exact, near, near, numeric, "v", n_attacks=100, random_state=0)
    assert guessed.attack.successes == 100 and guessed.control.successes == 100
    strict = attribute_inference(exact, near, near, numeric, "v", n_attacks=100, tolerance=0.0, random_state=0)
    assert strict.attack.successes == 1  # only v = 99, which the clipping leaves in place


def test_arguments_are_checked():
    schema = Schema((whole("x"), whole("y")))
    frame = pd.DataFrame({"x": np.arange(10), "y": np.arange(10)})
    with pytest.raises(DataError, match="mode"):
        singling_out(frame, frame, frame, schema, mode="bivariate")
    with pytest.raises(DataError, match="n_cols"):
        singling_out(frame, frame, frame, schema, n_cols=3)
    with pytest.raises(DataError, match="both halves"):
        linkage(frame, frame, frame, schema, (["x"], ["x", "y"]))
    with pytest.raises(DataError, match="not encoded columns"):
        linkage(frame, frame, frame, schema, (["x"], ["z"]))
    with pytest.raises(DataError, match="secret"):
        attribute_inference(frame, frame, frame, schema, "y", aux_cols=["x", "y"])
    with pytest.raises(DataError, match="n_attacks"):
        attribute_inference(frame, frame, frame, schema, "y", n_attacks=0)


# ----------------------------------------------------------------------------- Adult
@pytest.fixture(scope="module")
def adult():
    """Disjoint training, control and generator parts of raw Adult, and three synthetic tables."""
    frame = example_adult()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(frame))
    n = 8000
    train, control, source = (frame.iloc[order[k * n : (k + 1) * n]].reset_index(drop=True) for k in range(3))
    codes = encode(source, SCHEMA).codes
    # Codes drawn independently per column from the generator part's binned marginals.
    draws = codes[rng.integers(len(codes), size=(n, codes.shape[1])), np.arange(codes.shape[1])]
    independent = decode(draws, SCHEMA, rng)
    leaky = independent.copy()
    leaky["fnlwgt"] = train["fnlwgt"].to_numpy()[rng.permutation(n)]
    return {"train": train, "control": control, "copy": train, "independent": independent, "leaky": leaky}


def evaluate(adult, synthetic, evaluator, seed=0, control=None):
    """One evaluator (a singling-out mode, "linkage" or "inference" of income) with 1,000 attacks."""
    tables = (adult["train"], adult["control"] if control is None else control, adult[synthetic], SCHEMA)
    if evaluator == "linkage":
        return linkage(*tables, LINK_COLUMNS, n_attacks=1000, random_state=seed)
    if evaluator == "inference":
        return attribute_inference(*tables, "income", n_attacks=1000, random_state=seed)
    return singling_out(*tables, n_attacks=1000, mode=evaluator, random_state=seed)


@pytest.mark.parametrize("evaluator", ["univariate", "multivariate", "linkage", "inference"])
def test_a_copy_of_the_training_data_fails(adult, evaluator):
    result = evaluate(adult, "copy", evaluator)
    assert result.beats_baseline
    assert result.risk > 0.6 and result.risk_interval[0] > 0.5


@pytest.mark.parametrize("evaluator", ["univariate", "multivariate", "linkage", "inference"])
def test_independent_marginals_pass(adult, evaluator):
    result = evaluate(adult, "independent", evaluator)
    assert result.risk_interval[0] == 0.0 or result.risk_interval[1] < 0.05


def test_exact_values_of_a_near_unique_column_are_caught_by_singling_out(adult):
    result = evaluate(adult, "leaky", "univariate")
    assert result.beats_baseline
    assert result.risk_interval[0] > 0.5


def test_a_smaller_control_set_is_corrected_for_and_a_copy_still_fails(adult):
    small = adult["control"].iloc[:3000]
    result = evaluate(adult, "copy", "multivariate", control=small)
    assert 0 < result.control.successes != int(result.control.successes)  # rescaled to the training size
    assert result.risk_interval[0] > 0.5


def test_the_same_seed_gives_the_same_result(adult):
    for evaluator in ("multivariate", "linkage", "inference"):
        assert evaluate(adult, "independent", evaluator, seed=3) == evaluate(adult, "independent", evaluator, seed=3)


def test_a_size_corrected_control_count_never_passes_the_number_of_predicates(monkeypatch):
    """Rescaled to a table whose fitted curve singles out more, the control count stays at most
    the number of predicates: a rate above 1 broke the Wilson interval (math domain error) and
    with it an audited release."""
    from dpsynth.attacks import singling_out as module

    values = np.arange(40, dtype=float)[None, :]  # one column, 40 distinct records
    predicates = module.Predicates(
        columns=np.zeros((10, 1), dtype=np.int64), lower=np.arange(10.0)[:, None],
        upper=np.arange(10.0)[:, None], missing=np.zeros((10, 1), dtype=bool),
    )
    monkeypatch.setattr(module, "_singling_out_integral", lambda n, w, norm: np.asarray(n, dtype=float) ** 2)
    corrected = module.size_corrected_successes(values, predicates, 400, np.random.default_rng(0))
    assert corrected == 10.0
    assert Rate.of(corrected, 10).high <= 1.0
