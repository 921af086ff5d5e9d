"""Sampling in chunks: the same rows for a seed whatever the chunk size, written chunk by chunk."""

import numpy as np
import pandas as pd
import pytest

from dpsynth.data.write import write_chunks
from dpsynth.errors import DataError, ParameterError
from dpsynth.generators.base import STREAM_BLOCK
from dpsynth.generators.mst import MST
from dpsynth.workflows import release as pipeline

from .conftest import fit_generator

N_ROWS = 2 * STREAM_BLOCK + 1000  # two whole blocks and a short one


@pytest.fixture(scope="module")
def mst(adult):
    return fit_generator(MST(), adult, epsilon=3.0)[0]


def test_chunks_give_the_same_rows_for_a_seed_whatever_their_size(mst):
    small = list(mst.sample_chunks(N_ROWS, random_state=7))
    large = list(mst.sample_chunks(N_ROWS, random_state=7, chunk_rows=2 * STREAM_BLOCK))
    assert [len(c) for c in small] == [STREAM_BLOCK, STREAM_BLOCK, 1000]
    assert [len(c) for c in large] == [2 * STREAM_BLOCK, 1000]
    pd.testing.assert_frame_equal(pd.concat(small, ignore_index=True), pd.concat(large, ignore_index=True))
    other = pd.concat(mst.sample_chunks(N_ROWS, random_state=8), ignore_index=True)
    assert not other.equals(pd.concat(small, ignore_index=True))


def test_chunked_rows_follow_the_model(mst, adult):
    """Each block is stratified on its own: a one-way share is off the model's by at most one row
    per block of the sample, plus the unmerging draws' noise."""
    rows = pd.concat(mst.sample_chunks(N_ROWS, random_state=1), ignore_index=True)
    model = mst.model_
    for column in ("sex", "race", "income>50K"):
        share = rows[column].value_counts(normalize=True).sort_index().to_numpy()
        expected = model.marginal((column,)) / model.total
        assert share.size == expected.size
        assert np.abs(share - expected).max() < 3 / N_ROWS + 4 / np.sqrt(N_ROWS)


def test_chunk_size_must_be_whole_blocks(mst):
    with pytest.raises(DataError, match="chunk_rows"):
        mst.sample_chunks(10, chunk_rows=STREAM_BLOCK + 1)
    with pytest.raises(ParameterError, match="n_rows"):
        mst.sample_chunks(0)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "arrow"])
def test_chunks_are_written_as_one_table(tmp_path, fmt):
    chunks = [pd.DataFrame({"a": [1, 2], "flag": [True, False]}),
              pd.DataFrame({"a": [3], "flag": pd.array([None], dtype="boolean")})]
    path = tmp_path / f"out.{fmt}"
    write_chunks(iter(chunks), path, fmt, na_token="NA")
    read = {"csv": pd.read_csv, "parquet": pd.read_parquet, "arrow": pd.read_feather}[fmt]
    back = read(path)
    assert back["a"].tolist() == [1, 2, 3]
    assert back["flag"].iloc[:2].tolist() == [True, False] and pd.isna(back["flag"].iloc[2])


@pytest.mark.filterwarnings("ignore::dpsynth.errors.PrivacyWarning")
def test_a_large_release_without_audit_streams_its_table(adult, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "STREAM_ROWS", 100)
    frame, schema = adult
    result = pipeline.release(frame, schema=schema, epsilon=1.0, delta=1e-9, out=tmp_path / "out", audit="off",
                              n_rows=500, random_state=0, ledger=tmp_path / "ledger.sqlite")
    assert result.synthetic is None and result.n_synthetic == 500
    assert len(pd.read_csv(result.synthetic_file)) == 500
