"""Codes a fitted generator gives only noise (a missing code where nothing is missing, an unused
top code) are never sampled, real nulls keep their share, and the decision reads noisy answers
and public sigmas only (dpsynth.generators.empty_codes)."""

import numpy as np
import pandas as pd
import pytest

from dpsynth.data.discover import with_top_code
from dpsynth.data.types_out import OutputTypes
from dpsynth.generators import create
from dpsynth.generators.empty_codes import EMPTY_SIGMAS, empty_codes, folded_codes, optional_codes
from dpsynth.models import GraphicalModel
from dpsynth.models.domain import Domain
from dpsynth.models.measurement import Measurement
from dpsynth.schema import Categorical, Numeric, Schema
from tests.conftest import example_adult
from tests.data.test_discover_spikes import _fit_door
from tests.guarantee.neighbours import base_table, with_record


def test_raw_adult_without_nulls_comes_back_without_them_at_epsilon_1():
    """Raw Adult under DP discovery: every discovered column keeps a missing code, yet only the
    three columns that hold nulls get them back (at their share), and whole numbers are int64."""
    frame = example_adult().astype(str).replace("nan", None)
    table = _fit_door(frame, seed=5)
    synthetic = create("mst").fit(table).sample(len(frame), random_state=5)
    typed = OutputTypes().apply(synthetic, table.require_schema())
    for column in frame.columns:
        real, fake = frame[column].isna().mean(), typed[column].isna().mean()
        assert abs(fake - real) < 0.01 and (fake == 0) == (real == 0), column
    assert all(typed[c].dtype == np.int64 for c in ("age", "fnlwgt", "capital-gain", "hours-per-week"))


@pytest.mark.parametrize("method", ["mst", "privbayes"])
def test_a_real_six_percent_null_share_survives_on_3000_rows(method):
    """Where discovery's noise (sigma about 224 on 3,000 rows) cannot tell 6% of nulls from none,
    the generator's smaller noise does: they stay, and no column gains nulls it lacks."""
    rng = np.random.default_rng(11)
    frame = example_adult().astype(str).replace("nan", None).sample(3000, random_state=11).reset_index(drop=True)
    frame.loc[rng.random(len(frame)) < 0.06, "age"] = None
    generator = create(method).fit(_fit_door(frame, seed=3))
    reloaded = type(generator).from_dict(generator.to_dict(), random_state=4)
    for fitted in (generator, reloaded):
        synthetic = fitted.sample(len(frame), random_state=4)
        assert 0.03 < synthetic["age"].isna().mean() < 0.09
        assert not synthetic[["hours-per-week", "education", "sex"]].isna().any().any()


@pytest.mark.parametrize("method", ["mst", "privbayes"])
def test_one_record_with_a_null_changes_no_empty_code(method):
    """Neighbours D and D + one record with a null in a column that has none, same seed: the
    decision is the same (a null share within the noise is still noise)."""
    base = base_table()
    assert base["hours-per-week"].notna().all()
    fitted = [create(method).fit(_fit_door(frame, seed=7))
              for frame in (base, with_record(base, "hours-per-week", None))]
    assert fitted[0].empty_ == fitted[1].empty_
    assert "hours-per-week" in fitted[0].empty_


def test_the_rule_compares_the_fitted_count_with_the_noise_on_it():
    """Only the model and the measurements' sigmas decide: a missing count within EMPTY_SIGMAS
    deviations of its noise is empty, one above them is kept."""
    schema = Schema((Categorical("c", ("a", "b"), other=False, missing=True),))
    domain = Domain(("c",), (3,))
    sigma = 10.0

    def decided(missing: float) -> dict:
        counts = np.array([500.0, 500.0 - missing, missing])
        model = GraphicalModel(domain, {("c",): np.log(counts / counts.sum())}, counts.sum())
        return empty_codes(model, schema, {}, [Measurement(("c",), counts, sigma)])

    assert decided(EMPTY_SIGMAS * sigma * 0.9) == {"c": (2,)}
    assert decided(EMPTY_SIGMAS * sigma * 1.1) == {}
    # Two measurements of the count: the noise on the estimate shrinks, 25 rows clear it.
    counts = np.array([500.0, 475.0, 25.0])
    model = GraphicalModel(domain, {("c",): np.log(counts / counts.sum())}, counts.sum())
    assert empty_codes(model, schema, {}, [Measurement(("c",), counts, sigma)]) == {"c": (2,)}
    assert empty_codes(model, schema, {}, [Measurement(("c",), counts, sigma)] * 4) == {}


