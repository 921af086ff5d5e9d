"""A release reads every format and writes the input's (or the chosen) format, with the input's kind of table."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import dpsynth
from dpsynth.cli import main
from dpsynth.datasets import example_path
from dpsynth.errors import DataError, PrivacyWarning
from dpsynth.workflows.release import release

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")
pq = pytest.importorskip("pyarrow.parquet")


def adult(rows=3000):
    """The shipped Adult example as a custodian holding a typed table would: ``?`` read as null."""
    return pd.read_csv(example_path("adult")[0], na_values="?", keep_default_na=False).head(rows)


def quiet(**options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        return release(**{"epsilon": 1.0, "delta": 1e-9, "random_state": 7, "audit": "off", **options})


def test_a_parquet_file_releases_as_parquet_from_the_cli(tmp_path, capsys):
    path = tmp_path / "adult.parquet"
    pq.write_table(pa.Table.from_pandas(adult(), preserve_index=False), path)
    code = main(["release", str(path), "--epsilon", "1", "--out", str(tmp_path / "r"), "--audit", "off"])
    out = capsys.readouterr().out
    assert code == 0 and f"wrote {tmp_path / 'r' / 'synthetic.parquet'}" in out
    record = json.loads((tmp_path / "r" / "release.json").read_text())
    assert record["synthetic"] == {"file": "synthetic.parquet", "format": "parquet", "null_token": ""}
    assert set(record["outputs"]) == {"synthetic.parquet", "model.json"}
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["model.json", "release.json", "synthetic.parquet"]
    synthetic = pq.read_table(tmp_path / "r" / "synthetic.parquet").to_pandas()
    assert synthetic.columns.tolist() == adult().columns.tolist() and synthetic["age"].dtype.kind == "i"


def test_format_chooses_the_output_and_a_bad_one_is_refused(tmp_path, capsys):
    path = tmp_path / "adult.csv"
    adult().to_csv(path, index=False, na_rep="?")
    result = quiet(data=path, out=tmp_path / "r", na_values=["?"], format="arrow", schema=example_path("adult")[1])
    assert result.synthetic_file.name == "synthetic.arrow" and result.record["synthetic"]["format"] == "arrow"
    assert pytest.importorskip("pyarrow.feather").read_table(result.synthetic_file).num_rows == len(result.synthetic)
    with pytest.raises(DataError, match=r"format must be one of \['csv', 'parquet', 'arrow', 'excel'\]"):
        quiet(data=path, out=tmp_path / "r2", format="sas")
    with pytest.raises(SystemExit, match="2"):
        main(["release", str(path), "--epsilon", "1", "--out", str(tmp_path / "r3"), "--format", "sas"])
    assert "invalid choice: 'sas'" in capsys.readouterr().err


def test_a_semicolon_latin1_csv_keeps_its_null_token_and_leading_zeros(tmp_path):
    frame = adult().assign(zip=lambda f: ["02134", "00501", "90210"] * (len(f) // 3))
    path = tmp_path / "data.csv"
    path.write_bytes(frame.to_csv(index=False, sep=";", na_rep="?").replace("Self", "Sélf").encode("latin-1"))
    with pytest.raises(DataError, match="is not UTF-8 text"):
        quiet(data=path, out=tmp_path / "r0", na_values=["?"])
    kinds = {"zip": "categorical"}
    result = quiet(data=path, out=tmp_path / "r", na_values=["?"], encoding="latin-1", schema=kinds)
    text = result.synthetic_file.read_text(encoding="utf-8")
    written = pd.read_csv(result.synthetic_file, dtype=str, keep_default_na=False)
    assert set(written["zip"]) <= {"02134", "00501", "90210", "other", "?"} and "02134" in set(written["zip"])
    assert result.record["synthetic"]["null_token"] == "?" and "?" in set(written["workclass"])
    assert ",," not in text and ",\n" not in text  # nulls are written as the user's token, never empty
    assert written["age"].str.fullmatch(r"\d+|\?").all()  # integers stay integers (no 39.0), nulls the token


def test_zip_codes_keep_their_leading_zeros_under_dp_discovery(tmp_path):
    # No schema: the kind is decided under DP from per-cell classes, where 02134 is text.
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"zip": rng.choice(["02134", "02139", "01002", "00501"], 3000),
                          "age": rng.integers(18, 90, 3000).astype(str)})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    result = quiet(data=path, out=tmp_path / "r", epsilon=3.0)
    kinds = {column["name"]: column["kind"] for column in result.record["schema"]["definition"]["columns"]}
    assert kinds == {"zip": "categorical", "age": "numeric"}
    written = pd.read_csv(result.synthetic_file, dtype=str, keep_default_na=False)["zip"]
    assert set(written) <= {"02134", "02139", "01002", "00501", "other", ""} and written.str.startswith("0").mean() > 0.9


@pytest.mark.parametrize("library", ["polars", "pyarrow"])
def test_polars_and_pyarrow_tables_come_back_as_their_own_kind(tmp_path, library):
    table = pl.from_pandas(adult()) if library == "polars" else pa.Table.from_pandas(adult(), preserve_index=False)
    result = quiet(data=table, out=tmp_path / "r", schema=example_path("adult")[1])
    assert type(result.synthetic) is type(table) and result.record["input"]["dataset"] == f"{library} table"
    assert result.synthetic_file.name == "synthetic.csv"
    synthesizer = dpsynth.Synthesizer("mst", epsilon=1.0, schema=example_path("adult")[1], ledger=False).fit(table)
    assert type(synthesizer.sample(50)) is type(table)


@pytest.mark.slow
def test_the_readme_first_example_works_on_a_parquet_file(tmp_path, capsys, monkeypatch):
    """README: ``dpsynth release --example adult --epsilon 1 --out adult-release``, on a Parquet file."""
    monkeypatch.chdir(tmp_path)
    pq.write_table(pa.Table.from_pandas(adult(5000), preserve_index=False), "adult.parquet")
    code = main(["release", "adult.parquet", "--epsilon", "1", "--out", "adult-release"])
    assert code in (0, 1) and (tmp_path / "adult-release" / "synthetic.parquet").exists()
    assert "differentially private" in capsys.readouterr().out


@pytest.mark.slow
def test_the_readme_python_example_works_on_a_polars_frame(tmp_path, monkeypatch):
    """README's Python snippet, line for line, with ``data`` a polars DataFrame."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schema.json").write_text(example_path("adult")[1].read_text())
    data = pl.from_pandas(adult(5000))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        result = dpsynth.release(data, epsilon=1.0, delta=1e-9, schema="schema.json", out="release")
        print(result.record["statement"])
        synthesizer = dpsynth.Synthesizer("aim", epsilon=1.0, delta=1e-9, schema="schema.json").fit(data)
        women = synthesizer.sample(1000, conditions={"sex": "Female"})
        balanced = synthesizer.sample(1000, rebalance={"income": {"<=50K": 0.5, ">50K": 0.5}})
        synthesizer.save("aim.json")
    assert isinstance(result.synthetic, pl.DataFrame) and isinstance(women, pl.DataFrame)
    assert women["sex"].unique().to_list() == ["Female"] and len(balanced) == 1000
    assert dpsynth.Synthesizer.load("aim.json").sample(10).shape[0] == 10


def test_audit_takes_polars_pyarrow_and_parquet_tables(tmp_path):
    from dpsynth.workflows.audit import audit

    rows = adult(1900).sample(frac=1.0, random_state=4).reset_index(drop=True)
    train, holdout = rows.iloc[:1500].reset_index(drop=True), rows.iloc[1500:].reset_index(drop=True)
    holdout_path = tmp_path / "holdout.parquet"
    pq.write_table(pa.Table.from_pandas(holdout, preserve_index=False), holdout_path)
    outcome = audit(pl.from_pandas(train), holdout_path, pa.Table.from_pandas(train, preserve_index=False),
                    out=tmp_path / "a", schema=example_path("adult")[1], level="quick", random_state=2)
    assert outcome.verdict == "FAIL"  # the synthetic table is the training rows
    assert list(outcome.certificate["files"]) == ["holdout"]


def test_compare_takes_a_polars_frame(tmp_path):
    from dpsynth.workflows.compare import compare
    from tests.conftest import pums_like

    frame = pl.from_pandas(pums_like().iloc[:400])
    table = compare(frame, methods="mst", epsilons="1", out=tmp_path / "sweep", audit="off", n_jobs=1, random_state=0)
    assert table["status"].tolist() == ["ok"]
