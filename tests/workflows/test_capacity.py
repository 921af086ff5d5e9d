"""Plans that cannot finish are refused from public facts, before any budget is reserved."""

import numpy as np
import pandas as pd
import pytest

from dpsynth import Synthesizer
from dpsynth.errors import DataError
from dpsynth.workflows.capacity import MAX_COLUMNS, check_sample_size, check_stream_size, check_width


def test_each_method_takes_at_most_its_columns():
    for method, limit in MAX_COLUMNS.items():
        check_width(method, limit)
        with pytest.raises(DataError, match=f"more than {method} takes at once"):
            check_width(method, limit + 1)
    check_width("some-future-method", 10**6)  # no limit known: nothing refused


def test_a_synthetic_table_larger_than_memory_is_refused():
    assert check_sample_size(None, 10) is None and check_sample_size(1000, 10) == 1000
    with pytest.raises(DataError, match="ask for at most"):
        check_sample_size(10**15, 10)


def test_a_streamed_table_is_judged_by_the_disk_not_the_memory(tmp_path):
    # Written in chunks, rows need no memory for the table, only room on the disk.
    assert check_stream_size(10**8, 10, tmp_path / "not" / "made" / "yet") == 10**8
    with pytest.raises(DataError, match="of disk, more than"):
        check_stream_size(10**15, 10, tmp_path)


def test_the_synthesizer_refuses_a_wide_table_before_the_ledger_is_touched(tmp_path):
    frame = pd.DataFrame(np.zeros((20, MAX_COLUMNS["aim"] + 1), dtype=int)).add_prefix("c")
    ledger = tmp_path / "ledger.db"
    with pytest.raises(DataError, match="more than aim takes at once"):
        Synthesizer("aim", epsilon=1.0, ledger=ledger).fit(frame)
    assert not ledger.exists()


def test_a_release_written_in_chunks_is_not_held_to_memory(tmp_path, monkeypatch):
    from dpsynth.workflows import capacity
    from dpsynth.workflows.release import STREAM_ROWS, release

    monkeypatch.setattr(capacity, "physical_memory", lambda: 2**20)  # 1 MiB: no whole table fits
    frame = pd.DataFrame({"a": np.arange(3000) % 7, "b": np.arange(3000) % 3})
    rows = STREAM_ROWS + 1
    result = release(frame, epsilon=1.0, delta=1e-9, out=tmp_path / "r", audit="off", n_rows=rows, ledger=tmp_path / "l.db")
    assert result.synthetic is None and len(pd.read_csv(tmp_path / "r" / "synthetic.csv")) == rows
    with pytest.raises(DataError, match="ask for at most"):
        release(frame, epsilon=1.0, delta=1e-9, out=tmp_path / "s", audit="quick", n_rows=rows, ledger=tmp_path / "l.db")