def test_a_top_code_and_the_bin_before_it_are_optional():
    """Past a bound with no values the gap bin would get noise, decoded anywhere up to the cap
    (hours-per-week of 500): it is judged like the top code itself."""
    hours = with_top_code(Numeric("hours", 1, 100, integer=True, bins=20, spikes=(40,)))
    top = int(hours.spike_codes[-1])
    assert optional_codes(hours) == [hours.missing_code, *map(int, hours.spike_codes), top - 1]
    assert optional_codes(Numeric("hours", 1, 100, integer=True, bins=20, missing=False)) == []


def test_a_dropped_top_code_moves_its_rows_below_the_old_bound():
    """Where bounds collapse, values past the candidate are clipped onto it: a top code judged
    noise may hold real rows, which then go to the last bin under the old bound, as before."""
    rng = np.random.default_rng(2)
    loss = with_top_code(Numeric("loss", 0, 1, integer=True, spikes=(0,), missing=False))
    frame = pd.DataFrame({"loss": np.where(rng.random(4000) < 0.1, 2000, 0),
                          "flag": rng.choice(["a", "b"], 4000)})
    schema = Schema((loss, Categorical("flag", ("a", "b"), other=False, missing=False)))
    generator = create("mst").fit(_fit_door(frame, seed=1, schema=schema))
    top = int(loss.spike_codes[-1])
    assert folded_codes(loss) == {top: top - 2, top - 1: top - 2}
    generator.empty_ = {"loss": (top, top - 1)}
    synthetic = generator.sample(4000, random_state=0)
    assert set(synthetic["loss"].unique()) <= {0, 1} and 0.07 < (synthetic["loss"] == 1).mean() < 0.13


def test_a_column_whose_noise_hides_every_code_keeps_them_all():
    """Noise as large as the table: the rows are all in the missing code yet its count is within
    the noise, and so is every other code's. The rule cannot tell them apart and drops none."""
    schema = Schema((Categorical("c", ("a", "b"), other=False, missing=True),))
    domain = Domain(("c",), (3,))
    counts = np.array([1e-3, 1e-3, 300.0])
    model = GraphicalModel(domain, {("c",): np.log(counts / counts.sum())}, counts.sum())
    assert empty_codes(model, schema, {}, [Measurement(("c",), counts, 150.0)]) == {}


def test_codes_that_cannot_all_be_left_out_together_are_sampled(caplog):
    """Three columns, each missing in a third of the rows and never two at once (in the model): each
    missing code is within its noise, yet no row is complete, so leaving them all out is impossible."""
    names = ("a", "b", "c")
    schema = Schema(tuple(Categorical(name, ("x",), other=False, missing=True) for name in names))
    # Log-potential 0 on the three rows with one missing cell, far below float64's range elsewhere.
    log_joint = np.full((2, 2, 2), -3000.0)
    log_joint[1, 0, 0] = log_joint[0, 1, 0] = log_joint[0, 0, 1] = 0.0
    model = GraphicalModel(Domain(names, (2, 2, 2)), {names: log_joint - np.log(3)}, 900.0)
    measurements = [Measurement((name,), np.array([600.0, 300.0]), 150.0) for name in names]
    assert empty_codes(model, schema, {}, measurements) == {name: (1,) for name in names}
    generator = create("mst")
    generator._set_fitted(model, schema, {}, np.random.default_rng(0), measurements)
    assert generator.empty_ == {} and "cannot all be left out together" in caplog.text
    assert generator.sample(30, random_state=1).isna().any(axis=1).all()


def test_german_credit_at_epsilon_0_3_releases(tmp_path):
    """1,000 rows, 21 columns, epsilon 0.3, DP discovery: every column folds to a code or two and
    one holds all its rows in a code whose count is within the noise. AIM stopped after measuring
    (the sample's evidence had probability zero); the release now completes."""
    import warnings

    from dpsynth.errors import PrivacyWarning
    from dpsynth.workflows.release import release
    from tests.conftest import shared_data

    frame = pd.read_csv(shared_data("german_credit", "german_credit.csv"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        result = release(frame, epsilon=0.3, delta=1e-9, out=tmp_path / "out", method="aim", audit="off",
                         ledger=tmp_path / "ledger.sqlite", holdout_share=0.3, random_state=2)
    assert len(pd.read_csv(result.synthetic_file)) > 0
