"""`dpsynth ledger`: caps by data file or dataset name, short keys in messages, and open reservations."""

import hashlib
import json

import pandas as pd
import pytest

from dpsynth.cli import build_parser, main
from dpsynth.privacy.ledger import Ledger

SECRET = "SECRET_VALUE_4711"
CSV = f"age,city,member\n34,Oslo,True\n51,{SECRET},False\n27,?,True\n"


def run(capsys, *argv):
    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(CSV)
    return path


def test_cap_by_data_file_follows_the_content_not_its_encoding(capsys, data, tmp_path, private_ledger):
    code, out, err = run(capsys, "ledger", "cap", data, "--epsilon", 3, "--json")
    assert code == 0, err
    key = json.loads(out)["dataset"]
    assert key.startswith("hmac:") and key != "hmac:" + hashlib.sha256(data.read_bytes()).hexdigest()
    # Columns reordered, a constant column added, numbers as floats, "?" written as NA.
    other = tmp_path / "other.csv"
    other.write_text(f"member,city,age,source\nTrue,Oslo,34.0,x\nFalse,{SECRET},51.0,x\nTrue,NA,27.0,x\n")
    code, out, err = run(capsys, "ledger", "cap", other, "--epsilon", 2, "--json")
    assert code == 0, err
    assert json.loads(out)["dataset"] == key
    assert Ledger(private_ledger).cap(key).epsilon == 2.0
    code, out, _ = run(capsys, "ledger", "show", "--json")
    assert [row["dataset"] for row in json.loads(out)] == [key]


def test_cap_by_dataset_name_and_show_prints_names_in_full_and_keys_short(capsys, data, private_ledger):
    code, out, err = run(capsys, "ledger", "cap", "--dataset", "hospital-2026", "--epsilon", 5, "--delta", 1e-6)
    assert code == 0, err
    assert out.strip() == "cap set for name:hospital-2026: epsilon=5"
    assert Ledger(private_ledger).cap("name:hospital-2026").delta == 1e-6
    code, out, err = run(capsys, "ledger", "cap", data, "--epsilon", 1)
    assert code == 0, err
    key = Ledger(private_ledger).dataset_key(pd.read_csv(data))
    assert out.strip() == f"cap set for {key[:17]}...: epsilon=1"
    code, out, _ = run(capsys, "ledger", "show")
    lines = out.splitlines()
    assert lines[0].startswith("name:hospital-2026  unlabelled: 0 release(s)") and "cap epsilon=5" in lines[0]
    assert lines[1].startswith(key[:17] + "...  ") and key not in out
    assert SECRET not in out


@pytest.mark.parametrize("argv, needle", [
    (["--epsilon", "1"], "give either a data file or a dataset name"),
    (["DATA", "--dataset", "hospital", "--epsilon", "1"], "not both or neither"),
    (["--dataset", " ", "--epsilon", "1"], "name must be printable text"),
    (["--dataset", "hospital", "--epsilon", "0"], "epsilon must be a number in (0, 1e+06]"),
])
def test_cap_refuses_bad_input_in_one_line(capsys, data, argv, needle):
    argv = [str(data) if arg == "DATA" else arg for arg in argv]
    code, out, err = run(capsys, "ledger", "cap", *argv)
    assert code == 2 and out == ""
    assert err.startswith("dpsynth: error: ") and needle in err and err.count("\n") == 1
    assert SECRET not in err


def test_reservations_lists_open_ones_and_resolve_closes_them(capsys, private_ledger):
    ledger = Ledger(private_ledger)
    kept = ledger.reserve("name:hospital-2026", 1.0, 1e-9, dataset_label="hospital.csv")
    freed = ledger.reserve("hmac:" + "ab" * 32, 0.5, 0.0)
    ledger.commit(ledger.reserve("name:hospital-2026", 0.25, 0.0), {})
    code, out, _ = run(capsys, "ledger", "reservations")
    assert code == 0
    first, second = out.splitlines()
    assert first.startswith(f"{kept}  name:hospital-2026  hospital.csv: epsilon=1, delta=1e-09, open for 0m ")
    assert second.startswith(f"{freed}  hmac:{'ab' * 6}...  unlabelled: epsilon=0.5")
    code, out, _ = run(capsys, "ledger", "reservations", "--json")
    assert [row["id"] for row in json.loads(out)] == [kept, freed]

    code, out, _ = run(capsys, "ledger", "resolve", kept)
    assert (code, out.strip()) == (0, f"release {kept} on name:hospital-2026 kept as spent")
    code, out, _ = run(capsys, "ledger", "resolve", freed, "--nothing-left", "--json")
    assert code == 0
    assert json.loads(out) == {"release_id": freed, "dataset": "hmac:" + "ab" * 32, "outcome": "deleted"}
    code, out, _ = run(capsys, "ledger", "reservations")
    assert out.strip() == "no open reservation"
    assert ledger.spent("name:hospital-2026").epsilon == 1.25
    assert ledger.spent("hmac:" + "ab" * 32).n_releases == 0
    code, out, _ = run(capsys, "ledger", "show")
    assert "name:hospital-2026  hospital.csv: 2 release(s), epsilon=1.25" in out and "open" not in out


def test_resolve_of_an_unknown_or_closed_release_is_a_one_line_error(capsys, private_ledger):
    ledger = Ledger(private_ledger)
    committed = ledger.reserve("name:a", 1.0, 0.0)
    ledger.commit(committed, {})
    code, _, err = run(capsys, "ledger", "resolve", "0" * 32)
    assert code == 2 and "no release with id" in err and err.count("\n") == 1
    code, _, err = run(capsys, "ledger", "resolve", committed, "--nothing-left")
    assert code == 2 and "committed, not open" in err
    assert ledger.spent("name:a").epsilon == 1.0


def test_show_counts_open_reservations(capsys, private_ledger):
    Ledger(private_ledger).reserve("name:a", 1.0, 0.0)
    code, out, _ = run(capsys, "ledger", "show")
    assert code == 0 and "name:a  unlabelled: 1 release(s) (1 open), epsilon=1" in out
    code, out, _ = run(capsys, "ledger", "show", "--json")
    assert json.loads(out)[0]["open"] == 1


def test_an_empty_ledger_says_so(capsys):
    assert run(capsys, "ledger", "show")[1].strip() == "the ledger records no release and no cap yet"
    assert run(capsys, "ledger", "reservations", "--json")[1].strip() == "[]"


@pytest.mark.parametrize("command", [["ledger", "reservations"], ["ledger", "resolve"]])
def test_help_documents_exit_codes(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*command, "--help"])
    assert exit_info.value.code == 0
    assert "exit codes:" in capsys.readouterr().out
