"""Dataset fingerprints: the same data gives the same hash whatever the row order; any edit changes it."""

import hashlib
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dpsynth.errors import DataError
from dpsynth.privacy.fingerprint import fingerprint_file, fingerprint_frame


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "age": [34, 51, 27, 34, 68],
            "income": [52000.5, np.nan, 31000.0, 47000.25, np.nan],
            "city": pd.array(["Oslo", "Lima", None, "Pune", "Oslo"], dtype="str"),
            "member": [True, False, True, True, False],
        }
    )


def test_format_is_prefixed_sha256(frame):
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", fingerprint_frame(frame))


def test_row_order_and_index_do_not_matter(frame):
    shuffled = frame.sample(frac=1.0, random_state=np.random.default_rng(3)).set_index(
        pd.Index([10, 20, 30, 40, 50])
    )
    assert not shuffled.reset_index(drop=True).equals(frame)
    assert fingerprint_frame(shuffled) == fingerprint_frame(frame)


def test_a_single_changed_cell_changes_it(frame):
    before = fingerprint_frame(frame)
    for column, value in [("age", 35), ("income", 52000.0), ("city", "Oslo2"), ("member", False)]:
        edited = frame.copy()
        edited.loc[0, column] = value
        assert fingerprint_frame(edited) != before, column


def test_missing_values_hash_apart_from_values(frame):
    filled = frame.copy()
    filled.loc[1, "income"] = 0.0
    assert fingerprint_frame(filled) != fingerprint_frame(frame)
    emptied = frame.copy()
    emptied.loc[0, "city"] = None
    assert fingerprint_frame(emptied) != fingerprint_frame(frame)
    assert fingerprint_frame(emptied) == fingerprint_frame(emptied.copy())


def test_column_names_order_and_dtypes_count(frame):
    before = fingerprint_frame(frame)
    assert fingerprint_frame(frame.rename(columns={"age": "years"})) != before
    assert fingerprint_frame(frame[["income", "age", "city", "member"]]) != before
    assert fingerprint_frame(frame.astype({"age": "float64"})) != before
    # The integer column 1 and the string column "1" are different tables.
    assert fingerprint_frame(pd.DataFrame({1: [1, 2]})) != fingerprint_frame(pd.DataFrame({"1": [1, 2]}))


def test_pandas_string_dtype_is_hashed_by_value(frame):
    assert str(frame["city"].dtype) == "str"
    rebuilt = frame.copy()
    rebuilt["city"] = pd.array(list(frame["city"]), dtype="str")
    assert fingerprint_frame(rebuilt) == fingerprint_frame(frame)


def test_duplicate_rows_count(frame):
    assert fingerprint_frame(pd.concat([frame, frame.iloc[[0]]])) != fingerprint_frame(frame)


def test_empty_frames_hash():
    assert fingerprint_frame(pd.DataFrame({"a": []})) != fingerprint_frame(pd.DataFrame({"b": []}))
    assert fingerprint_frame(pd.DataFrame(index=range(2))) != fingerprint_frame(pd.DataFrame(index=range(3)))


def test_rejects_what_is_not_a_frame():
    with pytest.raises(DataError, match="df"):
        fingerprint_frame(pd.Series([1, 2]))


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(-5, 5),
            st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
            st.text(max_size=3),
        ),
        min_size=1,
        max_size=12,
    ),
    data=st.data(),
)
def test_any_permutation_gives_the_same_fingerprint(rows, data):
    permuted = data.draw(st.permutations(rows))
    columns = ["a", "b", "c"]
    first = pd.DataFrame(rows, columns=columns).astype({"b": "float64", "c": "str"})
    second = pd.DataFrame(permuted, columns=columns).astype({"b": "float64", "c": "str"})
    assert fingerprint_frame(first) == fingerprint_frame(second)


def test_file_fingerprint_is_sha256_of_bytes_across_chunks(tmp_path):
    content = np.random.default_rng(0).bytes((1 << 20) * 2 + 12345)
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    assert fingerprint_file(path) == "sha256:" + hashlib.sha256(content).hexdigest()
    path.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))
    assert fingerprint_file(str(path)) != "sha256:" + hashlib.sha256(content).hexdigest()
