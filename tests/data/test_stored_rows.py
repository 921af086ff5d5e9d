"""A file's rows held by DuckDB: the holdout coins in SQL, the audit samples, the cap."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest

from dpsynth.data import contributions
from dpsynth.data.contributions import bound_contributions, priority_chunks, unit_order
from dpsynth.data.engines.duckdb_rows import CAPPED, FIT, StoredRows
from dpsynth.data.load import open_file
from dpsynth.privacy.budget import PrivacyUnit
from dpsynth.workflows.release import HOLDOUT_MAX, HOLDOUT_SHARE, split_stored

pytest.importorskip("duckdb")


def stored(frame: pd.DataFrame, path) -> StoredRows:
    frame.to_parquet(path)
    table = open_file(path)
    assert table is not None
    return StoredRows.ingest(table)[0]


def fitted(rows: StoredRows, column: str) -> set:
    sql = rows.column_sql(column)
    return {value for (value,) in rows.connection.execute(f"SELECT {sql} FROM {FIT}").fetchall()}


@pytest.mark.parametrize("n", [5005, 19995])
def test_adding_a_record_moves_no_other_record_across_the_sql_split(n, tmp_path):
    """D and D plus a record, split with one seed: the fitted part of D' is that of D, or it plus the record."""
    frame = pd.DataFrame({"row": np.arange(n + 1), "v": "a"})
    d, d1 = stored(frame.iloc[:n], tmp_path / "d.parquet"), stored(frame, tmp_path / "d1.parquet")
    for rows in (d, d1):
        split_stored(rows, PrivacyUnit(), np.random.default_rng(3))
    assert fitted(d1, "row") - {n} == fitted(d, "row")
    assert abs(len(fitted(d, "row")) / n - (1 - HOLDOUT_SHARE)) < 0.05


def test_adding_a_person_anywhere_moves_no_other_person(tmp_path):
    """A person's coin is keyed by the person, not by where their rows lie in the file."""
    frame = pd.DataFrame({"pid": np.repeat(np.arange(3000), 2), "v": 1})
    newcomer = pd.DataFrame({"pid": [99999, 99999], "v": 2})
    d = stored(frame, tmp_path / "d.parquet")
    d1 = stored(pd.concat([frame.iloc[:10], newcomer, frame.iloc[10:]], ignore_index=True), tmp_path / "d1.parquet")
    samples = [split_stored(rows, PrivacyUnit("pid", 2), np.random.default_rng(0)) for rows in (d, d1)]
    assert fitted(d1, "pid") - {99999} == fitted(d, "pid")
    members, holdout = samples[0]
    assert not set(members["pid"]) & set(holdout["pid"])
    assert holdout.groupby("pid").size().eq(2).all()


def portable_coins(keys, seed: int, share: float) -> set:
    """The keys :mod:`dpsynth.data.engines.coins` holds out, computed in Python from its definition."""
    threshold = f"{math.floor(share * 2**52):013x}"
    return {key for key in keys if hashlib.md5(f"{seed}:{key}".encode()).hexdigest()[:13] < threshold}


@pytest.mark.parametrize("unit", [None, "pid", "flag", "name"])
def test_the_sql_coins_are_the_portable_keyed_coins(unit, tmp_path):
    """Rows by their position, persons by the text of their cell (integers, text, booleans):
    the units held out are those the coin's definition holds out, whatever the engine."""
    n = 4000
    frame = pd.DataFrame({
        "row": np.arange(n), "pid": np.arange(n) // 3, "flag": np.arange(n) % 2 == 0,
        "name": pd.Series([f"p{i // 2}" for i in range(n)], dtype="str"),
    })
    rows = stored(frame, tmp_path / "d.parquet")
    seed = int(np.random.default_rng(7).integers(2**63, size=2)[0])
    rows.split(unit, 0.3, np.random.default_rng(7))
    column = unit or "row"
    keys = frame[column].astype(str).str.lower() if unit == "flag" else frame[column].astype(str)
    held = portable_coins(set(keys), seed, 0.3)
    expected = set(frame[column][~keys.isin(held)])
    assert fitted(rows, column) == expected


def test_the_audit_reads_public_sized_uniform_samples(tmp_path):
    frame = pd.DataFrame({"row": np.arange(60_000), "v": "a"})
    rows = stored(frame, tmp_path / "d.parquet")
    members, holdout = split_stored(rows, PrivacyUnit(), np.random.default_rng(1))
    assert len(holdout) == HOLDOUT_MAX and len(members) == 20_000
    assert not set(members["row"]) & set(holdout["row"])
    # Uniform over the file: each half of it holds about half of each sample.
    assert abs((holdout["row"] < 30_000).mean() - 0.5) < 0.05
    assert abs((members["row"] < 30_000).mean() - 0.5) < 0.02
    assert list(members.dtypes) == list(rows.header.dtypes)


def test_a_share_outside_zero_and_one_is_refused(tmp_path):
    rows = stored(pd.DataFrame({"row": np.arange(10)}), tmp_path / "d.parquet")
    with pytest.raises(Exception, match="strictly between 0 and 1"):
        split_stored(rows, PrivacyUnit(), np.random.default_rng(1), share=1.0)


def test_priorities_are_one_stream_at_any_block_size(monkeypatch):
    """The cap's priorities do not depend on how many are drawn at a time."""
    whole = np.concatenate(list(priority_chunks(1000, np.random.default_rng(5))))
    monkeypatch.setattr(contributions, "PRIORITY_CHUNK", 7)
    blocks = list(priority_chunks(1000, np.random.default_rng(5)))
    assert len(blocks) == 143 and np.array_equal(np.concatenate(blocks), whole) and whole.min() >= 0


def test_the_file_cap_streams_its_priorities_and_keeps_the_in_memory_rows(tmp_path, monkeypatch):
    """Priorities drawn in blocks of 7 into DuckDB: each person keeps the rows the in-memory cap keeps."""
    monkeypatch.setattr(contributions, "PRIORITY_CHUNK", 7)
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"person": rng.integers(0, 12, size=200), "row": np.arange(200)})
    frame.loc[rng.random(200) < 0.1, "person"] = None
    unit = PrivacyUnit("person", 3)
    rows = stored(frame, tmp_path / "d.parquet")
    rows.cap(unit, np.random.default_rng(4))
    sql = rows.column_sql("row")
    kept = {value for (value,) in rows.connection.execute(f"SELECT {sql} FROM {CAPPED}").fetchall()}
    named, order = unit_order(frame, unit, np.random.default_rng(4))
    assert kept == set(bound_contributions(named, order, unit)["row"])


def test_a_category_column_keeps_its_labels_in_the_samples_and_the_raw_counts(tmp_path):
    """A file's schema lists no categories: the cells' own labels come back, not missing cells."""
    frame = pd.DataFrame({"row": np.arange(300), "label": pd.Categorical(np.array(["p", "q", None])[np.arange(300) % 3])})
    rows = stored(frame, tmp_path / "d.parquet")
    rows.cap(PrivacyUnit(), np.random.default_rng(1))
    cells, counts = rows.value_counts("label")
    assert isinstance(cells.dtype, pd.CategoricalDtype)
    assert dict(zip(cells.astype(object).fillna("missing"), counts)) == {"p": 100, "q": 100, "missing": 100}
    members, _ = split_stored(rows, PrivacyUnit(), np.random.default_rng(1))
    assert set(members["label"].dropna()) == {"p", "q"}
