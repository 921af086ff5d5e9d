"""The same seed gives the same release on every engine, through the real entry points."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from dpsynth import Synthesizer
from dpsynth.cli import main
from dpsynth.data.load import read_table
from dpsynth.datasets import example_path
from dpsynth.digest import sha256_file
from dpsynth.errors import PrivacyWarning
from dpsynth.workflows.release import release
from tests.guarantee.neighbours import CRAFTED, base_table, plan_view, seeded_release, with_record

pytest.importorskip("duckdb")

COLUMNS = ["age", "workclass", "education", "sex", "hours-per-week", "capital-gain", "income", "native-country"]


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    """The shipped Adult example read as a custodian's CSV is read (every cell text)."""
    path, _ = example_path("adult")
    return read_table(path, na_values=["?"])[COLUMNS].head(3000)


def seeded(data, out, engine: str, **options) -> str:
    """The synthetic table's hash of a seeded release of ``data`` (a table, or a file's path)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        result = release(
            data, epsilon=1.0, delta=1e-9, out=out, random_state=11, audit="off", ledger=out.parent / "ledger.sqlite",
            engine=engine, **options,
        )
    return sha256_file(result.synthetic_file)


@pytest.mark.parametrize("method", ["mst", "aim", "privbayes"])
def test_a_seeded_release_is_the_same_on_numpy_and_duckdb(adult, tmp_path, method):
    """Discovered schema (the domain part on the capped rows) and every marginal: one release."""
    options = {"method": method, "method_params": {"max_rounds": 8} if method == "aim" else None}
    hashes = {engine: seeded(adult, tmp_path / engine, engine, **options) for engine in ("numpy", "duckdb")}
    assert hashes["numpy"] == hashes["duckdb"]


def test_a_person_level_release_is_the_same_on_numpy_and_duckdb(adult, tmp_path):
    frame = adult.assign(person=[str(i // 4) for i in range(len(adult))])
    hashes = {
        engine: seeded(frame, tmp_path / engine, engine, privacy_unit="person", max_rows_per_unit=2)
        for engine in ("numpy", "duckdb")
    }
    assert hashes["numpy"] == hashes["duckdb"]


def test_a_synthesizer_fits_the_same_model_on_both_engines(adult):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        samples = [
            Synthesizer("mst", epsilon=1.0, random_state=5, ledger=False, engine=engine).fit(adult).sample(
                200, random_state=0
            )
            for engine in ("numpy", "duckdb")
        ]
    pd.testing.assert_frame_equal(*samples)


def test_release_of_a_parquet_file_on_duckdb_from_the_command_line(adult, tmp_path):
    data = tmp_path / "big.parquet"
    adult.to_parquet(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        code = main([
            "--quiet", "release", str(data), "--epsilon", "1", "--engine", "duckdb", "--seed", "3", "--audit", "off",
            "--ledger", str(tmp_path / "ledger.sqlite"), "--out", str(tmp_path / "out"),
        ])
    assert code == 0 and (tmp_path / "out" / "synthetic.parquet").exists()


def test_an_unknown_engine_is_refused_before_anything_is_charged(adult, tmp_path):
    with pytest.raises(SystemExit):
        main(["release", "x.csv", "--epsilon", "1", "--engine", "sqlite", "--out", str(tmp_path / "out")])


@pytest.fixture(scope="module")
def duckdb_d(tmp_path_factory):
    return seeded_release(base_table(), tmp_path_factory.mktemp("d") / "out", engine="duckdb")


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_record_changes_no_plan_on_duckdb(case, duckdb_d, tmp_path):
    """Neighbours D and D + one crafted record, released on DuckDB with one seed: the same plan."""
    column, value = CRAFTED[case]
    neighbour = seeded_release(with_record(base_table(), column, value), tmp_path / "out", engine="duckdb")
    assert plan_view(neighbour, False) == plan_view(duckdb_d, False)



@pytest.mark.parametrize("options", [
    {}, {"privacy_unit": "person", "max_rows_per_unit": 2}, {"method": "privbayes"},
], ids=["records", "persons", "privbayes"])
def test_a_parquet_file_left_on_disk_gives_the_numpy_release(adult, tmp_path, options):
    """The DuckDB engine reads the file in chunks (discovery, cap and counts in SQL): same release."""
    data = tmp_path / "adult.parquet"
    adult.assign(person=[str(i // 3) for i in range(len(adult))]).to_parquet(data)
    hashes = {engine: seeded(data, tmp_path / engine, engine, **options) for engine in ("numpy", "duckdb")}
    assert hashes["numpy"] == hashes["duckdb"]


def test_a_csv_file_left_on_disk_gives_the_numpy_release(adult, tmp_path):
    data = tmp_path / "adult.csv"
    adult.to_csv(data, index=False)
    hashes = {engine: seeded(data, tmp_path / engine, engine) for engine in ("numpy", "duckdb")}
    assert hashes["numpy"] == hashes["duckdb"]


def test_a_file_on_duckdb_is_never_read_whole(adult, tmp_path, monkeypatch):
    """Neither pandas reader of a whole table runs: the file is read in chunks."""
    import dpsynth.data.load as load
    import dpsynth.workflows.release as release_module

    def whole(*args, **kwargs):
        raise AssertionError("the whole table was read")

    for module, name in ((load, "read_table"), (load, "read_data"), (load, "_read_arrow"), (release_module, "read_input")):
        monkeypatch.setattr(module, name, whole)
    for suffix in ("parquet", "csv"):
        data = tmp_path / f"adult.{suffix}"
        adult.to_parquet(data) if suffix == "parquet" else adult.to_csv(data, index=False)
        assert seeded(data, tmp_path / suffix, "duckdb").startswith("sha256:")


def test_a_file_on_duckdb_is_charged_under_the_key_of_its_table(adult, tmp_path):
    """The ledger key from the file's chunks is the key of the table read whole: the cap follows the data."""
    data = tmp_path / "adult.parquet"
    adult.to_parquet(data)
    for engine in ("numpy", "duckdb"):
        seeded(data, tmp_path / engine, engine)
    from dpsynth.privacy.ledger import Ledger

    assert len(Ledger(tmp_path / "ledger.sqlite").datasets()) == 1


