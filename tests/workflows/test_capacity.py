"""Plans that cannot finish are refused from public facts, before any budget is reserved."""

import numpy as np
import pandas as pd
import pytest

from dpsynth import Synthesizer
from dpsynth.errors import DataError
from dpsynth.workflows.capacity import MAX_COLUMNS, check_sample_size, check_width


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


def test_the_synthesizer_refuses_a_wide_table_before_the_ledger_is_touched(tmp_path):
    frame = pd.DataFrame(np.zeros((20, MAX_COLUMNS["aim"] + 1), dtype=int)).add_prefix("c")
    ledger = tmp_path / "ledger.db"
    with pytest.raises(DataError, match="more than aim takes at once"):
        Synthesizer("aim", epsilon=1.0, ledger=ledger).fit(frame)
    assert not ledger.exists()
