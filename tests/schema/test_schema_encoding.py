"""Encoding real tables to codes and back, and the errors validate() raises without leaking data."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from dpsynth.errors import DataError, SchemaError
from dpsynth.schema import (
    Categorical,
    Datetime,
    Identifier,
    Numeric,
    Ordinal,
    Schema,
    decode,
    encode,
    encoding,
    validate,
)

SECRET = "SECRET_VALUE_123"
SECRET_NUMBER = 987654321
N_ROWS = 137


# ------------------------------------------------------------------------ raw UCI Adult
def test_adult_encodes_with_missing_codes(adult_raw, adult_schema):
    encoded = encode(adult_raw, adult_schema)
    assert encoded.codes.shape == (48842, 15)
    assert encoded.codes.dtype == np.uint8
    assert encoded.columns == adult_schema.encoded_columns
    assert encoded.sizes == tuple(adult_schema.domain_sizes().values())
    for name in ("workclass", "occupation", "native-country"):
        column = adult_schema[name]
        codes = encoded.codes[:, encoded.columns.index(name)]
        missing = adult_raw[name].isna().to_numpy()
        assert missing.any()
        np.testing.assert_array_equal(codes == column.missing_code, missing)
        expected = adult_raw[name].map({c: i for i, c in enumerate(column.categories)})
        np.testing.assert_array_equal(codes[~missing], expected[~missing].to_numpy(dtype=int))
    assert dict(encoded.clipped) == {
        "age": 0, "fnlwgt": 0, "education-num": 0, "capital-gain": 0, "capital-loss": 0, "hours-per-week": 0,
    }


def test_adult_decodes_to_plausible_values(adult_raw, adult_schema):
    encoded = encode(adult_raw, adult_schema)
    decoded = decode(encoded.codes, adult_schema, np.random.default_rng(1))
    assert list(decoded.columns) == list(adult_schema.encoded_columns)
    assert len(decoded) == len(adult_raw)
    for name in ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"):
        column = adult_schema[name]
        assert decoded[name].dtype == "Int64"
        assert decoded[name].between(column.lower, column.upper).all()
    for name in ("workclass", "race", "native-country"):
        assert decoded[name].dtype == "str"
        assert decoded[name].dropna().isin(adult_schema[name].categories).all()
        np.testing.assert_array_equal(decoded[name].isna(), adult_raw[name].isna())
    # Width-one bins (age, education-num) and categories round-trip exactly.
    for name in ("age", "education-num", "workclass", "education", "sex", "income"):
        pd.testing.assert_series_equal(decoded[name], adult_raw[name], check_dtype=False)
    # fnlwgt is binned: each decoded value stays in its original bin.
    again = encode(decoded.assign(split="x"), adult_schema)
    np.testing.assert_array_equal(again.codes, encoded.codes)


def test_narrowed_bounds_count_clipped_cells(adult_raw, adult_schema):
    narrowed = Schema([Numeric("age", 20, 60, integer=True) if c.name == "age" else c for c in adult_schema.columns])
    encoded = encode(adult_raw, narrowed)
    ages = adult_raw["age"]
    assert encoded.clipped["age"] == int(((ages < 20) | (ages > 60)).sum()) > 0
    decoded = decode(encoded.codes, narrowed, np.random.default_rng(2))
    assert decoded["age"].between(20, 60).all()


def test_encoding_a_block_of_rows_at_a_time_codes_as_the_whole_table(adult_raw, adult_schema, monkeypatch):
    # Each cell is coded by itself, so blocks (the last one partial) give the whole table's codes,
    # unfit rows and clipped counts, with missing cells and clipped numbers among them.
    narrowed = Schema([Numeric("age", 20, 60, integer=True) if c.name == "age" else c for c in adult_schema.columns])
    monkeypatch.setattr(encoding, "ENCODE_BLOCK_ROWS", 10**9)
    whole = encode(adult_raw, narrowed)
    monkeypatch.setattr(encoding, "ENCODE_BLOCK_ROWS", 1000)
    blocks = encode(adult_raw, narrowed)
    np.testing.assert_array_equal(blocks.codes, whole.codes)
    np.testing.assert_array_equal(blocks.unfit, whole.unfit)
    assert dict(blocks.clipped) == dict(whole.clipped) and whole.clipped["age"] > 0


def test_encoded_table_repr_hides_private_parts(adult_raw, adult_schema):
    text = repr(encode(adult_raw, adult_schema))
    assert "clipped" not in text and "codes=" not in text


# ----------------------------------------------------------------------------- PUMS_dup
def test_pums_person_id_is_the_unit_and_not_encoded(pums_dup):
    schema = Schema(
        [
            Numeric("age", 0, 100, integer=True),
            Categorical("sex", (0, 1), missing=False),
            Categorical("educ", tuple(range(1, 17))),
            Categorical("race", tuple(range(1, 7))),
            Numeric("income", 0, 500000, integer=True),
            Categorical("married", (0, 1)),
            Identifier("pid", role="unit"),
        ]
    )
    assert schema.unit_column == "pid"
    assert "pid" not in schema.encoded_columns
    encoded = encode(pums_dup, schema)
    assert encoded.codes.shape == (len(pums_dup), 6)
    assert "pid" not in encoded.columns
    decoded = decode(encoded.codes, schema, np.random.default_rng(3))
    # The unit comes back as fresh keys, none of them a real person's.
    assert decoded["pid"].is_unique and not set(decoded["pid"]) & set(pums_dup["pid"].astype(str))
    assert decoded["sex"].dtype == np.int64
    np.testing.assert_array_equal(decoded["educ"].to_numpy(), pums_dup["educ"].to_numpy())


# ------------------------------------------------------------------- smaller behaviours
def test_other_code_folds_unlisted_values():
    schema = Schema([Categorical("color", ("red", "blue"), other=True)])
    frame = pd.DataFrame({"color": ["red", "green", None, "blue", "mauve"]})
    codes = encode(frame, schema).codes[:, 0]
    np.testing.assert_array_equal(codes, [0, 2, 3, 1, 2])
    decoded = decode(codes[:, None], schema, np.random.default_rng(0))["color"]
    assert decoded.tolist()[:2] == ["red", "other"]
    assert decoded.isna().tolist() == [False, False, True, False, False]


def test_integer_categories_match_text_and_whole_floats():
    """A column read as text, as int, or as float with NaN matches the same integer categories."""
    schema = Schema([Categorical("race", (1, 2, 3))])
    for values in (["1", "3", None], [1, 3, None], [1.0, 3.0, np.nan]):
        codes = encode(pd.DataFrame({"race": values}), schema).codes[:, 0]
        np.testing.assert_array_equal(codes, [0, 2, 3])


def test_datetime_encodes_clips_and_decodes():
    column = Datetime("when", "2020-01-01", "2020-12-31", bins=12)
    schema = Schema([column])
    frame = pd.DataFrame({"when": ["2020-03-05T10:00:00", None, "1999-01-01", "2020-06-01T00:00:00+02:00"]})
    encoded = encode(frame, schema)
    assert encoded.clipped["when"] == 1
    assert encoded.codes[1, 0] == column.missing_code
    assert encoded.codes[2, 0] == 0
    decoded = decode(encoded.codes, schema, np.random.default_rng(0))["when"]
    assert decoded.dtype == "datetime64[ns]"
    assert decoded.isna().tolist() == [False, True, False, False]
    present = decoded.dropna()
    assert present.between(column.lower_timestamp, column.upper_timestamp).all()
    np.testing.assert_array_equal(encode(decoded.to_frame(), schema).codes, encoded.codes)


def test_missing_identifier_column_is_allowed_but_not_a_missing_encoded_one():
    schema = Schema([Categorical("color", ("red",)), Identifier("pid", role="unit")])
    assert encode(pd.DataFrame({"color": ["red"]}), schema).codes.shape == (1, 1)
    with pytest.raises(SchemaError, match="'color'"):
        validate(pd.DataFrame({"pid": [1]}), schema)


def test_decode_refuses_bad_codes_and_rng():
    schema = Schema([Categorical("color", ("red", "blue"))])
    rng = np.random.default_rng(0)
    with pytest.raises(DataError, match="one column per encoded"):
        decode(np.zeros((3, 2), dtype=int), schema, rng)
    with pytest.raises(DataError, match=r"'color': codes must lie in 0\.\.2"):
        decode(np.array([[3]]), schema, rng)
    with pytest.raises(DataError, match="integers"):
        decode(np.array([[0.5]]), schema, rng)
    with pytest.raises(DataError, match="Generator"):
        decode(np.array([[0]]), schema, 0)


def test_decode_dtypes_follow_the_schema():
    schema = Schema(
        [
            Numeric("count", 0, 9, integer=True, missing=False),
            Numeric("ratio", 0, 1),
            Categorical("code", (5, 6), missing=False),
            Categorical("label", ("a", 6)),
            Ordinal("grade", ("low", "high")),
        ]
    )
    decoded = decode(np.zeros((4, 5), dtype=np.uint8), schema, np.random.default_rng(0))
    assert decoded.dtypes.astype(str).tolist() == ["int64", "float64", "int64", "str", "str"]
    assert decoded["label"].tolist() == ["a"] * 4


# -------------------------------------------------------------- validate() errors, no leaks
def _frame(name: str, good, bad, missing_row: bool = False) -> pd.DataFrame:
    """N_ROWS rows of ``good`` with ``bad`` planted in one of them (and one missing value)."""
    values = [good] * N_ROWS
    values[17] = bad
    if missing_row:
        values[3] = None
    return pd.DataFrame({name: pd.Series(values, dtype=object)})


ERROR_CASES = [
    ("outside categories", Categorical("color", ("red", "blue")), _frame("color", "red", SECRET), DataError, "outside its declared categories"),
    ("outside ordinal", Ordinal("color", ("low", "high")), _frame("color", "low", SECRET), DataError, "outside its declared categories"),
    ("not numeric", Numeric("color", 0, 10), _frame("color", 5, SECRET), DataError, "numeric"),
    ("not whole", Numeric("color", 0, 10, integer=True), _frame("color", 5, SECRET_NUMBER + 0.5), DataError, "integer"),
    ("not a date", Datetime("color", "2020-01-01", "2021-01-01"), _frame("color", "2020-05-05", SECRET), DataError, "datetime"),
    ("numbers as dates", Datetime("color", "2020-01-01", "2021-01-01"), pd.DataFrame({"color": [SECRET_NUMBER] * N_ROWS}), DataError, "datetime"),
    ("booleans as numbers", Numeric("color", 0, 10), pd.DataFrame({"color": [True] * N_ROWS}), DataError, "numeric"),
    ("missing not allowed", Numeric("color", 0, 10, missing=False), _frame("color", SECRET_NUMBER, 1, missing_row=True), DataError, "missing=false"),
    ("missing not allowed (categories)", Categorical("color", (SECRET,), missing=False), _frame("color", SECRET, SECRET, missing_row=True), DataError, "missing=false"),
    ("entirely missing", Categorical("color", ("red",)), pd.DataFrame({"color": [None] * N_ROWS}), DataError, "every value is missing"),
]


@pytest.mark.parametrize("case,column,frame,error,problem", ERROR_CASES, ids=[case[0] for case in ERROR_CASES])
def test_data_errors_name_the_column_and_never_a_value(case, column, frame, error, problem):
    with pytest.raises(error) as caught:
        validate(frame, Schema([column]))
    message = str(caught.value)
    assert "'color'" in message
    assert problem in message
    for private in (SECRET, str(SECRET_NUMBER), str(N_ROWS)):
        assert private not in message or private in repr(column)


@pytest.mark.parametrize("case,column,frame,error,problem", ERROR_CASES, ids=[case[0] for case in ERROR_CASES])
def test_encode_codes_each_cell_by_itself_where_validate_refuses(case, column, frame, error, problem):
    """A refusal that depends on one cell would tell whether that record is there: encode codes
    each row as it would code that row alone (missing, other, or an unfit row)."""
    schema = Schema([column])
    whole = encode(frame, schema)
    for row in (0, 3, 17):
        alone = encode(frame.iloc[[row]].reset_index(drop=True), schema)
        assert whole.codes[row].tolist() == alone.codes[0].tolist()
        assert whole.unfit[row] == alone.unfit[0]
    assert whole.codes.max() < column.size


def test_schema_column_absent_from_data():
    schema = Schema([Categorical("color", ("red",)), Numeric("size", 0, 1)])
    with pytest.raises(SchemaError, match=r"\['size'\] are in the schema but not in the data"):
        validate(pd.DataFrame({"color": ["red"] * N_ROWS}), schema)


def test_data_column_absent_from_schema():
    schema = Schema([Categorical("color", ("red",))])
    frame = pd.DataFrame({"color": ["red"] * N_ROWS, "postcode": [SECRET] * N_ROWS})
    with pytest.raises(SchemaError) as caught:
        validate(frame, schema)
    assert "'postcode'" in str(caught.value) and "identifier" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_valid_frame_passes(adult_raw, adult_schema):
    assert validate(adult_raw, adult_schema) is None
    assert validate(adult_raw, dataclasses.replace(adult_schema, provenance="dp")) is None


def test_a_cell_form_in_an_object_column_does_not_depend_on_the_other_rows():
    """pandas' factorize takes True, 1 and 1.0 for one value and keeps whichever comes first:
    each cell's code must not change with which of them another row holds first."""
    from dpsynth.schema import Categorical, Schema, encode

    schema = Schema((Categorical("c", ("1", "True", "x"), other=True, missing=True),))
    first = encode(pd.DataFrame({"c": pd.Series([True, 1, "x", None, 1.0], dtype=object)}), schema).codes[:, 0]
    second = encode(pd.DataFrame({"c": pd.Series([1, True, "x", None, 1.0], dtype=object)}), schema).codes[:, 0]
    assert first.tolist() == [1, 0, 2, 4, 0]
    assert second.tolist() == [0, 1, 2, 4, 0]
