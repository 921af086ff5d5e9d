"""DP discovery degrades visibly: bounds keep thin tails, poorly represented columns are warned
about (log and release.json), a small table's categories of about a tenth survive with a larger
domain share, and a real category called "other" never collides with the fold label."""

import json
import logging
import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import PrivacyWarning
from dpsynth.generators import create
from dpsynth.privacy.noise import NoiseSource
from dpsynth.workflows.release import release
from dpsynth.workflows.root import open_door, plan_fit
from tests.conftest import example_adult

BANK_CATEGORIES = {
    "job": (["management", "blue-collar", "technician", "admin.", "services", "retired", "self-employed",
             "entrepreneur", "unemployed", "housemaid", "student", "unknown"],
            [21.4, 20.9, 16.9, 10.6, 9.2, 5.1, 4.1, 3.7, 2.8, 2.5, 1.9, 0.9]),
    "marital": (["married", "single", "divorced"], [61.9, 26.4, 11.7]),
    "education": (["secondary", "tertiary", "primary", "unknown"], [51.0, 29.9, 15.0, 4.1]),
    "default": (["no", "yes"], [98.3, 1.7]),
    "housing": (["yes", "no"], [56.6, 43.4]),
    "loan": (["no", "yes"], [84.7, 15.3]),
    "contact": (["cellular", "unknown", "telephone"], [64.1, 29.3, 6.6]),
    "month": (["may", "jul", "aug", "jun", "nov", "apr", "feb", "jan", "oct", "sep", "mar", "dec"],
              [30.9, 15.6, 14.0, 11.8, 8.6, 6.5, 4.9, 3.3, 1.8, 1.1, 1.1, 0.4]),
    "poutcome": (["unknown", "failure", "other", "success"], [82.0, 10.8, 4.3, 2.9]),
    "y": (["no", "yes"], [88.5, 11.5]),
}


def bank_like(n: int = 4521, seed: int = 0) -> pd.DataFrame:
    """A bank-marketing look-alike: 17 columns, its categories at the UCI table's shares, read as text."""
    rng = np.random.default_rng(seed)
    never = rng.random(n) < 0.82
    frame = pd.DataFrame({
        name: rng.choice(labels, size=n, p=np.array(shares) / sum(shares))
        for name, (labels, shares) in BANK_CATEGORIES.items()
    })
    frame["age"] = rng.integers(19, 88, n)
    frame["balance"] = np.where(rng.random(n) < 0.08, 0, rng.lognormal(7, 1.5, n).astype(int))
    frame["day"] = rng.integers(1, 32, n)
    frame["duration"] = rng.gamma(2, 130, n).astype(int)
    frame["campaign"] = rng.geometric(0.35, n)
    frame["pdays"] = np.where(never, -1, rng.integers(1, 872, n))
    frame["previous"] = np.where(never, 0, rng.geometric(0.4, n))
    return frame.astype(str)


def _schema(frame: pd.DataFrame, seed: int, epsilon: float = 1.0, domain: float | None = None):
    allocation = None if domain is None else {"domain": domain, "marginal": 1 - domain}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        plan = plan_fit(frame, epsilon=epsilon, delta=1e-9, allocation=allocation)
        return open_door(frame, plan, NoiseSource(seed))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_age_bounds_reach_the_oldest_ages_on_full_adult_at_epsilon_1(seed):
    table, _ = _schema(example_adult().astype(str).replace("nan", None), seed)
    age = table.require_schema()["age"]
    assert age.upper >= 90 and age.lower <= 17


def test_every_column_that_lost_a_tenth_of_its_rows_is_warned_about():
    frame = bank_like()
    for seed in range(2):
        schema = _schema(frame, seed)[0].require_schema()
        warned = {warning.column for warning in schema.warnings}
        for name in BANK_CATEGORIES:
            shares = frame[name].value_counts(normalize=True)
            folded = shares[~shares.index.isin(schema[name].labels)]
            if folded.sum() >= 0.1:
                assert name in warned, name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_with_a_larger_domain_share_every_category_of_a_tenth_survives_on_4521_rows(seed):
    """At domain=0.4 the threshold is about 7% of these rows; at the default share about 14%."""
    frame = bank_like()
    schema = _schema(frame, seed, domain=0.4)[0].require_schema()
    for name in BANK_CATEGORIES:
        shares = frame[name].value_counts(normalize=True)
        assert set(shares[shares >= 0.1].index) <= set(schema[name].labels), name


def test_a_real_category_called_other_does_not_collide_with_the_fold_label():
    frame = bank_like()
    table, _ = _schema(frame, seed=0, epsilon=200.0)
    poutcome = table.require_schema()["poutcome"]
    assert "other" in poutcome.labels and poutcome.other_label not in poutcome.labels
    synthetic = create("mst").fit(table).sample(2000, random_state=0)
    assert set(synthetic["poutcome"].dropna()) <= set(poutcome.labels) | {poutcome.other_label}


def test_warnings_reach_the_log_and_release_json(tmp_path, caplog):
    frame = example_adult().astype(str).replace("nan", None).head(3000)
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="dpsynth.data.discover"):
        warnings.simplefilter("ignore", PrivacyWarning)
        result = release(frame, epsilon=1.0, delta=1e-9, out=tmp_path / "out", audit="off", random_state=3,
                         ledger=tmp_path / "ledger.sqlite")
    written = json.loads((tmp_path / "out" / "release.json").read_text())
    assert written["schema_warnings"] == result.record["schema_warnings"]
    assert written["schema_warnings"], "a 3,000-row table at epsilon 1 loses categories"
    for warning in written["schema_warnings"]:
        assert set(warning) == {"column", "problem", "fix"} and warning["column"] in frame.columns
        assert f"column '{warning['column']}'" in caplog.text


def test_a_large_table_with_room_in_the_budget_has_no_warnings(tmp_path):
    frame = example_adult().astype(str).replace("nan", None)[["age", "sex", "race", "hours-per-week"]]
    schema = _schema(frame, seed=0)[0].require_schema()
    assert schema.warnings == ()