@pytest.mark.parametrize("extra", [{}, {"constant": "x", "empty": None}], ids=["all-vary", "left-out-columns"])
def test_the_signature_of_a_file_read_in_chunks_is_that_of_the_table(adult, tmp_path, extra, monkeypatch):
    """Row hashes kept and sorted by DuckDB, in chunks: the bytes of the whole table's signature."""
    from dpsynth.data import load
    from dpsynth.data.engines.duckdb_rows import StoredRows
    from dpsynth.privacy.identity import content_signature

    data = tmp_path / "adult.parquet"
    adult.assign(**extra).to_parquet(data)
    monkeypatch.setattr(load, "CHUNK_ROWS", 700)
    table = load.open_file(data)
    assert table is not None
    assert StoredRows.ingest(table)[1] == content_signature(load.read_data(data))


def test_a_folder_of_parquet_files_is_the_table_its_files_hold_in_name_order(adult, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, start in enumerate(range(0, len(adult), 1000)):
        adult.iloc[start:start + 1000].to_parquet(folder / f"part-{i}.parquet")
    adult.to_parquet(tmp_path / "whole.parquet")
    assert seeded(folder, tmp_path / "folder", "duckdb") == seeded(tmp_path / "whole.parquet", tmp_path / "whole", "duckdb")


def test_a_folder_of_parquet_files_with_other_columns_is_refused(adult, tmp_path):
    from dpsynth.errors import DataError

    folder = tmp_path / "parts"
    folder.mkdir()
    adult.iloc[:1000].to_parquet(folder / "a.parquet")
    adult.iloc[1000:2000, 1:].to_parquet(folder / "b.parquet")
    with pytest.raises(DataError, match="'b.parquet' has other columns or types than 'a.parquet'"):
        seeded(folder, tmp_path / "out", "duckdb")


def test_an_audited_release_of_a_file_on_duckdb_attacks_public_sized_samples(adult, tmp_path):
    """The SQL holdout feeds the attacks; the record and the certificate say the fit was sampled."""
    data = tmp_path / "adult.parquet"
    adult.to_parquet(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        result = release(
            data, epsilon=1.0, delta=1e-9, out=tmp_path / "out", random_state=3, audit="quick", engine="duckdb",
            ledger=tmp_path / "ledger.sqlite",
        )
    assert result.certificate is not None
    said = "uniform sample of at most 20000 of the fitted records"
    assert said in result.record["audit"]["holdout_rule"] and said in json.dumps(result.certificate)


@pytest.mark.parametrize("method", ["neural", "hybrid"])
def test_dp_sgd_reads_a_file_on_duckdb_batch_by_batch_and_gives_the_numpy_release(adult, tmp_path, method, monkeypatch):
    """DP-SGD's batches are read from the file's rows by number, never the whole table: same release."""
    pytest.importorskip("torch")
    import dpsynth.data.load as load

    data = tmp_path / "adult.parquet"
    adult.head(600).to_parquet(data)
    params = {"epochs": 0.5} if method == "neural" else {"epochs": 0.5, "backbone": "mst"}
    numpy_hash = seeded(data, tmp_path / "numpy", "numpy", method=method, method_params=params)

    def whole(*args, **kwargs):
        raise AssertionError("the whole table was read")

    for name in ("read_table", "read_data", "_read_arrow"):
        monkeypatch.setattr(load, name, whole)
    assert seeded(data, tmp_path / "duckdb", "duckdb", method=method, method_params=params) == numpy_hash
