"""The public API: Synthesizer (budget, ledger, fit, sample, save/load) and the top-level functions."""

import subprocess
import sys
import types

import numpy as np
import pandas as pd
import pytest

import dpsynth
from dpsynth import Synthesizer
from dpsynth.datasets import example_path
from dpsynth.errors import DataError, LedgerCapExceeded, NotFittedError, PrivacyWarning
from dpsynth.generators.privbayes import PrivBayes
from dpsynth.privacy.ledger import Ledger
from dpsynth.schema import Schema
from dpsynth.schema.columns import Identifier

COLUMNS = ["age", "workclass", "education", "sex", "hours-per-week", "income"]


@pytest.fixture(scope="module")
def adult():
    """2,000 rows and 6 columns of the shipped Adult example, with their public schema."""
    data, schema_path = example_path("adult")
    frame = pd.read_csv(data, na_values=["?"], usecols=COLUMNS).sample(2000, random_state=0)
    schema = Schema.load(schema_path)
    return frame.reset_index(drop=True), Schema([schema[c] for c in COLUMNS])


def fitted(adult, method="privbayes", **kwargs):
    frame, schema = adult
    return Synthesizer(method, epsilon=kwargs.pop("epsilon", 1.0), schema=schema, **kwargs).fit(frame)


def test_fit_returns_self_and_spends_within_the_budget(adult):
    synthesizer = Synthesizer("privbayes", epsilon=0.5, delta=1e-8, schema=adult[1])
    assert synthesizer.fit(adult[0]) is synthesizer
    report = synthesizer.privacy_report()
    assert report["budget"]["epsilon"] == 0.5 and report["budget"]["delta"] == 1e-8
    assert list(report["parts"]) == ["marginal"]
    part = report["parts"]["marginal"]
    assert part["rho_spent"] <= part["rho_allowance"] * (1 + 1e-9)
    assert 0.49 < report["joint"]["epsilon"] <= 0.5
    assert all(e["sigma"] > 0 for e in part["events"] if "sigma" in e)


def test_more_epsilon_means_less_noise(adult):
    def sigmas(epsilon):
        report = fitted(adult, "mst", epsilon=epsilon, ledger=False, method_params={"max_iters": 50}).privacy_report()
        return [e["sigma"] for e in report["parts"]["marginal"]["events"] if "sigma" in e]

    low, high = sigmas(0.5), sigmas(2.0)
    assert min(low) > max(high)


def test_fit_charges_the_ledger_once_for_the_dataset(adult, private_ledger):
    synthesizer = fitted(adult, dataset="adult sample")
    ledger = Ledger(private_ledger)
    fingerprint = ledger.dataset_key(name="adult sample")
    assert not hasattr(synthesizer, "fingerprint_")
    releases = ledger.releases(fingerprint)
    assert [(r["status"], r["dataset_label"]) for r in releases] == [("committed", "adult sample")]
    assert releases[0]["record"]["privacy"] == synthesizer.privacy_report()
    assert ledger.spent(fingerprint).epsilon == pytest.approx(1.0)
    synthesizer.sample(100)
    Synthesizer.load(_saved(synthesizer, private_ledger.parent)).sample(100)
    assert ledger.spent(fingerprint).n_releases == 1  # sampling and loading cost nothing


def test_ledger_false_charges_nothing(adult, private_ledger):
    fitted(adult, ledger=False)
    assert Ledger(private_ledger).releases() == []


def test_a_cap_refuses_the_fit_before_anything_is_measured(adult, private_ledger):
    ledger = Ledger(private_ledger)
    ledger.set_cap(ledger.dataset_key(adult[0]), 0.5)
    synthesizer = Synthesizer("privbayes", epsilon=1.0, schema=adult[1])
    with pytest.raises(LedgerCapExceeded):
        synthesizer.fit(adult[0])
    assert not hasattr(synthesizer, "generator_")
    assert ledger.releases() == []


class _Failing(PrivBayes):
    def fit(self, table, part="marginal"):
        table.marginal(("sex",), 10.0, part)  # something was measured, then the fit fails
        raise RuntimeError("generator failed")


class _FailingFirst(PrivBayes):
    def fit(self, table, part="marginal"):
        raise RuntimeError("generator failed")  # before anything was measured


