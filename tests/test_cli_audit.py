"""`dpsynth audit` and `dpsynth release --audit`: exit 1 on FAIL, 2 on bad input, certificate files."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dpsynth.cli import main
from tests.conftest import example_adult, pums_like


@pytest.fixture(scope="module")
def csvs(tmp_path_factory):
    """Train, holdout, a copy of train and independent draws per column, as CSV files (Adult).

    The independent draws come from other rows than train's: drawn from train itself they would
    copy its unique fnlwgt values, which singling out rightly catches.
    """
    frame = example_adult()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(frame))
    train, holdout, source = (frame.iloc[order[a:b]] for a, b in ((0, 2000), (2000, 3000), (3000, 5000)))
    independent = pd.DataFrame({name: rng.choice(source[name].to_numpy(), size=2000) for name in frame.columns})
    folder = tmp_path_factory.mktemp("csv")
    paths = {}
    for name, table in (("train", train), ("holdout", holdout), ("copy", train), ("independent", independent)):
        paths[name] = folder / f"{name}.csv"
        table.to_csv(paths[name], index=False)
    return paths


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def audit_args(csvs, synthetic, out, *extra):
    return ("audit", "--real", csvs["train"], "--holdout", csvs["holdout"], "--synthetic", csvs[synthetic],
            "--out", out, "--level", "quick", "--seed", 1, *extra)


def test_a_copy_fails_with_exit_code_1(capsys, csvs, tmp_path):
    code, out, err = run(capsys, *audit_args(csvs, "copy", tmp_path / "a"))
    assert code == 1, err
    assert out.startswith("audit: FAIL") and "not part of the DP guarantee" in out
    assert (tmp_path / "a" / "certificate.json").exists() and (tmp_path / "a" / "certificate.html").exists()


def test_independent_columns_pass_and_json_prints_the_certificate(capsys, csvs, tmp_path):
    code, out, err = run(capsys, *audit_args(csvs, "independent", tmp_path / "a", "--json"))
    assert code == 0, err
    certificate = json.loads(out)
    assert certificate["verdict"] == "PASS" and certificate["privacy"] is None


def test_bad_input_exits_2_with_one_line(capsys, csvs, tmp_path):
    code, _, err = run(capsys, "audit", "--real", csvs["train"], "--holdout", csvs["train"], "--synthetic",
                       csvs["copy"], "--out", tmp_path / "a")
    assert code == 2 and err.count("\n") == 1 and "holdout rows also occur in the training data" in err
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"dpsynth_policy": 1, "linkage_max": 0.1}))
    code, _, err = run(capsys, *audit_args(csvs, "copy", tmp_path / "b", "--policy", policy))
    assert code == 2 and "linkage_max" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_release_runs_the_audit_and_bundles_the_certificate(capsys, tmp_path):
    pums = tmp_path / "pums.csv"
    pums_like().to_csv(pums, index=False)
    code, out, err = run(capsys, "release", pums, "--epsilon", 1, "--out", tmp_path / "r", "--audit", "quick",
                         "--holdout-share", 0.3)
    assert code in (0, 1), err
    assert f"audit: {'PASS' if code == 0 else 'FAIL'}" in out
    record = json.loads((tmp_path / "r" / "release.json").read_text())
    assert record["audit"]["level"] == "quick" and "0.3" in record["audit"]["holdout_rule"]
    assert (tmp_path / "r" / "certificate.json").exists() and "certificate.json" not in record["outputs"]


def test_audit_help_shows_examples():
    done = subprocess.run([sys.executable, "-m", "dpsynth.cli", "audit", "--help"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and "dpsynth audit --real train.csv" in done.stdout
    done = subprocess.run([sys.executable, "-m", "dpsynth.cli", "release", "--help"], capture_output=True, text=True,
                          check=False)
    assert "--audit {quick,standard,thorough,off}" in done.stdout
