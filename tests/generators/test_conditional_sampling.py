"""Conditional sampling and rebalancing of a fitted MST: exact conditionals, targets, merged codes, errors.

References are computed from the fitted model's exact marginals under the generative semantics
(a merged code un-merges uniformly, a bin decodes uniformly), or, for ranges, from rejection on
an unconditional sample; sampling error is bounded at about 10 standard errors (or a chi-square
false-alarm rate of 1e-4).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dpsynth.data import PrivateTable
from dpsynth.errors import DataError, PrivacyWarning
from dpsynth.generators.mst import MST
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Budget
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Categorical, Datetime, Numeric, Schema, encode
from tests.conftest import example_adult

SCHEMA = Path(__file__).resolve().parents[2] / "dpsynth" / "datasets" / "adult.schema.json"
N_ROWS = 100_000
BOUND = 5 / np.sqrt(N_ROWS)  # ten standard errors of a probability at most


def fit(frame, schema, epsilon, seed):
    with pytest.warns(PrivacyWarning):
        noise = NoiseSource(seed=seed)
    table = PrivateTable(frame, Accountant(Budget(epsilon, 1e-9)), noise)
    table.encode(schema)
    return MST(max_iters=300).fit(table)


@pytest.fixture(scope="module")
def adult():
    """MST on 8,000 raw Adult rows with the shipped schema (labels, integer numeric columns, merges)."""
    frame = example_adult().sample(8000, random_state=0).reset_index(drop=True)
    model = fit(frame, Schema.load(SCHEMA), epsilon=1.0, seed=12)
    assert model.merges_, "the test needs compressed codes"
    return model


def codes_of(generator, frame, column):
    """Original codes of one column of a decoded sample."""
    return encode(frame, generator.schema_).codes[:, generator.schema_.encoded_columns.index(column)].astype(int)


def original(generator, column, model_probs):
    """Probabilities over a column's original codes from its model codes: merged codes split evenly."""
    merge = generator.merges_.get(column)
    if merge is None:
        return model_probs
    return model_probs[merge] / np.bincount(merge)[merge]


def frequencies(generator, frame, column):
    size = generator.schema_[column].size
    return np.bincount(codes_of(generator, frame, column), minlength=size) / len(frame)


def model_code(generator, column, code):
    merge = generator.merges_.get(column)
    return code if merge is None else int(merge[code])


def test_condition_on_a_category_follows_the_exact_conditional(adult):
    schema, model = adult.schema_, adult.model_
    female = schema["sex"].labels.index("Female")
    sample = adult.sample(N_ROWS, random_state=1, conditions={"sex": "Female"})
    assert len(sample) == N_ROWS and (sample["sex"] == "Female").all()
    for column in ("relationship", "income"):
        given = {"sex": [model_code(adult, "sex", female)]}
        exact = original(adult, column, model.conditional_marginal((column,), given))
        unconditional = original(adult, column, model.marginal((column,)) / model.total)
        assert np.abs(frequencies(adult, sample, column) - exact).max() < BOUND
        assert np.abs(exact - unconditional).max() > 3 * BOUND  # the check can tell the two apart


def test_condition_on_a_list_of_categories(adult):
    schema, model = adult.schema_, adult.model_
    sample = adult.sample(N_ROWS, random_state=2, conditions={"race": ["White", "Black"]})
    assert sample["race"].isin(["White", "Black"]).all()
    race = original(adult, "race", model.marginal(("race",)) / model.total)
    allowed = [schema["race"].labels.index(label) for label in ("White", "Black")]
    exact = np.zeros_like(race)
    exact[allowed] = race[allowed] / race[allowed].sum()
    assert np.abs(frequencies(adult, sample, "race") - exact).max() < BOUND


