"""Dataset identity: one key however the same table is encoded, another for any changed cell, and
nothing a stranger can recompute from the rows."""

import hashlib
import io
import re
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dpsynth.errors import DataError
from dpsynth.privacy.identity import NULL_TOKENS, content_signature, legacy_fingerprint
from dpsynth.privacy.ledger import Ledger

CSV = """age,income,city,member,source
34,52000.5,Oslo,True,survey
51,?,Lima,False,survey
27,31000,?,True,survey
34,47000.25,Pune,True,survey
68,?,Oslo,False,survey
"""


@pytest.fixture
def frame():
    return pd.read_csv(io.StringIO(CSV))


@pytest.fixture
def key(tmp_path):
    """The ledger key of a frame in one ledger, kept for the whole test."""
    ledger = Ledger(tmp_path / "identity.sqlite")
    return ledger.dataset_key


def test_key_is_an_hmac_and_the_same_on_every_call(frame, key):
    first = key(frame)
    assert re.fullmatch(r"hmac:[0-9a-f]{64}", first)
    assert key(frame.copy()) == first
    assert len(content_signature(frame)) == 32


def test_row_order_and_index_do_not_matter(frame, key):
    shuffled = frame.sample(frac=1.0, random_state=np.random.default_rng(3)).set_index(pd.Index([9, 8, 7, 6, 5]))
    assert key(shuffled) == key(frame)


def test_column_order_does_not_matter(frame, key):
    assert key(frame[["source", "member", "city", "income", "age"]]) == key(frame)


@pytest.mark.parametrize("cast", [
    {"age": "float64"}, {"age": "str"}, {"age": "Int64"}, {"age": "int32"}, {"age": "float32"},
    {"income": "str"}, {"income": "Float64"}, {"member": "str"}, {"member": object}, {"city": "category"},
])
def test_a_column_dtype_does_not_matter(frame, key, cast):
    numeric = pd.read_csv(io.StringIO(CSV), na_values=["?"])
    assert key(numeric.astype(cast)) == key(frame)


def test_text_of_the_same_numbers_with_other_spellings_and_whitespace_is_the_same(frame, key):
    spelled = frame.copy()
    spelled["age"] = [" 34", "51.0", "2.7e1 ", "+34", "68.000"]
    spelled["city"] = ["Oslo ", " Lima", None, "Pune", "  Oslo"]
    spelled["member"] = ["true", "FALSE", "True", "TRUE", "false"]
    assert key(spelled) == key(frame)


def test_constant_and_all_missing_columns_are_ignored(frame, key):
    assert key(frame.drop(columns="source")) == key(frame)
    assert key(frame.assign(release=2026, empty=np.nan, blank="", almost=["x", None, "?", "x", "NA"])) == key(frame)


@pytest.mark.parametrize("token", ["", "?", "NA", "N/A", "null", "NULL", "None", "nan", "NaN", "N", "n/a", "<NA>"])
def test_every_null_token_is_one_missing_token(frame, key, token):
    assert token.strip().lower() in NULL_TOKENS
    spelled = frame.astype({"income": object, "city": object})
    spelled.loc[[1, 4], "income"] = token
    spelled.loc[2, "city"] = token
    assert key(spelled) == key(frame)


def test_the_same_file_read_with_other_na_values_is_the_same(frame, key):
    assert not pd.api.types.is_numeric_dtype(frame["income"])  # "?" makes pandas read text
    reread = pd.read_csv(io.StringIO(CSV), na_values=["?"])
    assert reread["income"].dtype == "float64"
    assert key(reread) == key(frame)
    assert key(pd.read_csv(io.StringIO(CSV.replace("?", "")))) == key(frame)


@pytest.mark.parametrize("column, value", [
    ("age", 35), ("age", 34.5), ("income", 52000.0), ("income", "?"), ("city", "Oslo2"), ("city", "oslo"),
    ("member", False), ("source", "interview"),
])
def test_a_single_changed_cell_changes_the_key(frame, key, column, value):
    edited = frame.astype({column: object})
    edited.loc[0, column] = value
    assert key(edited) != key(frame)


