"""Canaries: a planted unique value never leaves the custodian's machine through a release.

It must appear in none of stdout, stderr (logs at every verbosity), release.json, model.json or
synthetic.csv, on success and on every failure path; and a failure leaves no partial folder
and no charge in the ledger.
"""

import subprocess
import sys

import pytest

from dpsynth.privacy.ledger import Ledger
from tests.guarantee.neighbours import CANARY, base_table, with_record

RELEASED = ("release.json", "model.json", "synthetic.csv")


def dpsynth(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dpsynth.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


@pytest.fixture
def planted(tmp_path):
    """A CSV with the canary in one record's category, one record's number and one record's id."""
    frame = with_record(with_record(base_table(), "workclass", CANARY), "age", CANARY)
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


def assert_no_canary(run: subprocess.CompletedProcess, out) -> None:
    assert CANARY not in run.stdout and CANARY not in run.stderr
    for name in RELEASED:
        if (out / name).exists():
            assert CANARY not in (out / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("verbosity", [[], ["-v"]])
@pytest.mark.parametrize("audit", ["off", "quick"])
def test_a_successful_release_shows_no_canary(planted, tmp_path, verbosity, audit):
    out = tmp_path / "out"
    run = dpsynth(*verbosity, "release", str(planted), "--epsilon", "1", "--out", str(out), "--audit", audit,
                  cwd=tmp_path)
    assert run.returncode in (0, 1), run.stderr
    assert (out / "release.json").exists()
    assert_no_canary(run, out)


FAILURES = {
    "headerless file": (
        lambda path: with_record(base_table(), "workclass", CANARY).iloc[::-1].to_csv(path, index=False, header=False),
        [],
    ),
    "unknown method": (None, ["--method", "nope"]),
    "misspelled allocation part": (None, ["--allocation", "domian=0.1,marginal=0.9"]),
    "unknown privacy unit column": (None, ["--privacy-unit", "pid"]),
    "drafted schema not stated public": ("schema", []),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_a_failed_release_shows_no_canary_and_leaves_nothing(case, planted, tmp_path, private_ledger):
    make, extra = FAILURES[case]
    data = planted
    if callable(make):
        data = tmp_path / "headerless.csv"
        make(data)
    if make == "schema":
        schema = tmp_path / "drafted.json"
        assert dpsynth("schema", "infer", str(planted), "--out", str(schema), cwd=tmp_path).returncode == 0
        extra = ["--schema", str(schema)]
    out = tmp_path / "out"
    run = dpsynth("release", str(data), "--epsilon", "1", "--out", str(out), *extra, cwd=tmp_path)
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert_no_canary(run, out)
    assert not out.exists()
    assert not (tmp_path / "out.custodian").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial")]
    assert Ledger(private_ledger).releases() == []