def test_a_partly_requested_merged_code_is_handled_exactly(adult):
    """Condition on one code kept by compression and two codes of a merged group.

    Under the model each original code o has probability q(m(o)) / |group| with q the model's
    marginal; the conditional is that, renormalised over the three codes. Conditioning on the
    merged code with full weight would give the two merged members together q(m) / (q(s) + q(m)).
    """
    merge = adult.merges_["native-country"]
    column = adult.schema_["native-country"]
    group = np.flatnonzero(np.bincount(merge)[merge] > 1)
    kept = [c for c in np.flatnonzero(np.bincount(merge)[merge] == 1) if c != column.missing_code]
    assert group.size > 2 and kept, "the test needs a merged group and a kept code"
    chosen = [int(kept[0]), int(group[0]), int(group[1])]
    labels = [column.labels[c] for c in chosen]
    sample = adult.sample(N_ROWS, random_state=3, conditions={"native-country": labels})
    assert sample["native-country"].isin(labels).all()

    q = original(adult, "native-country", adult.model_.marginal(("native-country",)) / adult.model_.total)
    exact = q[chosen] / q[chosen].sum()
    observed = frequencies(adult, sample, "native-country")[chosen]
    assert np.abs(observed - exact).max() < BOUND
    q_model = adult.model_.marginal(("native-country",)) / adult.model_.total
    naive_merged = q_model[merge[chosen[1]]] / (q_model[merge[chosen[0]]] + q_model[merge[chosen[1]]])
    assert abs(naive_merged - exact[1:].sum()) > 3 * BOUND  # the naive answer would fail this test
    # The rest of the row follows the model's conditional given the weighted codes.
    weights = np.zeros(len(q_model))
    for c in chosen:
        weights[merge[c]] += 1.0 / np.bincount(merge)[merge[c]]
    exact_sex = adult.model_.conditional_marginal(("sex",), weights={"native-country": weights})
    assert np.abs(frequencies(adult, sample, "sex") - exact_sex).max() < BOUND


def test_rebalance_hits_the_target_and_the_rest_follows(adult):
    model = adult.model_
    sample = adult.sample(N_ROWS, random_state=4, rebalance={"income": {"<=50K": 0.5, ">50K": 0.5}})
    assert np.abs(frequencies(adult, sample, "income") - [0.5, 0.5]).max() < BOUND
    # Given income, sex keeps the model's conditional law (not the unconditional one).
    joint = model.marginal(("income", "sex"))
    given_income = joint / joint.sum(axis=1, keepdims=True)
    exact = 0.5 * given_income.sum(axis=0)
    assert np.abs(frequencies(adult, sample, "sex") - exact).max() < BOUND
    assert np.abs(exact - joint.sum(axis=0) / joint.sum()).max() > 3 * BOUND
    # A list in code order is the same target.
    again = adult.sample(1000, random_state=4, rebalance={"income": [0.5, 0.5]})
    mapping = adult.sample(1000, random_state=4, rebalance={"income": {"<=50K": 0.5, ">50K": 0.5}})
    pd.testing.assert_frame_equal(again, mapping)


def test_rebalance_with_conditions_and_merged_codes(adult):
    merge = adult.merges_["native-country"]
    column = adult.schema_["native-country"]
    group = np.flatnonzero(np.bincount(merge)[merge] > 1)
    target = {"United-States": 0.4, column.labels[group[0]]: 0.35, column.labels[group[1]]: 0.25}
    sample = adult.sample(
        N_ROWS, random_state=5, conditions={"sex": "Female"}, rebalance={"native-country": target, "income": [0.3, 0.7]}
    )
    assert (sample["sex"] == "Female").all()
    observed = sample["native-country"].value_counts(normalize=True)
    assert set(observed.index) == set(target)
    assert max(abs(observed[k] - p) for k, p in target.items()) < BOUND
    assert np.abs(frequencies(adult, sample, "income") - [0.3, 0.7]).max() < BOUND


def test_condition_on_a_numeric_value(adult):
    schema, model = adult.schema_, adult.model_
    sample = adult.sample(N_ROWS, random_state=6, conditions={"age": 37})
    assert sample["age"].dtype == np.int64 and (sample["age"] == 37).all()
    # Given age = 37, the row follows the model's conditional given 37's bin (uniform decoding).
    age_code = int(np.searchsorted(schema["age"].bin_edges, 37, side="right") - 1)
    given = {"age": [model_code(adult, "age", age_code)]}
    exact = original(adult, "marital-status", model.conditional_marginal(("marital-status",), given))
    assert np.abs(frequencies(adult, sample, "marital-status") - exact).max() < BOUND

    # Several values: each row equals one of them, with the model's probability of each value.
    hours = adult.sample(N_ROWS, random_state=7, conditions={"hours-per-week": [40, 50, 90]})
    assert hours["hours-per-week"].isin([40, 50, 90]).all()
    edges = schema["hours-per-week"].bin_edges
    q = original(adult, "hours-per-week", model.marginal(("hours-per-week",)) / model.total)
    codes = np.searchsorted(edges, [40, 50, 90], side="right") - 1
    point = q[codes] / np.diff(edges)[codes]  # each integer in a bin has the bin's mass / its size
    observed = hours["hours-per-week"].value_counts(normalize=True).reindex([40, 50, 90], fill_value=0.0)
    assert np.abs(observed.to_numpy() - point / point.sum()).max() < BOUND