def test_duplicate_rows_and_column_names_count(frame, key):
    assert key(pd.concat([frame, frame.iloc[[0]]])) != key(frame)
    assert key(frame.rename(columns={"age": "years"})) != key(frame)
    # Values swapped between two columns are another table, even with the same cells in each row.
    assert key(frame.rename(columns={"age": "income", "income": "age"})) != key(frame)


def test_two_ledgers_give_the_same_data_different_keys(frame, tmp_path):
    first, second = Ledger(tmp_path / "a.sqlite"), Ledger(tmp_path / "b.sqlite")
    assert first.dataset_key(frame) != second.dataset_key(frame)
    assert Ledger(tmp_path / "a.sqlite").dataset_key(frame) == first.dataset_key(frame)


def test_the_key_is_no_plain_hash_of_the_data(frame, key):
    found = key(frame).removeprefix("hmac:")
    plain = [
        hashlib.sha256(CSV.encode()).hexdigest(),
        hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest(),
        content_signature(frame).hex(),
        hashlib.sha256(content_signature(frame)).hexdigest(),
        legacy_fingerprint(frame).removeprefix("sha256:"),
    ]
    assert found not in plain


def test_frames_without_informative_columns_differ_by_row_count_only(key):
    assert key(pd.DataFrame({"a": [1, 1, 1]})) == key(pd.DataFrame({"b": ["x", "x", None]}))
    assert key(pd.DataFrame({"a": [1, 1, 1]})) != key(pd.DataFrame({"a": [1, 1]}))
    assert key(pd.DataFrame(index=range(2))) != key(pd.DataFrame(index=range(3)))


def test_names_that_collide_as_text_and_non_frames_are_refused_without_values():
    with pytest.raises(DataError, match="same name") as refused:
        content_signature(pd.DataFrame({1: [10, 20], "1 ": [30, 40]}))
    assert "10" not in str(refused.value) and "30" not in str(refused.value)
    # A constant column does not count, so its name cannot collide.
    with_constant = pd.DataFrame({1: [10, 20], "1": [5, 5]})
    assert content_signature(with_constant) == content_signature(pd.DataFrame({"1": [10, 20]}))
    with pytest.raises(DataError, match="df"):
        content_signature(pd.Series([1, 2]))


def test_legacy_fingerprint_is_the_version_1_key(frame):
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", legacy_fingerprint(frame))
    assert legacy_fingerprint(frame.iloc[::-1]) == legacy_fingerprint(frame)
    assert legacy_fingerprint(frame.astype({"age": "float64"})) != legacy_fingerprint(frame)
    # Version 1 could not hash list cells, so no old ledger holds such a frame; the new key can.
    lists = pd.DataFrame({"tags": [["a"], ["b"]], "n": [1, 2]})
    assert legacy_fingerprint(lists) is None
    assert content_signature(lists) != content_signature(lists.assign(tags=[["a"], ["c"]]))


def test_a_large_frame_takes_about_a_second():
    # Vectorised: a Python loop over these rows would take far longer than the bound.
    rng = np.random.default_rng(0)
    n = 300_000
    big = pd.DataFrame({
        "age": rng.integers(0, 100, n), "income": rng.normal(size=n),
        "city": rng.choice(["Oslo", "Lima", "Pune"], n), "id": rng.integers(0, 10**9, n).astype(str),
    })
    started = time.perf_counter()
    content_signature(big)
    assert time.perf_counter() - started < 10


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(-5, 5),
            st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32)),
            st.text(max_size=3),
        ),
        min_size=1,
        max_size=12,
    ),
    data=st.data(),
)
def test_any_permutation_of_rows_and_columns_and_text_cast_gives_the_same_signature(rows, data):
    columns = ["a", "b", "c"]
    first = pd.DataFrame(rows, columns=columns).astype({"b": "float64", "c": object})
    permuted = pd.DataFrame(data.draw(st.permutations(rows)), columns=columns).astype({"b": "float64", "c": object})
    order = data.draw(st.permutations(columns))
    assert content_signature(permuted[order]) == content_signature(first)
    assert content_signature(first.astype({"a": str, "b": str})) == content_signature(first)
