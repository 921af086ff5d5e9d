"""The DP-SGD neural generator: the extra is optional, the steps run are the steps charged,
the spend stays within the budget, and it round-trips."""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.data import PrivateTable
from dpsynth.errors import PrivacyWarning
from dpsynth.privacy.accountant import Accountant
from dpsynth.privacy.budget import Allocation, Budget
from dpsynth.privacy.noise import NoiseSource
from dpsynth.schema import Categorical, Numeric, Schema

SMALL = {"epochs": 0.5, "batch_size": 15, "embed": 8, "hidden": 16, "fine_bins": 4}


def mixed_table(fractions, epsilon=3.0, n=300, seed=0):
    """A small table with integer, float (with missing) and categorical columns, behind a door."""
    rng = np.random.default_rng(seed)
    income = rng.gamma(2.0, 200.0, n)
    income[rng.random(n) < 0.1] = np.nan
    frame = pd.DataFrame({
        "age": rng.integers(18, 91, n),
        "income": income,
        "color": rng.choice(["red", "green", "blue", None], n),
        "city": rng.choice([f"c{i}" for i in range(30)], n),
    })
    schema = Schema((
        Numeric("age", 18, 90, integer=True, bins=6, missing=False),
        Numeric("income", 0, 2000, bins=5, missing=True),
        Categorical("color", ("red", "green", "blue"), missing=True),
        Categorical("city", tuple(f"c{i}" for i in range(30)), missing=False),
    ))
    accountant = Accountant(Budget(epsilon, 1e-6, Allocation(fractions)))
    with warnings.catch_warnings():  # a seeded door: reproducible tests, never a publication
        warnings.simplefilter("ignore", PrivacyWarning)
        table = PrivateTable(frame, accountant, NoiseSource.from_random_state(np.random.default_rng(seed)))
    table.encode(schema)
    return table, accountant, schema


def test_without_the_extra_the_neural_generators_name_it_and_the_rest_works():
    code = textwrap.dedent("""
        import sys

        class NoNeuralExtra:  # an environment where torch and opacus are not installed
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "opacus"):
                    raise ModuleNotFoundError(f"No module named {name!r}")

        sys.meta_path.insert(0, NoNeuralExtra())
        import dpsynth
        from dpsynth.errors import MissingExtraError
        from dpsynth.generators import create
        create("mst")
        for name in ("neural", "hybrid"):
            try:
                create(name)
            except MissingExtraError as error:
                assert "pip install 'dpsynth[neural]'" in str(error), error
                assert isinstance(error, ImportError)
            else:
                raise SystemExit(name + " did not raise")
        print("ok")
    """)
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"


@pytest.fixture(scope="module")
def fitted():
    pytest.importorskip("torch")
    from dpsynth.generators import create

    table, accountant, schema = mixed_table({"neural": 1.0})
    generator = create("neural", random_state=0, **SMALL).fit(table)
    return generator, accountant, schema


def test_the_dpsgd_steps_run_are_the_steps_charged_and_the_spend_fits(fitted):
    generator, accountant, _ = fitted
    events = accountant.report()["parts"]["neural"]["events"]
    assert [e["mechanism"] for e in events] == ["discrete_gaussian", "subsampled_discrete_gaussian"]
    dpsgd = events[1]
    training = generator.training_
    assert training["steps_run"] == training["steps"] == dpsgd["steps"]
    assert dpsgd["noise_multiplier"] == training["noise_multiplier"]
    spent = accountant.spent()
    assert 0.95 * 3.0 <= spent.epsilon <= 3.0  # the part's share is spent, never more
    check = training["cross_check"]
    # Opacus accounts the continuous Gaussian; the discrete noise's sound bound can only be larger.
    assert check["epsilon_opacus"] <= check["epsilon_dpsynth"] <= 1.5 * check["epsilon_opacus"]


def test_samples_follow_the_schema(fitted):
    generator, _, schema = fitted
    sample = generator.sample(400, random_state=1)
    assert list(sample.columns) == list(schema.encoded_columns)
    assert sample["age"].between(18, 90).all()
    income = sample["income"].dropna()
    assert income.between(0, 2000).all() and len(income) < 400 or income.between(0, 2000).all()
    assert set(sample["color"].dropna()) <= {"red", "green", "blue"}
    assert set(sample["city"]) <= {f"c{i}" for i in range(30)}
    assert sample["age"].nunique() > 6  # within-bin positions give more values than the 6 bins


