"""The certificate a release and an audit write, through release(), audit() and the command line:
its header names the release and the dataset and states the dataset's lifetime spend from the
ledger; the certificate holds aggregates only; the per-column views with exact real shares are in
the OUT.custodian/ folder beside the release, which the certificate and the command line say must
never be shared."""

import json

import numpy as np
import pytest

from dpsynth.certificate.document import ANNEX_SUFFIX, annex_folder
from dpsynth.cli import main
from dpsynth.datasets import example_path
from dpsynth.privacy.ledger import Ledger
from dpsynth.schema import Schema
from dpsynth.workflows.release import release
from tests.conftest import example_adult

pytestmark = pytest.mark.filterwarnings("ignore::dpsynth.errors.PrivacyWarning")
COLUMNS = ["age", "workclass", "education", "sex", "hours-per-week", "income"]


@pytest.fixture(scope="module")
def adult_csv(tmp_path_factory):
    frame = example_adult()[COLUMNS]
    path = tmp_path_factory.mktemp("data") / "adult.csv"
    frame.iloc[np.random.default_rng(0).permutation(len(frame))[:2500]].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory):
    full = Schema.load(example_path("adult")[1]).to_dict()
    full["columns"] = [c for c in full["columns"] if c["name"] in COLUMNS]
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    path.write_text(json.dumps(full))
    return path


@pytest.fixture(scope="module")
def released(adult_csv, schema_file, tmp_path_factory):
    """Two releases on a named dataset under a cap, the second audited (epsilon 1 + 0.5)."""
    folder = tmp_path_factory.mktemp("releases")
    ledger = Ledger(folder / "ledger.sqlite")
    ledger.set_cap("name:adult-sample", 5.0)
    common = dict(delta=1e-9, schema=schema_file, ledger=ledger, dataset="adult-sample", random_state=0)
    release(adult_csv, epsilon=1.0, out=folder / "first", audit="off", **common)
    result = release(adult_csv, epsilon=0.5, out=folder / "second", audit="quick", holdout_share=0.2, **common)
    return result, ledger


def test_the_header_states_the_release_the_dataset_and_its_lifetime_spend(released):
    result, ledger = released
    header = json.loads((result.out / "certificate.json").read_text())["release"]
    assert header["release_id"] == result.record["release_id"] and header["dataset"] == "adult-sample"
    assert header["date"] == result.record["created_at"]
    spend = header["lifetime_spend"]
    # Both releases on the dataset, this one included, and the cap.
    assert spend["epsilon"] == pytest.approx(1.5) and spend["n_releases"] == 2
    assert spend["epsilon"] == pytest.approx(ledger.spent("name:adult-sample").epsilon)
    assert spend["cap"] == {"epsilon": 5.0, "delta": None}
    html = (result.out / "certificate.html").read_text()
    assert result.record["release_id"] in html and "adult-sample" in html
    assert "epsilon 1.5, delta 2e-09 over 2 releases on this dataset, this one included (cap epsilon 5)" in html


def test_the_certificate_keeps_aggregates_and_the_annex_the_exact_real_shares(released):
    result, _ = released
    certificate = json.loads((result.out / "certificate.json").read_text())
    assert "columns" not in certificate["fidelity"] and "real" not in json.dumps(certificate["fidelity"]["pairs"])
    assert certificate["fidelity"]["real_values"]["tvd_1way"] is not None
    # Beside the release folder, never in it: sharing that folder never shares the annex.
    annex_dir = annex_folder(result.out)
    assert annex_dir.parent == result.out.absolute().parent and not (result.out / "custodian").exists()
    annex = json.loads((annex_dir / "annex.json").read_text())
    assert [view["column"] for view in annex["columns"]] == COLUMNS
    assert all(share is not None for view in annex["columns"] for share in view["real"])
    assert (annex_dir / "annex.html").read_text().count("<svg") == len(COLUMNS)
    assert f"{ANNEX_SUFFIX}&#x27;: that folder must never be shared" in (result.out / "certificate.html").read_text()


def test_the_per_part_shares_add_up_to_the_joint_total(released):
    result, _ = released
    privacy = json.loads((result.out / "certificate.json").read_text())["privacy"]
    drawn = sum(part["epsilon_share"] for part in privacy["parts"].values())
    assert drawn == pytest.approx(privacy["spent"]["epsilon"])
    assert privacy["naive_sum"]["epsilon"] >= privacy["spent"]["epsilon"] - 1e-9


def test_the_command_line_says_the_custodian_folder_must_not_be_shared(adult_csv, schema_file, tmp_path, capsys):
    out = tmp_path / "rel"
    code = main(["release", str(adult_csv), "--schema", str(schema_file), "--epsilon", "1", "--seed", "0",
                 "--audit", "quick", "--holdout-share", "0.2", "--ledger", str(tmp_path / "l.sqlite"),
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code in (0, 1)
    assert f"{out}{ANNEX_SUFFIX}/ holds exact shares of the real data: never share that folder" in printed
    # Every column of Adult, so that a holdout row is told from a training row by more than chance.
    frame, order = example_adult(), np.random.default_rng(1).permutation(48842)
    for name, (a, b) in (("train", (0, 1500)), ("holdout", (1500, 2100)), ("other", (2100, 3600))):
        frame.iloc[order[a:b]].to_csv(tmp_path / f"{name}.csv", index=False)
    audited = tmp_path / "audited"
    code = main(["audit", "--real", str(tmp_path / "train.csv"), "--holdout", str(tmp_path / "holdout.csv"),
                 "--synthetic", str(tmp_path / "other.csv"), "--schema", str(example_path("adult")[1]),
                 "--level", "quick", "--seed", "1", "--out", str(audited)])
    printed = capsys.readouterr().out
    assert code in (0, 1) and "never share that folder" in printed
    assert sorted(path.name for path in annex_folder(audited).iterdir()) == ["annex.html", "annex.json"]
    assert sorted(path.name for path in audited.iterdir()) == ["certificate.html", "certificate.json"]
    header = json.loads((audited / "certificate.json").read_text())["release"]
    assert header["dataset"] == "train.csv" and header["lifetime_spend"] is None
