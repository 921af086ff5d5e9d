"""End-to-end releases: what is written, what is charged, and all-or-nothing on failure."""

import json
from functools import partial

import pandas as pd
import pytest

from dpsynth.digest import sha256_file
from dpsynth.errors import LedgerCapExceeded
from dpsynth.generators.mst import MST
from dpsynth.privacy.ledger import Ledger
from dpsynth.workflows import release as pipeline
from tests.conftest import adult_uci, pums_dup_like

# These tests are about the release itself; its audit is tested in tests/workflows/test_audit.py.
release = partial(pipeline.release, audit="off")


@pytest.fixture(scope="module")
def adult_pgm_sample(tmp_path_factory, adult_codes_dir):
    """6,000 rows of the shipped Adult as codes in private-pgm's layout (tests/conftest.py)."""
    frame = pd.read_csv(adult_codes_dir / "adult.csv").sample(6000, random_state=0)
    path = tmp_path_factory.mktemp("data") / "adult.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def adult_domain(adult_codes_dir):
    """Its public mbi domain file (each column's number of codes)."""
    return adult_codes_dir / "adult-domain.json"


def test_release_with_a_public_mbi_domain_file(adult_pgm_sample, adult_domain, tmp_path, private_ledger):
    result = release(
        adult_pgm_sample, epsilon=1.0, delta=1e-9, out=tmp_path / "out", schema=adult_domain
    )
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["model.json", "release.json", "synthetic.csv"]
    record = json.loads((tmp_path / "out" / "release.json").read_text())
    assert record == json.loads(json.dumps(result.record))
    privacy = record["privacy"]
    assert privacy["budget"]["epsilon"] == 1.0 and privacy["budget"]["delta"] == 1e-9
    assert privacy["budget"]["unit"]["relation"] == "add or remove one record"
    assert privacy["budget"]["allocation"] == {"marginal": 1.0}
    assert privacy["joint"]["epsilon"] <= 1.0 and "Canonne" in privacy["joint"]["conversion"]
    events = privacy["parts"]["marginal"]["events"]
    assert {e["mechanism"] for e in events} == {"discrete_gaussian", "exponential"}
    assert all(e["sigma"] > 0 for e in events if e["mechanism"] == "discrete_gaussian")
    assert record["schema"]["provenance"] == "public"
    assert record["noise_source"] == "os-entropy"
    assert record["library"]["name"] == "dpsynth"
    assert record["rows"]["policy"].startswith("DP estimate")
    assert record["input"] == {"dataset": adult_pgm_sample.name}
    for name in ("synthetic.csv", "model.json"):
        assert record["outputs"][name] == sha256_file(tmp_path / "out" / name)
    ledger = Ledger(private_ledger)
    assert ledger.spent(ledger.dataset_key(pd.read_csv(adult_pgm_sample))).epsilon == pytest.approx(1.0)
    synthetic = pd.read_csv(tmp_path / "out" / "synthetic.csv")
    assert list(synthetic.columns) == list(pd.read_csv(adult_pgm_sample, nrows=1).columns)
    loaded = MST.load(tmp_path / "out" / "model.json")
    assert len(loaded.sample(10)) == 10


def test_release_discovers_the_schema_under_dp_on_raw_adult(tmp_path):
    frame = adult_uci().sample(10000, random_state=1)
    result = release(frame, epsilon=3.0, delta=1e-9, out=tmp_path / "out", n_rows=2000)
    record = result.record
    assert record["schema"]["provenance"] == "dp"
    assert set(record["privacy"]["parts"]) == {"domain", "marginal"}
    assert record["privacy"]["budget"]["allocation"] == pytest.approx({"domain": 0.1, "marginal": 0.9})
    domain_events = record["privacy"]["parts"]["domain"]["events"]
    assert any(e["mechanism"] == "thresholded_histogram" for e in domain_events)
    assert record["privacy"]["joint"]["epsilon"] <= 3.0
    assert record["privacy"]["joint"]["delta"] <= 1e-9
    assert len(result.synthetic) == 2000 and record["rows"]["policy"] == "given by the user"
    assert result.synthetic["age"].between(0, 200).all()


