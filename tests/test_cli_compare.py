"""`dpsynth compare` end to end: a small sweep, its JSON, a resume, and one-line errors."""

import json

import pandas as pd
import pytest

from dpsynth.cli import EXIT_BAD_INPUT, EXIT_OK, main
from dpsynth.datasets import example_path
from dpsynth.report.sweep_charts import INTERVAL_NOTE
from dpsynth.workflows.compare import WARNING
from tests.conftest import pums_like

SCHEMA = {
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
}


@pytest.fixture
def inputs(tmp_path):
    data, schema = tmp_path / "pums.csv", tmp_path / "schema.json"
    pums_like().iloc[:300].to_csv(data, index=False)
    schema.write_text(json.dumps(SCHEMA))
    return data, schema


def test_compare_writes_results_as_json_then_resumes(inputs, tmp_path, capsys):
    data, schema = inputs
    out = tmp_path / "sweep"
    argv = ["compare", str(data), "--methods", "privbayes", "--epsilons", "1", "--out", str(out),
            "--schema", str(schema), "--target", "married", "--audit", "off", "--jobs", "1", "--seed", "0"]
    assert main([*argv, "--json"]) == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert document["warning"] == WARNING
    assert document["settings"]["schema"]["provenance"] == "public"
    (row,) = document["rows"]
    assert row["status"] == "ok" and row["method"] == "privbayes" and row["epsilon_spent"] <= 1
    assert 0 <= row["tstr_auc"] <= 1 and 0 <= row["real_auc"] <= 1
    assert row["audit"] == "not requested"
    assert {p.name for p in out.iterdir()} >= {"results.csv", "results.json", "report.html", "runs.jsonl"}

    assert main(argv) == EXIT_OK
    text = capsys.readouterr().out
    assert text.startswith("EXPLORATION - NOT FOR PUBLICATION")
    assert "1 run(s), 0 failed, 1 skipped as already finished" in text
    assert "privbayes" in text and "report.html" in text


def test_compare_bad_input_is_one_line_exit_2(inputs, tmp_path, capsys):
    data, _ = inputs
    code = main(["compare", str(data), "--methods", "mst,nope", "--epsilons", "1", "--out", str(tmp_path / "x")])
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("dpsynth: error: unknown method 'nope'") and err.count("\n") == 1
    assert main(["compare", str(data), "--epsilons", "0", "--out", str(tmp_path / "y")]) == EXIT_BAD_INPUT
    assert "epsilons must be a number in (0" in capsys.readouterr().err


def test_compare_passes_the_workload_to_methods_that_take_one(inputs, tmp_path, capsys):
    data, schema = inputs
    out = tmp_path / "sweep"
    argv = ["compare", str(data), "--methods", "mst,aim", "--epsilons", "1", "--out", str(out), "--schema",
            str(schema), "--audit", "off", "--jobs", "1", "--seed", "0", "--workload", "age,sex;educ,married",
            "--param", "aim.max_model_size=10", "--param", "mst.max_iters=50", "--json"]
    assert main(argv) == EXIT_OK
    rows = {row["method"]: row for row in json.loads(capsys.readouterr().out)["rows"]}
    assert rows["aim"]["status"] == "ok" and rows["mst"]["status"] == "ok"
    assert json.loads(rows["aim"]["params"]) == {"max_model_size": 10, "workload": [["age", "sex"], ["educ", "married"]]}
    assert json.loads(rows["mst"]["params"]) == {"max_iters": 50}

    assert main([*argv[:-3], "--param", "mst.max_iters=60"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "made with parameters {\"max_iters\": 50}" in err and err.count("\n") == 1


@pytest.mark.parametrize("extra, needle", [
    (["--methods", "mst", "--workload", "2"], "none of ['mst'] does"),
    (["--methods", "mst", "--param", "max_iters=5"], "METHOD.NAME=VALUE"),
    (["--methods", "mst", "--param", "mst.bogus=5"], "has no parameter(s) ['bogus']"),
    (["--methods", "mst", "--param", "aim.max_iters=5"], "not in methods"),
])
def test_compare_refuses_bad_parameters_in_one_line(inputs, tmp_path, capsys, extra, needle):
    data, _ = inputs
    assert main(["compare", str(data), "--epsilons", "1", "--out", str(tmp_path / "x"), *extra]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_compare_help_has_examples_and_the_warning(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "dpsynth compare data.csv --methods mst,aim,privbayes --epsilons 0.3,1,3,10 --out sweep" in text
    assert "must not be published" in text and "--retry-failed" in text


def test_compare_report_shows_the_seeds_spread_and_the_scores_per_column(inputs, tmp_path, capsys):
    data, schema = inputs
    out = tmp_path / "sweep"
    assert main(["compare", str(data), "--methods", "mst", "--epsilons", "1", "--seeds", "2", "--out", str(out),
                 "--schema", str(schema), "--audit", "off", "--jobs", "1", "--seed", "0", "--json"]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert len(rows) == 2 and not any("pair_trends" in row or "column_views" in row for row in rows)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "mst (n=2)" in html and INTERVAL_NOTE in html
    assert "<h3>Column shape</h3>" in html and "<h3>Pair trend</h3>" in html
    assert "The three pairs each method keeps worst" in html and " × " in html


@pytest.mark.slow
def test_compare_report_shows_the_neural_warning_beside_its_rows(tmp_path, capsys):
    pytest.importorskip("torch", reason="the neural extra is not installed")
    data, _ = example_path("adult")
    columns = ["age", "workclass", "sex", "income"]
    small = pd.read_csv(data, usecols=columns, dtype=str, keep_default_na=False).sample(800, random_state=0)
    small.to_csv(tmp_path / "small.csv", index=False)
    out = tmp_path / "sweep"
    assert main(["compare", str(tmp_path / "small.csv"), "--methods", "mst,neural", "--epsilons", "1",
                 "--out", str(out), "--audit", "off", "--jobs", "1", "--seed", "0",
                 "--param", "neural.epochs=1"]) == EXIT_OK
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Warnings from the runs" in html and "cannot buy a useful neural model" in html
    assert 'data-label="method">neural ⚠1</td>' in html and 'data-label="method">mst</td>' in html
    assert html.count("<circle class=\"flag\"") >= 2  # the neural point ringed in the charts against epsilon