def test_numeric_range_matches_rejection(adult):
    """Ages in (70, 80]: bins [70, 75) in part, [75, 80) whole, [80, 85) in part; two are merged."""
    interval = pd.Interval(70, 80, closed="right")
    sample = adult.sample(N_ROWS, random_state=8, conditions={"age": interval})
    assert sample["age"].between(71, 80).all()
    # Unbounded ends are fine: the bounds cut them.
    assert adult.sample(1000, random_state=8, conditions={"age": pd.Interval(95, np.inf)})["age"].between(96, 100).all()
    edges = adult.schema_["age"].bin_edges
    q = original(adult, "age", adult.model_.marginal(("age",)) / adult.model_.total)
    ages = np.arange(71, 81)
    codes = np.searchsorted(edges, ages, side="right") - 1
    expected = q[codes] / np.diff(edges)[codes]
    observed = sample["age"].value_counts().reindex(ages, fill_value=0).to_numpy()
    assert stats.chisquare(observed, expected / expected.sum() * N_ROWS).pvalue > 1e-4
    # Rejection from an unconditional sample agrees, on ages (17, 30] (bins [15, 20) and
    # [30, 35) in part), on the values and on another column (two-sample chi-square tests).
    wide = adult.sample(N_ROWS, random_state=9, conditions={"age": pd.Interval(17, 30, closed="right")})
    reference = adult.sample(300_000, random_state=10)
    reference = reference[reference["age"].between(18, 30)]
    assert len(reference) > 20_000 and wide["age"].between(18, 30).all()
    for column in ("age", "marital-status"):
        table = pd.crosstab(
            np.r_[np.zeros(len(wide)), np.ones(len(reference))],
            np.r_[wide[column].to_numpy(), reference[column].to_numpy()],
        )
        assert stats.chi2_contingency(table.to_numpy())[1] > 1e-4, column


def test_missing_values_can_be_conditioned_on(adult):
    sample = adult.sample(2000, random_state=10, conditions={"workclass": None, "occupation": [None, "Sales"]})
    assert sample["workclass"].isna().all()
    assert (sample["occupation"].isna() | (sample["occupation"] == "Sales")).all()


def test_default_sampling_is_unchanged_and_conditional_sampling_is_seeded(adult):
    plain = adult.sample(300, random_state=5)
    pd.testing.assert_frame_equal(plain, adult.sample(300, random_state=5, conditions={}, rebalance=None))
    options = {"conditions": {"age": 37}, "rebalance": {"sex": [0.2, 0.8]}}
    first = adult.sample(300, random_state=5, **options)
    pd.testing.assert_frame_equal(first, adult.sample(300, random_state=5, **options))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"conditions": {"colour": "red"}}, r"column 'colour' is not a sampled column"),
        ({"rebalance": {"colour": [1.0]}}, r"column 'colour' is not a sampled column"),
        ({"conditions": {"sex": "Unknown"}}, r"column 'sex' has no category 'Unknown'.*'Female', 'Male'"),
        ({"conditions": {"sex": None}}, r"column 'sex' has no missing values"),
        ({"conditions": {"sex": []}}, r"column 'sex' lists no values"),
        ({"conditions": {"age": 101}}, r"column 'age'.*outside its bounds \[0, 100\]"),
        ({"conditions": {"age": 37.5}}, r"column 'age' holds whole numbers"),
        ({"conditions": {"age": "old"}}, r"column 'age' is numeric"),
        ({"conditions": {"age": [pd.Interval(1, 5), 7]}}, r"column 'age'.*one pandas.Interval"),
        ({"conditions": {"age": pd.Interval(200, 300)}}, r"column 'age'.*holds no value"),
        ({"conditions": {"sex": "Female"}, "rebalance": {"sex": [0.5, 0.5]}}, r"column 'sex' is both"),
        ({"rebalance": {"income": {"<=50K": 0.7, ">50K": 0.7}}}, r"column 'income'.*sum to 1"),
        ({"rebalance": {"income": [1.2, -0.2]}}, r"column 'income'.*non-negative"),
        ({"rebalance": {"income": [1.0]}}, r"column 'income' needs 2 probabilities"),
        ({"rebalance": {"income": {"rich": 1.0}}}, r"column 'income' has no category 'rich'"),
        ({"rebalance": {"income": {"<=50K": "half"}}}, r"column 'income'.*finite number"),
        ({"rebalance": {"age": {36: 0.5, 37: 0.5}}}, r"column 'age'.*same code"),
        ({"rebalance": {"income": 0.5}}, r"column 'income' takes a list"),
    ],
)
def test_bad_conditions_and_targets_are_refused(adult, kwargs, message):
    with pytest.raises(DataError, match=message):
        adult.sample(10, random_state=0, **kwargs)


