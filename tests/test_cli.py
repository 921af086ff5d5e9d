"""The CLI: one-line errors with exit code 2 for every kind of bad input, never a private value."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from dpsynth.cli import main
from tests.conftest import pums_like

SECRET = "SECRET_VALUE_4711"


@pytest.fixture
def good_csv(tmp_path):
    path = tmp_path / "good.csv"
    frame = pums_like()
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def good_schema(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({
        "dpsynth_schema": 1,
        "provenance": "public",
        "columns": [
            {"name": "age", "kind": "numeric", "lower": 0, "upper": 100, "integer": True, "bins": 20},
            {"name": "sex", "kind": "categorical", "categories": [0, 1], "missing": False},
            {"name": "educ", "kind": "categorical", "categories": list(range(1, 17)), "missing": False},
            {"name": "race", "kind": "categorical", "categories": list(range(1, 7)), "missing": False},
            {"name": "income", "kind": "numeric", "lower": 0, "upper": 500000, "integer": True},
            {"name": "married", "kind": "categorical", "categories": [0, 1], "missing": False},
        ],
    }))
    return path


def run(capsys, *argv):
    argv = [str(a) for a in argv]
    if argv[0] == "release" and "--audit" not in argv:
        argv += ["--audit", "off"]  # the audit has its own tests in tests/test_cli_audit.py
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean_error(code, err, *needles):
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("dpsynth: error:")
    assert "Traceback" not in err and SECRET not in err
    for needle in needles:
        assert needle in err


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_release_succeeds_and_prints_the_statement(capsys, good_csv, good_schema, tmp_path):
    code, out, err = run(capsys, "release", good_csv, "--epsilon", 1, "--schema", good_schema, "--out", tmp_path / "r")
    assert code == 0, err
    assert "differentially private" in out and (tmp_path / "r" / "synthetic.csv").exists()


def test_release_json_output(capsys, good_csv, good_schema, tmp_path):
    code, out, _ = run(capsys, "release", good_csv, "--epsilon", 1, "--schema", good_schema,
                       "--out", tmp_path / "r", "--json", "--rows", 50)
    assert code == 0 and json.loads(out)["rows"]["n_rows"] == 50


BAD_FILES = {
    "empty": ("", "is empty"),
    "header_only": ("a,b\n", "no rows"),
    "one_row": (f"a,b\n{SECRET},1\n", "one row"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files(capsys, tmp_path, case):
    text, needle = BAD_FILES[case]
    path = write(tmp_path, f"{case}.csv", text)
    code, _, err = run(capsys, "release", path, "--epsilon", 1, "--out", tmp_path / "out")
    assert_clean_error(code, err, needle)
    assert not (tmp_path / "out").exists()


def test_missing_and_unreadable_files(capsys, tmp_path):
    code, _, err = run(capsys, "release", tmp_path / "nope.csv", "--epsilon", 1, "--out", tmp_path / "out")
    assert_clean_error(code, err, "does not exist")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 100 + SECRET.encode())
    code, _, err = run(capsys, "release", binary, "--epsilon", 1, "--out", tmp_path / "out")
    assert_clean_error(code, err, "is not UTF-16 text: give its encoding")
    code, _, err = run(capsys, "release", tmp_path, "--epsilon", 1, "--out", tmp_path / "out")
    assert_clean_error(code, err, "not a file")


def assert_warned_and_released(code, err, caplog, out, *needles):
    """Data that does not fit a declared schema is coded, not refused (a refusal would tell the
    record is there); the custodian is warned on the log, naming the column, never a value."""
    assert code == 0, err
    assert (out / "release.json").exists()
    for needle in needles:
        assert needle in caplog.text
    assert SECRET not in caplog.text and SECRET not in err


def test_all_missing_column(capsys, caplog, tmp_path, good_schema):
    frame = pums_like()
    frame["income"] = None
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    code, _, err = run(capsys, "release", path, "--epsilon", 1, "--schema", good_schema, "--out", tmp_path / "o")
    assert_warned_and_released(code, err, caplog, tmp_path / "o", "'income'")


def test_schema_column_missing_from_data_and_the_reverse(capsys, tmp_path, good_schema):
    frame = pums_like()
    path = tmp_path / "fewer.csv"
    frame.drop(columns=["race"]).to_csv(path, index=False)
    code, _, err = run(capsys, "release", path, "--epsilon", 1, "--schema", good_schema, "--out", tmp_path / "o")
    assert_clean_error(code, err, "'race'")
    path = tmp_path / "more.csv"
    frame.assign(extra=SECRET).to_csv(path, index=False)
    code, _, err = run(capsys, "release", path, "--epsilon", 1, "--schema", good_schema, "--out", tmp_path / "o")
    assert_clean_error(code, err, "'extra'")


def test_value_of_the_wrong_type(capsys, caplog, tmp_path, good_schema):
    frame = pums_like().astype({"age": object})
    frame.loc[7, "age"] = SECRET
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    code, _, err = run(capsys, "release", path, "--epsilon", 1, "--schema", good_schema, "--out", tmp_path / "o")
    assert_warned_and_released(code, err, caplog, tmp_path / "o", "'age'")
    for name in ("synthetic.csv", "model.json", "release.json"):
        assert SECRET not in (tmp_path / "o" / name).read_text()


@pytest.mark.parametrize("flag,value,needle", [
    ("--epsilon", 0, "epsilon"), ("--epsilon", -1, "epsilon"), ("--epsilon", "nan", "epsilon"),
    ("--epsilon", "inf", "epsilon"), ("--epsilon", "1e307", "epsilon"), ("--epsilon", "1e308", "epsilon"),
    ("--delta", 1, "delta"), ("--delta", -0.1, "delta"),
])
def test_budget_out_of_range(capsys, good_csv, good_schema, tmp_path, flag, value, needle):
    args = {"--epsilon": 1, "--delta": 1e-9, flag: value}
    code, _, err = run(capsys, "release", good_csv, "--schema", good_schema, "--out", tmp_path / "o",
                       "--epsilon", args["--epsilon"], "--delta", args["--delta"])
    assert_clean_error(code, err, needle)
    assert not (tmp_path / "o").exists()


def test_a_delta_above_one_over_n_is_a_warning_on_the_dp_estimate(capsys, caplog, good_csv, good_schema, tmp_path):
    """Refusing on the exact n would tell, at n = 1/delta, whether one more record is there."""
    code, _, err = run(capsys, "release", good_csv, "--schema", good_schema, "--out", tmp_path / "o",
                       "--epsilon", 1, "--delta", 0.01)
    assert_warned_and_released(code, err, caplog, tmp_path / "o", "not below 1/n")


def test_existing_non_empty_out(capsys, good_csv, good_schema, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code, _, err = run(capsys, "release", good_csv, "--epsilon", 1, "--schema", good_schema, "--out", out)
    assert_clean_error(code, err, "not empty")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_identifier_mistaken_for_a_category(capsys, caplog, tmp_path):
    frame = pd.DataFrame({"name": [f"{SECRET}{i}" for i in range(300)], "x": ["a", "b", "c"] * 100})
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    schema = write(tmp_path, "s.json", json.dumps({"dpsynth_schema": 1, "provenance": "public", "columns": [
        {"name": "name", "kind": "categorical", "categories": [f"{SECRET}{i}" for i in range(300)]},
        {"name": "x", "kind": "categorical", "categories": ["a", "b", "c"]}]}))
    code, _, err = run(capsys, "release", path, "--epsilon", 1, "--schema", schema, "--out", tmp_path / "o")
    assert_warned_and_released(code, err, caplog, tmp_path / "o", "'name'", "identifier")


def test_data_and_example_are_exclusive(capsys, good_csv, tmp_path):
    code, _, err = run(capsys, "release", good_csv, "--example", "adult", "--epsilon", 1, "--out", tmp_path / "o")
    assert_clean_error(code, err, "--example")


def test_schema_infer_writes_a_file_for_review(capsys, good_csv, tmp_path):
    out = tmp_path / "schema.json"
    with pytest.warns(UserWarning):
        code, _, err = run(capsys, "schema", "infer", good_csv, "--out", out)
    assert code == 0, err
    assert json.loads(out.read_text())["provenance"] == "inferred-not-dp"


def test_schema_infer_dp_is_charged_and_marked(capsys, good_csv, tmp_path, private_ledger):
    from dpsynth.privacy.ledger import Ledger

    out = tmp_path / "schema.json"
    code, _, err = run(capsys, "schema", "infer", good_csv, "--dp", "--epsilon", 1, "--out", out)
    assert code == 0, err
    assert json.loads(out.read_text())["provenance"] == "dp"
    assert len(Ledger(private_ledger).releases()) == 1


def test_entry_point_runs_as_a_program(tmp_path):
    done = subprocess.run([sys.executable, "-m", "dpsynth.cli", "release", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "examples:" in done.stdout


def test_shipped_example_runs(capsys, tmp_path):
    code, out, err = run(capsys, "release", "--example", "adult", "--epsilon", 1, "--out", tmp_path / "adult")
    assert code == 0, err
    record = json.loads((tmp_path / "adult" / "release.json").read_text())
    assert record["schema"]["provenance"] == "public" and record["privacy"]["joint"]["epsilon"] <= 1


def test_ledger_cap_then_release_is_refused_and_show_reports(capsys, good_csv, good_schema, tmp_path):
    code, out, err = run(capsys, "ledger", "cap", good_csv, "--epsilon", 1.5)
    assert code == 0, err
    code, _, err = run(capsys, "release", good_csv, "--epsilon", 1, "--schema", good_schema, "--out", tmp_path / "a")
    assert code == 0, err
    code, _, err = run(capsys, "release", good_csv, "--epsilon", 1, "--schema", good_schema, "--out", tmp_path / "b")
    assert_clean_error(code, err, "cap")
    assert not (tmp_path / "b").exists()
    code, out, _ = run(capsys, "ledger", "show", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 1
    assert rows[0]["releases"] == 1 and rows[0]["epsilon_spent"] == 1.0 and rows[0]["epsilon_cap"] == 1.5


def test_release_takes_aim_workload_as_column_sets(capsys, good_csv, good_schema, tmp_path, private_ledger):
    code, out, err = run(capsys, "release", good_csv, "--epsilon", 1, "--schema", good_schema, "--method", "aim",
                         "--workload", "age,sex,income; educ,married", "--param", "max_model_size=20",
                         "--out", tmp_path / "r", "--rows", 50, "--json", "--ledger", private_ledger)
    assert code == 0, err
    params = json.loads(out)["method"]["params"]
    assert params["workload"] == [["age", "sex", "income"], ["educ", "married"]]
    assert params["max_model_size"] == 20


@pytest.mark.parametrize("argv, needle", [
    (["--method", "aim", "--workload", "age,nope"], "'nope'"),
    (["--method", "mst", "--workload", "2"], "--workload applies to methods that take a workload"),
    (["--method", "privbayes", "--param", "bogus=1"], "has no parameter(s) ['bogus']"),
    (["--method", "aim", "--workload", "2", "--param", "workload=3"], "not both"),
    (["--method", "aim", "--param", "round_iters=10", "--param", "round_iters=20"], "more than once"),
])
def test_bad_generator_parameters_are_refused_before_any_charge(capsys, good_csv, good_schema, tmp_path,
                                                                 private_ledger, argv, needle):
    code, _, err = run(capsys, "release", good_csv, "--epsilon", 1, "--schema", good_schema, *argv,
                       "--out", tmp_path / "r", "--ledger", private_ledger)
    assert_clean_error(code, err, needle)
    assert not (tmp_path / "r").exists()
    code, out, _ = run(capsys, "ledger", "show", "--json", "--ledger", private_ledger)
    assert code == 0 and json.loads(out) == []


@pytest.mark.parametrize("text", ["[1, 2]", "[[\"age\"]", ";;", "[]"])
def test_malformed_workload_is_a_usage_error(capsys, good_csv, tmp_path, text):
    with pytest.raises(SystemExit) as exit_info:
        main(["release", str(good_csv), "--epsilon", "1", "--method", "aim", "--workload", text,
              "--out", str(tmp_path / "r")])
    assert exit_info.value.code == 2 and "--workload" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_workload_goes_to_the_hybrid_backbone_beside_its_other_parameters():
    from dpsynth.cli import _method_params

    params = _method_params("hybrid", [("backbone_params", {"max_model_size": 40}), ("epochs", 2)], 2)
    assert params == {"backbone_params": {"max_model_size": 40, "workload": 2}, "epochs": 2}
    assert _method_params("aim", [], [["age", "sex"]]) == {"workload": [["age", "sex"]]}


@pytest.mark.parametrize("argv,needle", [
    (["--epsilon", "abc"], "argument --epsilon: invalid float value: 'abc'"),
    (["--seed", "-5"], "argument --seed: a seed must be a non-negative integer"),
    (["--rows", "0"], "argument --rows: must be a positive integer"),
    (["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
])
def test_argument_errors_are_one_line_and_exit_2(capsys, good_csv, tmp_path, argv, needle):
    base = ["release", str(good_csv), "--epsilon", "1", "--out", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as exited:
        main(base + argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and needle in err
    assert len(err.strip().splitlines()) == 1 and "usage:" not in err
    assert not (tmp_path / "o").exists()


def test_a_negative_delta_in_exponent_notation_is_read_as_a_number(capsys, good_csv, good_schema, tmp_path):
    code, _, err = run(capsys, "release", good_csv, "--schema", good_schema, "--out", tmp_path / "o",
                       "--epsilon", 1, "--delta", "-1e-9")
    assert_clean_error(code, err, "delta must be a number in [0, 1)")


def test_more_synthetic_rows_than_memory_holds_are_refused_before_any_charge(capsys, good_csv, good_schema, tmp_path):
    ledger = tmp_path / "ledger.db"
    code, _, err = run(capsys, "release", good_csv, "--schema", good_schema, "--out", tmp_path / "o",
                       "--epsilon", 1, "--rows", 10**15, "--ledger", ledger)
    assert_clean_error(code, err, "n_rows", "ask for at most")
    assert not (tmp_path / "o").exists() and not ledger.exists()
