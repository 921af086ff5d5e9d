"""Identifiers come back as fresh keys that never equal a real key, in the key's format."""

import warnings

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import PrivacyWarning, SchemaError
from dpsynth.schema import Categorical, Identifier, Schema, column_from_dict, decode
from dpsynth.workflows.release import release


def test_keys_are_regenerated_in_schema_order_and_drop_is_left_out():
    schema = Schema((
        Identifier("patient", role="key", format="integer"), Categorical("sex", ("F", "M")),
        Identifier("record", role="key"), Identifier("note"),
    ))
    decoded = decode(np.array([[0], [1], [1]]), schema, np.random.default_rng(0))
    assert list(decoded.columns) == ["patient", "sex", "record"]
    assert decoded["patient"].tolist() == [-1, -2, -3] and decoded["patient"].dtype == np.int64
    assert decoded["record"].tolist() == ["syn-1", "syn-2", "syn-3"]


def test_text_keys_are_zero_padded_to_the_row_count_and_take_a_declared_prefix():
    schema = Schema((Categorical("a", ("x",)), Identifier("id", role="key", prefix="SYN")))
    keys = decode(np.zeros((120, 1), dtype=int), schema, np.random.default_rng(0))["id"]
    assert keys.iloc[0] == "SYN001" and keys.iloc[-1] == "SYN120" and keys.is_unique


@pytest.mark.parametrize(
    ("options", "problem"), [({"format": "uuid"}, "format"), ({"prefix": ""}, "prefix"), ({"role": "x"}, "role")]
)
def test_bad_identifier_fields_are_refused(options, problem):
    with pytest.raises(SchemaError, match=f"column 'id'.*{problem}"):
        Identifier("id", **options)


def test_identifier_fields_round_trip():
    for column in (Identifier("id"), Identifier("id", role="key", format="integer", prefix="S-")):
        assert column_from_dict(column.describe()) == column
    assert Identifier("id").describe() == {"name": "id", "kind": "identifier", "role": "drop"}


def _table(n: int = 1500) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.DataFrame({
        "patient": rng.permutation(n).astype(str),  # 0..n-1: a synthetic range drawn from it would collide
        "record": [f"P{i:05d}" for i in range(n)],
        "ward": rng.choice(["a", "b", "c"], n),
        "pid": (np.arange(n) // 2).astype(str),
    })


@pytest.mark.parametrize("declared", ["schema", "kinds"])
def test_no_synthetic_id_equals_a_real_id(tmp_path, declared):
    frame = _table()
    if declared == "schema":
        schema = Schema((
            Identifier("patient", role="key", format="integer"), Identifier("record", role="key", prefix="S-"),
            Categorical("ward", ("a", "b", "c")), Identifier("pid", role="unit", format="integer"),
        ))
    else:
        schema = {"patient": "identifier", "record": "identifier", "ward": "categorical"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrivacyWarning)
        synthetic = release(
            frame, epsilon=4.0, delta=1e-9, out=tmp_path / "out", schema=schema, privacy_unit="pid",
            max_rows_per_unit=2, audit="off", random_state=0, ledger=tmp_path / "ledger.sqlite", n_rows=800,
        ).synthetic
    for name in ("patient", "record", "pid"):
        real = set(frame[name].astype(str))
        assert synthetic[name].is_unique and not set(synthetic[name].astype(str)) & real, name
    if declared == "kinds":  # the keys' format is decided under DP from the value classes
        assert pd.api.types.is_integer_dtype(synthetic["patient"]) and synthetic["patient"].lt(0).all()