def test_private_pgm_adult_with_integer_codes(adult_codes_dir):
    """The mbi-style domain file gives integer categories; values match by string form (Adult in
    private-pgm's layout, made from the shipped example: tests/conftest.py)."""
    frame = pd.read_csv(adult_codes_dir / "adult.csv").sample(5000, random_state=1).reset_index(drop=True)
    generator = fit(frame, Schema.load(adult_codes_dir / "adult-domain.json"), epsilon=2.0, seed=12)
    options = {"conditions": {"sex": "1"}, "rebalance": {"income>50K": {0: 0.25, 1: 0.75}}}
    sample = generator.sample(N_ROWS, random_state=1, **options)
    assert (sample["sex"] == 1).all()
    assert np.abs(frequencies(generator, sample, "income>50K") - [0.25, 0.75]).max() < BOUND
    with pytest.raises(DataError, match=r"column 'sex' has no category 2"):
        generator.sample(10, conditions={"sex": 2})


@pytest.fixture(scope="module")
def mixed():
    """A small table with a continuous column, a datetime column and a category depending on both."""
    rng = np.random.default_rng(0)
    n = 4000
    x = rng.uniform(0, 10, n)
    days = rng.integers(0, 365, n)
    group = np.where(x + rng.normal(0, 2, n) > 5, "high", "low")
    frame = pd.DataFrame({"x": x, "t": pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D"), "g": group})
    schema = Schema([
        Numeric("x", lower=0, upper=10, edges=(0, 1, 2, 3, 5, 7.5, 10)),
        Datetime("t", lower="2020-01-01", upper="2020-12-31", bins=12),
        Categorical("g", categories=("high", "low")),
    ])
    return fit(frame, schema, epsilon=5.0, seed=13)


def test_continuous_and_datetime_conditions(mixed):
    sample = mixed.sample(5000, random_state=1, conditions={"x": 2.5, "t": "2020-06-15T12:00:00"})
    assert sample["x"].dtype == np.float64 and (sample["x"] == 2.5).all()
    assert (sample["t"] == pd.Timestamp("2020-06-15T12:00:00")).all()

    interval = pd.Interval(pd.Timestamp("2020-03-10"), pd.Timestamp("2020-04-20"), closed="left")
    conditions = {"x": pd.Interval(2.0, 3.0, closed="neither"), "t": interval}
    ranged = mixed.sample(5000, random_state=2, conditions=conditions)
    assert ((ranged["x"] > 2.0) & (ranged["x"] < 3.0)).all()
    assert ((ranged["t"] >= interval.left) & (ranged["t"] < interval.right)).all()

    # Points of a continuous column: chosen with the model's density, bin mass / bin width
    # (bins [1, 2) and [7.5, 10) differ in width, so bin masses alone would fail this).
    points = mixed.sample(N_ROWS, random_state=3, conditions={"x": [1.5, 9.0]})
    assert points["x"].isin([1.5, 9.0]).all()
    q = original(mixed, "x", mixed.model_.marginal(("x",)) / mixed.model_.total)
    density = q[[1, 5]] / np.array([1.0, 2.5])
    assert abs((points["x"] == 1.5).mean() - density[0] / density.sum()) < BOUND
    assert abs(q[1] / q[[1, 5]].sum() - density[0] / density.sum()) > 3 * BOUND
    with pytest.raises(DataError, match=r"column 'x' is continuous"):
        mixed.sample(10, conditions={"x": [1.0, None]})
    with pytest.raises(DataError, match=r"column 't'.*outside its bounds"):
        mixed.sample(10, conditions={"t": "2021-02-01"})