def test_person_level_release_on_pums_dup(tmp_path):
    pums_dup = tmp_path / "PUMS_dup.csv"
    pums_dup_like().to_csv(pums_dup, index=False)
    result = release(
        pums_dup, epsilon=2.0, delta=1e-9, out=tmp_path / "out", privacy_unit="pid", max_rows_per_unit=4
    )
    unit = result.record["privacy"]["budget"]["unit"]
    assert unit["column"] == "pid" and unit["max_rows_per_unit"] == 4
    events = result.record["privacy"]["parts"]["marginal"]["events"]
    assert all(e["sensitivity"] == 4 for e in events if e["mechanism"] == "discrete_gaussian")
    # The unit comes back as fresh keys, none of them a real person's.
    assert not set(result.synthetic["pid"].astype(str)) & set(pums_dup_like()["pid"].astype(str))


def test_ledger_adds_releases_and_refuses_past_the_cap_before_measuring(adult_pgm_sample, adult_domain, tmp_path,
                                                                          private_ledger):
    schema = adult_domain
    ledger = Ledger(private_ledger)
    fingerprint = ledger.dataset_key(pd.read_csv(adult_pgm_sample))
    ledger.set_cap(fingerprint, 1.5)
    release(adult_pgm_sample, epsilon=1.0, delta=1e-9, out=tmp_path / "one", schema=schema)
    with pytest.raises(LedgerCapExceeded):
        release(adult_pgm_sample, epsilon=1.0, delta=1e-9, out=tmp_path / "two", schema=schema)
    assert not (tmp_path / "two").exists()
    assert ledger.spent(fingerprint).n_releases == 1


def test_failure_leaves_no_folder_and_keeps_the_measured_spend(adult_pgm_sample, adult_domain, tmp_path, private_ledger,
                                                               monkeypatch):
    def broken(self, n_rows=None, random_state=None):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(MST, "sample", broken)
    with pytest.raises(RuntimeError):
        release(adult_pgm_sample, epsilon=1.0, delta=1e-9, out=tmp_path / "out", schema=adult_domain)
    assert not (tmp_path / "out").exists()
    assert not any(p.name.startswith(".out.partial") for p in tmp_path.iterdir())
    assert [r["status"] for r in Ledger(private_ledger).releases()] == ["reserved"]


def test_seeded_release_is_marked_not_for_publication(adult_pgm_sample, adult_domain, tmp_path):
    from dpsynth.errors import PrivacyWarning

    with pytest.warns(PrivacyWarning):
        result = release(adult_pgm_sample, epsilon=1.0, delta=1e-9, out=tmp_path / "out",
                         schema=adult_domain, random_state=3)
    assert result.record["noise_source"] == "seeded: not for publication"
    assert "must not be published" in result.record["statement"]


def test_default_row_count_is_a_dp_estimate(adult_pgm_sample, adult_domain, tmp_path):
    sizes = set()
    for i in range(3):
        result = release(adult_pgm_sample, epsilon=1.0, delta=1e-9, out=tmp_path / f"r{i}",
                         schema=adult_domain)
        sizes.add(len(result.synthetic))
    assert len(sizes) > 1 and all(abs(s - 6000) < 300 for s in sizes)


def test_quantile_binning_places_edges_at_dp_quantiles(tmp_path):
    frame = adult_uci().sample(10000, random_state=2)
    result = release(frame[["age", "fnlwgt", "sex"]], epsilon=5.0, delta=1e-9, out=tmp_path / "out",
                     binning="quantile", n_rows=500)
    columns = {c["name"]: c for c in result.record["schema"]["definition"]["columns"]}
    edges = columns["fnlwgt"]["edges"]
    assert edges is not None and len(edges) > 10
    widths = [b - a for a, b in zip(edges, edges[1:])]
    assert max(widths) > 3 * min(widths)  # skewed data: quantile bins are not uniform