def test_same_seed_same_rows_and_save_load_round_trips(fitted, tmp_path):
    from dpsynth.generators.neural import NeuralGenerator

    generator, _, _ = fitted
    first = generator.sample(50, random_state=7)
    pd.testing.assert_frame_equal(first, generator.sample(50, random_state=7))
    generator.save(tmp_path / "model.json")
    loaded = NeuralGenerator.load(tmp_path / "model.json")
    pd.testing.assert_frame_equal(first, loaded.sample(50, random_state=7))
    assert loaded.get_params() == generator.get_params()


def test_bad_parameters_are_named():
    pytest.importorskip("torch")
    from dpsynth.errors import DataError
    from dpsynth.generators.neural import NeuralGenerator

    table, _, _ = mixed_table({"neural": 1.0})
    with pytest.raises(DataError, match="batch_size"):
        NeuralGenerator(batch_size=0).fit(table)


@pytest.mark.parametrize("share, halved", [(0.18, True), (0.9, False)])
def test_the_batch_is_halved_only_where_it_lowers_the_noise_per_signal(share, halved):
    """At epsilon 1 a small share pays Zhu & Wang's per-step floor at batch 512 (multiplier
    about 24 on Adult's 39,073 rows), so a smaller batch is far less noisy per unit of signal;
    a large share keeps the largest batch. The chosen plan always fits the share."""
    from dpsynth.generators.neural import cheapest_batch
    from dpsynth.privacy.events import DiscreteSubsampledGaussianMechanism

    n, max_batch = 39073.0, 512
    accountant = Accountant(Budget(1.0, 1e-9, Allocation({"marginal": 1 - share, "neural": share})))
    rate, steps, multiplier = cheapest_batch(accountant, "neural", n, max_batch, 2.0)
    full_rate = max_batch / n
    full = accountant.calibrate_subsampled_gaussian("neural", full_rate, int(np.ceil(2.0 / full_rate)))
    assert (rate < full_rate) is halved
    assert steps == int(np.ceil(2.0 / rate))
    if halved:
        assert multiplier / np.sqrt(rate) < 0.3 * full / np.sqrt(full_rate)
    else:
        assert multiplier == full
    assert accountant.can_charge("neural", DiscreteSubsampledGaussianMechanism(rate, multiplier, steps))


def test_the_opacus_cross_check_is_optional(monkeypatch):
    """Opacus only cross-checks the accounting: without it the run records no cross-check."""
    from dpsynth.generators.neural import _opacus_cross_check
    from dpsynth.privacy.dpsgd import DpsgdPlan

    monkeypatch.setitem(sys.modules, "opacus.accountants.analysis.rdp", None)
    assert _opacus_cross_check(DpsgdPlan(0.01, 100, 1.0, 1.0, 10), 1e-9) is None


def test_a_budget_that_cannot_buy_a_useful_model_is_said(fitted):
    """300 rows at epsilon 3: DP-SGD's noise drowns its signal (a 4.5k-row table at epsilon 1 once
    released near-uniform noise silently); the warning is the generator's, read from public facts."""
    from dpsynth.generators.neural import USEFUL_NOISE_RATIO, underpowered

    generator, _, _ = fitted
    assert generator.training_["noise_to_signal"] > USEFUL_NOISE_RATIO
    assert len(generator.warnings_) == 1 and "cannot buy a useful neural model" in generator.warnings_[0]
    quiet = {**generator.training_, "noise_to_signal": USEFUL_NOISE_RATIO / 3}  # raw Adult at epsilon 1
    assert underpowered(quiet, "neural") == ()


def test_rows_are_drawn_block_by_block(fitted, monkeypatch):
    """The network's logits span the vocabulary, so rows are drawn SAMPLE_BLOCK at a time: blocks
    of 7 hold at most 7 rows' logits and still give rows of the schema, the same for one seed."""
    from dpsynth.generators import neural_model

    generator, _, schema = fitted
    seen = []
    hidden = neural_model._hidden
    monkeypatch.setattr(neural_model, "_hidden", lambda params, context: seen.append(len(context)) or hidden(params, context))
    monkeypatch.setattr(neural_model, "SAMPLE_BLOCK", 7)
    sample = generator.sample(30, random_state=3)
    assert max(seen) == 7 and len(sample) == 30 and sample["age"].between(18, 90).all()
    pd.testing.assert_frame_equal(sample, generator.sample(30, random_state=3))
