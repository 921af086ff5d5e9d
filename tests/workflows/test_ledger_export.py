"""`dpsynth ledger export`: the budget history of each dataset, with running totals that agree with the ledger."""

import csv
import io
import json

import pytest

from dpsynth.cli import main
from dpsynth.errors import DataError
from dpsynth.privacy.ledger import Ledger
from dpsynth.workflows.ledger import (
    HISTORY_COLUMNS,
    export,
    history,
)

FIRST = "hmac:" + "ab" * 32
SECOND = "name:hospital-2026"
LABEL = 'adult, "2026" \nexport'


def _record(method: str, epsilon: float) -> dict:
    return {"dpsynth_release": 1, "method": {"name": method, "params": {}},
            "privacy": {"joint": {"epsilon": epsilon, "delta": 1e-9}}, "noise_source": "os-entropy",
            "schema": {"provenance": "public", "definition": {}}}


@pytest.fixture
def ledger(private_ledger):
    """Two releases and an open reservation on FIRST (capped), one schema discovery on SECOND."""
    ledger = Ledger(private_ledger)
    ledger.set_cap(FIRST, 2.0, 1e-6)
    ledger.commit(ledger.reserve(FIRST, 0.5, 1e-9, dataset_label=LABEL), _record("mst", 0.4999))
    ledger.commit(ledger.reserve(SECOND, 0.1, 1e-9), {"kind": "schema discovery", "privacy": {}})
    ledger.commit(ledger.reserve(FIRST, 0.25, 2e-9, dataset_label=LABEL), _record("aim", 0.25))
    ledger.reserve(FIRST, 1.0, 1e-9)  # a release still running (or one that died): it counts
    return ledger


def test_history_has_running_totals_that_agree_with_the_ledger(ledger):
    rows = history(ledger)
    assert [(r["dataset"], r["status"]) for r in rows] == [
        (FIRST, "committed"), (FIRST, "committed"), (FIRST, "reserved"), (SECOND, "committed")]
    assert [r["cumulative_epsilon"] for r in rows] == pytest.approx([0.5, 0.75, 1.75, 0.1])
    assert rows[2]["cumulative_delta"] == pytest.approx(4e-9)
    for key in (FIRST, SECOND):
        last = [r for r in rows if r["dataset"] == key][-1]
        assert last["cumulative_epsilon"] == pytest.approx(ledger.spent(key).epsilon)
        assert last["cumulative_delta"] == pytest.approx(ledger.spent(key).delta)
    assert [r["method"] for r in rows] == ["mst", "aim", "", ""]
    assert [r["kind"] for r in rows] == ["release", "release", "", "schema discovery"]
    assert rows[0]["joint_epsilon"] == 0.4999 and rows[2]["joint_epsilon"] is None
    assert (rows[0]["cap_epsilon"], rows[0]["cap_delta"]) == (2.0, 1e-6) and rows[3]["cap_epsilon"] is None


def test_csv_export_round_trips_through_a_csv_reader(ledger):
    text = export(ledger, format="csv")
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames) == HISTORY_COLUMNS
    rows = list(reader)
    assert len(rows) == 4
    assert rows[0]["dataset_label"] == LABEL  # commas, quotes and newlines survive
    assert float(rows[1]["cumulative_epsilon"]) == pytest.approx(0.75)
    assert rows[2]["joint_epsilon"] == "" and rows[3]["cap_epsilon"] == ""


def test_json_export_groups_releases_by_dataset(ledger):
    document = json.loads(export(ledger, format="json"))
    first, second = document["datasets"]
    assert first["dataset"] == FIRST and first["labels"] == [LABEL]
    assert first["cap"] == {"epsilon": 2.0, "delta": 1e-6} and second["cap"] is None
    assert first["spent"]["epsilon"] == pytest.approx(ledger.spent(FIRST).epsilon)
    assert first["spent"]["releases"] == ledger.spent(FIRST).n_releases == 3
    assert first["releases"][0]["record"] == _record("mst", 0.4999)
    assert first["releases"][2]["record"] is None
    assert document["ledger"] == str(ledger.path)


def test_dataset_filter_takes_a_key_a_name_or_a_unique_start(ledger):
    assert {r["dataset"] for r in history(ledger, SECOND)} == {SECOND}
    assert {r["dataset"] for r in history(ledger, "hospital-2026")} == {SECOND}
    assert {r["dataset"] for r in history(ledger, "hmac:abab")} == {FIRST}
    assert {r["dataset"] for r in history(ledger, "na")} == {SECOND}
    with pytest.raises(DataError, match="no dataset in the ledger"):
        history(ledger, "hmac:ffff")
    ledger.reserve("name:hospital-2027", 0.1, 0.0)
    with pytest.raises(DataError, match="starts 2 keys"):
        history(ledger, "name:hosp")


def test_a_release_resolved_as_spent_shows_in_the_history(ledger):
    (open_release,) = ledger.open_reservations()
    ledger.resolve(open_release["id"])
    row = [r for r in history(ledger) if r["release_id"] == open_release["id"]][0]
    assert (row["status"], row["kind"], row["epsilon"]) == ("committed", "resolved as spent", 1.0)


def test_empty_ledger_exports_a_header_and_no_dataset(private_ledger):
    assert export(private_ledger) == ",".join(HISTORY_COLUMNS) + "\n"
    assert json.loads(export(private_ledger, format="json"))["datasets"] == []
    with pytest.raises(DataError, match="format must be 'csv' or 'json'"):
        export(private_ledger, format="xml")


def test_cli_export_json_csv_file_and_errors(ledger, capsys, tmp_path):
    assert main(["ledger", "export", "--json", "--dataset", "hospital-2026"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [d["dataset"] for d in document["datasets"]] == [SECOND]
    out = tmp_path / "history.csv"
    assert main(["ledger", "export", "--out", str(out)]) == 0
    assert out.read_text() == export(ledger)
    assert "wrote" in capsys.readouterr().err
    assert main(["ledger", "export", "--dataset", "hmac:ffff"]) == 2
    assert capsys.readouterr().err.startswith("dpsynth: error: dataset: no dataset")
    with pytest.raises(SystemExit) as exit_info:
        main(["ledger", "export", "--format", "xml"])
    assert exit_info.value.code == 2


def test_cli_cap_json(tmp_path, capsys, private_ledger):
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n3,4\n")
    assert main(["ledger", "cap", str(data), "--epsilon", "3", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["epsilon_cap"] == 3.0 and printed["dataset"].startswith("hmac:")
    assert Ledger(private_ledger).cap(printed["dataset"]).epsilon == 3.0