def test_a_fit_that_failed_after_measuring_keeps_its_spend(adult, private_ledger):
    """A noisy answer may have left the process (a log line, say): the spend is never refunded."""
    with pytest.raises(RuntimeError, match="generator failed"):
        Synthesizer(_Failing(), epsilon=1.0, schema=adult[1]).fit(adult[0])
    assert [r["status"] for r in Ledger(private_ledger).releases()] == ["reserved"]


def test_a_fit_that_failed_before_measuring_cancels_its_reservation(adult, private_ledger):
    with pytest.raises(RuntimeError, match="generator failed"):
        Synthesizer(_FailingFirst(), epsilon=1.0, schema=adult[1]).fit(adult[0])
    assert Ledger(private_ledger).releases() == []


def test_without_a_schema_it_is_discovered_under_dp_and_charged(adult):
    synthesizer = Synthesizer("privbayes", epsilon=1.0, ledger=False).fit(adult[0])
    report = synthesizer.privacy_report()
    assert set(report["parts"]) == {"domain", "marginal"}
    assert report["parts"]["domain"]["events"]  # discovery was charged
    assert report["budget"]["delta_reserve"] > 0
    assert synthesizer.schema_.provenance == "dp"
    assert report["joint"]["epsilon"] <= 1.0


def test_a_person_unit_scales_the_noise_with_the_rows_kept_per_person(adult):
    frame, schema = adult
    people = frame.assign(pid=np.arange(len(frame)) // 2)
    with_unit = Schema([*schema.columns, Identifier("pid", role="unit")])

    def fit(max_rows):
        return Synthesizer("mst", epsilon=1.0, schema=with_unit, max_rows_per_unit=max_rows,
                           ledger=False, method_params={"max_iters": 50}).fit(people)

    one, two = fit(1), fit(2)
    assert two.privacy_report()["budget"]["unit"] == {
        "column": "pid", "max_rows_per_unit": 2,
        "relation": "add or remove one person (all rows sharing a value of column 'pid', at most 2 per person)",
    }
    # Sensitivity doubles, so the Gaussian noise of the first measurements doubles at the same rho.
    first = [r.privacy_report()["parts"]["marginal"]["events"][0]["sigma"] for r in (one, two)]
    assert first[1] == pytest.approx(2 * first[0], rel=1e-3)
    assert two.sample(10)["pid"].tolist() == [f"syn-{i:02d}" for i in range(1, 11)]  # fresh keys


def test_sample_uses_the_dp_row_estimate_and_the_public_schema(adult):
    synthesizer = fitted(adult, ledger=False)
    sample = synthesizer.sample()
    assert len(sample) == synthesizer.n_rows_estimate
    assert list(sample.columns) == COLUMNS
    assert set(sample["sex"].dropna()) <= {"Male", "Female"}
    assert (synthesizer.sample(50, conditions={"sex": "Female"})["sex"] == "Female").all()


def test_write_streams_rows_in_the_sample_dtypes_and_leaves_no_partial_file(adult, tmp_path):
    synthesizer = fitted(adult, "mst", ledger=False)
    # 150,000 rows are three blocks: the file holds them in sample's dtypes, the same for one seed.
    written = synthesizer.write(tmp_path / "big.parquet", 150_000, random_state=3)
    table = pd.read_parquet(written)
    assert len(table) == 150_000 and list(table.columns) == COLUMNS
    assert dict(table.dtypes) == dict(synthesizer.sample(100).dtypes)
    again = synthesizer.write(tmp_path / "again.csv", 150_000, format="parquet", random_state=3)
    pd.testing.assert_frame_equal(pd.read_parquet(again), table)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.csv", "big.parquet"]
    with pytest.raises(DataError, match="format"):
        synthesizer.write(tmp_path / "x.csv", 10, format="nope")
    assert not (tmp_path / "x.csv").exists()


def test_save_and_load_round_trip(adult, tmp_path):
    synthesizer = fitted(adult, ledger=False)
    path = _saved(synthesizer, tmp_path)
    loaded = Synthesizer.load(path)
    assert loaded.privacy_report() == synthesizer.privacy_report()
    assert loaded.n_rows_estimate == synthesizer.n_rows_estimate
    a = synthesizer.sample(200, random_state=7)
    b = loaded.sample(200, random_state=7)
    pd.testing.assert_frame_equal(a, b)


def test_load_refuses_other_files(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"dpsynth_model": 1}')
    with pytest.raises(DataError, match="not a saved dpsynth synthesizer"):
        Synthesizer.load(path)
    with pytest.raises(DataError, match="cannot be read"):
        Synthesizer.load(tmp_path / "missing.json")


def test_a_seed_warns_and_reproduces(adult):
    frame, schema = adult
    samples = []
    for _ in range(2):
        synthesizer = Synthesizer("privbayes", epsilon=1.0, schema=schema, random_state=3, ledger=False)
        with pytest.warns(PrivacyWarning, match="must not be published"):
            synthesizer.fit(frame)
        samples.append(synthesizer.sample(100))
    pd.testing.assert_frame_equal(*samples)
    assert "seeded" in synthesizer.record_["noise_source"]


def test_generator_objects_are_usable_directly(adult):
    frame, schema = adult
    configured = PrivBayes(degree=1)
    synthesizer = Synthesizer(configured, epsilon=1.0, schema=schema, ledger=False).fit(frame)
    assert synthesizer.generator_.degree == 1
    assert not hasattr(configured, "model_")  # the caller's object is a template, left unfitted
    assert dpsynth.PrivBayes is PrivBayes
    with pytest.raises(DataError, match="generator object itself"):
        Synthesizer(PrivBayes(), epsilon=1.0, method_params={"degree": 2}).fit(frame)


@pytest.mark.slow
def test_hybrid_spends_both_parts_within_the_budget(adult):
    pytest.importorskip("opacus")
    frame, schema = adult
    synthesizer = Synthesizer("hybrid", epsilon=2.0, schema=schema, ledger=False).fit(frame)
    report = synthesizer.privacy_report()
    assert set(report["parts"]) == {"marginal", "neural"}
    assert all(report["parts"][p]["events"] for p in ("marginal", "neural"))
    assert report["joint"]["epsilon"] <= 2.0
    assert list(synthesizer.sample(20).columns) == COLUMNS
    with pytest.raises(DataError, match="cannot sample with conditions"):
        synthesizer.sample(5, conditions={"sex": "Female"})


def test_errors_name_the_problem(adult):
    with pytest.raises(DataError, match="unknown method 'gan'"):
        Synthesizer("gan", epsilon=1.0, ledger=False).fit(adult[0])
    with pytest.raises(NotFittedError):
        Synthesizer("mst", epsilon=1.0).sample(10)
    with pytest.raises(DataError, match="pandas DataFrame"):
        Synthesizer("mst", epsilon=1.0).fit(np.zeros((3, 3)))


def test_import_dpsynth_is_light():
    code = "import sys, dpsynth; print(sorted(m for m in ('torch', 'sklearn', 'pandas', 'opacus') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_top_level_functions_delegate(monkeypatch):
    calls = []
    for module, name in [("dpsynth.workflows.release", "release"), ("dpsynth.workflows.audit", "audit"),
                         ("dpsynth.workflows.compare", "compare")]:
        fake = types.ModuleType(module)
        setattr(fake, name, lambda *args, _name=name, **kwargs: calls.append((_name, args, kwargs)) or _name)
        monkeypatch.setitem(sys.modules, module, fake)
    assert dpsynth.release("data", epsilon=1.0) == "release"
    assert dpsynth.audit("real", "holdout", "synthetic", out="o") == "audit"
    assert dpsynth.compare("data", methods=["mst"]) == "compare"
    assert calls[0] == ("release", ("data",), {"epsilon": 1.0})
    assert [c[0] for c in calls] == ["release", "audit", "compare"]


def test_the_verbs_are_plain_functions_with_signatures():
    """No callable module: type checkers and IDEs see release's own signature."""
    import inspect

    import dpsynth.workflows.release as release_module

    assert isinstance(dpsynth.release, types.FunctionType) and dpsynth.release is release_module.release
    assert "epsilon" in inspect.signature(dpsynth.release).parameters
    for name in ("show", "cap", "export", "reservations", "resolve"):
        assert callable(getattr(dpsynth.ledger, name))


def _saved(synthesizer, folder):
    path = folder / "synthesizer.json"
    synthesizer.save(path)
    return path
